"""Fair share of the model and of the API's threads.

- Rate limit (Flask-Limiter): `limits.rate_limit_requests` generating requests per client per window, counted in
  memory (each API process on its own) or in Redis (`limits.rate_limit_storage: redis://...`, shared by every
  process and host). Over it: 429 `rate_limited` with Retry-After.
- Generation slots: a client may have `limits.max_concurrent_per_ip` generations running at once (429
  `too_many_generations`), and the process `limits.max_concurrent_generations` in all, fewer than its threads, so
  that listing, reading and health checks always find a thread (503 `server_busy` at once, never a queue).
  A slot is held for a generation's whole life: a chat reply's job until the reply is written (leaving the page
  does not end it); on /v1 a JSON answer until it is written, a stream until it ends or its client goes away.

- Token quota: `limits.tokens_per_day` prompt + completion tokens per identity and UTC day (chat and /v1
  together, from the usage table). Over it: 429 `quota_exceeded` naming the limit, with `resets_at` (the next UTC
  midnight) and Retry-After.
- Sign-in: `accounts.signin_rate_limit` attempts per client address on /api/auth/* (429 `rate_limited`).

Callers are counted by identity (callers.Caller.limit_key): by address in ip mode, an IPv6 client by its /64.

All of it is one Flask extension, `ApiLimits`, made like Flask-Limiter: `ApiLimits(settings..., app=None)` or
`init_app(app)` later; it registers itself in `app.extensions` and the `generation` decorator finds it through
`current_app`, so there is no module-level state and this module imports nothing of the app's services.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded

from llmchat.api.callers import current_caller
from llmchat.api.config import Limits
from llmchat.api.errors import Refused, api_error_response
from llmchat.api.identity import ENVIRON_KEY, limit_key
from llmchat.store.usage import UsageStore, next_utc_midnight

log = logging.getLogger(__name__)

DEFAULT_THREADS = 32  # configs/gunicorn.conf.py's default; Flask's development server has no fixed count
BUSY_RETRY_AFTER_S = 5  # a generation takes seconds: try again soon
GENERATES = "llmchat_generates"  # set on the view functions that make the model write
SLOT = "llmchat_generation_slot"  # flask.g: the request's generation slot until a job takes it
EXTENSION = "llmchat.limits"  # the key of ApiLimits in app.extensions


class GenerationSlots:
    """Generations in flight in this process, per client key and in all."""

    def __init__(self, per_client: int, total: int):
        self.per_client = per_client
        self.total = total
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def running(self, key: str | None = None) -> int:
        with self._lock:
            return self._running[key] if key is not None else sum(self._running.values())

    def acquire(self, key: str) -> Callable[[], None]:
        """A slot for `key`, or Refused (429 for the client's own cap, 503 for the server's); returns its release,
        which may be called any number of times."""
        with self._lock:
            if self.per_client and self._running[key] >= self.per_client:
                raise Refused(
                    429,
                    "too_many_generations",
                    f"limits.max_concurrent_per_ip: {self._running[key]} replies are being written for "
                    f"you already; the limit is {self.per_client} at once",
                    headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
                    extra={"limit": "max_concurrent_per_ip"},
                )
            if sum(self._running.values()) >= self.total:
                raise Refused(
                    503,
                    "server_busy",
                    f"the server is writing {self.total} replies, its limit; try again in a few seconds",
                    headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
                )
            self._running[key] += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._running[key] -= 1
                if self._running[key] <= 0:
                    del self._running[key]

        return release


def generation_cap(limits: Limits, threads: int | None) -> int:
    """`limits.max_concurrent_generations`, or a quarter of the threads (at least 2) kept free for the rest. A
    configured cap that would take every thread is lowered, with a warning."""
    known = threads or DEFAULT_THREADS
    auto = max(1, known - max(2, known // 4))
    configured = limits.max_concurrent_generations
    if configured is None:
        return auto
    if configured < 1:
        raise ValueError("limits.max_concurrent_generations must be 1 or more (or null for automatic)")
    if threads and configured >= threads:
        log.warning(
            "limits.max_concurrent_generations=%d would take all %d threads; using %d", configured, threads, auto
        )
        return auto
    return configured


def caller_key() -> str:
    return current_caller().limit_key


def address_key() -> str:
    """The client address (an IPv6 client's /64): what sign-in attempts are counted by, before anyone is known."""
    return limit_key(request.environ[ENVIRON_KEY])


def check_quota(tokens_used: int, tokens_per_day: int | None) -> None:
    """429 `quota_exceeded` once today's tokens reach the quota; it resets at the next UTC midnight."""
    if tokens_per_day is None or tokens_used < tokens_per_day:
        return
    resets = next_utc_midnight()
    wait = max(1, math.ceil(resets.timestamp() - time.time()))
    raise Refused(
        429,
        "quota_exceeded",
        f"limits.tokens_per_day: {tokens_used} of {tokens_per_day} tokens used today; the quota resets at "
        f"{resets.isoformat()}",
        headers={"Retry-After": str(wait)},
        extra={"limit": "tokens_per_day", "resets_at": resets.isoformat()},
    )


class ApiLimits:
    """The API's fair-share limits as a Flask extension: the rate limits (Flask-Limiter, over the generating routes
    and the sign-in blueprint), the generation slots of this process and the daily token quota."""

    def __init__(
        self,
        limits: Limits,
        usage: UsageStore,
        signin: Blueprint,
        signin_limit: str,
        app: Flask | None = None,
    ):
        self.limits = limits
        self.usage = usage
        self.signin = signin
        self.signin_limit = signin_limit
        self.slots = GenerationSlots(limits.max_concurrent_per_ip, generation_cap(limits, threads=None))
        self.limiter: Limiter | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Install the rate limits (after the security checks and the caller's resolution: call it after them)."""
        app.extensions[EXTENSION] = self
        self.limiter = self._install_rate_limit(app)

    def hold_generation(self) -> Callable[[], None]:
        """For the caller of this request: 429 when today's quota is used up, else one generation slot (its
        release), or the refusal of the slots."""
        caller = current_caller()
        check_quota(self.usage.tokens_today(caller.identity), self.limits.tokens_per_day)
        return self.slots.acquire(caller.limit_key)

    def _install_rate_limit(self, app: Flask) -> Limiter:
        """Flask-Limiter over every generating route together (one budget per caller), and over the sign-in routes
        (per address)."""
        limits, signin_limit = self.limits, self.signin_limit
        value = rate_limit(limits)
        logging.getLogger("flask-limiter").setLevel(logging.WARNING)  # our own refusal line says it once
        generating = [ApplicationLimit(value, scope="generation", exempt_when=_not_generating)] if value else []
        limiter = Limiter(
            caller_key,
            app=app,
            application_limits=generating,
            storage_uri=limits.rate_limit_storage,
            strategy="moving-window",
            in_memory_fallback_enabled=True,
            key_prefix="llmchat",
        )
        if not limiter.storage.check():
            raise RuntimeError(f"limits.rate_limit_storage {limits.rate_limit_storage} does not answer")
        limiter.limit(signin_limit, key_func=address_key, scope="signin")(self.signin)

        @app.errorhandler(RateLimitExceeded)
        def rate_limited(_exc: RateLimitExceeded):
            current = limiter.current_limit
            # when the oldest counted request leaves the window (RequestLimit.reset_at adds a second to it)
            wait = max(1, math.ceil(current.window.reset_time - time.time())) if current else 1
            allowed = (
                f"at most {limits.rate_limit_requests} per {limits.rate_limit_window_s:g} s"
                if _not_generating() is False
                else f"at most {signin_limit} from one address"
            )
            refusal = Refused(
                429,
                "rate_limited",
                f"too many requests: {allowed}; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
            return api_error_response(refusal)

        return limiter


def api_limits() -> ApiLimits:
    """The app's ApiLimits (current_app.extensions)."""
    return current_app.extensions[EXTENSION]


def generation(view):
    """For a route that makes the model write: hold one generation slot of the caller's and of the server's for
    the generation's whole life. A chat reply is a job that outlives its request: the route hands the slot to it
    (`take_slot`), and the job frees it when the reply is written. Otherwise (/v1) a streamed answer holds it until
    the stream ends or its client goes away, a JSON one until it is written."""

    @wraps(view)
    def generating(*args, **kwargs):
        release = api_limits().hold_generation()
        setattr(g, SLOT, release)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            release()
            raise
        if g.pop(SLOT, None) is None:
            return response  # a job has it
        if response.is_streamed:
            response.call_on_close(release)  # the WSGI server closes the response when the stream ends or breaks
        else:
            release()
        return response

    setattr(generating, GENERATES, True)
    return generating


def take_slot() -> Callable[[], None]:
    """The request's generation slot (its release), for the job that will hold it past the request."""
    return g.pop(SLOT)


def _not_generating() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, GENERATES, False)


def rate_limit(limits: Limits) -> str | None:
    """Flask-Limiter's notation for `rate_limit_requests` per `rate_limit_window_s`; None when off."""
    if limits.rate_limit_requests <= 0:
        return None
    return f"{limits.rate_limit_requests} per {max(1, round(limits.rate_limit_window_s))} second"
