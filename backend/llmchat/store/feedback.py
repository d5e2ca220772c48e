"""Feedback on replies (a thumb, a better answer) and votes between two replies, scoped to the caller's identity like
every conversation read; plus the counts the shared leaderboard is computed from (every identity's, no text).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from llmchat.store.database import Database
from llmchat.store.models import (
    RATINGS,
    VOTE_WINNERS,
    Client,
    Conversation,
    Feedback,
    Message,
    Vote,
    utc_now,
)
from llmchat.store.records import FieldError, MessageRecord, VoteRecord, vote_record
from llmchat.store.repository import MAX_ID
from llmchat.store.rows import NotFound
from llmchat.store.snapshots import message_snapshot


class VoteRefused(FieldError):
    """The two replies cannot be compared; `field` names the request field at fault."""


@dataclass(frozen=True)
class Battle:
    """One vote as the leaderboard sees it: two model ids and the outcome, nothing else."""

    left_model: str
    right_model: str
    winner: str  # left | right | tie | both_bad


def pair_key(first_id: int, second_id: int) -> str:
    low, high = sorted((first_id, second_id))
    return f"{low}:{high}"


class FeedbackStore:
    def __init__(self, database: Database):
        self._sessions = database.sessions

    @staticmethod
    def _owned_reply(session: Session, owner: str, message_id: int) -> Message | None:
        if not 0 < message_id <= MAX_ID:
            return None
        return session.scalar(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(Client, Client.id == Conversation.client_id)
            .where(Message.id == message_id, Message.role == "assistant", Client.identity == owner)
        )

    # feedback -------------------------------------------------------------------------------
    def set_feedback(
        self, owner: str, message_id: int, rating: str | None, correction: str | None, *, keep_correction: bool = False
    ) -> MessageRecord | None:
        """Set (or, with neither a rating nor a correction left, remove) the feedback on one of this identity's replies;
        None when it is not one. `keep_correction`: leave the stored correction as it is."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"rating must be one of {RATINGS} or None, not {rating!r}")
        with self._sessions.begin() as session:
            message = self._owned_reply(session, owner, message_id)
            if message is None:
                return None
            row = session.get(Feedback, message_id)
            if keep_correction:
                correction = row.correction if row is not None else None
            correction = correction or None  # "" clears it
            if rating is None and correction is None:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(Feedback(message_id=message_id, rating=rating, correction=correction))
            else:
                row.rating, row.correction, row.updated_at = rating, correction, utc_now()
            session.flush()
            return message_snapshot(session, message)

    # votes ------------------------------------------------------------------------------------
    def record_vote(self, owner: str, left_id: int, right_id: int, winner: str) -> tuple[VoteRecord, bool]:
        """Store a vote between two of this identity's finished replies to the same prompt; a vote on the same pair
        replaces the earlier one. Returns (vote, created). The first vote in a blind session reveals its models.
        Raises NotFound (a reply that is not this identity's) or VoteRefused."""
        if winner not in VOTE_WINNERS:
            raise VoteRefused("winner", f"winner must be one of {', '.join(VOTE_WINNERS)}")
        if left_id == right_id:
            raise VoteRefused("right_message_id", "left and right must be two different replies")
        with self._sessions.begin() as session:
            left, right = self._owned_reply(session, owner, left_id), self._owned_reply(session, owner, right_id)
            if left is None or right is None:
                raise NotFound(f"message {left_id if left is None else right_id} not found")
            prompt = self._common_prompt(session, left, right)
            values = {
                "conversation_id": left.conversation_id,
                "left_message_id": left.id,
                "right_message_id": right.id,
                "left_model": left.model,
                "right_model": right.model,
                "prompt": prompt,
                "left_content": left.content,
                "right_content": right.content,
                "winner": winner,
            }
            vote, created = self._upsert_vote(session, pair_key(left.id, right.id), values)
            conversation = session.get(Conversation, left.conversation_id)
            if conversation.blind and not conversation.revealed:
                conversation.revealed = True
            session.flush()
            return vote_record(vote), created

    @staticmethod
    def _common_prompt(session: Session, left: Message, right: Message) -> str:
        for field, message in (("left_message_id", left), ("right_message_id", right)):
            if message.status != "complete":
                raise VoteRefused(
                    field,
                    f"reply {message.id} has not finished (status {message.status}); vote "
                    f"once both replies are complete",
                )
        if left.conversation_id != right.conversation_id:
            raise VoteRefused("right_message_id", "both replies must be in the same conversation")
        prompts = [session.get(Message, m.parent_id) if m.parent_id is not None else None for m in (left, right)]
        if any(p is None or p.role != "user" for p in prompts) or prompts[0].content != prompts[1].content:
            raise VoteRefused("right_message_id", "the two replies answer different prompts")
        return prompts[0].content

    @staticmethod
    def _upsert_vote(session: Session, pair: str, values: dict) -> tuple[Vote, bool]:
        vote = session.scalar(select(Vote).where(Vote.pair == pair))
        if vote is None:
            try:
                with session.begin_nested():
                    vote = Vote(pair=pair, **values)
                    session.add(vote)
                return vote, True
            except IntegrityError:  # the same pair voted on at the same moment: this vote replaces that one
                vote = session.scalar(select(Vote).where(Vote.pair == pair))
        for name, value in values.items():
            setattr(vote, name, value)
        vote.updated_at = utc_now()
        return vote, False

    # what the leaderboard is computed from (every identity's) ----------------------------------------------
    def battles(self) -> list[Battle]:
        with self._sessions() as session:
            rows = session.execute(select(Vote.left_model, Vote.right_model, Vote.winner).order_by(Vote.id))
            return [Battle(left or "", right or "", winner) for left, right, winner in rows]

    def thumbs(self) -> dict[str, Counter[str]]:
        """Per model: how many of its replies got a thumb up and down."""
        query = (
            select(Message.model, Feedback.rating, func.count())
            .join(Message, Message.id == Feedback.message_id)
            .where(Feedback.rating.is_not(None), Message.model.is_not(None))
            .group_by(Message.model, Feedback.rating)
        )
        counts: dict[str, Counter[str]] = {}
        with self._sessions() as session:
            for model, rating, count in session.execute(query):
                counts.setdefault(model, Counter())[rating] = count
        return counts

    def votes(self) -> list[VoteRecord]:
        with self._sessions() as session:
            return [vote_record(v) for v in session.scalars(select(Vote).order_by(Vote.id))]
