"""Prometheus metrics of the worker at GET /metrics, named as vLLM names its own with an `llmchat:` prefix, so
dashboards made for vLLM read them with the prefix changed:

- `llmchat:request_queue_time_seconds` (histogram): from the request's arrival in the worker until its engine took
  it: the wait for its model's load and the pool's lease, tokenizing, then the engine's queue until a batch slot
  (transformers: admission into the batch; OpenVINO: the hand-over to its pipeline, whose own scheduling after that is
  not observable). A request given up while it waited is not counted;
- `llmchat:time_to_first_token_seconds` (histogram): from the request's submission to the engine to its first text;
- `llmchat:time_per_output_token_seconds` (histogram): a request's mean time per output token after the first
  (inter-token latency);
- `llmchat:e2e_request_latency_seconds` (histogram): submission to the last token;
- `llmchat:num_requests_running`, `llmchat:num_requests_waiting` (gauges): in the engines' batches, and queued;
- `llmchat:prompt_tokens_total`, `llmchat:generation_tokens_total` (counters);
- `llmchat:request_success_total` (counter, by finish reason: stop, length, cancelled);
- `llmchat:worker_resident_memory_bytes` (gauge): the worker's RSS with its children's (llama.cpp engines'
  llama-server processes), which `process_resident_memory_bytes` leaves out.

Every series has a `model_name` label (the gauges: the engine's name). The worker is one process: its registry is
its own (one per app), never the global default one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from llmchat.worker import footprint
from llmchat.worker.engines.base import Delta, Event, Failed, Finished, GenerationHandle

# vLLM's buckets for the same histograms
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0)
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0)
# vLLM puts its queue time in its latency buckets (0.3 s and up); on a CPU a slot is often free within milliseconds
# and a model load takes minutes: the first-token buckets, and longer ones for loads
QUEUE_BUCKETS = (*TTFT_BUCKETS, 80.0, 160.0, 320.0, 640.0)
E2E_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0)


class EngineLoad(Collector):
    """Running and waiting requests, read from the engines at scrape time."""

    def __init__(self, pool) -> None:
        self.pool = pool

    def collect(self):
        running = GaugeMetricFamily(
            "llmchat:num_requests_running", "Requests in an engine's batch", labels=["model_name"]
        )
        waiting = GaugeMetricFamily(
            "llmchat:num_requests_waiting", "Requests queued for an engine", labels=["model_name"]
        )
        for engine in self.pool.engines():
            running.add_metric([engine.name], engine.active_count)
            waiting.add_metric([engine.name], engine.queue_depth)
        yield running
        yield waiting
        rss = footprint.rss_bytes()
        if rss is not None:
            yield GaugeMetricFamily(
                "llmchat:worker_resident_memory_bytes", "Resident memory of the worker and its children", value=rss
            )


class WorkerMetrics:
    def __init__(self, pool) -> None:
        self.registry = CollectorRegistry()
        labels = ["model_name"]
        self.ttft = Histogram(
            "llmchat:time_to_first_token_seconds",
            "Time to first token",
            labels,
            buckets=TTFT_BUCKETS,
            registry=self.registry,
        )
        self.tpot = Histogram(
            "llmchat:time_per_output_token_seconds",
            "Mean time per output token after the first, per request",
            labels,
            buckets=TPOT_BUCKETS,
            registry=self.registry,
        )
        self.queue_time = Histogram(
            "llmchat:request_queue_time_seconds",
            "Time from a request's arrival in the worker until its engine took it",
            labels,
            buckets=QUEUE_BUCKETS,
            registry=self.registry,
        )
        self.e2e = Histogram(
            "llmchat:e2e_request_latency_seconds",
            "End-to-end request latency",
            labels,
            buckets=E2E_BUCKETS,
            registry=self.registry,
        )
        self.prompt_tokens = Counter("llmchat:prompt_tokens", "Prompt tokens processed", labels, registry=self.registry)
        self.generation_tokens = Counter(
            "llmchat:generation_tokens", "Tokens generated", labels, registry=self.registry
        )
        self.success = Counter(
            "llmchat:request_success", "Finished requests", [*labels, "finished_reason"], registry=self.registry
        )
        self.registry.register(EngineLoad(pool))

    def track(
        self, model: str, sink: Callable[[Event], None], arrived: float, handle: GenerationHandle
    ) -> Callable[[Event], None]:
        """`sink`, timing the generation it receives the events of (called on the engine's thread). `arrived`: when
        the request reached the worker (time.perf_counter); `handle`: the one the engine is given, which it marks
        when it takes the request."""
        submitted = time.perf_counter()
        first: list[float] = []
        heard: list[bool] = []

        def observed(event: Event) -> None:
            now = time.perf_counter()
            if not heard:  # the engine speaks only after it took the request
                heard.append(True)
                if handle.admitted_at is not None:
                    self.queue_time.labels(model).observe(max(0.0, handle.admitted_at - arrived))
            if isinstance(event, Delta) and not first:
                first.append(now)
                self.ttft.labels(model).observe(now - submitted)
            elif isinstance(event, Finished):
                self._finished(model, event, submitted, first[0] if first else None, now)
            elif isinstance(event, Failed):
                self.e2e.labels(model).observe(now - submitted)
            sink(event)

        return observed

    def _finished(self, model: str, event: Finished, submitted: float, first: float | None, now: float) -> None:
        self.e2e.labels(model).observe(now - submitted)
        self.prompt_tokens.labels(model).inc(event.prompt_tokens)
        self.generation_tokens.labels(model).inc(event.completion_tokens)
        self.success.labels(model, event.reason).inc()
        if first is not None and event.completion_tokens > 1:
            self.tpot.labels(model).observe((now - first) / (event.completion_tokens - 1))

    def exposition(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


def install(app: FastAPI, pool) -> WorkerMetrics:
    """GET /metrics on `app`; the metrics object is `app.state.metrics` for the generation routes."""
    metrics = WorkerMetrics(pool)
    app.state.metrics = metrics
    app.add_api_route("/metrics", metrics.exposition, methods=["GET"], include_in_schema=False)
    return metrics
