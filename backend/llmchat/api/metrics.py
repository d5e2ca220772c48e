"""Prometheus metrics of the chat API at GET /metrics (for `metrics_networks` only):

- `llmchat:api_requests_total` (counter, by route template, method and status);
- `llmchat:api_request_duration_seconds` (histogram, by route): until the response starts (a stream's headers);
- `llmchat:api_streams_live` (gauge): SSE answers being streamed now (chat replies and /v1 streams);
- `llmchat:api_refusals_total` (counter, by reason): every refused request, by its error code (rate_limited,
  quota_exceeded, unauthenticated, cross_origin, ...): what the `llmchat.api.refused` log lines say.

Under gunicorn every worker process writes its values to files in PROMETHEUS_MULTIPROC_DIR (prometheus_client's
multiprocess mode, set up by gunicorn_app before any worker starts) and a scrape adds every process up; without it
(Flask's server, tests) the app's own registry answers. Each app has its own registry, never the global default.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from llmchat.api.errors import REFUSED_KEY, Refused
from llmchat.api.identity import ENVIRON_KEY, in_networks, parse_networks

STARTED_KEY = "llmchat.started"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "llmchat:api_requests",
            "Requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "llmchat:api_request_duration_seconds",
            "Time until the response starts",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # livesum: the streams of the processes alive now, added up
        self.streams = Gauge(
            "llmchat:api_streams_live", "SSE answers streaming now", registry=self.registry, multiprocess_mode="livesum"
        )
        self.refusals = Counter(
            "llmchat:api_refusals", "Refused requests by reason", ["reason"], registry=self.registry
        )

    def exposition(self) -> bytes:
        if multiprocess_dir():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def _route() -> str:
    """The route's template (/api/conversations/<conversation_id>), so ids never become label values."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def install_metrics(app: Flask, networks: tuple[str, ...]) -> ApiMetrics:
    """Count every request (registered first, so the timing starts before the other checks) and serve /metrics."""
    metrics = ApiMetrics()
    allowed = parse_networks(networks)

    @app.before_request
    def start_timer():
        request.environ[STARTED_KEY] = time.perf_counter()

    @app.after_request
    def count(response: Response) -> Response:
        route = _route()
        started = request.environ.get(STARTED_KEY)
        if started is not None:
            metrics.latency.labels(route).observe(time.perf_counter() - started)
        metrics.requests.labels(route, request.method, str(response.status_code)).inc()
        refused = request.environ.get(REFUSED_KEY)
        if refused:
            metrics.refusals.labels(refused).inc()
        if response.is_streamed and response.mimetype == "text/event-stream":
            metrics.streams.inc()
            response.call_on_close(metrics.streams.dec)
        return response

    @app.get("/metrics")
    def scrape():
        if not in_networks(request.environ[ENVIRON_KEY], allowed):
            raise Refused(403, "metrics_not_allowed", "this address may not read /metrics (metrics_networks)")
        return Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)

    return metrics
