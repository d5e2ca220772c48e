"""Every IP's replies and votes with the turns before them: what `llmchat data from-chats` turns into training rows.

This reads every client's conversations, so only the operator's CLI and the admins' Data page (`POST
/api/admin/data/from-chats`) call it; both write rows and counts, never show a conversation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from llmchat.store import tree
from llmchat.store.database import Database
from llmchat.store.models import Message, Vote
from llmchat.store.records import MessageRecord, VoteRecord, vote_record
from llmchat.store.snapshots import conversation_messages


@dataclass(frozen=True)
class ReplyInContext:
    reply: MessageRecord  # with its feedback
    prompt: MessageRecord  # the user message it answers
    history: tuple[MessageRecord, ...]  # the branch before the prompt, root first


@dataclass(frozen=True)
class VoteInContext:
    vote: VoteRecord
    # per side: the reply as it is now (its settings), and the branch before its prompt (a compare session's
    # columns each have their own history)
    left_reply: MessageRecord
    right_reply: MessageRecord
    left_history: tuple[MessageRecord, ...]
    right_history: tuple[MessageRecord, ...]


def _in_scope(since: datetime | None, models: Collection[str] | None):
    conditions = []
    if since is not None:
        conditions.append(Message.created_at >= since)
    if models:
        conditions.append(Message.model.in_(list(models)))
    return conditions


def replies(
    database: Database, since: datetime | None = None, models: Collection[str] | None = None
) -> Iterator[ReplyInContext]:
    """Every assistant reply answering a user message (written since `since`, by one of `models`), oldest first,
    conversation by conversation."""
    wanted = [Message.role == "assistant", *_in_scope(since, models)]
    with database.sessions() as session:
        conversation_ids = list(
            session.scalars(
                select(Message.conversation_id)
                .where(*wanted)
                .group_by(Message.conversation_id)
                .order_by(func.min(Message.id))
            )
        )
        for conversation_id in conversation_ids:
            messages = conversation_messages(session, conversation_id)
            by_id = {m.id: m for m in messages}
            wanted_ids = set(
                session.scalars(select(Message.id).where(Message.conversation_id == conversation_id, *wanted))
            )
            for message in messages:
                prompt = by_id.get(message.parent_id) if message.parent_id is not None else None
                if message.id in wanted_ids and prompt is not None and prompt.role == "user":
                    yield ReplyInContext(message, prompt, _before(messages, prompt))


def votes(
    database: Database, since: datetime | None = None, models: Collection[str] | None = None
) -> list[VoteInContext]:
    """Every vote (cast since `since`; with `models`, those with one of them on either side), oldest first."""
    query = select(Vote).order_by(Vote.id)
    if since is not None:
        query = query.where(Vote.created_at >= since)
    if models:
        query = query.where(or_(Vote.left_model.in_(list(models)), Vote.right_model.in_(list(models))))
    found: list[VoteInContext] = []
    with database.sessions() as session:
        cache: dict[str, list[MessageRecord]] = {}
        for row in session.scalars(query):
            messages = cache.setdefault(row.conversation_id, conversation_messages(session, row.conversation_id))
            by_id = {m.id: m for m in messages}
            left, right = by_id[row.left_message_id], by_id[row.right_message_id]  # a reply's votes go with it
            histories = [_before(messages, by_id[reply.parent_id]) for reply in (left, right)]
            found.append(VoteInContext(vote_record(row), left, right, *histories))
    return found


def _before(messages: list[MessageRecord], prompt: MessageRecord) -> tuple[MessageRecord, ...]:
    return tuple(tree.path_to(messages, prompt.parent_id)) if prompt.parent_id is not None else ()
