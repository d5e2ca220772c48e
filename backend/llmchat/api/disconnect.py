"""Has the client hung up? Asked of the request's socket while a run's event stream (routes/runs.py) waits for news.

A WSGI app only learns that a client left when a write fails, and a stream that is waiting for news writes nothing
meanwhile, so it would go on polling for nobody. Both servers the API runs under hand the
socket over in the environ (gunicorn: `gunicorn.socket`, werkzeug: `werkzeug.socket`); a socket whose peer closed
reads as end-of-file, which can be seen without consuming anything (MSG_PEEK).
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from typing import Any

SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


def hung_up(sock: socket.socket) -> bool:
    """True when the peer closed (or reset) the connection. Bytes waiting (a pipelined request) are not a
    hang-up; a TLS socket cannot be peeked at and is never reported."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError, ValueError):
        return False
    except OSError:
        return True  # reset by the peer, or closed under us


def client_gone_check(environ: dict[str, Any]) -> Callable[[], bool]:
    """A cheap check to call while generating; always False when the server does not expose the socket."""
    sock = next((environ[key] for key in SOCKET_KEYS if isinstance(environ.get(key), socket.socket)), None)
    if sock is None:
        return lambda: False
    return lambda: hung_up(sock)
