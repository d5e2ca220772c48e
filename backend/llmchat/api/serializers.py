"""Stored records -> the JSON shapes of docs/api.md (described in api/documents.py for the OpenAPI document)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime
from typing import Any
from urllib.parse import quote

from llmchat.store import (
    ConversationRecord,
    FeedbackRecord,
    MessageRecord,
    SearchHit,
    VoteRecord,
)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def feedback_json(feedback: FeedbackRecord | None) -> dict[str, Any] | None:
    if feedback is None:
        return None
    return {"rating": feedback.rating, "correction": feedback.correction, "updated_at": iso(feedback.updated_at)}


def message_json(record: MessageRecord) -> dict[str, Any]:
    """A message; in a blind compare session without a vote its model is null."""
    return {
        "id": record.id,
        "role": record.role,
        "content": record.content,
        "model": None if record.model_hidden else record.model,
        "status": record.status,
        "finish_reason": record.finish_reason,
        "parent_id": record.parent_id,
        "sibling_ids": list(record.sibling_ids or (record.id,)),
        "column": record.column,
        "params": record.params or {},
        "usage": {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens},
        "response_time_ms": record.response_time_ms,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "feedback": feedback_json(record.feedback) if record.role == "assistant" else None,
    }


def conversation_summary(record: ConversationRecord) -> dict[str, Any]:
    """The summary; a blind compare session without a vote shows no model (`models` is [null, null])."""
    hidden = record.models_hidden
    return {
        "id": record.id,
        "title": record.title,
        "kind": record.kind,
        "model": None if hidden else record.model,
        "models": [None for _ in record.models] if hidden else list(record.models),
        "blind": record.blind,
        "revealed": record.revealed,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "message_count": record.message_count,
        "answering": record.answering,
    }


def vote_json(vote: VoteRecord) -> dict[str, Any]:
    """A vote always names both models: it is written after the vote, which reveals a blind session."""
    return {
        "id": vote.id,
        "conversation_id": vote.conversation_id,
        "prompt": vote.prompt,
        "left": {"message_id": vote.left.message_id, "model": vote.left.model, "content": vote.left.content},
        "right": {"message_id": vote.right.message_id, "model": vote.right.model, "content": vote.right.content},
        "winner": vote.winner,
        "created_at": iso(vote.created_at),
        "updated_at": iso(vote.updated_at),
    }


def conversation_json(record: ConversationRecord) -> dict[str, Any]:
    """The summary, the branch on screen (chat) or both columns and their votes (compare, `messages` is then [])."""
    document = {
        **conversation_summary(record),
        "current_leaf_id": record.current_leaf_id,
        "messages": [message_json(m) for m in record.messages],
    }
    if record.kind == "compare":
        hidden = record.models_hidden
        document["columns"] = [
            {"model": None if hidden else column.model, "messages": [message_json(m) for m in column.messages]}
            for column in record.columns
        ]
        document["votes"] = [vote_json(vote) for vote in record.votes]
    return document


def search_json(hits: list[SearchHit]) -> dict[str, Any]:
    return {
        "results": [
            {
                "conversation_id": hit.conversation_id,
                "conversation_title": hit.conversation_title,
                "message_id": hit.message_id,
                "role": hit.role,
                "created_at": iso(hit.created_at),
                "snippet": [{"text": text, "match": match} for text, match in hit.snippet],
            }
            for hit in hits
        ]
    }


def _model_name(model: str | None, hidden: bool) -> str:
    return "hidden until you vote" if hidden else model or "unknown model"


def _markdown_feedback(feedback: FeedbackRecord | None) -> list[str]:
    if feedback is None:
        return []
    lines = (
        [f"*Your rating: {'thumbs up' if feedback.rating == 'up' else 'thumbs down'}*", ""] if feedback.rating else []
    )
    if feedback.correction:
        lines += ["*Your better answer:*", "", *[f"> {line}".rstrip() for line in feedback.correction.splitlines()], ""]
    return lines


def _markdown_messages(messages: tuple[MessageRecord, ...]) -> list[str]:
    lines: list[str] = []
    for message in messages:
        who = "You" if message.role == "user" else f"Assistant ({_model_name(message.model, message.model_hidden)})"
        note = "" if message.status == "complete" else f" — {message.status}"
        if message.finish_reason == "length":
            note += " — cut off"
        lines += [f"## {who}{note}", "", f"*{iso(message.created_at)}*", "", message.content, ""]
        lines += _markdown_feedback(message.feedback)
    return lines


def export_markdown(record: ConversationRecord) -> str:
    """The branch on screen (a compare session: each column in turn)."""
    lines = [f"# {record.title}", "", f"Exported from llmchat. Started {iso(record.created_at)}.", ""]
    if record.kind == "compare":
        for number, column in enumerate(record.columns, start=1):
            lines += [f"# Column {number}: {_model_name(column.model, record.models_hidden)}", ""]
            lines += _markdown_messages(column.messages)
        if record.votes:
            lines += ["# Votes", ""] + [_markdown_vote(vote) for vote in record.votes] + [""]
        return "\n".join(lines)
    return "\n".join(lines + _markdown_messages(record.messages))


VERDICTS = {"left": "left is better", "right": "right is better", "tie": "a tie", "both_bad": "both bad"}


def _markdown_vote(vote: VoteRecord) -> str:
    prompt = " ".join(vote.prompt.split())
    return f"- {prompt!r}: {VERDICTS[vote.winner]} (left {vote.left.model}, right {vote.right.model})"


def export_json(record: ConversationRecord) -> str:
    return json.dumps(conversation_json(record), ensure_ascii=False, indent=2)


def title_slug(title: str, limit: int = 80) -> str:
    """An ASCII file name from a title: "Café in Köln!" -> "cafe-in-koln"; "conversation" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or "conversation"


def attachment_header(title: str, suffix: str) -> str:
    """Content-Disposition named after the title: an ASCII slug, plus the title itself per RFC 5987."""
    full = re.sub(r'[\x00-\x1f\x7f/\\"]+', " ", title).strip() or "conversation"
    return (
        f"attachment; filename=\"{title_slug(title)}.{suffix}\"; filename*=UTF-8''{quote(f'{full}.{suffix}', safe='')}"
    )


def shorten_title(message: str, limit: int) -> str:
    """A new conversation's title: the first message on one line, cut at a word boundary."""
    text = " ".join(message.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"
