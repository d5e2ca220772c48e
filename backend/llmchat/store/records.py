"""Plain snapshots of stored rows: safe to hand across threads and to keep after the session closes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any


def as_utc(value: datetime) -> datetime:
    # SQLite drops the zone: every stored time is UTC
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class FieldError(ValueError):
    """A request the store refuses because of one of its fields; `field` names it (the API's 400 says which)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FeedbackRecord:
    rating: str | None  # "up" | "down" | None
    correction: str | None
    updated_at: datetime


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: str
    parent_id: int | None
    column: int
    role: str
    content: str
    model: str | None
    params: dict[str, Any] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    response_time_ms: int | None
    status: str
    finish_reason: str | None
    created_at: datetime
    updated_at: datetime
    # ids of the messages with the same parent, role and column, oldest first (this one included); filled in
    # when the record is read as part of a conversation
    sibling_ids: tuple[int, ...] = ()
    feedback: FeedbackRecord | None = None
    # the message is in a blind compare session that has no vote yet: its model must not be shown (the real id
    # stays in `model` for the server's own use)
    model_hidden: bool = False

    def with_siblings(self, ids: tuple[int, ...]) -> MessageRecord:
        return replace(self, sibling_ids=ids)


@dataclass(frozen=True)
class ColumnRecord:
    """One column of a compare session: its model and its newest branch."""

    model: str | None
    messages: tuple[MessageRecord, ...]


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    title: str
    title_state: str
    kind: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    # chat: the models that wrote replies, in order of first use; compare: the two column models
    models: tuple[str, ...] = ()
    current_leaf_id: int | None = None
    # the branch on screen, root first (chat), or each column's newest branch (compare)
    messages: tuple[MessageRecord, ...] = field(default=())
    columns: tuple[ColumnRecord, ...] = field(default=())
    blind: bool = False  # a compare session whose models were drawn at random
    revealed: bool = False  # ... and have been shown, after its first vote
    votes: tuple[VoteRecord, ...] = field(default=())
    # every message, every version, oldest first: read for an export only (get_conversation(whole_tree=True))
    tree: tuple[MessageRecord, ...] = field(default=())
    answering: bool = False  # a reply of it is being generated right now (a live job)

    @property
    def models_hidden(self) -> bool:
        return self.blind and not self.revealed


@dataclass(frozen=True)
class VoteSide:
    message_id: int
    model: str | None
    content: str


@dataclass(frozen=True)
class VoteRecord:
    id: int
    conversation_id: str
    prompt: str
    left: VoteSide
    right: VoteSide
    winner: str  # left | right | tie | both_bad
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    conversation_title: str
    message_id: int
    role: str
    created_at: datetime
    # the snippet as (text, is_match) segments: plain text, never markup
    snippet: tuple[tuple[str, bool], ...]


def feedback_record(row: Any | None) -> FeedbackRecord | None:
    if row is None:
        return None
    return FeedbackRecord(rating=row.rating, correction=row.correction, updated_at=as_utc(row.updated_at))


def vote_record(row: Any) -> VoteRecord:
    return VoteRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        prompt=row.prompt,
        left=VoteSide(row.left_message_id, row.left_model, row.left_content),
        right=VoteSide(row.right_message_id, row.right_model, row.right_content),
        winner=row.winner,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def message_record(row: Any, feedback: Any | None = None, hidden: bool = False) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        parent_id=row.parent_id,
        column=row.column_index or 0,
        role=row.role,
        content=row.content,
        model=row.model,
        params=dict(row.params) if row.params else None,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        response_time_ms=row.response_time_ms,
        status=row.status,
        finish_reason=row.finish_reason,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        feedback=feedback_record(feedback),
        model_hidden=hidden,
    )


def conversation_record(
    row: Any, message_count: int, models_used: tuple[str, ...] = (), **parts: Any
) -> ConversationRecord:
    models = tuple(row.models or ()) if row.kind == "compare" else models_used
    return ConversationRecord(
        id=row.id,
        title=row.title,
        title_state=row.title_state,
        kind=row.kind,
        model=row.model,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        message_count=message_count,
        models=models,
        current_leaf_id=row.current_leaf_id,
        blind=bool(row.blind),
        revealed=bool(row.revealed),
        **parts,
    )
