"""Faults with real processes: a dead worker, a worker killed mid-stream, a browser that goes away and comes back."""

from __future__ import annotations

import time

import httpx
import pytest

from llmchat.api.config import ModelSettings, ReplySettings
from tests.api.conftest import read_sse
from tests.support.api_server import api_config, start_api
from tests.support.servers import start_worker
from tests.support.slow_upstream import start_slow_upstream
from tests.support.sse import iter_sse_with_ids

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

# ignore_eos keeps the random model talking, so the stream is still running when the fault happens
LONG = {"tiny-chat": ModelSettings(extra_body={"ignore_eos": True})}
LONG_REPLY = {"max_tokens": 480}


@pytest.fixture
def own_worker(models_yaml):
    with start_worker(models_yaml) as running:
        yield running


def test_worker_down_is_503_and_the_message_is_saved(own_worker, tmp_path):
    with (
        start_api(api_config(f"sqlite:///{tmp_path / 'd.db'}", [own_worker.url])) as api,
        httpx.Client(base_url=api.url, timeout=60) as client,
    ):
        first = client.post("/api/chat", json={"message": "before", "model": "tiny-chat"}).json()
        own_worker.process.kill()
        own_worker.process.wait(timeout=10)
        for body in (
            {"message": "are you there?", "model": "tiny-chat"},
            {
                "message": "still there?",
                "model": "tiny-chat",
                "conversation_id": first["conversation_id"],
                "stream": True,
            },
        ):
            response = client.post("/api/chat", json=body)
            assert response.status_code == 503, response.text
            error = response.json()
            assert error["error"]["code"] == "worker_unavailable"
            assert error["user_message"]["status"] == "error"
            saved = client.get(f"/api/conversations/{error['conversation_id']}").json()["messages"]
            assert (saved[-1]["content"], saved[-1]["status"]) == (body["message"], "error")
        older = client.get(f"/api/conversations/{first['conversation_id']}").json()["messages"]
        assert [m["status"] for m in older] == ["complete", "complete", "error"]  # nothing earlier is lost
        models = client.get("/api/models")
        assert models.status_code == 503 and models.json()["error"]["code"] == "worker_unavailable"
        health = client.get("/api/health").json()
        assert health["status"] == "degraded" and health["workers"][0]["status"] == "down"
        assert client.post(f"/api/conversations/{first['conversation_id']}/regenerate", json={}).status_code == 503


def test_worker_killed_mid_stream_sends_error_and_saves_the_partial_reply(own_worker, tmp_path):
    # events flushed every 10 ms, not 100: the first piece arrives while the tiny model has hundreds of tokens to go,
    # so the kill lands mid-reply (at 100 ms a quiet machine could finish all 480 before the client saw a piece)
    replies = ReplySettings(event_flush_s=0.01)
    config = api_config(f"sqlite:///{tmp_path / 'k.db'}", [own_worker.url], models=LONG, replies=replies)
    payload = {"message": "tell me everything", "model": "tiny-chat", "stream": True, "params": LONG_REPLY}
    with start_api(config) as api, httpx.Client(base_url=api.url, timeout=60) as client:
        with client.stream("POST", "/api/chat", json=payload) as response:
            lines = response.iter_lines()
            seen = []
            for line in lines:
                seen.append(line)
                if line.startswith('data: {"content"'):
                    break  # a first piece of the reply arrived: now the worker dies
            own_worker.process.kill()
            rest = list(lines)
        text = "\n".join(seen + rest) + "\n"
        events = read_sse(httpx.Response(200, content=text.encode()))
        assert events[0][0] == "start" and events[-1][0] == "error"
        final = events[-1][1]
        assert final["error"]["code"] == "worker_unavailable"
        streamed = "".join(data["content"] for name, data in events if name == "delta")
        assert streamed and final["message"]["status"] == "error" and final["message"]["content"] == streamed
        messages = client.get(f"/api/conversations/{final['conversation_id']}").json()["messages"]
        assert [(m["role"], m["status"]) for m in messages] == [("user", "error"), ("assistant", "error")]
        assert messages[1]["content"] == streamed


