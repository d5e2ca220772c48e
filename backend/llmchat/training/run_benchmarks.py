"""A recipe's `eval_tasks`: right after training, the run and its base model scored on the same standard benchmarks
(lm-evaluation-harness, in-process on the weights just trained), so the run's report puts the base's score beside
its own — a fine-tune can gain on its own task and lose on ARC, and only both numbers show it.

The base is the very model trained, with the adapter switched off (LoRA and DPO runs), or the base weights loaded
again (full runs). The result goes to the run folder (benchmarks.json, shown on the run's card), to metrics.json,
and to both models' benchmark files (models/benchmarks/).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from llmchat.models.benchmark_scores import record_scores
from llmchat.models.run_files import BENCHMARKS_FILE
from llmchat.training.benchmark_tasks import load_tasks, task_manager
from llmchat.training.benchmarks import score_model
from llmchat.training.config import TrainConfig


def _data_dir(config: TrainConfig) -> Path | None:
    return Path(config.eval_data_dir) if config.eval_data_dir else None


def check_benchmark_data(config: TrainConfig) -> None:
    """Before training: every eval task's data can be read (a missing file fails now, not after an hour)."""
    if config.eval_tasks:
        load_tasks(task_manager(), config.eval_tasks, _data_dir(config))


def _scores(model: Any, tokenizer: Any, config: TrainConfig) -> dict[str, dict]:
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=config.batch_size)
    tasks = load_tasks(task_manager(), config.eval_tasks, _data_dir(config))
    return score_model(lm, tasks, config.eval_limit, None)


def _base_scores(model: Any, tokenizer: Any, config: TrainConfig) -> dict[str, dict]:
    if hasattr(model, "disable_adapter"):  # peft: the same weights without the adapter are exactly the base
        with model.disable_adapter():
            return _scores(model, tokenizer, config)
    from llmchat.training.modeling import load_base

    base, base_tokenizer = load_base(config)
    return _scores(base.eval(), base_tokenizer, config)


def benchmark_after_training(
    config: TrainConfig, run_dir: Path, model: Any, tokenizer: Any, models_root: Path
) -> dict[str, Any] | None:
    """Score the run and its base on `eval_tasks`; None when the recipe lists none."""
    if not config.eval_tasks:
        return None
    model.eval()
    run_scores = _scores(model, tokenizer, config)
    base_scores = _base_scores(model, tokenizer, config)
    created = time.strftime("%Y%m%d-%H%M%S")
    summary = {
        "created": created,
        "tasks": list(config.eval_tasks),
        "limit": config.eval_limit,
        "data": config.eval_data_dir or "datasets cache",
        "base_model": config.base_model,
        "run": run_scores,
        "base": base_scores,
    }
    (Path(run_dir) / BENCHMARKS_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")
    provenance = {"created": created, "limit": config.eval_limit, "num_fewshot": None, "data": summary["data"]}
    record_scores(models_root, config.run_name, {t: {**s, **provenance} for t, s in run_scores.items()})
    if not Path(config.base_model).exists():  # a registry id: the base's card shows it too
        record_scores(models_root, config.base_model, {t: {**s, **provenance} for t, s in base_scores.items()})
    return summary


def side_by_side(summary: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """{task: {"run": acc, "base": acc}}: the comparison metrics.json keeps."""
    return {
        task: {"run": summary["run"][task].get("acc"), "base": summary["base"][task].get("acc")}
        for task in summary["tasks"]
    }
