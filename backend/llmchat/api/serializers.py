"""Stored records -> the JSON shapes of docs/api.md."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from llmchat.store import ConversationRecord, MessageRecord


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def message_json(record: MessageRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "role": record.role,
        "content": record.content,
        "model": record.model,
        "status": record.status,
        "params": record.params or {},
        "usage": {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens},
        "response_time_ms": record.response_time_ms,
        "created_at": iso(record.created_at),
    }


def conversation_summary(record: ConversationRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "title": record.title,
        "model": record.model,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "message_count": record.message_count,
    }


def conversation_json(record: ConversationRecord) -> dict[str, Any]:
    return {**conversation_summary(record), "messages": [message_json(m) for m in record.messages]}


def export_markdown(record: ConversationRecord) -> str:
    lines = [f"# {record.title}", "", f"Exported from llmchat. Started {iso(record.created_at)}.", ""]
    for message in record.messages:
        who = "You" if message.role == "user" else f"Assistant ({message.model or 'unknown model'})"
        note = "" if message.status == "complete" else f" — {message.status}"
        lines += [f"## {who}{note}", "", f"*{iso(message.created_at)}*", "", message.content, ""]
    return "\n".join(lines)


def export_json(record: ConversationRecord) -> str:
    return json.dumps(conversation_json(record), ensure_ascii=False, indent=2)


def shorten_title(message: str, limit: int) -> str:
    """A new conversation's title: the first message on one line, cut at a word boundary."""
    text = " ".join(message.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"
