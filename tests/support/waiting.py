"""Polling for a condition that a real process reaches on its own time (a worker noticing a hang-up, a save)."""

from __future__ import annotations

import time


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    """`check()`'s first truthy result, polled every 0.1 s; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout} s")
