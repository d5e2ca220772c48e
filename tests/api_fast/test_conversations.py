"""Conversations through the handlers: list, read, rename, delete, export, compare sessions; another identity's
conversation is 404 everywhere."""

from __future__ import annotations

import json

from tests.api_fast.helpers import chat, error_of
from tests.support.ownership import requests_on

BOB = {"REMOTE_ADDR": "127.0.0.3"}  # the test client's requests come from 127.0.0.1 unless told


def test_list_is_newest_first_and_a_new_message_moves_it_up(client):
    older = chat(client, "older")["conversation_id"]
    newer = chat(client, "newer")["conversation_id"]
    listed = client.get("/api/conversations").get_json()["conversations"]
    assert [c["id"] for c in listed] == [newer, older]
    assert (listed[0]["message_count"], listed[0]["model"], listed[0]["kind"]) == (2, "tiny-chat", "chat")
    chat(client, "bump", conversation_id=older)
    assert [c["id"] for c in client.get("/api/conversations").get_json()["conversations"]] == [older, newer]


def test_rename_delete_and_what_follows(client):
    conversation_id = chat(client, "Plans")["conversation_id"]
    renamed = client.patch(f"/api/conversations/{conversation_id}", json={"title": "  Trip   plans "})
    assert renamed.status_code == 200 and renamed.get_json()["title"] == "Trip plans"
    blank = client.patch(f"/api/conversations/{conversation_id}", json={"title": "   "})
    assert blank.status_code == 400 and error_of(blank)["field"] == "title"
    assert client.get(f"/api/conversations/{conversation_id}").get_json()["title"] == "Trip plans"
    deleted = client.delete(f"/api/conversations/{conversation_id}")
    assert deleted.status_code == 204 and deleted.data == b""
    assert error_of(client.get(f"/api/conversations/{conversation_id}"))["code"] == "not_found"
    assert client.delete(f"/api/conversations/{conversation_id}").status_code == 404


def test_exports_are_attachments_in_both_formats(client):
    conversation_id = chat(client, "Export me")["conversation_id"]
    markdown = client.get(f"/api/conversations/{conversation_id}/export?format=markdown")
    assert markdown.status_code == 200 and markdown.headers["Content-Type"].startswith("text/markdown")
    assert markdown.headers["Content-Disposition"].endswith("filename*=UTF-8''Export%20me.md")
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Export me") and "Hello from the fake model." in text
    exported = json.loads(client.get(f"/api/conversations/{conversation_id}/export?format=json").data)
    assert exported["id"] == conversation_id and [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    bad = client.get(f"/api/conversations/{conversation_id}/export?format=pdf")
    assert bad.status_code == 400 and error_of(bad)["field"] == "format"


def test_another_identitys_conversation_does_not_exist_for_you(client):
    first = chat(client, "my secret")
    mine, reply = first["conversation_id"], first["message"]["id"]
    assert client.get("/api/conversations", environ_base=BOB).get_json()["conversations"] == []
    for method, path, body in requests_on(mine, reply):
        response = client.open(path, method=method, json=body, environ_base=BOB)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found", (method, path)
    assert client.get(f"/api/conversations/{mine}").get_json()["title"] == "my secret"


def test_a_compare_session_names_two_served_models(client):
    created = client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat", "tiny-alpaca"]})
    assert created.status_code == 201
    session = created.get_json()
    assert (session["kind"], session["models"], [c["model"] for c in session["columns"]]) == (
        "compare",
        ["tiny-chat", "tiny-alpaca"],
        ["tiny-chat", "tiny-alpaca"],
    )
    one = client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat"]})
    assert one.status_code == 400 and error_of(one)["field"] == "models"
    unknown = client.post("/api/conversations", json={"kind": "compare", "models": ["tiny-chat", "gpt-9"]})
    assert unknown.status_code == 400 and error_of(unknown)["field"] == "models.1"
    named = client.post("/api/conversations", json={"kind": "chat", "models": ["tiny-chat", "tiny-alpaca"]})
    assert named.status_code == 400 and error_of(named)["field"] == "models"


def test_a_blind_session_hides_its_models(client):
    created = client.post("/api/conversations", json={"kind": "compare", "blind": True})
    assert created.status_code == 201
    session = created.get_json()
    assert session["blind"] and session["models"] == [None, None]
    for column in (0, 1):
        answer = client.post(
            "/api/chat", json={"message": "Which?", "conversation_id": session["id"], "column": column}
        )
        assert answer.status_code == 200 and answer.get_json()["message"]["model"] is None
    named = client.post(
        "/api/chat", json={"message": "x", "model": "tiny-chat", "conversation_id": session["id"], "column": 0}
    )
    assert named.status_code == 400 and error_of(named)["field"] == "model"
