"""CLI: `llmchat runs list|start|stop|resume|logs`, the same queue as the web app's Runs page (the API's
/api/admin/runs): runs started here train as detached processes too, and the page shows them."""

from __future__ import annotations

import argparse
import sys
import time


def _queue():
    from llmchat.paths import models_dir
    from llmchat.training.runner.queue import RunQueue

    return RunQueue(models_dir())


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _list(args: argparse.Namespace) -> int:
    from llmchat.training.runner.summary import run_summary

    queue = _queue()
    rows = [run_summary(queue, job) for job in queue.jobs()]
    if not rows:
        print("no runs in the queue (llmchat runs start --preset smollm2-lora --set run_name=NAME)")
        return 0
    print(f"{'run':<28} {'status':<9} {'method':<6} {'step':>11} {'eta':>8}  base")
    for row in rows:
        progress = row["progress"]
        step = f"{progress['step']}/{progress['max_steps'] or '?'}"
        print(
            f"{row['id']:<28} {row['status']:<9} {row['method'] or '':<6} {step:>11} {_eta(progress['eta_s']):>8}  {row['base_model']}"
        )
    return 0


def _start(args: argparse.Namespace) -> int:
    from llmchat.training.config import parse_overrides
    from llmchat.training.runner.form import FormError
    from llmchat.training.runner.queue import QueueError
    from llmchat.training.runner.summary import command_of

    try:
        job = _queue().submit(args.preset, parse_overrides(args.set), overwrite=args.overwrite)
    except (FormError, QueueError) as exc:
        return _fail(str(exc))
    except ValueError as exc:  # a --set without '='
        return _fail(str(exc))
    print(f"{job.id}: {job.status}  ({command_of(job)})")
    return 0


def _change(args: argparse.Namespace) -> int:
    from llmchat.training.runner.queue import QueueError

    try:
        job = getattr(_queue(), args.runs_command)(args.run)
    except (LookupError, QueueError) as exc:
        return _fail(str(exc).strip("'\""))
    print(f"{job.id}: {job.status}{f' ({job.message})' if job.message else ''}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from llmchat.training.runner.events import ENDED
    from llmchat.training.runner.progress import log_tail

    queue = _queue()
    if queue.get(args.run) is None:
        return _fail(f"no run {args.run!r} in the queue")
    shown = log_tail(queue.store.output_path(args.run), args.lines)
    print("\n".join(shown))
    while args.follow:
        job = queue.get(args.run)
        lines = log_tail(queue.store.output_path(args.run), args.lines)
        # the new tail starts where the old one ended: print what follows the longest overlap
        overlap = next((k for k in range(min(len(lines), len(shown)), 0, -1) if lines[:k] == shown[-k:]), 0)
        new = lines[overlap:]
        if new:
            print("\n".join(new), flush=True)
        shown = lines
        if job is None or job.status in ENDED:
            print(f"-- {args.run}: {job.status if job else 'gone'}")
            return 0
        time.sleep(1.0)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    runs = subparsers.add_parser(
        "runs",
        help="the fine-tuning run queue (the web app's Runs page): list, start, stop, resume, logs",
        description="Runs train one at a time on a CPU (one per GPU with CUDA) as detached processes: they outlive "
        "this command and the API. State: models/run-queue/<run>/ (job.json, output.log).",
    )
    sub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="every run, oldest first, with its step and ETA").set_defaults(handler=_list)
    start = sub.add_parser("start", help="queue a run: a preset of configs/train/ with --set values on top")
    start.add_argument("--preset", required=True, help="a configs/train/<preset>.yaml name, e.g. smollm2-lora")
    start.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a recipe key, as finetune")
    start.add_argument("--overwrite", action="store_true", help="replace models/runs/<run_name> when it exists")
    start.set_defaults(handler=_start)
    for name, text in (
        ("stop", "stop a run: it saves a checkpoint (a queued run just leaves the queue)"),
        ("resume", "queue a stopped or failed run again, to continue from its last checkpoint"),
    ):
        action = sub.add_parser(name, help=text)
        action.add_argument("run")
        action.set_defaults(handler=_change)
    logs = sub.add_parser("logs", help="the end of what a run printed")
    logs.add_argument("run")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing until the run ends")
    logs.set_defaults(handler=_logs)
