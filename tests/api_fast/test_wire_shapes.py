"""The JSON the serializers write, pinned: the pydantic documents are the wire types (api/serializers.py fills and
dumps them), and what a client reads must not change with that (the same keys in the same order, times ending in
"Z", nulls kept, a chat without the compare-only keys)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from llmchat.api.exports import export_json
from llmchat.api.serializers import (
    conversation_json,
    conversation_summary,
    feedback_json,
    message_json,
    search_json,
    vote_json,
)
from llmchat.store import ConversationRecord, FeedbackRecord, MessageRecord, SearchHit, VoteRecord
from llmchat.store.records import ColumnRecord, VoteSide

CREATED = datetime(2026, 12, 3, 14, 0, 0, 123456, tzinfo=UTC)
UPDATED = datetime(2026, 12, 3, 14, 0, 5, tzinfo=UTC)  # no microseconds: none written


def message(id_: int, role: str = "assistant", **changes) -> MessageRecord:
    fields = dict(
        id=id_, conversation_id="c1", parent_id=id_ - 1 or None, column=0, role=role, content=f"text {id_}",
        model="smollm2-chat", params={"temperature": 0.5}, prompt_tokens=12, completion_tokens=3,
        response_time_ms=250, status="complete", finish_reason="stop", created_at=CREATED, updated_at=UPDATED,
        sibling_ids=(id_,),
    )  # fmt: skip
    return MessageRecord(**{**fields, **changes})


def conversation(**changes) -> ConversationRecord:
    fields = dict(
        id="c1", title="Hello", title_state="done", kind="chat", model="smollm2-chat", created_at=CREATED,
        updated_at=UPDATED, message_count=2, models=("smollm2-chat",), current_leaf_id=2,
        messages=(message(1, "user", params=None, prompt_tokens=None, completion_tokens=None), message(2)),
    )  # fmt: skip
    return ConversationRecord(**{**fields, **changes})


def vote() -> VoteRecord:
    return VoteRecord(1, "c1", "Hi?", VoteSide(2, "a", "Hello"), VoteSide(3, "b", "Hey"), "both_bad", CREATED, UPDATED)


def test_a_reply_with_feedback():
    record = message(7, feedback=FeedbackRecord("up", None, UPDATED), sibling_ids=(5, 7))
    assert json.dumps(message_json(record)) == json.dumps(
        {
            "id": 7, "role": "assistant", "content": "text 7", "model": "smollm2-chat", "status": "complete",
            "finish_reason": "stop", "parent_id": 6, "sibling_ids": [5, 7], "column": 0,
            "params": {"temperature": 0.5}, "usage": {"prompt_tokens": 12, "completion_tokens": 3},
            "response_time_ms": 250, "created_at": "2026-12-03T14:00:00.123456Z",
            "updated_at": "2026-12-03T14:00:05Z",
            "feedback": {"rating": "up", "correction": None, "updated_at": "2026-12-03T14:00:05Z"},
        }
    )  # fmt: skip


def test_a_hidden_model_no_params_and_no_versions_yet():
    record = message(1, model_hidden=True, params=None, sibling_ids=(), status="streaming", finish_reason=None)
    shape = message_json(record)
    assert (shape["model"], shape["params"], shape["sibling_ids"]) == (None, {}, [1])
    assert (shape["status"], shape["finish_reason"], shape["feedback"]) == ("streaming", None, None)


def test_a_user_message_never_carries_feedback():
    assert message_json(message(1, "user", feedback=FeedbackRecord("down", "x", UPDATED)))["feedback"] is None
    assert feedback_json(None) is None


def test_a_chat_has_no_compare_keys():
    shape = conversation_json(conversation(title_state="writing", answering=True))
    assert list(shape) == [
        "id", "title", "title_pending", "kind", "model", "models", "blind", "revealed", "created_at", "updated_at",
        "message_count", "answering", "current_leaf_id", "messages",
    ]  # fmt: skip
    assert (shape["title_pending"], shape["answering"], shape["updated_at"]) == (True, True, "2026-12-03T14:00:05Z")
    assert shape["messages"][0]["usage"] == {"prompt_tokens": None, "completion_tokens": None}
    assert shape["messages"][1] == message_json(message(2))


def test_a_blind_compare_session_before_its_vote():
    hidden = message(2, model_hidden=True)
    record = conversation(
        kind="compare", blind=True, models=("a", "b"), messages=(), votes=(vote(),),
        columns=(ColumnRecord("a", (message(1, "user"), hidden)), ColumnRecord("b", ())),
    )  # fmt: skip
    shape = conversation_json(record)
    assert shape["models"] == [None, None] and shape["model"] is None
    assert shape["columns"][0]["model"] is None and shape["columns"][0]["messages"][1]["model"] is None
    assert shape["columns"][1] == {"model": None, "messages": []}
    assert shape["votes"] == [vote_json(vote())]
    assert vote_json(vote())["left"] == {"message_id": 2, "model": "a", "content": "Hello"}
    assert "columns" not in conversation_summary(record)


def test_search_results():
    hit = SearchHit("c1", "Hello", 2, "assistant", CREATED, (("the ", False), ("capital", True)))
    assert search_json([hit]) == {
        "results": [
            {
                "conversation_id": "c1", "conversation_title": "Hello", "message_id": 2, "role": "assistant",
                "created_at": "2026-12-03T14:00:00.123456Z",
                "snippet": [{"text": "the ", "match": False}, {"text": "capital", "match": True}],
            }
        ]
    }  # fmt: skip


def test_an_export_says_what_it_holds_first():
    first, second = message(2), message(3, parent_id=1, sibling_ids=(2, 3))
    record = conversation(messages=(message(1, "user"), second), tree=(message(1, "user"), first, second))
    shape = json.loads(export_json(record))
    assert list(shape)[:2] == ["export", "id"] and "columns" not in shape
    assert shape["export"]["messages"] == 3 and shape["export"]["on_screen"] == 2
    assert [(m["id"], m["on_screen"]) for m in shape["messages"]] == [(1, True), (2, False), (3, True)]
    assert list(shape["messages"][0])[-2:] == ["feedback", "on_screen"]


def test_a_record_the_document_does_not_allow_is_refused():
    """The document is the check: a status it does not list cannot reach a client."""
    with pytest.raises(ValidationError):
        message_json(message(1, status="half-done"))
