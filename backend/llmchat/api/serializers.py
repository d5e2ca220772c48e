"""Stored records -> the JSON shapes of docs/api.md (described in api/documents.py for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
        # a model is writing a better title (api/titles.py): the web app reads the list again for it
        "title_pending": record.title_state == "writing",
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


def shorten_title(message: str, limit: int) -> str:
    """A new conversation's title: the first message on one line, cut at a word boundary."""
    text = " ".join(message.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"
