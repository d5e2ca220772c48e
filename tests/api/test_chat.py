"""POST /api/chat and regenerate against a real worker serving a tiny random model."""

from __future__ import annotations

import pytest

from tests.api.conftest import read_sse

STYLES = ("chat", "fewshot", "alpaca")
MESSAGE_KEYS = {
    "id",
    "role",
    "content",
    "model",
    "status",
    "finish_reason",
    "parent_id",
    "sibling_ids",
    "column",
    "params",
    "usage",
    "response_time_ms",
    "created_at",
    "updated_at",
    "feedback",
}


@pytest.mark.parametrize("style", STYLES)
def test_chat_returns_and_saves_both_messages(client, style):
    response = client.post("/api/chat", json={"message": "Hello there!", "model": f"tiny-{style}"})
    assert response.status_code == 200, response.text
    body = response.json()
    user, reply = body["user_message"], body["message"]
    assert set(user) == MESSAGE_KEYS and set(reply) == MESSAGE_KEYS
    assert (user["role"], user["content"], user["status"]) == ("user", "Hello there!", "complete")
    assert (reply["role"], reply["status"], reply["model"]) == ("assistant", "complete", f"tiny-{style}")
    assert (user["parent_id"], reply["parent_id"], reply["sibling_ids"]) == (None, user["id"], [reply["id"]])
    assert reply["finish_reason"] in ("stop", "length") and user["finish_reason"] is None
    assert reply["usage"]["prompt_tokens"] > 0 and reply["usage"]["completion_tokens"] > 0
    assert reply["response_time_ms"] >= 0
    assert reply["params"]["max_tokens"] == 8 and reply["params"]["memory_window"] == 10
    stored = client.get(f"/api/conversations/{body['conversation_id']}").json()
    assert [m["id"] for m in stored["messages"]] == [user["id"], reply["id"]]
    assert stored["messages"][1]["content"] == reply["content"]
    assert stored["title"] == "Hello there!"


@pytest.mark.parametrize("style", STYLES)
def test_stream_sends_start_deltas_done_and_saves_what_was_sent(client, style):
    payload = {"message": "Stream please", "model": f"tiny-{style}", "stream": True, "params": {"max_tokens": 12}}
    with client.stream("POST", "/api/chat", json=payload) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_sse(response)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and set(names[1:-1]) <= {"delta"}
    start, done = events[0][1], events[-1][1]
    assert start["user_message"]["content"] == "Stream please" and start["user_message"]["status"] == "pending"
    assert (start["message"]["status"], start["message"]["content"]) == ("streaming", "")
    assert done["message"]["id"] == start["message"]["id"]
    streamed = "".join(data["content"] for name, data in events if name == "delta")
    assert done["message"]["content"] == streamed
    assert done["message"]["status"] == "complete" and done["message"]["params"]["max_tokens"] == 12
    stored = client.get(f"/api/conversations/{start['conversation_id']}").json()
    assert stored["messages"][-1]["content"] == streamed


def test_history_is_sent_and_memory_window_limits_it(client):
    first = client.post("/api/chat", json={"message": "one " * 30, "model": "tiny-fewshot"}).json()
    conversation_id = first["conversation_id"]
    second = client.post(
        "/api/chat", json={"message": "two", "model": "tiny-fewshot", "conversation_id": conversation_id}
    ).json()
    forgetful = client.post(
        "/api/chat",
        json={
            "message": "two",
            "model": "tiny-fewshot",
            "conversation_id": conversation_id,
            "params": {"memory_window": 0},
        },
    ).json()
    with_memory = second["message"]["usage"]["prompt_tokens"]
    without = forgetful["message"]["usage"]["prompt_tokens"]
    assert with_memory > without + 30  # the 30 "one"s are in the first prompt only
    assert client.get(f"/api/conversations/{conversation_id}").json()["message_count"] == 6


