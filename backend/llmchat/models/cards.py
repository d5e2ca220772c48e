"""A model's card: what it is (kind, base, prompt style, engine, where it was found) and, for a fine-tuning run,
how it was made (method, recipe, loss curve, last evaluation), read from its spec and run folder, and for every
model its latest standard-benchmark scores (models/benchmarks/). The worker
serves it (`GET /v1/models/{id}/card`) so the chat API never needs the worker's disk.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from llmchat.models.benchmark_scores import read_scores
from llmchat.models.manifest import MANIFEST
from llmchat.models.run_files import (
    BENCHMARKS_FILE,
    LOG_FILE,
    loss_curve,
    read_evaluation,
    read_log,
    read_recipe,
)
from llmchat.models.specs import ModelSpec
from llmchat.paths import models_dir


def model_card(spec: ModelSpec, context_length: int | None, engine: str | None) -> dict[str, Any]:
    return {
        "id": spec.id,
        "kind": spec.kind,
        "base_model": spec.base_model,
        "prompt_style": spec.prompt_style,
        "engine": engine,
        "context_length": context_length,
        "origin": spec.origin,
        "created": spec.created,
        "run": run_card(spec.run_dir) if spec.run_dir is not None else None,
        "benchmarks": read_scores(models_dir(), spec.id),
    }


def run_card(run_dir: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    recipe = read_recipe(run_dir)
    return {
        "method": manifest.get("method") or recipe.get("method") or "lora",
        "recipe": recipe,
        "loss_curve": loss_curve(read_log(run_dir / LOG_FILE)),
        "evaluation": read_evaluation(run_dir),
        "benchmarks": read_evaluation(run_dir, BENCHMARKS_FILE),  # the recipe's eval_tasks: the run and its base
    }
