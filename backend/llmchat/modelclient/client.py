"""HTTP client for OpenAI-compatible model servers (llmchat's worker, vLLM, llama.cpp, ...).

The one client of the project: the chat API (routing, generation, token counts) and the evaluation use it.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx


class WorkerUnavailable(Exception):
    """No server answered (connection refused, timed out, or it died mid-request)."""

    def __init__(self, message: str, never_reached: bool = False):
        super().__init__(message)
        # True when the request never got to the server: another server may safely be tried
        self.never_reached = never_reached


def _unreachable(endpoint: Endpoint, exc: httpx.HTTPError) -> WorkerUnavailable:
    return WorkerUnavailable(f"{endpoint.url}: {exc}", never_reached=isinstance(exc, httpx.ConnectError))


class WorkerRejected(Exception):
    """The server answered with an error (bad request, unknown model, queue full)."""

    def __init__(self, status: int, message: str, retry_after: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.code = code  # the OpenAI error body's `code` (llmchat's worker: queue_full, model_loading, ...)


@dataclass(frozen=True)
class Endpoint:
    """One server: its base URL (without /v1) and the key it wants, if any."""

    url: str
    api_key: str | None = None

    @classmethod
    def of(cls, url: str, api_key: str | None = None) -> Endpoint:
        return cls(url.rstrip("/"), api_key)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


@dataclass
class Completion:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


@dataclass
class StreamState:
    """What a stream told us besides the text: filled in as chunks arrive."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _error_code(response: httpx.Response) -> str | None:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        error = body.get("error", body)
        return str(error.get("message") if isinstance(error, dict) else error)
    except (ValueError, AttributeError):
        return response.text[:500] or response.reason_phrase


def _raise_for(response: httpx.Response) -> None:
    if response.status_code >= 400:
        response.read()
        raise WorkerRejected(
            response.status_code,
            _error_message(response),
            response.headers.get("Retry-After"),
            _error_code(response),
        )


