"""A run of the queue as the API and the CLI show it: its record, its command and progress, and on its own page
the loss points, the log tail and the final report."""

from __future__ import annotations

import shlex
from typing import Any

from llmchat.models.run_files import LOG_FILE, read_log
from llmchat.training.runner.jobs import Job
from llmchat.training.runner.progress import final_report, log_tail, loss_points, progress
from llmchat.training.runner.queue import RunQueue


def command_of(job: Job) -> str:
    return "llmchat finetune " + shlex.join(job.argv)


def run_summary(queue: RunQueue, job: Job) -> dict[str, Any]:
    run_dir = queue.run_dir(job.id)
    return {
        "id": job.id,
        "status": job.status,
        "message": job.message,
        "method": job.recipe.get("method"),
        "base_model": job.recipe.get("base_model"),
        "data": job.recipe.get("data"),
        "command": command_of(job),
        "created": job.created,
        "started": job.started,
        "ended": job.ended,
        "attempts": job.attempts,
        "exit_code": job.exit_code,
        "gpu": job.gpu,
        "progress": progress(read_log(run_dir / LOG_FILE)),
    }


def run_detail(queue: RunQueue, job: Job) -> dict[str, Any]:
    run_dir = queue.run_dir(job.id)
    return {
        **run_summary(queue, job),
        "recipe": job.recipe,
        "points": loss_points(run_dir),
        "log": log_tail(queue.store.output_path(job.id)),
        "report": final_report(run_dir),
    }
