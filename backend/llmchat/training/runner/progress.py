"""What a run's page shows while it trains, read from its files: the loss points (log.jsonl, written by the
Trainer's JsonlLogCallback), the step it is at with an ETA, the tail of what it printed, and its final report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from llmchat.models.run_files import LOG_FILE, loss_curve, read_log

TAIL_LINES = 40
TAIL_BYTES = 64 * 1024
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def loss_points(run_dir: Path) -> list[dict[str, Any]]:
    return loss_curve(read_log(Path(run_dir) / LOG_FILE))


def progress(records: list[dict[str, Any]]) -> dict[str, Any]:
    """{step, max_steps, epoch, elapsed_s, eta_s}: the ETA from this attempt's pace (a resumed run restarts its
    clock, so only the records since the last restart count)."""
    if not records:
        return {"step": 0, "max_steps": None, "epoch": None, "elapsed_s": None, "eta_s": None}
    attempt = [records[0]]
    for record in records[1:]:
        if record.get("elapsed_s", 0) < attempt[-1].get("elapsed_s", 0):
            attempt = []  # the clock went back: a new attempt (resume)
        attempt.append(record)
    last = records[-1]
    step, total = int(last.get("step") or 0), last.get("max_steps")
    eta = None
    first = attempt[0]
    steps_done = step - int(first.get("step") or 0)
    if isinstance(total, int) and total > 0 and steps_done > 0:
        per_step = (last["elapsed_s"] - first["elapsed_s"]) / steps_done
        eta = round(max(0, total - step) * per_step, 1)
    return {
        "step": step,
        "max_steps": total,
        "epoch": last.get("epoch"),
        "elapsed_s": last.get("elapsed_s"),
        "eta_s": eta,
    }


def log_tail(path: Path, lines: int = TAIL_LINES) -> list[str]:
    """The last lines of what the run printed, as a terminal shows them: a progress bar (tqdm) rewrites its line
    with carriage returns, so each line is its last state, not one row per update."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    rows = [_last_state(_ANSI.sub("", row)).rstrip() for row in text.replace("\r\n", "\n").split("\n")]
    return [row for row in rows if row.strip()][-lines:]


def _last_state(line: str) -> str:
    """What is left of a line rewritten with carriage returns: its last update that wrote anything."""
    return next((part for part in reversed(line.split("\r")) if part.strip()), "")


def final_report(run_dir: Path) -> dict[str, Any] | None:
    """metrics.json of a finished run (losses, steps, split sizes, wall time); None before it is written."""
    path = Path(run_dir) / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