def test_client_gone_mid_stream_the_reply_goes_on_and_is_followed_from_where_it_left(worker, tmp_path):
    # nothing here harms the worker: the session's shared one does (a worker start saved)
    config = api_config(f"sqlite:///{tmp_path / 's.db'}", [worker.url], models=LONG)
    payload = {"message": "a long story", "model": "tiny-chat", "stream": True, "params": LONG_REPLY}
    with start_api(config) as api:
        seen = []
        with httpx.Client(base_url=api.url, timeout=60) as browser:
            with browser.stream("POST", "/api/chat", json=payload) as response:
                for event in iter_sse_with_ids(response.iter_lines()):
                    seen.append(event)
                    if event[1] == "delta":
                        break  # the browser tab closes after the first piece
        reply_id = seen[0][2]["message"]["id"]
        with httpx.Client(base_url=api.url, timeout=60) as client:
            # the page comes back: it follows the reply from the last event it saw
            with client.stream(
                "GET", f"/api/messages/{reply_id}/stream", headers={"Last-Event-ID": str(seen[-1][0])}
            ) as followed:
                rest = list(iter_sse_with_ids(followed.iter_lines()))
        final = rest[-1][2]["message"]
        assert rest[-1][1] == "done" and (final["status"], final["finish_reason"]) == ("complete", "length")
        assert final["usage"]["completion_tokens"] == LONG_REPLY["max_tokens"]
        streamed = "".join(data["content"] for _, name, data in seen + rest if name == "delta")
        assert streamed == final["content"]


def test_a_busy_model_server_is_asked_again_after_its_retry_after(tmp_path):
    """A server that refuses as busy (503 + Retry-After: 1, as the worker does when its queue or tokenizer is full)
    is asked again after that wait, for worker_busy_wait_s in all; only then does the client get the 503."""
    body = {"message": "hi", "model": "slow", "params": {"max_tokens": 3}}
    with (
        start_slow_upstream(delay=0.01, busy=2) as upstream,
        start_api(api_config(f"sqlite:///{tmp_path / 'a.db'}", [upstream])) as api,
        httpx.Client(base_url=api.url, timeout=60) as client,
    ):
        started = time.monotonic()
        response = client.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["message"]["status"] == "complete"
        assert time.monotonic() - started >= 2.0  # refused twice, each time after waiting the second it asked for
        with client.stream("POST", "/api/chat", json={**body, "stream": True}) as streamed:
            assert [name for name, _ in read_sse(streamed)][-1] == "done"
    with (
        start_slow_upstream(delay=0.01, busy=100) as upstream,
        start_api(api_config(f"sqlite:///{tmp_path / 'b.db'}", [upstream], worker_busy_wait_s=1.5)) as api,
        httpx.Client(base_url=api.url, timeout=60) as client,
    ):
        started = time.monotonic()
        response = client.post("/api/chat", json=body)
        assert 1.0 <= time.monotonic() - started < 10
        assert response.status_code == 503 and response.headers["Retry-After"]
        error = response.json()
        assert error["error"]["code"] == "worker_rejected" and error["user_message"]["status"] == "error"


def test_a_slow_tokenizer_is_waited_for_like_the_generation_itself(tmp_path):
    """Counting the prompt (`/tokenize`) is part of answering: under load the worker took over 5 s for it, and the
    API gave up after 5 s (503 worker_unavailable, the message saved as error). It now waits as long as for the
    reply (`worker_timeout_s`)."""
    with (
        start_slow_upstream(delay=0.01, tokenize_delay=6.0) as upstream,
        start_api(api_config(f"sqlite:///{tmp_path / 'c.db'}", [upstream])) as api,
        httpx.Client(base_url=api.url, timeout=60) as client,
    ):
        response = client.post("/api/chat", json={"message": "hi", "model": "slow", "params": {"max_tokens": 2}})
        assert response.status_code == 200, response.text
        assert response.json()["message"]["status"] == "complete"
        assert response.json()["message"]["usage"]["prompt_tokens"] > 0
