"""Plain snapshots of stored rows: safe to hand across threads and to keep after the session closes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def as_utc(value: datetime) -> datetime:
    # SQLite drops the zone: every stored time is UTC
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: str
    role: str
    content: str
    model: str | None
    params: dict[str, Any] | None
    prompt_tokens: int | None
    completion_tokens: int | None
    response_time_ms: int | None
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ConversationRecord:
    id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    messages: tuple[MessageRecord, ...] = field(default=())


def message_record(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        role=row.role,
        content=row.content,
        model=row.model,
        params=dict(row.params) if row.params else None,
        prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens,
        response_time_ms=row.response_time_ms,
        status=row.status,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
    )


def conversation_record(row: Any, message_count: int, messages: tuple[MessageRecord, ...] = ()) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        title=row.title,
        model=row.model,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        message_count=message_count,
        messages=messages,
    )
