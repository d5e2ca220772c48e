"""Per-IP sliding-window rate limit for the generating endpoints (in memory, per API process)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimiter:
    def __init__(self, requests: int, window_s: float, clock=time.monotonic):
        self.requests = requests
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> int:
        """0 when the request may go on (and is counted), else the seconds to wait (for Retry-After)."""
        if self.requests <= 0:
            return 0
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.requests:
                return max(1, math.ceil(hits[0] + self.window_s - now))
            hits.append(now)
            self._forget_idle(now)
            return 0

    def _forget_idle(self, now: float) -> None:
        # keep memory bounded: drop IPs whose hits have all expired
        if len(self._hits) > 10_000:
            for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
                del self._hits[key]
