"""Each model's latest standard-benchmark scores (`llmchat evaluate --tasks`), one small JSON file per model under
`models/benchmarks/`, for every model the worker serves (a base model has no run folder of its own). A task's newer
result replaces its older one; the model card and the leaderboard read them.

    {"arc_easy": {"acc": 0.61, "acc_norm": 0.55, "n": 2376, "limit": null, "num_fewshot": 0,
                  "data": "data/benchmarks", "created": "20261203-091500", "report": "reports/bench-..."}}
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

FOLDER = "benchmarks"


def scores_path(models_root: Path, model_id: str) -> Path:
    return Path(models_root) / FOLDER / f"{quote(model_id, safe='')}.json"


def read_scores(models_root: Path, model_id: str) -> dict[str, Any]:
    path = scores_path(models_root, model_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_scores(models_root: Path, model_id: str, scores: dict[str, dict[str, Any]]) -> Path:
    """Merge these tasks' results over the model's earlier ones (atomically: a reader never sees half a file)."""
    path = scores_path(models_root, model_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**read_scores(models_root, model_id), **scores}
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(merged, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(partial, path)
    return path
