"""A stand-in for llmchat.modelclient.ModelClient in the fast tests: `create_app(config, model_client=FakeModelClient())`.

It answers from memory instead of HTTP, the way vLLM tests its handlers with a fake engine. Each test drives it:
`fake.reply("Hello", " there")` scripts the next reply's streamed pieces (with a finish reason, a failure after the
pieces, or a hold until the test releases it), `fake.fail_next(WorkerUnavailable(...))` refuses the next request,
`fake.down.add(url)` takes a server away (health, model list, every request), and `fake.requests` records what was
sent. Without a script it answers "Hello from the fake model." — stop-ended, with usage counts.

Its public methods are ModelClient's, with the same signatures (tests/api_fast/test_fake_model.py checks that).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from llmchat.modelclient import Completion, Endpoint, StreamState, WorkerUnavailable

FAKE_URL = "http://fake-model.invalid"
DEFAULT_TEXT = "Hello from the fake model."
MODEL_PARAMS = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 8}


def model_entry(model_id: str, kind: str = "chat", prompt_style: str = "chat", context_length: int = 512) -> dict:
    """One /v1/models entry as llmchat's worker lists it."""
    return {
        "id": model_id,
        "object": "model",
        "kind": kind,
        "prompt_style": prompt_style,
        "context_length": context_length,
        "default_params": dict(MODEL_PARAMS),
        "loaded": True,
    }


# the three prompt styles of the end-to-end API suite (tests/api/conftest.py), one model each
DEFAULT_MODELS = (
    model_entry("tiny-chat"),
    model_entry("tiny-fewshot", kind="base", prompt_style="fewshot"),
    model_entry("tiny-alpaca", kind="alpaca", prompt_style="alpaca"),
)


def count_text(text: str) -> int:
    """The fake tokenizer: one token per four characters (at least one), like the API's own estimate."""
    return max(1, (len(text) + 3) // 4)


@dataclass
class Reply:
    """One scripted answer: its pieces in order, then how it ends."""

    pieces: tuple[str, ...] = (DEFAULT_TEXT,)
    finish_reason: str = "stop"
    fail_with: Exception | None = None  # raised after the pieces: the server failing mid-reply
    hold_after: int | None = None  # after this many pieces, wait for `release` (or the request's abort)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass
class Request:
    """What the API sent: the server, the path, the body."""

    url: str
    path: str
    payload: dict[str, Any]


class FakeStream:
    """WorkerStream's interface over a scripted Reply: `pieces()`, `state`, `close()`, `abort()`."""

    def __init__(self, reply: Reply, prompt_tokens: int):
        self._reply = reply
        self._aborted = threading.Event()
        self.state = StreamState(prompt_tokens=prompt_tokens)
        self.closed = False

    def pieces(self) -> Iterator[str]:
        for index, piece in enumerate(self._reply.pieces):
            if index == self._reply.hold_after:
                self._hold()
            if self._aborted.is_set():
                raise WorkerUnavailable("the request was aborted")
            yield piece
        if self._reply.hold_after is not None and self._reply.hold_after >= len(self._reply.pieces):
            self._hold()
        if self._reply.fail_with is not None:
            raise self._reply.fail_with
        self.state.completion_tokens = count_text(self._reply.text)
        self.state.finish_reason = self._reply.finish_reason

    def _hold(self) -> None:
        while not (self._reply.release.wait(0.02) or self._aborted.is_set()):
            pass
        if self._aborted.is_set():
            raise WorkerUnavailable("the request was aborted")

    @property
    def aborted(self) -> bool:
        return self._aborted.is_set()

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self._aborted.set()
        self.closed = True


class FakeModelClient:
    """ModelClient's interface, answered from the test's script; thread-safe like the real one."""

    def __init__(self, models: tuple[dict, ...] | list[dict] = DEFAULT_MODELS):
        self.listing: dict[str, list[dict]] = {FAKE_URL: [dict(entry) for entry in models]}
        self.down: set[str] = set()  # servers that do not answer (their URL)
        self.cards: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.streams: list[FakeStream] = []
        self.closed = False
        self._replies: deque[Reply] = deque()
        self._failures: deque[Exception] = deque()
        self._lock = threading.Lock()

    # the test's controls ----------------------------------------------------------------------
    def reply(self, *pieces: str, **how: Any) -> Reply:
        """Script the next reply (Reply's fields as keywords; `pieces=()` for none); returned so a held one can be
        released."""
        scripted = Reply(**{"pieces": pieces or (DEFAULT_TEXT,), **how})
        with self._lock:
            self._replies.append(scripted)
        return scripted

    def fail_next(self, error: Exception) -> None:
        """The next generation request (stream, completion or relay) raises `error` when it is sent."""
        with self._lock:
            self._failures.append(error)

    def generations(self) -> list[Request]:
        return [r for r in self.requests if r.path in ("/v1/chat/completions", "/v1/completions")]

    # ModelClient's interface --------------------------------------------------------------------
    def close(self) -> None:
        self.closed = True

    def health(self, endpoint: Endpoint) -> dict[str, Any]:
        self._reachable(endpoint)
        return {"status": "ok", "queue_depth": 0}

    def models(self, endpoint: Endpoint) -> list[dict[str, Any]]:
        self._reachable(endpoint)
        return [dict(entry) for entry in self.listing.get(endpoint.url, [])]

    def model_card(self, endpoint: Endpoint, model_id: str) -> dict[str, Any] | None:
        self._reachable(endpoint)
        return self.cards.get(model_id)

    def count_tokens(
        self,
        endpoint: Endpoint,
        model: str,
        text: str | None = None,
        messages: list[dict[str, str]] | None = None,
        template_flags: dict[str, bool] | None = None,
    ) -> int | None:
        self._reachable(endpoint, never_reached=True)
        if messages is not None:
            return sum(count_text(m["content"]) + 4 for m in messages)
        return count_text(text or "")

    def complete(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> Completion:
        reply = self._take(endpoint, path, payload)
        return Completion(reply.text, None, count_text(reply.text), reply.finish_reason)

    def relay(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        reply = self._take(endpoint, path, payload)
        usage = {"prompt_tokens": 1, "completion_tokens": count_text(reply.text)}
        return {
            "object": "chat.completion",
            "model": payload.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": usage,
        }

    def open_relay(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> httpx.Response:
        reply = self._take(endpoint, path, payload)
        chunks = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in reply.pieces]
        chunks.append({"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]})
        body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())

    def open_stream(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> FakeStream:
        reply = self._take(endpoint, path, payload)
        prompt = payload.get("messages") or [{"content": payload.get("prompt", "")}]
        stream = FakeStream(reply, sum(count_text(m["content"]) for m in prompt))
        with self._lock:
            self.streams.append(stream)
        return stream

    # helpers --------------------------------------------------------------------------------------
    def _reachable(self, endpoint: Endpoint, never_reached: bool = True) -> None:
        if endpoint.url in self.down:
            raise WorkerUnavailable(f"{endpoint.url}: connection refused", never_reached=never_reached)

    def _take(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> Reply:
        self._reachable(endpoint)
        with self._lock:
            self.requests.append(Request(endpoint.url, path, dict(payload)))
            if self._failures:
                raise self._failures.popleft()
            return self._replies.popleft() if self._replies else Reply()
