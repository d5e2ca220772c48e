"""A Flask app served on a free loopback port in a thread: a real HTTP stand-in for another server (a plain
OpenAI-compatible one, a model server with a given card)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from flask import Flask
from werkzeug.serving import make_server


@contextlib.contextmanager
def serve_app(app: Flask) -> Iterator[str]:
    """Serve `app` until the block ends; yields its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # a 0.02 s poll: shutdown() returns at once instead of after serve_forever's default 0.5 s
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
