"""The process that watches one run: `python -m llmchat.training.runner.shepherd MODELS_DIR RUN`.

Started by the queue (queue.py `_launch`) in a session of its own, it forks once: the first process prints the
pid of the second and exits, so whoever launched it (an API thread, the CLI) waits for nothing and keeps no child.
The second runs `llmchat finetune` with the run's arguments as its child, writing everything it prints to the run's
output.log, waits for it, records how it ended (finished: the run wrote its manifest; stopped: a stop was asked;
else failed, with the exit code), and then starts the next queued run. It imports no torch: a few MB per run.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from llmchat.training.runner import jobs
from llmchat.training.runner.jobs import Job
from llmchat.training.runner.queue import RunQueue


def finetune_command(queue: RunQueue, job: Job) -> list[str]:
    """The run's `llmchat finetune` arguments for this start: --resume from its last checkpoint, or (asked to
    resume a run that never saved one) --overwrite, which starts it over in its own folder."""
    argv = list(job.argv)
    if job.resume:
        has_checkpoint = any((queue.run_dir(job.id) / "checkpoints").glob("checkpoint-*"))
        argv.append("--resume" if has_checkpoint else "--overwrite")
    return [sys.executable, "-m", "llmchat.cli", "finetune", *argv]


def _environment(job: Job) -> dict[str, str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if job.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = str(job.gpu)
    return env


def _start(queue: RunQueue, run_id: str) -> subprocess.Popen | None:
    """The training process, once the launcher has recorded us (it holds the lock until then)."""
    with queue.store.locked():
        job = queue.store.read(run_id)
        if job is None or job.status not in jobs.ACTIVE or job.shepherd_pid != os.getpid():
            return None  # not ours (any more)
        with queue.store.output_path(run_id).open("a", encoding="utf-8") as output:
            output.write(f"$ llmchat finetune {shlex.join(finetune_command(queue, job)[4:])}\n")
            output.flush()
            process = subprocess.Popen(
                finetune_command(queue, job),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env=_environment(job),
            )
        job.train_pid = process.pid
        queue.store.write(job)
        if job.status == jobs.STOPPING:  # a stop came while it was launching
            process.terminate()
        return process


def _record_end(queue: RunQueue, run_id: str, exit_code: int) -> None:
    with queue.store.locked():
        job = queue.store.read(run_id)
        if job is None or job.shepherd_pid != os.getpid():
            return
        job.exit_code, job.ended, job.train_pid = exit_code, jobs.now(), None
        if queue.finished(run_id):
            job.status, job.message, job.resume = jobs.FINISHED, "", False
        elif job.status == jobs.STOPPING:
            job.status, job.message = jobs.STOPPED, "stopped: resume continues from its last checkpoint"
        else:
            job.status, job.message = jobs.FAILED, f"llmchat finetune exited with {exit_code} (see its log)"
        queue.store.write(job)


def watch(models_root: Path, run_id: str) -> None:
    queue = RunQueue(models_root)
    process = _start(queue, run_id)
    if process is None:
        return
    _record_end(queue, run_id, process.wait())
    queue.schedule()  # the next queued run, with nobody else around to start it


def main(argv: list[str]) -> int:
    models_root, run_id = Path(argv[0]), argv[1]
    child = os.fork()
    if child:  # the launcher's process: say who stays, and go
        print(child, flush=True)
        return 0
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    # our own errors (if any) go where the run's output goes
    os.dup2(os.open(RunQueue(models_root).store.output_path(run_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT), 2)
    watch(models_root, run_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
