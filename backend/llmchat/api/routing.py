"""Which models exist and which server answers a request for one.

The catalog merges every server's /v1/models (briefly cached). A model with several servers goes to the
one with the lowest queue_depth (from /health, briefly cached, plus the requests this process has in flight
there); dead servers are skipped; ties rotate so equal servers share the traffic. `Router.call` is the one way a
request reaches a model server: a server that cannot be reached hands the request to the next live one (failover),
a busy one is asked again after its Retry-After.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from llmchat.api.config import AppConfig, ModelSettings
from llmchat.api.errors import ApiError
from llmchat.api.model_errors import MODEL_LOADING
from llmchat.modelclient import Endpoint, ModelClient, WorkerRejected, WorkerUnavailable
from llmchat.prompts import PROMPT_STYLES

T = TypeVar("T")

PARAM_KEYS = ("temperature", "top_p", "max_tokens", "memory_window", "system_prompt")
ORIGINS = ("config", "adapters", "runs")


@dataclass(frozen=True)
class ModelInfo:
    id: str
    kind: str
    prompt_style: str
    context_length: int
    base_model: str | None
    default_params: dict[str, Any]
    engine: str | None = None  # llmchat's worker says which engine serves it; other servers do not
    origin: str = "config"  # config | adapters | runs (where llmchat's worker found it)
    created: str | None = None  # a run's finishing time
    # whether a server has it in memory now (llmchat's worker says; None: the server does not): a chat to a model
    # that is not loaded waits for its load first, which the web app says
    loaded: bool | None = None
    loading: bool = False
    endpoints: tuple[Endpoint, ...] = field(default=())
    extra_body: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        info = asdict(self)
        info.pop("endpoints")
        info.pop("extra_body")
        return info


def busy_wait_s(exc: WorkerRejected) -> float | None:
    """How long a server that refused because it is busy (503 with Retry-After) asks to wait; None otherwise."""
    if exc.status != 503 or not exc.retry_after:
        return None
    try:
        return max(0.0, float(exc.retry_after))
    except ValueError:
        return None  # an HTTP date: not what a busy model server sends


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _known_style(style: str | None) -> str | None:
    """A style this API can render; anything else (another server's vocabulary) is ignored."""
    return style if style in PROMPT_STYLES else None


def _residency(
    model_id: str, endpoints: list[Endpoint], listings: dict[str, list[dict[str, Any]]]
) -> tuple[bool | None, bool]:
    """(loaded, loading) over the model's servers: loaded when one of them has it loaded (a chat can go there at
    once), loading when none has but one is loading it; loaded is None when no server says."""
    said = [
        entry
        for endpoint in endpoints
        for entry in listings.get(endpoint.url, [])
        if entry.get("id") == model_id and isinstance(entry.get("loaded"), bool)
    ]
    if not said:
        return None, False
    loaded = any(entry["loaded"] for entry in said)
    return loaded, not loaded and any(entry.get("loading") is True for entry in said)


class Router:
    def __init__(self, config: AppConfig, client: ModelClient, clock=time.monotonic):
        self.config = config
        self.client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._catalog: tuple[float, dict[str, ModelInfo]] | None = None
        self._health: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._in_flight: dict[str, int] = {}
        self._turn = itertools.count()

    # servers -------------------------------------------------------------------------------
    def default_endpoints(self) -> list[Endpoint]:
        return [Endpoint(url.rstrip("/"), self.config.worker_api_key) for url in self.config.worker_urls]

    def routed_endpoints(self, settings: ModelSettings) -> list[Endpoint]:
        api_key = settings.api_key or self.config.worker_api_key
        return [Endpoint(url.rstrip("/"), api_key) for url in settings.workers]

    def all_endpoints(self) -> list[Endpoint]:
        seen: dict[str, Endpoint] = {}
        for endpoint in self.default_endpoints():
            seen.setdefault(endpoint.url, endpoint)
        for settings in self.config.models.values():
            for endpoint in self.routed_endpoints(settings):
                seen.setdefault(endpoint.url, endpoint)
        return list(seen.values())

    def health(self, endpoint: Endpoint, fresh: bool = False) -> dict[str, Any] | None:
        """The server's /health body, or None when it is down (cached for health_cache_s)."""
        now = self._clock()
        cached = self._health.get(endpoint.url)
        if cached and not fresh and now - cached[0] < self.config.health_cache_s:
            return cached[1]
        try:
            result: dict[str, Any] | None = self.client.health(endpoint)
        except WorkerUnavailable:
            result = None
        self._health[endpoint.url] = (now, result)
        return result

    def forget_health(self, endpoint: Endpoint) -> None:
        """After a failed request: look again next time instead of trusting the cache."""
        self._health.pop(endpoint.url, None)

    def mark_down(self, endpoint: Endpoint) -> None:
        """A connection was refused: treat the server as down until the health cache expires."""
        self._health[endpoint.url] = (self._clock(), None)

    # models --------------------------------------------------------------------------------
    def catalog(self, fresh: bool = False) -> dict[str, ModelInfo]:
        """Every model some live server lists. Raises WorkerUnavailable when no server answers."""
        with self._lock:
            if not fresh and self._catalog and self._clock() - self._catalog[0] < self.config.models_cache_s:
                return self._catalog[1]
        listings: dict[str, list[dict[str, Any]]] = {}
        for endpoint in self.all_endpoints():
            try:
                listings[endpoint.url] = self.client.models(endpoint)
            except Exception:
                continue
        if not listings:
            raise WorkerUnavailable("no model server answered: " + ", ".join(e.url for e in self.all_endpoints()))
        catalog = self._merge(listings)
        with self._lock:
            self._catalog = (self._clock(), catalog)
        return catalog

    def model(self, model_id: str, field: str = "model") -> ModelInfo:
        """The catalog's entry of `model_id`: ApiError(400) for a model nobody serves (naming those that are);
        WorkerUnavailable when no server answers."""
        catalog = self.catalog()
        if model_id not in catalog:
            names = ", ".join(sorted(catalog)) or "none"
            raise ApiError(400, "unknown_model", f"unknown model {model_id!r}; available: {names}", field=field)
        return catalog[model_id]

    def _merge(self, listings: dict[str, list[dict[str, Any]]]) -> dict[str, ModelInfo]:
        entries: dict[str, dict[str, Any]] = {}
        servers: dict[str, list[Endpoint]] = {}
        defaults = {e.url: e for e in self.default_endpoints()}
        for model_id, settings in self.config.models.items():
            for endpoint in self.routed_endpoints(settings):
                if endpoint.url not in listings:
                    continue  # that server did not answer
                # a model routed to a live server by config is served there even when the server's /v1/models
                # leaves it out (`transformers serve` lists only its hub cache, not a local folder)
                listed = [entry for entry in listings[endpoint.url] if entry.get("id") == model_id]
                entries.setdefault(model_id, listed[0] if listed else {"id": model_id})
                servers.setdefault(model_id, []).append(endpoint)
        for url, listing in listings.items():
            for entry in listing:
                model_id = str(entry.get("id", ""))
                settings = self.config.models.get(model_id, ModelSettings())
                if model_id and url in defaults and not settings.workers:
                    entries.setdefault(model_id, entry)
                    # a model's own api_key applies on the shared servers too
                    servers.setdefault(model_id, []).append(Endpoint(url, settings.api_key or defaults[url].api_key))
        return {m: self._info(entries[m], tuple(servers[m]), _residency(m, servers[m], listings)) for m in entries}

    def _info(
        self, entry: dict[str, Any], endpoints: tuple[Endpoint, ...], residency: tuple[bool | None, bool]
    ) -> ModelInfo:
        settings = self.config.models.get(entry["id"], ModelSettings())
        app_defaults = asdict(self.config.defaults)
        served = {k: v for k, v in (entry.get("default_params") or {}).items() if k in PARAM_KEYS and v is not None}
        return ModelInfo(
            id=entry["id"],
            kind=entry.get("kind") or settings.kind or "chat",
            prompt_style=_known_style(entry.get("prompt_style")) or _known_style(settings.prompt_style) or "chat",
            context_length=int(
                entry.get("context_length") or settings.context_length or self.config.default_context_length
            ),
            base_model=entry.get("base_model") or settings.base_model,
            default_params={**app_defaults, **served, **settings.default_params},
            engine=_text_or_none(entry.get("engine")),
            origin=entry.get("origin") if entry.get("origin") in ORIGINS else "config",
            created=_text_or_none(entry.get("created")),
            loaded=residency[0],
            loading=residency[1],
            endpoints=endpoints,
            extra_body=dict(settings.extra_body),
        )

    # picking a server ------------------------------------------------------------------------
    def pick(self, info: ModelInfo, exclude: frozenset[str] = frozenset()) -> Endpoint:
        scored = []
        for endpoint in info.endpoints:
            health = None if endpoint.url in exclude else self.health(endpoint)
            if health is not None:
                depth = int(health.get("queue_depth") or 0) + self._in_flight.get(endpoint.url, 0)
                scored.append((depth, endpoint))
        if not scored:
            raise WorkerUnavailable(f"every server of model {info.id!r} is down")
        lowest = min(depth for depth, _ in scored)
        tied = [endpoint for depth, endpoint in scored if depth == lowest]
        return tied[next(self._turn) % len(tied)]

    def call(
        self, model: ModelInfo, call: Callable[[Endpoint], T], first: Endpoint | None = None
    ) -> tuple[Endpoint, T]:
        """`call(endpoint)` on the least busy live server of `model` (`first` when given), counted as in flight
        there; returns the server and the answer. A server that cannot even be reached is marked down and the next
        live one gets the call; a busy one is asked again (`when_busy_wait`). Any other failure is raised, and the
        server's health is looked at afresh next time."""
        tried: set[str] = set()
        endpoint = first or self.pick(model)
        while True:
            try:
                with self.using(endpoint):
                    return endpoint, self.when_busy_wait(lambda chosen=endpoint: call(chosen))
            except WorkerUnavailable as exc:
                if not exc.never_reached:
                    self.forget_health(endpoint)
                    raise
                self.mark_down(endpoint)  # its health was cached as alive, but it is gone: the next one
                tried.add(endpoint.url)
                endpoint = self.pick(model, exclude=frozenset(tried))
            except WorkerRejected:
                self.forget_health(endpoint)
                raise

    def when_busy_wait(self, call: Callable[[], T]) -> T:
        """`call()`; while the server refuses it as busy (503 + Retry-After: its queue or its tokenizer is full for
        a moment), wait as asked and call again, for `worker_busy_wait_s` in all. Under load this turns a short
        refusal into a short wait instead of a failed reply (bench/soak.py showed 8 % of chats refused).
        A model still loading (503 `model_loading`: the worker already held the call for its load_timeout_s) is
        asked again until `worker_load_wait_s` have passed since the first call."""
        waited = 0.0
        loading_until = time.monotonic() + self.config.worker_load_wait_s
        while True:
            try:
                return call()
            except WorkerRejected as exc:
                wait = busy_wait_s(exc)
                if wait is None:
                    raise
                if exc.code == MODEL_LOADING:
                    if time.monotonic() + wait > loading_until:
                        raise
                elif waited + wait > self.config.worker_busy_wait_s:
                    raise
                else:
                    waited += wait
                time.sleep(wait)

    @contextlib.contextmanager
    def using(self, endpoint: Endpoint) -> Iterator[Endpoint]:
        """Count a request as in flight on `endpoint` while the block runs."""
        with self._lock:
            self._in_flight[endpoint.url] = self._in_flight.get(endpoint.url, 0) + 1
        try:
            yield endpoint
        finally:
            with self._lock:
                self._in_flight[endpoint.url] -= 1

    def in_flight(self, endpoint: Endpoint) -> int:
        """Requests this process has on `endpoint` now."""
        with self._lock:
            return self._in_flight.get(endpoint.url, 0)

    def health_report(self) -> list[dict[str, Any]]:
        report = []
        for endpoint in self.all_endpoints():
            health = self.health(endpoint, fresh=True)
            report.append(
                {
                    "url": endpoint.url,
                    "status": "ok" if health is not None else "down",
                    "queue_depth": int(health.get("queue_depth") or 0) if health is not None else None,
                }
            )
        return report
