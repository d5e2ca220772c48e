"""The run page's Evaluate button: `llmchat evaluate` of the finished run beside its base, through the model
worker, on the run's own held-out test split, as a detached process. `llmchat evaluate` writes the summary into the
run folder (evaluation.json, the run's card shows it); this module only starts it and says whether it is running."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from llmchat.models.run_files import read_evaluation
from llmchat.models.sources import is_source_string
from llmchat.paths import PROJECT_ROOT
from llmchat.training.runner import jobs
from llmchat.training.runner.jobs import Job
from llmchat.training.runner.processes import alive
from llmchat.training.runner.queue import QueueError, RunQueue

STATE_FILE = "evaluate.json"
LOG_FILE = "evaluate.log"


def evaluated_models(job: Job) -> list[str]:
    """The run, after its base when the base is a model the worker serves by id (not a path or a hub source)."""
    base = str(job.recipe.get("base_model") or "")
    plain_id = base and not is_source_string(base) and "/" not in base and not base.endswith(".gguf")
    return [base, job.id] if plain_id else [job.id]


def evaluation_state(queue: RunQueue, job: Job) -> dict[str, Any]:
    """{running, command, summary}: summary is the run's last evaluation (evaluation.json), or None."""
    try:
        state = json.loads((queue.store.folder(job.id) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    return {
        "running": alive(state.get("pid"), "evaluate"),
        "command": state.get("command"),
        "summary": read_evaluation(queue.run_dir(job.id)),
    }


def start_evaluation(queue: RunQueue, job: Job, worker_url: str, limit: int) -> dict[str, Any]:
    if job.status != jobs.FINISHED:
        raise QueueError(f"run {job.id} is {job.status}: only a finished run can be evaluated")
    if evaluation_state(queue, job)["running"]:
        raise QueueError(f"run {job.id} is being evaluated already")
    argv = ["--models", ",".join(evaluated_models(job)), "--worker-url", worker_url, "--limit", str(limit)]
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
    command = "llmchat evaluate " + " ".join(argv)
    (folder / STATE_FILE).write_text(json.dumps({"pid": process.pid, "command": command}), encoding="utf-8")
    return evaluation_state(queue, job)
