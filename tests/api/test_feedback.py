"""PUT /api/messages/<id>/feedback against the real API and worker: saved, changed, cleared, shown again, exported,
validated, and only on the caller's own replies."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api_server import from_address


def chat(http: httpx.Client, message: str, model: str = "tiny-chat", **extra) -> dict:
    response = http.post("/api/chat", json={"message": message, "model": model, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def put_feedback(http: httpx.Client, message_id: int, body: dict) -> httpx.Response:
    return http.put(f"/api/messages/{message_id}/feedback", json=body)


def test_feedback_is_saved_changed_shown_again_and_cleared(client):
    first = chat(client, "What is the capital of France?")
    reply, conversation_id = first["message"], first["conversation_id"]
    assert reply["feedback"] is None and first["user_message"]["feedback"] is None

    response = put_feedback(client, reply["id"], {"rating": "down", "correction": "  Paris.\n"})
    assert response.status_code == 200, response.text
    saved = response.json()
    assert saved["id"] == reply["id"] and saved["content"] == reply["content"]  # the reply itself is untouched
    assert (saved["feedback"]["rating"], saved["feedback"]["correction"]) == ("down", "Paris.")  # trimmed
    assert saved["feedback"]["updated_at"].endswith("Z")

    shown = client.get(f"/api/conversations/{conversation_id}").json()["messages"]  # after a reload
    assert shown[1]["feedback"]["rating"] == "down" and shown[1]["feedback"]["correction"] == "Paris."

    # a new thumb without a correction keeps the correction; an empty one clears it
    assert put_feedback(client, reply["id"], {"rating": "up"}).json()["feedback"]["correction"] == "Paris."
    assert put_feedback(client, reply["id"], {"rating": "up", "correction": ""}).json()["feedback"] == {
        **client.get(f"/api/conversations/{conversation_id}").json()["messages"][1]["feedback"],
        "correction": None,
    }
    cleared = put_feedback(client, reply["id"], {"rating": None, "correction": None})
    assert cleared.status_code == 200 and cleared.json()["feedback"] is None
    assert client.get(f"/api/conversations/{conversation_id}").json()["messages"][1]["feedback"] is None


def test_feedback_is_in_both_exports(client):
    first = chat(client, "Name a fruit.")
    put_feedback(client, first["message"]["id"], {"rating": "down", "correction": "An apple.\nOr a pear."})
    conversation_id = first["conversation_id"]
    exported = client.get(f"/api/conversations/{conversation_id}/export", params={"format": "json"}).json()
    assert exported["messages"][1]["feedback"]["correction"] == "An apple.\nOr a pear."
    markdown = client.get(f"/api/conversations/{conversation_id}/export", params={"format": "markdown"}).text
    assert "*Your rating: thumbs down*" in markdown
    assert "*Your better answer:*\n\n> An apple.\n> Or a pear." in markdown


def test_feedback_only_on_the_callers_own_replies(api, client):
    first = chat(client, "mine")
    with from_address(api.url, "127.0.0.7") as other:
        for message_id in (first["message"]["id"], first["user_message"]["id"], 999_999, 2**31 - 1):
            response = put_feedback(other, message_id, {"rating": "up"})
            assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    # a user message is not a reply: not found for its owner too
    assert put_feedback(client, first["user_message"]["id"], {"rating": "up"}).status_code == 404
    assert client.get(f"/api/conversations/{first['conversation_id']}").json()["messages"][1]["feedback"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rating": "meh"}, "rating"),
        ({}, "rating"),
        ({"rating": 1}, "rating"),
        ({"rating": "up", "correction": 5}, "correction"),
        ({"rating": "up", "correction": "a\x00b"}, "correction"),
        ({"rating": "up", "stars": 5}, "stars"),
    ],
)
def test_bad_feedback_bodies_are_400_naming_the_field(client, body, field):
    reply = chat(client, "rate me")["message"]
    response = put_feedback(client, reply["id"], body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert client.get(f"/api/conversations/{chat(client, 'x')['conversation_id']}").status_code == 200


def test_feedback_limits_and_the_write_checks(client):
    reply = chat(client, "rate me")["message"]
    too_long = put_feedback(client, reply["id"], {"rating": "down", "correction": "x" * 8001})
    assert too_long.status_code == 413 and too_long.json()["error"]["field"] == "correction"
    as_text = client.put(
        f"/api/messages/{reply['id']}/feedback", content='{"rating": "up"}', headers={"Content-Type": "text/plain"}
    )
    assert as_text.status_code == 415
    cross_site = client.put(
        f"/api/messages/{reply['id']}/feedback", json={"rating": "up"}, headers={"Origin": "http://evil.example"}
    )
    assert cross_site.status_code == 403
    assert put_feedback(client, reply["id"], {"rating": "up"}).json()["feedback"]["rating"] == "up"
