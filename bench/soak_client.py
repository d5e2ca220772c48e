"""One soak user's HTTP client: its own loopback address, every request timed and logged, Retry-After honoured.

Outcomes of a request:
- 429 / 503 with Retry-After: the API shedding load, as documented; counted, then the user waits (bounded).
- any other 5xx, a transport error that is not a timeout, an `internal_error` SSE event, or a status the action
  did not expect: a violation, with the reason, in the user's ledger.
- a timeout: counted ("timeout"); the request's effect is then unknown (the checks allow for it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.soak_ledger import CallLog, Ledger
from tests.support.api_server import from_address
from tests.support.sse import iter_sse

SHEDDING = (429, 503)


@dataclass
class StreamResult:
    """What a streamed request delivered: its events (deltas dropped), and whether it ended properly."""

    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False  # the stream ended after `done` or `error`

    def get(self, name: str) -> dict[str, Any] | None:
        return self.events.get(name)


def error_of(response: httpx.Response) -> tuple[str | None, str | None]:
    """The API's error code and message (docs/api.md, "Errors")."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    error = body.get("error") if isinstance(body, dict) else None
    return (error.get("code"), error.get("message")) if isinstance(error, dict) else (None, None)


class SoakClient:
    def __init__(
        self,
        url: str,
        address: str,
        ledger: Ledger,
        log: CallLog,
        deadline: float,
        timeout: float = 60.0,
        max_backoff_s: float = 5.0,
    ):
        self.http = from_address(url, address, timeout=timeout)
        self.ledger = ledger
        self.log = log
        self.deadline = deadline
        self.max_backoff_s = max_backoff_s

    def close(self) -> None:
        self.http.close()

    def call(
        self, endpoint: str, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response | None:
        """One request; None when no answer came (timeout, transport error)."""
        started = time.monotonic()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self._transport_failure(endpoint, exc, started)
            return None
        self._judge(endpoint, response, started, expect)
        return response

    def stream(self, endpoint: str, path: str, body: dict[str, Any]) -> tuple[httpx.Response | None, StreamResult]:
        """A streamed POST read to its end; the response (None when none came) and the events it delivered."""
        started = time.monotonic()
        result = StreamResult()
        response = None
        try:
            with self.http.stream("POST", path, json=body) as response:
                if response.status_code != 200:
                    response.read()
                    self._judge(endpoint, response, started, (200,))
                    return response, result
                for name, data in iter_sse(response.iter_lines()):
                    if name != "delta":
                        result.events[name] = data
                    if name in ("done", "error"):
                        result.complete = True
        except httpx.TransportError as exc:
            self._transport_failure(endpoint, exc, started)
            return response, result
        error = (result.events.get("error") or {}).get("error", {})
        code = error.get("code")
        self.log.add(endpoint, 200, time.monotonic() - started, code and f"event {code}", error.get("message"))
        if not result.complete:
            self.ledger.violations.append(f"{endpoint}: the stream ended without done or error")
        elif code == "internal_error":
            self.ledger.violations.append(f"{endpoint}: error event internal_error: {result.events['error']}")
        return response, result

    # ----------------------------------------------------------------------------------------------
    def _judge(self, endpoint: str, response: httpx.Response, started: float, expect: tuple[int, ...]) -> None:
        status = response.status_code
        code, message = error_of(response) if status >= 400 else (None, None)
        self.log.add(endpoint, status, time.monotonic() - started, code, message)
        if status in SHEDDING and "Retry-After" in response.headers:
            self._back_off(response.headers["Retry-After"])
        elif status >= 500:
            self.ledger.violations.append(f"{endpoint}: {status} {response.text[:300]}")
        elif status not in expect:
            self.ledger.violations.append(f"{endpoint}: {status} where {expect} was expected: {response.text[:300]}")

    def _transport_failure(self, endpoint: str, exc: httpx.TransportError, started: float) -> None:
        elapsed = time.monotonic() - started
        if isinstance(exc, httpx.TimeoutException):
            self.log.add(endpoint, "timeout", elapsed)
            return
        self.log.add(endpoint, type(exc).__name__, elapsed)
        self.ledger.violations.append(f"{endpoint}: transport error {type(exc).__name__}: {exc}")

    def _back_off(self, retry_after: str) -> None:
        try:
            wait = float(retry_after)
        except ValueError:
            wait = 1.0
        time.sleep(max(0.0, min(wait, self.max_backoff_s, self.deadline - time.monotonic())))
