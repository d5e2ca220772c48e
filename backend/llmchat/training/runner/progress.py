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
# what moves a terminal's cursor (newline, carriage return, ESC [ n A: n lines up) or styles text (the other ESC [)
_CONTROL = re.compile(r"\r\n|\r|\n|\x1b\[(?P<up>\d*)A|\x1b\[[0-9;?]*[A-Za-z]")


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
    """The last lines of what the run printed, as a terminal shows them: a progress bar (tqdm) redraws its line
    with carriage returns and moves up to its line under a nested bar (evaluation), so each bar is one line in its
    last state, not a line per update."""
    path = Path(path)
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
        text = handle.read().decode("utf-8", errors="replace")
    return [row for row in terminal_rows(text) if row.strip()][-lines:]


def terminal_rows(text: str) -> list[str]:
    """`text` as a terminal leaves it: carriage return to the line's start, newline to the next line, ESC [ n A up
    n lines (tqdm's nested bars); the text overwrites what is there; other escape sequences (colours) dropped."""
    rows, row, column = [""], 0, 0
    start = 0
    for control in [*_CONTROL.finditer(text), None]:
        chunk = text[start : control.start() if control else len(text)]
        if chunk:
            line = rows[row].ljust(column)
            rows[row] = line[:column] + chunk + line[column + len(chunk) :]
            column += len(chunk)
        if control is None:
            break
        start = control.end()
        token = control.group(0)
        if token in ("\n", "\r\n"):
            row, column = row + 1, 0
            if row == len(rows):
                rows.append("")
        elif token == "\r":
            column = 0
        elif control.group("up") is not None:
            row = max(0, row - int(control.group("up") or 1))
    return [line.rstrip() for line in rows]


def final_report(run_dir: Path) -> dict[str, Any] | None:
    """metrics.json of a finished run (losses, steps, split sizes, wall time); None before it is written."""
    path = Path(run_dir) / "metrics.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
