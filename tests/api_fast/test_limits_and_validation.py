"""Bad input is a 4xx naming the field and saves nothing; quotas, rate limits and generation caps are 429 with
Retry-After; search over the caller's own messages."""

from __future__ import annotations

import pytest

from llmchat.api.config import Limits
from tests.api_fast.helpers import chat, error_of


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "tiny-chat"}, "message"),
        ({"message": "hi"}, "model"),
        ({"message": 5, "model": "tiny-chat"}, "message"),
        ({"message": "hi", "model": "tiny-chat", "params": {"temperature": 9}}, "params.temperature"),
        ({"message": "hi", "model": "tiny-chat", "params": {"temperature": "0.5"}}, "params.temperature"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 0}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 8.5}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": True}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"max_tokens": 600}}, "params.max_tokens"),
        ({"message": "hi", "model": "tiny-chat", "params": {"top_k": 3}}, "params.top_k"),
        ({"message": "hi", "model": "tiny-chat", "stream": "yes"}, "stream"),
        ({"message": "hi", "model": "tiny-chat", "column": 1}, "column"),
        ({"message": "   \n ", "model": "tiny-chat"}, "message"),
        ({"message": "hi", "model": "gpt-9"}, "model"),
        ({"message": "word " * 1500, "model": "tiny-fewshot"}, "message"),
    ],
)
def test_bad_chat_requests_name_the_field_and_save_nothing(client, model, body, field):
    response = client.post("/api/chat", json=body)
    assert response.status_code == 400 and error_of(response)["field"] == field
    assert client.get("/api/conversations").get_json()["conversations"] == []
    assert model.generations() == []


def test_integers_are_fine_where_a_float_is_expected(client):
    body = {"message": "hi", "model": "tiny-chat", "params": {"temperature": 0, "top_p": 1, "max_tokens": 2}}
    assert client.post("/api/chat", json=body).status_code == 200


def test_the_unknown_model_error_lists_the_served_ones(client):
    message = error_of(client.post("/api/chat", json={"message": "hi", "model": "gpt-9"}))["message"]
    assert "tiny-chat" in message and "tiny-fewshot" in message


def test_bodies_that_are_not_a_json_object(client):
    bad = client.post("/api/chat", data=b'{"message": "hi",', content_type="application/json")
    assert bad.status_code == 400 and error_of(bad)["code"] == "malformed_json"
    listed = client.post("/api/chat", json=["hi"])
    assert listed.status_code == 400 and error_of(listed)["code"] == "invalid_body"
    form = client.post("/api/chat", data="message=hi", content_type="text/plain")
    assert form.status_code == 415 and error_of(form)["code"]


def test_too_large_is_413(client):
    long = client.post("/api/chat", json={"message": "x" * 8001, "model": "tiny-chat"})
    assert long.status_code == 413 and error_of(long)["code"] == "message_too_large"
    assert error_of(long)["field"] == "message"
    huge = client.post("/api/chat", data=b"x" * 200_000, content_type="application/json")
    assert huge.status_code == 413 and error_of(huge)


def test_flask_errors_are_json(client):
    assert error_of(client.get("/api/nowhere"))["code"] == "not_found"
    assert client.post("/api/nowhere", json={}).status_code == 404
    wrong = client.put("/api/chat", json={})
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed" and wrong.headers["Allow"]


def test_the_daily_token_quota_is_429_naming_the_limit(make_app):
    client = make_app(limits=Limits(rate_limit_requests=0, tokens_per_day=10)).test_client()
    chat(client, "a first question that uses the quota up")
    over = client.post("/api/chat", json={"message": "more", "model": "tiny-chat"})
    error = error_of(over)
    assert over.status_code == 429 and error["code"] == "quota_exceeded" and "tokens_per_day" in error["message"]
    body = over.get_json()
    assert body["limit"] == "tokens_per_day" and body["resets_at"].endswith("00:00:00+00:00")
    assert int(over.headers["Retry-After"]) >= 1
    # another identity has its own quota
    assert (
        client.post(
            "/api/chat", json={"message": "x", "model": "tiny-chat"}, environ_base={"REMOTE_ADDR": "127.0.0.9"}
        ).status_code
        == 200
    )


def test_the_rate_limit_counts_generating_requests_per_caller(make_app):
    client = make_app(limits=Limits(rate_limit_requests=2, rate_limit_window_s=60)).test_client()
    for _ in range(2):
        chat(client)
    limited = client.post("/api/chat", json={"message": "hi", "model": "tiny-chat"})
    assert limited.status_code == 429 and error_of(limited)["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/api/conversations").status_code == 200, "reading is not limited"
    other = client.post(
        "/api/chat", json={"message": "hi", "model": "tiny-chat"}, environ_base={"REMOTE_ADDR": "127.0.0.9"}
    )
    assert other.status_code == 200


def test_one_caller_cannot_hold_more_generations_than_the_cap(make_app, model):
    client = make_app(limits=Limits(rate_limit_requests=0, max_concurrent_per_ip=1)).test_client()
    held = model.reply("waiting", hold_after=1)
    streaming = client.post("/api/chat", json={"message": "one", "model": "tiny-chat", "stream": True}, buffered=False)
    next(streaming.response)  # the stream is open: its slot is held
    second = client.post("/api/chat", json={"message": "two", "model": "tiny-chat"})
    assert second.status_code == 429 and error_of(second)["code"] == "too_many_generations"
    assert second.headers["Retry-After"]
    held.release.set()
    streaming.get_data()
    streaming.close()  # the stream ended: the slot is free again
    chat(client, "three")


def test_the_limits_are_an_extension_of_each_app_not_module_state(make_app, model):
    """ApiLimits is registered in app.extensions (like Flask-Limiter): two apps in one process count their
    generations apart."""
    from llmchat.api.limits import EXTENSION, ApiLimits

    capped = make_app(limits=Limits(rate_limit_requests=0, max_concurrent_per_ip=1))
    other = make_app(limits=Limits(rate_limit_requests=0, max_concurrent_per_ip=1))
    assert isinstance(capped.extensions[EXTENSION], ApiLimits)
    assert capped.extensions[EXTENSION] is not other.extensions[EXTENSION]
    held = model.reply("waiting", hold_after=1)
    streaming = capped.test_client().post(
        "/api/chat", json={"message": "one", "model": "tiny-chat", "stream": True}, buffered=False
    )
    next(streaming.response)  # the capped app's slot for this caller is held
    assert capped.extensions[EXTENSION].slots.running() == 1
    assert other.extensions[EXTENSION].slots.running() == 0
    chat(other.test_client(), "the other app has its own slots")
    held.release.set()
    streaming.get_data()
    streaming.close()


def test_search_finds_the_callers_own_messages(client, model):
    model.reply("Paris is the capital of France.")
    conversation_id = chat(client, "Tell me about capitals")["conversation_id"]
    chat(client, "Something else entirely")
    results = client.get("/api/search?q=capital").get_json()["results"]
    assert {r["conversation_id"] for r in results} == {conversation_id}
    assert {r["role"] for r in results} == {"user", "assistant"}
    assert any(piece["match"] for r in results for piece in r["snippet"])
    assert client.get("/api/search?q=capital", environ_base={"REMOTE_ADDR": "127.0.0.3"}).get_json()["results"] == []
    blank = client.get("/api/search?q=%20%20")
    assert blank.status_code == 400 and error_of(blank)["field"] == "q"
    missing = client.get("/api/search")
    assert missing.status_code == 400 and error_of(missing)["field"] == "q"
