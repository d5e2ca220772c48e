"""Every read and write of conversations, always scoped to the caller's identity.

A conversation of another identity is simply not found (the API answers 404): its existence is never revealed.
Nothing here deletes a message except the conversation delete (and an empty reply whose generation failed).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from llmchat.store import tree
from llmchat.store.database import Database
from llmchat.store.models import (
    CONVERSATION_KINDS,
    Client,
    Conversation,
    Message,
    ReplyJob,
    Vote,
    utc_now,
)
from llmchat.store.records import (
    ColumnRecord,
    ConversationRecord,
    MessageRecord,
    SearchHit,
    conversation_record,
    vote_record,
)
from llmchat.store.replies import settle_stale
from llmchat.store.rows import UPDATABLE, check, insert, set_fields
from llmchat.store.search import search_messages
from llmchat.store.snapshots import conversation_messages, message_snapshot

MAX_ID = 2**31 - 1  # ids are INTEGER: a larger number is no message (and PostgreSQL would refuse to compare it)


class ChatStore:
    """`stale_after_s`: a `streaming` reply not saved for that long lost its stream (its API process died); it is
    then reported, and saved, as `stopped` with the text saved so far."""

    def __init__(self, database: Database, stale_after_s: float = 15.0):
        self._sessions = database.sessions
        self.stale_after_s = stale_after_s

    # clients and conversations -------------------------------------------------------------
    def _client_id(self, session: Session, owner: str) -> int:
        client_id = session.scalar(select(Client.id).where(Client.identity == owner))
        if client_id is not None:
            return client_id
        try:
            with session.begin_nested():
                client = Client(identity=owner)
                session.add(client)
            return client.id
        except IntegrityError:
            # another request of the same identity created it first
            return session.scalar(select(Client.id).where(Client.identity == owner))

    def _owned(self, session: Session, owner: str, conversation_id: str) -> Conversation | None:
        if "\x00" in conversation_id:  # no id has one, and PostgreSQL refuses NUL even in a WHERE clause
            return None
        query = (
            select(Conversation)
            .join(Client, Client.id == Conversation.client_id)
            .where(Conversation.id == conversation_id, Client.identity == owner)
        )
        return session.scalar(query)

    def create_conversation(
        self,
        owner: str,
        title: str,
        model: str | None,
        *,
        kind: str = "chat",
        models: list[str] | None = None,
        title_state: str = "first_line",
        blind: bool = False,
    ) -> ConversationRecord:
        """`blind`: a compare session whose models are hidden from the user until its first vote."""
        if kind not in CONVERSATION_KINDS:
            raise ValueError(f"kind must be one of {CONVERSATION_KINDS}, not {kind!r}")
        if blind and kind != "compare":
            raise ValueError("only a compare session can be blind")
        with self._sessions.begin() as session:
            conversation = Conversation(
                client_id=self._client_id(session, owner),
                title=title[:200],
                model=model,
                kind=kind,
                models=list(models) if models else None,
                title_state=title_state,
                blind=blind,
                revealed=False,
            )
            session.add(conversation)
            session.flush()
            return conversation_record(conversation, 0)

    def list_conversations(self, owner: str) -> list[ConversationRecord]:
        counts = (
            select(Message.conversation_id, func.count(Message.id).label("n"))
            .group_by(Message.conversation_id)
            .subquery()
        )
        query = (
            select(Conversation, func.coalesce(counts.c.n, 0))
            .join(Client, Client.id == Conversation.client_id)
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(Client.identity == owner)
            .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
        )
        with self._sessions() as session:
            rows = list(session.execute(query))
            ids = [row.id for row, _ in rows]
            used = self._models_used(session, ids)
            answering = self._answering(session, ids)
            return [
                conversation_record(row, count, used.get(row.id, ()), answering=row.id in answering)
                for row, count in rows
            ]

    def _answering(self, session: Session, conversation_ids: list[str]) -> set[str]:
        """The conversations with a reply being generated: a running job whose process is alive."""
        if not conversation_ids:
            return set()
        query = select(ReplyJob.conversation_id).where(
            ReplyJob.conversation_id.in_(conversation_ids),
            ReplyJob.state == "running",
            ReplyJob.heartbeat_at >= self._stale_before(),
        )
        return set(session.scalars(query))

    @staticmethod
    def _models_used(session: Session, conversation_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Per conversation, the models that wrote replies, in order of first use."""
        if not conversation_ids:
            return {}
        query = (
            select(Message.conversation_id, Message.model, func.min(Message.id).label("first"))
            .where(
                Message.conversation_id.in_(conversation_ids), Message.role == "assistant", Message.model.is_not(None)
            )
            .group_by(Message.conversation_id, Message.model)
        )
        firsts: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for conversation_id, model, first in session.execute(query):
            firsts[conversation_id].append((first, model))
        return {cid: tuple(model for _, model in sorted(pairs)) for cid, pairs in firsts.items()}

    def get_conversation(self, owner: str, conversation_id: str, whole_tree: bool = False) -> ConversationRecord | None:
        """The summary with the branch on screen (chat) or each column's newest branch (compare); with
        `whole_tree`, every message too (`tree`, for an export)."""
        with self._sessions.begin() as session:
            conversation = self._owned(session, owner, conversation_id)
            if conversation is None:
                return None
            self._settle(session, conversation_id)
            messages = self._messages(session, conversation_id)
            used = self._models_used(session, [conversation_id]).get(conversation_id, ())
            tree_part = {"tree": tuple(messages)} if whole_tree else {}
            answering = bool(self._answering(session, [conversation_id]))
            if conversation.kind == "compare":
                columns = tuple(
                    ColumnRecord(model, tuple(tree.branch_on_screen(messages, None, column)))
                    for column, model in enumerate(conversation.models or [None, None])
                )
                votes = tuple(
                    vote_record(v)
                    for v in session.scalars(
                        select(Vote).where(Vote.conversation_id == conversation_id).order_by(Vote.id)
                    )
                )
                return conversation_record(
                    conversation, len(messages), used, columns=columns, votes=votes, answering=answering, **tree_part
                )
            branch = tuple(tree.branch_on_screen(messages, conversation.current_leaf_id))
            return conversation_record(
                conversation, len(messages), used, messages=branch, answering=answering, **tree_part
            )

    def rename_conversation(self, owner: str, conversation_id: str, title: str) -> ConversationRecord | None:
        with self._sessions.begin() as session:
            conversation = self._owned(session, owner, conversation_id)
            if conversation is None:
                return None
            conversation.title = title[:200]
            conversation.title_state = "final"  # the user's title is never replaced by a generated one
            conversation.updated_at = utc_now()
        return self.get_conversation(owner, conversation_id)

    def delete_conversation(self, owner: str, conversation_id: str) -> bool:
        with self._sessions.begin() as session:
            conversation = self._owned(session, owner, conversation_id)
            if conversation is None:
                return False
            session.delete(conversation)
            return True

    def set_current(self, owner: str, conversation_id: str, message_id: int) -> ConversationRecord | None:
        """Show the branch through `message_id`, down to the newest leaf under it; None if it is not this identity's."""
        with self._sessions.begin() as session:
            conversation = self._owned(session, owner, conversation_id)
            if conversation is None:
                return None
            messages = self._messages(session, conversation_id)
            if not any(m.id == message_id for m in messages):
                return None
            conversation.current_leaf_id = tree.newest_leaf_under(messages, message_id)
        return self.get_conversation(owner, conversation_id)

    # titles --------------------------------------------------------------------------------
    def title_from_first_message(self, conversation_id: str, title: str) -> None:
        """An untitled conversation (a new compare session) takes its first message's line as its title."""
        with self._sessions.begin() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.title_state == "untitled")
                .values(title=title[:200], title_state="first_line")
            )

    def claim_title(self, conversation_id: str) -> bool:
        """True for exactly one caller while the title is still the first message's line: it then writes one
        (the state is `writing` until finish_title); concurrent replies (two compare columns) do not both."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.title_state == "first_line")
                .values(title_state="writing")
            )
            return result.rowcount == 1

    def finish_title(self, conversation_id: str, title: str | None) -> ConversationRecord | None:
        """The claimed title is done: `title` replaces the first line (None: the first line stays), unless the user
        renamed the conversation meanwhile."""
        values: dict[str, Any] = {"title_state": "final"}
        if title:
            values["title"] = title[:200]
        with self._sessions.begin() as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.title_state == "writing")
                .values(**values)
            )
            conversation = session.get(Conversation, conversation_id)
            return conversation_record(conversation, 0) if conversation else None

    # messages -------------------------------------------------------------------------------
    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        parent_id: int | None = None,
        column: int = 0,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        status: str = "complete",
        finish_reason: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        response_time_ms: int | None = None,
    ) -> MessageRecord:
        """A new message under `parent_id`; it becomes the end of the branch on screen."""
        check(role, status)
        with self._sessions.begin() as session:
            message = insert(
                session,
                conversation_id,
                role,
                content,
                parent_id=parent_id,
                column=column,
                model=model,
                params=params,
                status=status,
                finish_reason=finish_reason,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                response_time_ms=response_time_ms,
            )
            return self._record(session, message)

    def update_message(self, message_id: int, **fields: Any) -> MessageRecord:
        """Set content, status, finish_reason, token counts, response_time_ms (whatever is given). Raises NotFound
        when the message is gone: its conversation was deleted."""
        unknown = set(fields) - UPDATABLE
        if unknown:
            raise ValueError(f"cannot update message fields {sorted(unknown)}")
        with self._sessions.begin() as session:
            message = set_fields(session, message_id, fields)
            return self._record(session, message)

    def owned_message(self, owner: str, message_id: int) -> MessageRecord | None:
        """A message of one of this identity's conversations (stale streams settled first), else None."""
        if not 0 < message_id <= MAX_ID:
            return None
        with self._sessions.begin() as session:
            query = (
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .join(Client, Client.id == Conversation.client_id)
                .where(Message.id == message_id, Client.identity == owner)
            )
            message = session.scalar(query)
            if message is None:
                return None
            self._settle(session, message.conversation_id)
            session.refresh(message)
            return self._record(session, message)

    def messages(self, conversation_id: str) -> list[MessageRecord]:
        """Every message of the conversation, every branch, oldest first, with sibling ids."""
        with self._sessions() as session:
            return self._messages(session, conversation_id)

    def search(self, owner: str, query: str, limit: int = 20) -> list[SearchHit]:
        with self._sessions() as session:
            return search_messages(session, owner, query, limit)

    def ping(self) -> None:
        """Raises when the database cannot answer (used by /api/health)."""
        with self._sessions() as session:
            session.execute(select(1))

    # internals ----------------------------------------------------------------------------------
    @staticmethod
    def _record(session: Session, message: Message) -> MessageRecord:
        return message_snapshot(session, message)

    @staticmethod
    def _messages(session: Session, conversation_id: str) -> list[MessageRecord]:
        return conversation_messages(session, conversation_id)

    def _stale_before(self) -> datetime:
        return utc_now() - timedelta(seconds=self.stale_after_s)

    def _settle(self, session: Session, conversation_id: str) -> None:
        settle_stale(session, conversation_id, self._stale_before())