def test_system_prompt_reaches_the_prompt(client):
    plain = client.post("/api/chat", json={"message": "hi", "model": "tiny-chat"}).json()
    told = client.post(
        "/api/chat", json={"message": "hi", "model": "tiny-chat", "params": {"system_prompt": "You are a pirate. " * 5}}
    ).json()
    assert told["message"]["usage"]["prompt_tokens"] > plain["message"]["usage"]["prompt_tokens"] + 10


def test_a_long_first_message_makes_a_short_title(client):
    message = "Please explain in detail how the water cycle works and why clouds form over the ocean"
    body = client.post("/api/chat", json={"message": message, "model": "tiny-chat"}).json()
    title = client.get(f"/api/conversations/{body['conversation_id']}").json()["title"]
    assert title.endswith("…") and len(title) <= 60 and message.startswith(title[:-1])


def test_regenerate_adds_a_version_and_keeps_the_earlier_one(client):
    body = client.post("/api/chat", json={"message": "Hi", "model": "tiny-chat"}).json()
    conversation_id, old_reply = body["conversation_id"], body["message"]
    again = client.post(
        f"/api/conversations/{conversation_id}/regenerate", json={"model": "tiny-fewshot", "params": {"max_tokens": 5}}
    )
    assert again.status_code == 200, again.text
    new_reply = again.json()["message"]
    assert again.json()["user_message"]["id"] == body["user_message"]["id"]
    assert new_reply["model"] == "tiny-fewshot" and new_reply["params"]["max_tokens"] == 5
    assert new_reply["sibling_ids"] == [old_reply["id"], new_reply["id"]]
    shown = client.get(f"/api/conversations/{conversation_id}").json()
    assert [m["id"] for m in shown["messages"]] == [body["user_message"]["id"], new_reply["id"]]
    assert shown["models"] == ["tiny-chat", "tiny-fewshot"] and shown["model"] == "tiny-fewshot"
    back = client.put(f"/api/conversations/{conversation_id}/current", json={"message_id": old_reply["id"]})
    assert back.status_code == 200, back.text
    assert [m["id"] for m in back.json()["messages"]] == [body["user_message"]["id"], old_reply["id"]]
    assert back.json()["messages"][1]["content"] == old_reply["content"]


def test_regenerate_streams_too(client):
    body = client.post("/api/chat", json={"message": "Hi", "model": "tiny-alpaca"}).json()
    url = f"/api/conversations/{body['conversation_id']}/regenerate"
    with client.stream("POST", url, json={"stream": True}) as response:
        events = read_sse(response)
    assert events[0][0] == "start" and events[-1][0] == "done"
    messages = client.get(f"/api/conversations/{body['conversation_id']}").json()["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["id"] == events[-1][1]["message"]["id"]
    assert messages[1]["sibling_ids"] == [body["message"]["id"], messages[1]["id"]]


def test_regenerate_needs_a_user_message_and_an_own_conversation(client):
    assert client.post("/api/conversations/nope/regenerate", json={}).status_code == 404


@pytest.mark.postgres
def test_the_whole_api_on_postgresql(worker):
    import httpx

    from tests.support.api_server import api_config, fresh_postgres_database, postgres_server_url, start_api

    server_url = postgres_server_url()
    with (
        fresh_postgres_database(server_url) as url,
        start_api(api_config(url, [worker.url])) as api,
        httpx.Client(base_url=api.url, timeout=60) as http,
    ):
        first = http.post("/api/chat", json={"message": "Hello", "model": "tiny-fewshot"}).json()
        with http.stream(
            "POST",
            "/api/chat",
            json={
                "message": "More",
                "model": "tiny-fewshot",
                "stream": True,
                "conversation_id": first["conversation_id"],
            },
        ) as response:
            assert read_sse(response)[-1][0] == "done"
        stored = http.get(f"/api/conversations/{first['conversation_id']}").json()
        assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "user", "assistant"]
        assert http.delete(f"/api/conversations/{first['conversation_id']}").status_code == 204
