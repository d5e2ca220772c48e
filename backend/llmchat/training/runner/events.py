"""The live events of a run's page (SSE): loss points as they are logged, progress, the log tail, status changes,
and at the end the run's final detail. Polls the run's files: the training is another process, maybe started by
another API process, so its files are the one place that knows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from llmchat.models.run_files import LOG_FILE, read_log
from llmchat.training.runner import jobs
from llmchat.training.runner.progress import log_tail, loss_points, progress
from llmchat.training.runner.queue import RunQueue
from llmchat.training.runner.summary import run_detail, run_summary

ENDED = (jobs.STOPPED, jobs.FAILED, jobs.FINISHED)
PING_EVERY_S = 15.0


def run_events(
    queue: RunQueue, run_id: str, interval_s: float = 0.5, gone: Callable[[], bool] = lambda: False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data): `run` (the summary) first, then `point` per new loss point, `progress`, `log` and `status`
    as they change, `ping` now and then, and `end` (the whole detail) once the run has stopped, failed or finished."""
    job = queue.get(run_id)
    if job is None:
        return
    yield "run", run_summary(queue, job)
    sent_points, last_progress, last_log, last_status, last_ping = 0, None, None, job.status, time.monotonic()
    while not gone():
        job = queue.get(run_id)
        if job is None:
            return
        run_dir = queue.run_dir(run_id)
        points = loss_points(run_dir)
        for point in points[sent_points:]:
            yield "point", point
        sent_points = max(sent_points, len(points))
        now_progress = progress(read_log(run_dir / LOG_FILE))
        if now_progress != last_progress:
            last_progress = now_progress
            yield "progress", now_progress
        tail = log_tail(queue.store.output_path(run_id))
        if tail != last_log:
            last_log = tail
            yield "log", {"lines": tail}
        if job.status != last_status:
            last_status = job.status
            yield "status", {"status": job.status, "message": job.message}
        if job.status in ENDED:
            yield "end", run_detail(queue, job)
            return
        if time.monotonic() - last_ping > PING_EVERY_S:
            last_ping = time.monotonic()
            yield "ping", {}
        time.sleep(interval_s)
