"""The run queue: submit a run, stop it, resume it, and start queued runs while there is a free slot.

Who starts the next queued run when nobody is asking? The run's own shepherd (shepherd.py): when its training
process ends it records how, then calls `schedule()` here, which launches the next queued run's shepherd. Nothing
has to stay up between runs: no daemon, no API request. Should a shepherd itself die (kill -9, a reboot), the next
reader of the queue (any API request about runs, or `llmchat runs list`) sees its pid gone, records the run as
failed and starts the next one (`schedule()` reconciles first).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmchat.models.manifest import MANIFEST
from llmchat.paths import PROJECT_ROOT
from llmchat.training.runner import jobs
from llmchat.training.runner.form import FormError, plan_run
from llmchat.training.runner.jobs import Job, JobStore
from llmchat.training.runner.processes import SHEPHERD_MODULE, alive, training_slots

RESERVED = ("form", "command")  # the API's own paths under /api/admin/runs/


class QueueError(ValueError):
    """A request the queue's state refuses (409 in the API): the run exists, or is not in a state for that."""


@dataclass
class RunQueue:
    models_root: Path
    slots: int | None = None  # None: from the machine (processes.training_slots), asked once

    def __post_init__(self) -> None:
        self.models_root = Path(self.models_root)
        self.store = JobStore(self.models_root)

    def run_dir(self, run_id: str) -> Path:
        return self.models_root / "runs" / run_id

    def finished(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / MANIFEST).is_file()

    def capacity(self) -> int:
        if self.slots is None:
            self.slots = training_slots()
        return self.slots

    # -- reading ---------------------------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        self.schedule()  # a shepherd that died is noticed, and its slot given to the next run
        return self.store.all()

    def get(self, run_id: str) -> Job | None:
        self.schedule()
        return self.store.read(run_id)

    # -- changing --------------------------------------------------------------------------------------------

    def submit(self, preset: str, values: dict[str, Any], overwrite: bool = False) -> Job:
        """Queue a run of the preset with the form's values; it starts at once when a slot is free."""
        plan = plan_run(preset, values)
        run_id = plan.config.run_name
        if not jobs.RUN_NAME.match(run_id) or run_id in RESERVED:
            raise FormError(
                "run_name", "run_name: letters, digits, '.', '_' and '-' (up to 64), not starting with a sign"
            )
        if plan.config.output_dir:
            raise FormError("output_dir", "output_dir: the queue keeps its runs in models/runs/<run_name>")
        data = Path(plan.config.data)
        if not (data if data.is_absolute() else PROJECT_ROOT / data).is_file():
            raise FormError("data", f"data: no file {plan.config.data}")
        with self.store.locked():
            existing = self.store.read(run_id)
            if existing is not None and existing.status in (*jobs.ACTIVE, jobs.QUEUED):
                raise QueueError(f"run {run_id} is {existing.status}")
            if self.run_dir(run_id).exists() and not overwrite:
                raise QueueError(f"models/runs/{run_id} already exists: choose another run_name, or overwrite it")
            argv = [*plan.argv, "--overwrite"] if overwrite else plan.argv
            job = Job(id=run_id, argv=argv, recipe=plan.config.to_dict())
            self.store.output_path(run_id).unlink(missing_ok=True)
            self.store.write(job)
        self.schedule()
        return self.store.read(run_id) or job

    def stop(self, run_id: str) -> Job:
        """A queued run leaves the queue; a running one gets SIGTERM: it saves a checkpoint at the end of its step
        and its shepherd records it as stopped."""
        self._existing(run_id)  # before the lock: asking about nothing creates nothing
        with self.store.locked():
            job = self._existing(run_id)
            if job.status == jobs.QUEUED:
                job.status, job.message, job.ended = jobs.STOPPED, "stopped before it started", jobs.now()
            elif job.status == jobs.RUNNING:
                job.status, job.message = jobs.STOPPING, "stop asked: saving a checkpoint"
                if job.train_pid and alive(job.train_pid, "finetune"):
                    os.kill(job.train_pid, signal.SIGTERM)
            elif job.status != jobs.STOPPING:
                raise QueueError(f"run {run_id} is {job.status}: there is nothing to stop")
            self.store.write(job)
            return job

    def resume(self, run_id: str) -> Job:
        """A stopped or failed run goes back to the queue; it continues from its last checkpoint (or starts over
        when it never saved one)."""
        self._existing(run_id)
        with self.store.locked():
            job = self._existing(run_id)
            if job.status not in jobs.RESUMABLE:
                raise QueueError(f"run {run_id} is {job.status}: only a stopped or failed run can be resumed")
            job.status, job.resume, job.message, job.exit_code = jobs.QUEUED, True, "", None
            job.argv = [arg for arg in job.argv if arg != "--overwrite"]  # the folder now holds this run
            self.store.write(job)
        self.schedule()
        return self.store.read(run_id) or job

    def _existing(self, run_id: str) -> Job:
        job = self.store.read(run_id)
        if job is None:
            raise LookupError(f"no run {run_id!r} in the queue")
        return job

    # -- scheduling ------------------------------------------------------------------------------------------

    def schedule(self) -> None:
        """Record runs whose shepherd is gone, then start queued runs (oldest first) while slots are free."""
        if not self.store.root.is_dir():
            return  # nothing was ever queued here (and reading must not create the folder)
        with self.store.locked():
            all_jobs = self.store.all()
            for job in all_jobs:
                if job.status in jobs.ACTIVE and not alive(job.shepherd_pid):
                    self._record_lost(job)
            busy = {job.gpu for job in all_jobs if job.status in jobs.ACTIVE}
            free = self.capacity() - len(busy)
            for job in all_jobs:
                if free <= 0:
                    break
                if job.status == jobs.QUEUED:
                    gpu = self._free_gpu(busy)
                    busy.add(gpu)
                    self._launch(job, gpu)
                    free -= 1

    def _free_gpu(self, busy: set[int | None]) -> int | None:
        if not any(Path("/dev").glob("nvidia[0-9]*")):
            return None
        return next(index for index in range(self.capacity()) if index not in busy)

    def _record_lost(self, job: Job) -> None:
        if self.finished(job.id):
            job.status, job.message = jobs.FINISHED, ""
        else:
            job.status = jobs.STOPPED if job.status == jobs.STOPPING else jobs.FAILED
            job.message = "its process ended without recording why (killed, or the machine restarted)"
        job.ended = jobs.now()
        self.store.write(job)

    def _launch(self, job: Job, gpu: int | None) -> None:
        """Start the run's shepherd, detached (its own session, no pipes to us): it outlives this process.
        Called with the lock held; the shepherd waits for it before it reads the record."""
        job.status, job.gpu, job.started, job.ended = jobs.RUNNING, gpu, jobs.now(), None
        job.attempts += 1
        job.train_pid, job.exit_code, job.message = None, None, ""
        self.store.folder(job.id).mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", SHEPHERD_MODULE, str(self.models_root), job.id]
        # the shepherd forks once more and prints the pid of the process that stays, so nothing waits for it
        launcher = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,
            timeout=60,
            check=False,
        )
        try:
            job.shepherd_pid = int(launcher.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            job.status, job.ended = jobs.FAILED, jobs.now()
            job.message = f"the run could not be started: {launcher.stderr.strip()[-500:]}"
        self.store.write(job)
