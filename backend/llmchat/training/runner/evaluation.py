"""The run page's Evaluate button: `llmchat evaluate` of the finished run beside its base, through the model
worker, as a detached process: on the run's own held-out test split, or with `tasks` on standard benchmarks
(lm-evaluation-harness, data from data/benchmarks/<task>/). `llmchat evaluate` writes the results: the held-out
summary into the run folder (evaluation.json), benchmark scores into each model's benchmark file
(models/benchmarks/); the run's card shows both. This module starts it, says whether it is running, and reads the
results back for the run page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from llmchat.models.benchmark_scores import read_scores
from llmchat.models.run_files import read_evaluation
from llmchat.models.sources import is_source_string
from llmchat.paths import PROJECT_ROOT, data_dir
from llmchat.training.benchmark_tasks import BENCHMARK_FOLDER, STANDARD_TASKS
from llmchat.training.runner import jobs
from llmchat.training.runner.jobs import Job
from llmchat.training.runner.processes import alive
from llmchat.training.runner.queue import QueueError, RunQueue

STATE_FILE = "evaluate.json"
LOG_FILE = "evaluate.log"
LOG_TAIL_LINES = 20


def evaluated_models(job: Job) -> list[str]:
    """The run, after its base when the base is a model the worker serves by id (not a path or a hub source)."""
    base = str(job.recipe.get("base_model") or "")
    plain_id = base and not is_source_string(base) and "/" not in base and not base.endswith(".gguf")
    return [base, job.id] if plain_id else [job.id]


def benchmark_data_dir() -> Path:
    return data_dir() / BENCHMARK_FOLDER


def offered_tasks() -> list[dict[str, Any]]:
    """The benchmarks the run page offers, each with whether its data folder is there (else the harness looks in
    the local datasets cache, and the evaluation's log names the file it missed)."""
    return [{"name": task, "data": (benchmark_data_dir() / task).is_dir()} for task in STANDARD_TASKS]


def benchmarks_beside_base(queue: RunQueue, job: Job) -> dict[str, Any] | None:
    """{tasks, base_model, run, base}: the run's latest benchmark scores and its base's on the same tasks (the
    shape of a run's benchmarks.json); None before any."""
    run_scores = read_scores(queue.models_root, job.id)
    if not run_scores:
        return None
    models = evaluated_models(job)
    base = models[0] if len(models) == 2 else None
    base_scores = read_scores(queue.models_root, base) if base else {}
    tasks = sorted(run_scores)
    return {
        "tasks": tasks,
        "base_model": base,
        "run": run_scores,
        "base": {task: base_scores[task] for task in tasks if task in base_scores},
    }


def evaluation_argv(job: Job, worker_url: str, limit: int, tasks: list[str]) -> list[str]:
    """`llmchat evaluate`'s arguments: the run's test split, or with `tasks` those benchmarks."""
    argv = ["--models", ",".join(evaluated_models(job)), "--worker-url", worker_url, "--limit", str(limit)]
    if tasks:
        argv += ["--tasks", ",".join(dict.fromkeys(tasks)), "--data-dir", str(benchmark_data_dir())]
    return argv


def evaluation_state(queue: RunQueue, job: Job) -> dict[str, Any]:
    """{running, command, summary, benchmarks, tasks}: summary is the run's last held-out evaluation
    (evaluation.json), benchmarks its benchmark scores beside its base's, tasks the benchmarks on offer."""
    folder = queue.store.folder(job.id)
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    running = alive(state.get("pid"), "evaluate")
    summary = read_evaluation(queue.run_dir(job.id))
    benchmarks = benchmarks_beside_base(queue, job)
    failed = bool(state) and not running and not _wrote_result(state, summary, benchmarks)
    return {
        "running": running,
        "command": state.get("command"),
        "failed": failed,
        "log": _log_tail(folder) if failed else [],
        "summary": summary,
        "benchmarks": benchmarks,
        "tasks": offered_tasks(),
    }


def _wrote_result(state: dict[str, Any], summary: dict | None, benchmarks: dict | None) -> bool:
    """Whether the last evaluation, now ended, wrote what it was asked for (its `created` stamps are not older
    than its start: the same %Y%m%d-%H%M%S format, so they compare as strings)."""
    started = state.get("started", "")
    if state.get("tasks"):
        scores = (benchmarks or {}).get("run", {})
        return all(str(scores.get(task, {}).get("created", "")) >= started for task in state["tasks"])
    return str((summary or {}).get("created", "")) >= started


def _log_tail(folder: Path) -> list[str]:
    try:
        return (folder / LOG_FILE).read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
    except OSError:
        return []


def start_evaluation(
    queue: RunQueue, job: Job, worker_url: str, limit: int, tasks: list[str] | None = None
) -> dict[str, Any]:
    if job.status != jobs.FINISHED:
        raise QueueError(f"run {job.id} is {job.status}: only a finished run can be evaluated")
    if evaluation_state(queue, job)["running"]:
        raise QueueError(f"run {job.id} is being evaluated already")
    argv = evaluation_argv(job, worker_url, limit, tasks or [])
    started = time.strftime("%Y%m%d-%H%M%S")  # before the process: whatever it writes is stamped no earlier
    folder = queue.store.folder(job.id)
    with (folder / LOG_FILE).open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "llmchat.cli", "evaluate", *argv],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # it outlives an API restart, like the runs
        )
    state = {
        "pid": process.pid,
        "command": "llmchat evaluate " + " ".join(argv),
        "tasks": tasks or [],
        "started": started,
    }
    (folder / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    return evaluation_state(queue, job)
