"""The files of a fine-tuning run folder (models/runs/<run>/) that describe it, besides its weights and manifest:
the recipe (config.yaml), the Trainer's log (log.jsonl), the last evaluation that included it
(evaluation.json) and the benchmarks its recipe's eval_tasks ran after training, beside its base's (benchmarks.json). `llmchat finetune` and `llmchat evaluate` write them; the worker reads them for model cards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.yaml"
LOG_FILE = "log.jsonl"
EVALUATION_FILE = "evaluation.json"
BENCHMARKS_FILE = "benchmarks.json"


def read_log(path: Path) -> list[dict]:
    """Every record of a log.jsonl (one JSON object per Trainer log call); [] when there is none."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a crash mid-write: the rest of the log still counts
    return records


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def loss_curve(records: list[dict]) -> list[dict[str, Any]]:
    """[{step, loss?, eval_loss?}]: the training and validation losses of a log, in step order."""
    points = []
    for record in records:
        point: dict[str, Any] = {"step": int(record.get("step") or 0)}
        for key in ("loss", "eval_loss"):
            value = _number(record.get(key))
            if value is not None:
                point[key] = value
        if len(point) > 1 and (not points or point != points[-1]):  # the final evaluation is logged twice
            points.append(point)
    return points


def read_recipe(run_dir: Path) -> dict[str, Any]:
    import yaml

    path = Path(run_dir) / CONFIG_FILE
    try:
        recipe = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError):
        return {}
    return recipe if isinstance(recipe, dict) else {}


def write_evaluation(run_dir: Path, summary: dict[str, Any]) -> Path:
    """Replace the run's evaluation summary (atomically: a reader never sees half of it)."""
    path = Path(run_dir) / EVALUATION_FILE
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
    return path


def read_evaluation(run_dir: Path, name: str = EVALUATION_FILE) -> dict[str, Any] | None:
    """The run's evaluation summary (or, with `name`, another JSON summary of the run folder); None if absent."""
    path = Path(run_dir) / name
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
