"""`llmchat evaluate`: answers of several models to the same held-out examples, THROUGH THE WORKER, scored
side by side (exact / contains match, eval loss and perplexity computed locally, optional judge)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from llmchat.models.manifest import find_run
from llmchat.models.run_files import write_evaluation
from llmchat.paths import PROJECT_ROOT, models_dir
from llmchat.training.data import load_examples
from llmchat.training.judge import judge_answer
from llmchat.training.report import build_report, write_report
from llmchat.training.scoring import Scored, score, summarize
from llmchat.training.worker_client import ModelInfo, WorkerClient, WorkerError

CONCURRENT_REQUESTS = 8  # the worker batches concurrent requests; more only queue


@dataclass
class EvalOptions:
    models: list[str]
    data: str | None = None
    worker_url: str = "http://127.0.0.1:8001"
    limit: int | None = None
    judge: str | None = None
    out: Path | None = None
    max_tokens: int = 32
    perplexity: bool = True
    timeout_s: float = 120.0
    progress: bool = True
    models_config: Path | None = None  # the worker's registry file, for loading models locally (eval loss)


def default_data(models: list[str]) -> Path:
    """The saved test split of the first fine-tuning run among the models."""
    for model in models:
        candidate = models_dir() / "runs" / model / "test.jsonl"
        if candidate.is_file():
            return candidate
    raise ValueError("no --data given and none of the models is a run with a test.jsonl; pass --data FILE")


def generate_answers(
    client: WorkerClient, model: ModelInfo, records: list[dict], max_tokens: int, progress: bool
) -> list[Scored]:
    from tqdm import tqdm

    def one(index: int) -> Scored:
        try:
            return score(index, records[index], client.answer(model, records[index], max_tokens))
        except WorkerError as exc:  # one failed request is a miss with its reason, not a lost report
            return score(index, records[index], "", error=str(exc))

    with ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        rows = list(
            tqdm(
                pool.map(one, range(len(records))), total=len(records), desc=f"answers {model.id}", disable=not progress
            )
        )
    return rows


def local_loss(
    model_id: str, style: str, records: list[dict], progress: bool, models_config: Path | None = None
) -> dict | None:
    from llmchat.training.perplexity import answer_loss, load_for_eval

    try:
        model, tokenizer = load_for_eval(model_id, models_config)
    except (ValueError, OSError, ImportError) as exc:
        return {"error": f"eval loss skipped: {exc}"}
    result = answer_loss(model, tokenizer, style, records, progress=progress)
    del model
    return result


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the project when inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def run_evaluation(options: EvalOptions) -> Path:
    if not options.models:
        raise ValueError("--models needs at least one model id")
    data_path = Path(options.data) if options.data else default_data(options.models)
    records = load_examples(data_path)[: options.limit or None]
    client = WorkerClient(options.worker_url, options.timeout_s)
    try:
        available = client.models()
        missing = [m for m in options.models + ([options.judge] if options.judge else []) if m not in available]
        if missing:
            raise ValueError(
                f"the worker at {options.worker_url} does not serve {', '.join(missing)} "
                f"(it serves: {', '.join(available) or 'nothing'})"
            )
        results = {}
        for model_id in options.models:
            info = available[model_id]
            rows = generate_answers(client, info, records, options.max_tokens, options.progress)
            result = {
                "prompt_style": info.prompt_style,
                "kind": info.kind,
                "base_model": info.base_model,
                "summary": summarize(rows),
                "rows": rows,
            }
            if options.judge:
                grades = [judge_answer(client, available[options.judge], r.record, r.prediction) for r in rows]
                for row, grade in zip(rows, grades):
                    row.record = {**row.record, "_judge": grade}
                valid = [g for g in grades if g is not None]
                result["judge_mean"] = round(sum(valid) / len(valid), 2) if valid else None
            if options.perplexity:
                result["loss"] = local_loss(
                    model_id, info.prompt_style, records, options.progress, options.models_config
                )
            results[model_id] = result
    finally:
        client.close()
    created = time.strftime("%Y%m%d-%H%M%S")
    meta = {
        "created": created,
        "data": _shown(data_path),
        "n": len(records),
        "worker_url": options.worker_url,
        "max_tokens": options.max_tokens,
        "judge": options.judge,
        "models": options.models,
    }
    out = options.out or PROJECT_ROOT / "reports" / f"eval-{created}"
    report = build_report(meta, results)
    report_dir = write_report(report, out)
    record_in_runs(report, report_dir, models_dir())
    return report_dir


def record_in_runs(report: dict, report_dir: Path, models_root: Path) -> list[Path]:
    """Every evaluated model that is a run on this machine keeps the summary of its latest evaluation in its
    folder (evaluation.json): the worker shows it on the model's card. Every model of the report is in it, so the
    card can show what the run was compared with."""
    summary = {
        "created": report["meta"]["created"],
        "report": _shown(report_dir),
        "data": report["meta"]["data"],
        "n": report["meta"]["n"],
        "max_tokens": report["meta"]["max_tokens"],
        "models": report["models"],
    }
    written = []
    for model_id in report["models"]:
        try:
            run_dir = find_run(model_id, models_root)
        except ValueError:
            continue  # not a run, or one on another machine
        written.append(write_evaluation(run_dir, {**summary, "model": model_id}))
    return written
