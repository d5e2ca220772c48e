"""One mapping of model-server failures (api/model_errors.py): the same failure gets the same status and code when
the stream is opened (the HTTP answer), mid-stream (the SSE `error` event, which carries that status) and in a
non-streamed answer, on /api/chat and on /v1."""

from __future__ import annotations

import pytest

from llmchat.modelclient import WorkerRejected, WorkerUnavailable
from tests.api_fast.helpers import error_of, events

FAILURES = [
    pytest.param(
        lambda: WorkerUnavailable("http://fake-model.invalid: connection reset"),
        503,
        "worker_unavailable",
        id="unavailable",
    ),
    pytest.param(
        lambda: WorkerUnavailable("http://fake-model.invalid: timed out"), 503, "worker_unavailable", id="timeout"
    ),
    pytest.param(
        lambda: WorkerRejected(503, "still loading tiny-chat", code="model_loading"), 503, "model_loading", id="loading"
    ),
    pytest.param(lambda: WorkerRejected(404, "no model tiny-chat"), 404, "model_not_found", id="not-found"),
    pytest.param(lambda: WorkerRejected(400, "prompt too long"), 400, "worker_rejected", id="refused-400"),
    pytest.param(lambda: WorkerRejected(500, "out of memory"), 502, "worker_rejected", id="refused-500"),
]
CHAT = {"message": "Hi", "model": "tiny-chat"}


def _check(error: dict, code: str) -> None:
    assert error["code"] == code, error
    assert "model server" in error["message"], "the message names the model server, not the chat server"


@pytest.mark.parametrize(("failure", "status", "code"), FAILURES)
def test_a_failure_when_the_stream_opens(client, model, failure, status, code):
    model.fail_next(failure())
    response = client.post("/api/chat", json={**CHAT, "stream": True})
    assert response.status_code == status
    _check(error_of(response), code)
    assert response.get_json()["user_message"]["status"] == "error"
    assert ("Retry-After" in response.headers) == (status == 503)


@pytest.mark.parametrize(("failure", "status", "code"), FAILURES)
def test_the_same_failure_mid_stream_is_the_error_event_with_that_code_and_status(client, model, failure, status, code):
    model.reply("Half", fail_with=failure())
    response = client.post("/api/chat", json={**CHAT, "stream": True})
    assert response.status_code == 200, "the SSE headers are sent: the failure can only be an event now"
    name, data = events(response)[-1]
    assert name == "error"
    _check(data["error"], code)
    assert data["error"]["status"] == status
    assert data["message"]["content"] == "Half" and data["message"]["status"] == "error"


@pytest.mark.parametrize(("failure", "status", "code"), FAILURES)
def test_the_same_failure_mid_reply_without_streaming_is_that_http_error(client, model, failure, status, code):
    model.reply("Half", fail_with=failure())
    response = client.post("/api/chat", json=CHAT)
    assert response.status_code == status
    _check(error_of(response), code)
    assert response.get_json()["message"]["content"] == "Half"


@pytest.mark.parametrize(("failure", "status", "code"), FAILURES)
def test_the_openai_route_maps_it_the_same(client, model, failure, status, code):
    model.fail_next(failure())
    body = {"model": "tiny-chat", "messages": [{"role": "user", "content": "Hi"}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == status
    _check(error_of(response), code)
