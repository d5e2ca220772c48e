"""The run folder's manifest, llmchat_run.json: written last, so the worker lists only finished runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MANIFEST = "llmchat_run.json"


ADAPTER_METHODS = ("lora", "dpo", "kto")  # methods whose run is a peft adapter on `base_model`


def weights_folder(method: str) -> str:
    """Where a run keeps what it trained: the adapter, or the whole model (full fine-tune)."""
    return "adapter" if method in ADAPTER_METHODS else "model"


def write_manifest(run_dir: Path, run_id: str, method: str, base_model: str, **extra: Any) -> Path:
    """The worker serves a run by `kind` and `path`: an adapter run (lora, dpo, kto) as base + adapter, a full one
    as an HF folder; `method` only records how it was trained."""
    manifest = {
        "id": run_id,
        "kind": "lora" if method in ADAPTER_METHODS else "alpaca",
        "method": method,
        "base_model": base_model,
        "prompt_style": "alpaca",
        "path": weights_folder(method),
        "status": "complete",
        **extra,
    }
    path = Path(run_dir) / MANIFEST
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    os.replace(partial, path)  # atomic: a reader never sees half a manifest
    return path


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / MANIFEST
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a finished run (no {MANIFEST})")
    return json.loads(path.read_text(encoding="utf-8"))


def find_run(name_or_path: str, models_root: Path) -> Path:
    """A run folder from a path or from a run id under models/runs/."""
    path = Path(name_or_path).expanduser()
    if (path / MANIFEST).is_file():
        return path
    candidate = Path(models_root) / "runs" / name_or_path
    if (candidate / MANIFEST).is_file():
        return candidate
    raise ValueError(f"no finished run {name_or_path!r} (looked for {MANIFEST} in {path} and {candidate})")
