"""`llmchat evaluate --tasks`: standard benchmarks (ARC, HellaSwag, MMLU, ... any lm-evaluation-harness task) for
several models side by side, scored by the harness from the log-probabilities the model worker returns.

Each model is the harness's `local-completions` model on the worker's /v1/completions (echo + logprobs, the prompt
as token ids of the model's own HF tokenizer), so the same command scores a vLLM server on a GPU box. Scores go to a
report folder and to each model's benchmark file (models/benchmarks/), where its card and the leaderboard read them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmchat.models.benchmark_scores import record_scores
from llmchat.paths import PROJECT_ROOT, models_dir
from llmchat.training.benchmark_tasks import BenchmarkDataError, load_tasks, task_manager
from llmchat.training.worker_client import ModelInfo, WorkerClient

CONCURRENT_REQUESTS = 8  # the worker batches concurrent requests; more only queue
METRICS = ("acc", "acc_norm")


@dataclass
class BenchmarkOptions:
    tasks: list[str]
    models: list[str]
    worker_url: str = "http://127.0.0.1:8001"
    data_dir: Path | None = None
    limit: int | None = None
    num_fewshot: int | None = None
    tokenizer: str | None = None  # an HF tokenizer folder or name; default: the model's own (registry, else its id)
    out: Path | None = None
    timeout_s: float = 300.0
    models_config: Path | None = None
    progress: bool = True


@dataclass
class BenchmarkRun:
    """What one call scored: {model: {task: {acc, acc_norm, n}}} and where the report went."""

    scores: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    report_dir: Path | None = None


def model_tokenizer(model_id: str, models_config: Path | None) -> str:
    """The HF tokenizer folder of a model the local registry knows (a LoRA's is its base's); for another server's
    model (vLLM serves `HuggingFaceTB/SmolLM2-135M`), its id as an HF name, read from the local HF cache."""
    from llmchat.models.registry import load_registry
    from llmchat.models.sources import is_hf_folder, resolve_source

    registry = load_registry(models_config)
    spec = registry.find(model_id)
    if spec is None:
        return model_id
    source = resolve_source(registry.base_of(spec) if spec.kind == "lora" else spec)
    if not is_hf_folder(source):
        raise ValueError(f"model {model_id!r} loads from {source}, not an HF folder: pass --tokenizer")
    return str(source)


def worker_lm(options: BenchmarkOptions, model: ModelInfo):
    """The harness's OpenAI-completions model on the worker, for one model id."""
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    return LocalCompletionsAPI(
        base_url=f"{options.worker_url}/v1/completions",
        model=model.id,
        tokenizer=options.tokenizer or model_tokenizer(model.id, options.models_config),
        tokenizer_backend="huggingface",
        tokenized_requests=True,
        num_concurrent=CONCURRENT_REQUESTS,
        max_length=model.context_length or 2048,
        timeout=int(options.timeout_s),
        max_retries=2,
    )


def score_model(lm, tasks: dict[str, list], limit: int | None, num_fewshot: int | None) -> dict[str, dict]:
    """{task: {acc, acc_norm, n}} for one harness model; a task with subtasks (mmlu) is their size-weighted mean."""
    from lm_eval import simple_evaluate

    objects = [task for group in tasks.values() for task in group]
    result = simple_evaluate(
        model=lm, tasks=objects, limit=limit, num_fewshot=num_fewshot, log_samples=False, verbosity="WARNING"
    )
    return {name: _aggregate(result, [task.task_name for task in group]) for name, group in tasks.items()}


def _aggregate(result: dict, names: list[str]) -> dict[str, Any]:
    sizes = {name: int(result["n-samples"][name]["effective"]) for name in names}
    total = sum(sizes.values())
    scores: dict[str, Any] = {"n": total}
    for metric in METRICS:
        values = {name: result["results"][name].get(f"{metric},none") for name in names}
        known = {name: value for name, value in values.items() if isinstance(value, (int, float))}
        weight = sum(sizes[name] for name in known)
        scores[metric] = round(sum(v * sizes[n] for n, v in known.items()) / weight, 4) if weight else None
    return scores


def _shown(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def run_benchmarks(options: BenchmarkOptions) -> BenchmarkRun:
    if not options.models or not options.tasks:
        raise ValueError("--tasks and --models each need at least one name")
    manager = task_manager()
    client = WorkerClient(options.worker_url, options.timeout_s)
    try:
        available = client.models()
    finally:
        client.close()
    missing = [m for m in options.models if m not in available]
    if missing:
        raise ValueError(
            f"the worker at {options.worker_url} does not serve {', '.join(missing)} "
            f"(it serves: {', '.join(available) or 'nothing'})"
        )
    run = BenchmarkRun()
    for model_id in options.models:
        tasks = load_tasks(manager, options.tasks, options.data_dir)  # fresh Task objects: they keep state
        lm = worker_lm(options, available[model_id])
        run.scores[model_id] = score_model(lm, tasks, options.limit, options.num_fewshot)
    run.report_dir = write_benchmarks(run.scores, options)
    return run


def write_benchmarks(scores: dict[str, dict[str, dict]], options: BenchmarkOptions) -> Path:
    """The report folder (benchmarks.json, report.md) and each model's benchmark file."""
    created = time.strftime("%Y%m%d-%H%M%S")
    out = options.out or PROJECT_ROOT / "reports" / f"bench-{created}"
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "created": created,
        "tasks": options.tasks,
        "limit": options.limit,
        "num_fewshot": options.num_fewshot,
        "data": _shown(options.data_dir) or "datasets cache",
        "worker_url": options.worker_url,
    }
    (out / "benchmarks.json").write_text(json.dumps({"meta": meta, "scores": scores}, indent=2), encoding="utf-8")
    (out / "report.md").write_text(benchmark_table(scores, options.tasks, meta), encoding="utf-8")
    provenance = {key: meta[key] for key in ("created", "limit", "num_fewshot", "data")} | {"report": _shown(out)}
    for model_id, by_task in scores.items():
        record_scores(models_dir(), model_id, {task: {**result, **provenance} for task, result in by_task.items()})
    return out


def benchmark_table(scores: dict[str, dict[str, dict]], tasks: list[str], meta: dict) -> str:
    """Markdown: one row per task and metric, one column per model."""
    models = list(scores)
    limit = f", first {meta['limit']} per task" if meta.get("limit") else ""
    lines = [
        "# Benchmarks",
        "",
        f"lm-evaluation-harness through the worker's logprobs; data: {meta['data']}{limit}.",
        "",
        "| task | metric | n | " + " | ".join(models) + " |",
        "|---|---|---|" + "---|" * len(models),
    ]
    for task in tasks:
        for metric in METRICS:
            values = [scores[model][task].get(metric) for model in models]
            if all(value is None for value in values):
                continue
            n = scores[models[0]][task]["n"]
            shown = ["-" if value is None else f"{value:.3f}" for value in values]
            lines.append(f"| {task} | {metric} | {n} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["BenchmarkDataError", "BenchmarkOptions", "run_benchmarks"]
