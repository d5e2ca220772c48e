"""Stored records -> the JSON shapes of docs/api.md.

The pydantic models of api/documents.py are the wire types: each function here fills one from a record and dumps
it, so what the API answers and what its OpenAPI document describes cannot drift apart (a field the document
requires and a record does not give fails here, in the tests, not in a client). Each shape is validated once, from
plain fields, at its top (one validation of a 200-message conversation costs less than 200 message models built one
by one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from llmchat.api import documents
from llmchat.store import (
    ConversationRecord,
    FeedbackRecord,
    MessageRecord,
    SearchHit,
    VoteRecord,
)

# Conversation fields only a compare session has: a chat's JSON leaves them out rather than saying null
COMPARE_ONLY = frozenset({"columns", "votes"})


def iso(value: datetime) -> str:
    """A time as the wire writes it (ISO 8601, UTC as "Z"), for text that is not a document (Markdown exports)."""
    return value.isoformat().replace("+00:00", "Z")


def dump(
    document: type[BaseModel],
    fields: dict[str, Any],
    exclude: frozenset[str] | None = None,
    exclude_unset: bool = False,
) -> dict[str, Any]:
    """`fields` validated as `document`, then as JSON types (times as ISO 8601 with "Z"); `exclude_unset`: a field
    with a default that `fields` does not give stays out (a loss point without an eval_loss has none)."""
    return document.model_validate(fields).model_dump(mode="json", exclude=exclude, exclude_unset=exclude_unset)


def feedback_fields(feedback: FeedbackRecord | None) -> dict[str, Any] | None:
    if feedback is None:
        return None
    return {"rating": feedback.rating, "correction": feedback.correction, "updated_at": feedback.updated_at}


def message_fields(record: MessageRecord) -> dict[str, Any]:
    """documents.Message; in a blind compare session without a vote its model is null."""
    return {
        "id": record.id,
        "role": record.role,
        "content": record.content,
        "model": None if record.model_hidden else record.model,
        "status": record.status,
        "finish_reason": record.finish_reason,
        "parent_id": record.parent_id,
        "sibling_ids": record.sibling_ids or (record.id,),
        "column": record.column,
        "params": record.params or {},
        "usage": {"prompt_tokens": record.prompt_tokens, "completion_tokens": record.completion_tokens},
        "response_time_ms": record.response_time_ms,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "feedback": feedback_fields(record.feedback) if record.role == "assistant" else None,
    }


def summary_fields(record: ConversationRecord) -> dict[str, Any]:
    """documents.ConversationSummary; a blind compare session without a vote shows no model (`models` is
    [null, null])."""
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
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "message_count": record.message_count,
        "answering": record.answering,
    }


def vote_fields(vote: VoteRecord) -> dict[str, Any]:
    """documents.Vote; a vote always names both models: it is written after the vote, which reveals a blind
    session."""
    return {
        "id": vote.id,
        "conversation_id": vote.conversation_id,
        "prompt": vote.prompt,
        "left": {"message_id": vote.left.message_id, "model": vote.left.model, "content": vote.left.content},
        "right": {"message_id": vote.right.message_id, "model": vote.right.model, "content": vote.right.content},
        "winner": vote.winner,
        "created_at": vote.created_at,
        "updated_at": vote.updated_at,
    }


def feedback_json(feedback: FeedbackRecord | None) -> dict[str, Any] | None:
    fields = feedback_fields(feedback)
    return None if fields is None else dump(documents.Feedback, fields)


def message_json(record: MessageRecord) -> dict[str, Any]:
    return dump(documents.Message, message_fields(record))


def conversation_summary(record: ConversationRecord) -> dict[str, Any]:
    return dump(documents.ConversationSummary, summary_fields(record))


def vote_json(vote: VoteRecord) -> dict[str, Any]:
    return dump(documents.Vote, vote_fields(vote))


def conversation_json(record: ConversationRecord) -> dict[str, Any]:
    """The summary, the branch on screen (chat) or both columns and their votes (compare, `messages` is then [])."""
    fields = {
        **summary_fields(record),
        "current_leaf_id": record.current_leaf_id,
        "messages": [message_fields(m) for m in record.messages],
    }
    if record.kind != "compare":
        return dump(documents.Conversation, fields, exclude=COMPARE_ONLY)
    hidden = record.models_hidden
    fields["columns"] = [
        {"model": None if hidden else column.model, "messages": [message_fields(m) for m in column.messages]}
        for column in record.columns
    ]
    fields["votes"] = [vote_fields(vote) for vote in record.votes]
    return dump(documents.Conversation, fields)


def search_json(hits: list[SearchHit]) -> dict[str, Any]:
    results = [
        {
            "conversation_id": hit.conversation_id,
            "conversation_title": hit.conversation_title,
            "message_id": hit.message_id,
            "role": hit.role,
            "created_at": hit.created_at,
            "snippet": [{"text": text, "match": match} for text, match in hit.snippet],
        }
        for hit in hits
    ]
    return dump(documents.SearchResults, {"results": results})


def shorten_title(message: str, limit: int) -> str:
    """A new conversation's title: the first message on one line, cut at a word boundary."""
    text = " ".join(message.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"
