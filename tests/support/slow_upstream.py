"""A slow OpenAI-compatible model server, for tests where how long a reply takes matters more than its words.

`python -m tests.support.slow_upstream --port P [--delay 0.1]` serves one model, `slow` (chat prompt style). A
reply is `max_tokens` pieces (`--piece`, default "x "), one every `--delay` seconds, streamed or not, so a test
decides how long a generation lasts. A streamed reply stops when its client goes away. `GET /stats` says how many
streams are open now (and were started in all), so a test can see that the chat API really closed them; `GET /health` says them as `active`
(as llmchat's worker counts the requests it is generating for). `--busy N`: the first N generation
requests are refused as a busy server refuses them (503, Retry-After: 1). `--tokenize-delay S`: it has a
`/tokenize` (one token per 4 characters) that answers after S seconds. Loopback only; every reply ends within
120 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL = {
    "id": "slow",
    "object": "model",
    "owned_by": "tests",
    "prompt_style": "chat",
    "context_length": 4096,
    "kind": "chat",
}
LONGEST_REPLY_S = 120.0


class SlowUpstream(BaseHTTPRequestHandler):
    server: SlowServer

    def log_message(self, format: str, *args) -> None:
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/v1/models":
            self._json(200, {"object": "list", "data": [MODEL]})
        elif self.path == "/stats":
            self._json(200, {"open_streams": self.server.open_streams(), "streams_started": self.server.started})
        elif self.path == "/health":
            self._json(200, {"status": "ok", "queue_depth": 0, "active": self.server.open_streams()})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if self.path == "/tokenize" and self.server.tokenize_delay is not None:
            time.sleep(min(self.server.tokenize_delay, LONGEST_REPLY_S))
            self._json(200, {"count": max(1, len(json.dumps(body)) // 4)})
            return
        if self.path != "/v1/chat/completions":
            self._json(404, {"error": {"message": "not found"}})
            return
        if self.server.refuse_as_busy():
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            data = json.dumps({"error": {"message": "the worker is busy; retry shortly", "code": "queue_full"}})
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data.encode())
            return
        pieces = int(body.get("max_tokens") or 1)
        if body.get("stream"):
            self._stream(pieces)
            return
        deadline = time.monotonic() + LONGEST_REPLY_S
        time.sleep(min(pieces * self.server.delay, max(0.0, deadline - time.monotonic())))
        self._json(
            200,
            {
                "id": "slow",
                "object": "chat.completion",
                "model": "slow",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.server.piece * pieces},
                        "finish_reason": "length",
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": pieces, "total_tokens": pieces + 1},
            },
        )

    def _stream(self, pieces: int) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        with self.server.streaming():
            try:
                for chunk in _chunks(pieces, self.server.delay, self.server.piece):
                    self.wfile.write(f"data: {chunk}\n\n".encode())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the chat API closed the request: stop, as a real model server does


def _chunks(pieces: int, delay: float, piece: str) -> Iterator[str]:
    deadline = time.monotonic() + LONGEST_REPLY_S
    for _ in range(pieces):
        if time.monotonic() > deadline:
            break
        yield json.dumps({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}]})
        time.sleep(delay)
    yield json.dumps(
        {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
    )
    yield "[DONE]"


class SlowServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        delay: float,
        busy: int = 0,
        piece: str = "x ",
        tokenize_delay: float | None = None,
    ):
        super().__init__(address, SlowUpstream)
        self.delay = delay
        self.piece = piece
        self.tokenize_delay = tokenize_delay
        self._open = 0
        self.started = 0
        self._busy_left = busy
        self._lock = threading.Lock()

    def refuse_as_busy(self) -> bool:
        with self._lock:
            self._busy_left -= 1
            return self._busy_left >= 0

    @contextlib.contextmanager
    def streaming(self) -> Iterator[None]:
        with self._lock:
            self._open += 1
            self.started += 1
        try:
            yield
        finally:
            with self._lock:
                self._open -= 1

    def open_streams(self) -> int:
        with self._lock:
            return self._open


@contextlib.contextmanager
def start_slow_upstream(
    delay: float = 0.1, busy: int = 0, piece: str = "x ", tokenize_delay: float | None = None
) -> Iterator[str]:
    """Run it as a process on a free loopback port until the block ends; yields its URL."""
    from tests.support.servers import free_port, run_server, worker_env

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "tests.support.slow_upstream",
        "--port",
        str(port),
        "--delay",
        str(delay),
        "--busy",
        str(busy),
        "--piece",
        json.dumps(piece),
    ]
    if tokenize_delay is not None:
        command += ["--tokenize-delay", str(tokenize_delay)]
    with run_server(command, url, "/v1/models", worker_env(), 30.0, "llmchat-slow-"):
        yield url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.1, help="seconds between two pieces")
    parser.add_argument("--busy", type=int, default=0, help="refuse this many generation requests first (503)")
    parser.add_argument("--piece", default='"x "', help="the text of each piece, as a JSON string")
    parser.add_argument(
        "--tokenize-delay",
        type=float,
        default=None,
        help="serve /tokenize, answering after this many seconds (default: no /tokenize)",
    )
    args = parser.parse_args(argv)
    server = SlowServer(("127.0.0.1", args.port), args.delay, args.busy, json.loads(args.piece), args.tokenize_delay)
    print(f"slow upstream on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
