"""Plain snapshots of stored rows: safe to hand across threads and to keep after the session closes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any


def as_utc(value: datetime) -> datetime:
    # SQLite drops the zone: every stored time is UTC
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    conversation_title: str
    message_id: int
    role: str
    created_at: datetime
    # the snippet as (text, is_match) segments: plain text, never markup
    snippet: tuple[tuple[str, bool], ...]


def message_record(row: Any) -> MessageRecord:
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
    )


def conversation_record(row: Any, message_count: int, models_used: tuple[str, ...] = (),
                        **parts: Any) -> ConversationRecord:
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
        **parts,
    )