def _count(value: Any) -> int:
    """A queue depth as a server reported it; anything that is not a count is 0 (unknown)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _text_of(choice: dict[str, Any]) -> str:
    if "text" in choice:
        return _storable(choice.get("text") or "")
    holder = choice.get("delta") or choice.get("message") or {}
    return _storable(holder.get("content") or "")


# NUL, and surrogate code points (a str holds a valid pair as one character, so any left is a lone one)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    """The text with U+FFFD for what no database stores: NUL (PostgreSQL refuses it; a model may write it) and lone
    surrogates (JSON can carry them, UTF-8 cannot). Whatever a server sends can then be saved and sent on."""
    return _UNSTORABLE.sub("\ufffd", text)


class ModelClient:
    """One pooled httpx client, shared by all request threads (httpx.Client is thread-safe)."""

    def __init__(self, timeout_s: float = 300.0, connect_timeout_s: float = 3.0):
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s))
        self._quick = httpx.Timeout(5.0, connect=connect_timeout_s)

    def close(self) -> None:
        self._http.close()

    def _get(self, endpoint: Endpoint, path: str) -> httpx.Response:
        try:
            return self._http.get(endpoint.url + path, headers=endpoint.headers(), timeout=self._quick)
        except httpx.HTTPError as exc:
            raise _unreachable(endpoint, exc) from exc

    def health(self, endpoint: Endpoint) -> dict[str, Any]:
        """/health; a server without that route (404) is alive with an unknown queue (depth 0)."""
        response = self._get(endpoint, "/health")
        if response.status_code == 404:
            return {"status": "ok", "queue_depth": 0}
        if response.status_code >= 500 and response.status_code != 503:
            raise WorkerUnavailable(f"{endpoint.url}/health answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):  # another server's idea of a health body: alive, queue unknown
            body = {}
        return {"status": "ok", **body, "queue_depth": _count(body.get("queue_depth"))}

    def models(self, endpoint: Endpoint) -> list[dict[str, Any]]:
        response = self._get(endpoint, "/v1/models")
        _raise_for(response)
        return list(response.json().get("data") or [])

    def model_card(self, endpoint: Endpoint, model_id: str) -> dict[str, Any] | None:
        """GET /v1/models/{id}/card (llmchat's worker: spec, run recipe, loss curve, evaluation); None from a
        server without that route, or one that does not know the model."""
        response = self._get(endpoint, f"/v1/models/{quote(model_id, safe='')}/card")
        if response.status_code in (404, 405, 501):
            return None
        _raise_for(response)
        try:
            body = response.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def count_tokens(
        self,
        endpoint: Endpoint,
        model: str,
        text: str | None = None,
        messages: list[dict[str, str]] | None = None,
        template_flags: dict[str, bool] | None = None,
    ) -> int | None:
        """POST /tokenize with a prompt or chat messages (llmchat's worker and vLLM have it); None if it lacks it.
        `template_flags`: chat-template switches such as continue_final_message, as the generation will send.
        Waited for as long as a reply (not the quick timeout of /health): it is the first step of one, and a worker
        busy with many streams took over 5 s for it (bench/soak.py)."""
        body: dict[str, Any] = {"model": model}
        body.update(
            {"messages": messages, **(template_flags or {})} if messages is not None else {"prompt": text or ""}
        )
        try:
            response = self._http.post(endpoint.url + "/tokenize", json=body, headers=endpoint.headers())
        except httpx.HTTPError as exc:
            raise _unreachable(endpoint, exc) from exc
        if response.status_code in (404, 405, 501) or (response.status_code == 400 and messages is not None):
            return None  # no /tokenize, or one that takes only text: the caller estimates
        _raise_for(response)
        body = response.json()
        return int(body["count"]) if "count" in body else len(body.get("tokens", []))

    def complete(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> Completion:
        try:
            response = self._http.post(
                endpoint.url + path, json={**payload, "stream": False}, headers=endpoint.headers()
            )
        except httpx.HTTPError as exc:
            raise _unreachable(endpoint, exc) from exc
        _raise_for(response)
        body = response.json()
        choice = (body.get("choices") or [{}])[0]
        usage = body.get("usage") or {}
        return Completion(
            text=_text_of(choice),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
            finish_reason=choice.get("finish_reason"),
        )

    def relay(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST `payload` as it is and return the server's JSON answer as it is (the chat API's /v1 pass-through)."""
        try:
            response = self._http.post(endpoint.url + path, json=payload, headers=endpoint.headers())
        except httpx.HTTPError as exc:
            raise _unreachable(endpoint, exc) from exc
        _raise_for(response)
        try:
            return response.json()
        except ValueError as exc:
            raise WorkerUnavailable(f"{endpoint.url}: the answer is not JSON") from exc

    def open_relay(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> httpx.Response:
        """Send a streamed request as it is; the open response (status checked) is the caller's to read and close."""
        request = self._http.build_request("POST", endpoint.url + path, json=payload, headers=endpoint.headers())
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _unreachable(endpoint, exc) from exc
        try:
            _raise_for(response)
        except WorkerRejected:
            response.close()
            raise
        return response

    def open_stream(self, endpoint: Endpoint, path: str, payload: dict[str, Any]) -> WorkerStream:
        """Send the request and check its status now, so a refusal is a normal HTTP error, not a broken stream."""
        body = {**payload, "stream": True, "stream_options": {"include_usage": True}}
        return WorkerStream(self.open_relay(endpoint, path, body))


class WorkerStream:
    """Text pieces of an SSE completion stream; `close()` ends the worker's request (it stops generating)."""

    def __init__(self, response: httpx.Response):
        self._response = response
        self.state = StreamState()

    def pieces(self) -> Iterator[str]:
        if self._response.headers.get("content-type", "").startswith("application/json"):
            yield from self._whole()  # a server that ignores `stream: true` answers with the whole completion
            return
        try:
            for line in self._response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                piece = self._read_chunk(json.loads(data))
                if piece:
                    yield piece
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise WorkerUnavailable(f"the model server stopped mid-reply: {exc}") from exc
        # some servers (transformers serve) end with a finish_reason chunk and no [DONE]; a stream that ends
        # with neither was cut (the server died)
        if self.state.finish_reason is None:
            raise WorkerUnavailable("the model server closed the stream before it finished")

    def _whole(self) -> Iterator[str]:
        try:
            body = json.loads(self._response.read())
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise WorkerUnavailable(f"the model server's answer was cut or unreadable: {exc}") from exc
        text = self._read_chunk(body if isinstance(body, dict) else {})
        self.state.finish_reason = self.state.finish_reason or "stop"
        if text:
            yield text

    def _read_chunk(self, chunk: dict[str, Any]) -> str:
        if "error" in chunk:
            error = chunk["error"]
            raise WorkerRejected(500, error.get("message", str(error)) if isinstance(error, dict) else str(error))
        usage = chunk.get("usage") or {}
        if usage:
            self.state.prompt_tokens = usage.get("prompt_tokens", self.state.prompt_tokens)
            self.state.completion_tokens = usage.get("completion_tokens", self.state.completion_tokens)
        choices = chunk.get("choices") or []
        if not choices:
            return ""
        if choices[0].get("finish_reason"):
            self.state.finish_reason = choices[0]["finish_reason"]
        return _text_of(choices[0])

    def close(self) -> None:
        self._response.close()

    def abort(self) -> None:
        """End the request now, from any thread: a reader blocked in `pieces()` wakes up (with WorkerUnavailable),
        and the server sees the connection end, so it stops generating. Closing alone would not wake the reader."""
        stream = self._response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self._response.close()
