"""A queued, running or ended fine-tuning run of the queue, as a record on disk.

<models_dir>/run-queue/<run>/job.json is the record and output.log beside it what the run printed. Plain files, not
the chat database: the shepherd processes, the API and the CLI all read and write them, possibly on different
Python environments, and they outlive every one of those processes. Every change is made under one file lock
(`JobStore.locked`), so a stop and the shepherd's own update never overwrite each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

QUEUE_FOLDER = "run-queue"
JOB_FILE = "job.json"
OUTPUT_FILE = "output.log"

QUEUED, RUNNING, STOPPING, STOPPED, FAILED, FINISHED = "queued", "running", "stopping", "stopped", "failed", "finished"
STATES = (QUEUED, RUNNING, STOPPING, STOPPED, FAILED, FINISHED)
ACTIVE = (RUNNING, STOPPING)  # a shepherd process owns the run
RESUMABLE = (STOPPED, FAILED)
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a folder name under models/runs/ and a model id


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Job:
    id: str  # the run's name: models/runs/<id>/
    argv: list[str]  # what follows `llmchat finetune`: --config PRESET --set KEY=VALUE ... (the form's command)
    recipe: dict[str, Any]  # the whole config those arguments amount to, for the run's page
    status: str = QUEUED
    resume: bool = False  # the next start continues from the last checkpoint
    created: str = field(default_factory=now)
    started: str | None = None
    ended: str | None = None
    attempts: int = 0
    shepherd_pid: int | None = None
    train_pid: int | None = None
    gpu: int | None = None  # the CUDA device it was given (CUDA_VISIBLE_DEVICES); None on a CPU
    exit_code: int | None = None
    message: str = ""  # why it stopped or failed, in words

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobStore:
    """The records of one models folder's queue."""

    def __init__(self, models_root: Path):
        self.root = Path(models_root) / QUEUE_FOLDER

    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def output_path(self, run_id: str) -> Path:
        return self.folder(run_id) / OUTPUT_FILE

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time across processes (fcntl: released by the kernel if the holder dies)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read(self, run_id: str) -> Job | None:
        if not RUN_NAME.match(run_id):
            return None
        path = self.folder(run_id) / JOB_FILE
        try:
            return Job.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def all(self) -> list[Job]:
        """Every record, oldest first (the queue's order)."""
        if not self.root.is_dir():
            return []
        jobs = [self.read(folder.name) for folder in self.root.iterdir() if folder.is_dir()]
        return sorted((job for job in jobs if job is not None), key=lambda job: (job.created, job.id))

    def write(self, job: Job) -> None:
        """Atomically: a reader never sees half a record."""
        folder = self.folder(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / (JOB_FILE + ".tmp")
        partial.write_text(json.dumps(job.to_dict(), indent=2), encoding="utf-8")
        os.replace(partial, folder / JOB_FILE)
