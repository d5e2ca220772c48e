"""CLI: `llmchat data make|check|from-chats`, `llmchat finetune`, `llmchat export`, `llmchat evaluate`.

Handlers import torch / transformers only when they run, so `llmchat --help` stays instant.
Errors the user can fix (bad data, bad config keys) print one clear line and exit with 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC
from pathlib import Path


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _data_make(args: argparse.Namespace) -> int:
    from llmchat.training.datagen import make_examples, make_kto_rows, make_preferences, write_jsonl

    if args.kto:
        rows = make_kto_rows(500 if args.n is None else args.n, args.seed)
        path = write_jsonl(rows, Path(args.out or "data/generated/kto.jsonl"))
        print(f"wrote {len(rows)} KTO rows (prompt, completion, label) to {path}")
        return 0
    if args.preferences:
        rows = make_preferences(500 if args.n is None else args.n, args.seed)
        path = write_jsonl(rows, Path(args.out or "data/generated/preferences.jsonl"))
        print(f"wrote {len(rows)} preference rows (prompt, chosen, rejected) to {path}")
        return 0
    examples = make_examples(2000 if args.n is None else args.n, args.seed, unseen=args.unseen)
    path = write_jsonl(examples, Path(args.out or "data/generated/alpaca_tasks.jsonl"))
    held_out = sum(1 for e in examples if e["phrasing"] == "unseen")
    print(
        f"wrote {len(examples)} examples to {path}: {len(examples) - held_out} in the training phrasings, "
        f"{held_out} in held-out phrasings (test split only)"
    )
    return 0


def _data_check(args: argparse.Namespace) -> int:
    from collections import Counter

    from llmchat.training.data import DataError, load_rows

    format_name = "preference" if args.preferences else args.format
    try:
        records = load_rows(args.file, format_name)
    except DataError as exc:
        return _fail(str(exc))
    if format_name == "preference":
        print(f"{args.file}: {len(records)} valid preference rows")
        return 0
    if format_name == "kto":
        ups = sum(1 for r in records if r["label"])
        print(f"{args.file}: {len(records)} valid KTO rows ({ups} good, {len(records) - ups} bad)")
        return 0
    with_input = sum(1 for r in records if r["input"].strip())
    print(f"{args.file}: {len(records)} valid records ({with_input} with input)")
    tasks = Counter(r.get("task") for r in records if r.get("task"))
    if tasks:
        print("tasks: " + ", ".join(f"{name} {count}" for name, count in sorted(tasks.items())))
    phrasings = Counter(r.get("phrasing") for r in records if r.get("phrasing"))
    if phrasings:
        print(
            "phrasings: "
            + ", ".join(f"{name} {count}" for name, count in sorted(phrasings.items()))
            + " (unseen: test split only)"
        )
    return 0


def _since(text: str | None):
    """--since: an ISO date or time; without a zone, UTC."""
    from datetime import datetime

    if text is None:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _data_from_chats(args: argparse.Namespace) -> int:
    from llmchat.training.from_chats import (
        FromChatsOptions,
        report_lines,
        run_from_chats,
    )

    try:
        since = _since(args.since)
    except ValueError:
        return _fail(f"--since: {args.since!r} is not a date (YYYY-MM-DD) or an ISO time")
    models = [m.strip() for group in args.models or [] for m in group.split(",") if m.strip()] or None
    if args.database_url:
        database_url = args.database_url
    else:
        from llmchat.api.config import load_config as load_app_config

        database_url = load_app_config().database_url
    options = FromChatsOptions(
        out=Path(args.out),
        database_url=database_url,
        format=args.format,
        models=models,
        since=since,
        config=Path(args.config) if args.config else None,
        overrides=args.set,
    )
    try:
        harvest = run_from_chats(options)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    for line in report_lines(harvest, args.format, args.out):
        print(line)
    return 0


def _finetune(args: argparse.Namespace) -> int:
    from llmchat.training.stop_signal import stop_request

    stop = stop_request()  # first: a SIGTERM while torch imports or the model loads still stops with a checkpoint
    from llmchat.training.config import load_config

    try:
        config = load_config(args.config, args.set)
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    from llmchat.models.specs import SourceUnavailable
    from llmchat.training.finetune import run_finetune

    try:
        result = run_finetune(config, resume=args.resume, overwrite=args.overwrite, stop=stop)
    except (ValueError, SourceUnavailable) as exc:  # DataError included; SourceUnavailable: a base_model not pulled
        return _fail(str(exc))
    if result.stopped_at is not None:
        print(f"stopped at step {result.stopped_at}: checkpoint saved in {result.run_dir}/checkpoints (--resume)")
    elif result.metrics:
        print(json.dumps(result.metrics, indent=2))
        print(f"run written to {result.run_dir}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from llmchat.training.export import ExportRequest, export_run

    request = ExportRequest(
        merge=args.merge,
        gguf=tuple(dict.fromkeys(t.upper() for t in args.gguf)),
        openvino=tuple(dict.fromkeys(f.lower() for f in args.openvino)),
        out=Path(args.out) if args.out else None,
    )
    try:
        written = export_run(args.run, request)
    except ValueError as exc:
        return _fail(str(exc))
    for path in written:
        print(f"wrote {path}")
    return 0


def _benchmarks(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # task data: local files or the cache, never a download
    from llmchat.training.benchmarks import BenchmarkOptions, run_benchmarks

    options = BenchmarkOptions(
        tasks=[t.strip() for t in args.tasks.split(",") if t.strip()],
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        worker_url=args.worker_url.rstrip("/"),
        data_dir=Path(args.data_dir) if args.data_dir else None,
        limit=args.limit,
        num_fewshot=args.num_fewshot,
        tokenizer=args.tokenizer,
        out=Path(args.out) if args.out else None,
        timeout_s=args.timeout,
        models_config=Path(args.models_config) if args.models_config else None,
    )
    try:
        run = run_benchmarks(options)
    except ValueError as exc:  # BenchmarkDataError included: it names the task and the file it looked for
        return _fail(str(exc))
    print(f"report written to {run.report_dir}")
    print((run.report_dir / "report.md").read_text(encoding="utf-8"))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from llmchat.training.evaluate import EvalOptions, run_evaluation

    if args.tasks:
        held_out_only = [flag for flag, value in (("--data", args.data), ("--judge", args.judge)) if value]
        if held_out_only:
            return _fail(f"{', '.join(held_out_only)}: not with --tasks (benchmark data comes from --data-dir)")
        return _benchmarks(args)
    options = EvalOptions(
        models=[m.strip() for m in args.models.split(",") if m.strip()],
        data=args.data,
        worker_url=args.worker_url.rstrip("/"),
        limit=args.limit,
        judge=args.judge,
        out=Path(args.out) if args.out else None,
        max_tokens=args.max_tokens,
        perplexity=not args.no_perplexity,
        timeout_s=args.timeout,
        models_config=Path(args.models_config) if args.models_config else None,
    )
    try:
        report_dir = run_evaluation(options)
    except ValueError as exc:
        return _fail(str(exc))
    print(f"report written to {report_dir}")
    print((report_dir / "report.md").read_text(encoding="utf-8").split("\n## Misses")[0])
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="make or check Alpaca-format training data")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    make = data_sub.add_parser("make", help="write the project's own dataset (deterministic for a seed)")
    make.add_argument("--out", help="default data/generated/alpaca_tasks.jsonl (--preferences: preferences.jsonl)")
    make.add_argument(
        "--n",
        type=int,
        default=None,
        help="examples in the training phrasings (default 2000); with --preferences: rows (default 500)",
    )
    make.add_argument(
        "--unseen",
        type=int,
        default=200,
        help="extra examples in held-out phrasings, for the test split only (default 200)",
    )
    make.add_argument("--seed", type=int, default=0)
    make.add_argument(
        "--preferences", action="store_true", help="write DPO rows {prompt, chosen, rejected} instead (for method: dpo)"
    )
    make.add_argument(
        "--kto", action="store_true", help="write KTO rows {prompt, completion, label} instead (for method: kto)"
    )
    make.set_defaults(handler=_data_make)
    check = data_sub.add_parser("check", help="validate a JSON / JSONL / CSV data file (Alpaca, preference or KTO)")
    check.add_argument("file")
    check.add_argument(
        "--format",
        choices=("alpaca", "preference", "kto"),
        default="alpaca",
        help="alpaca {instruction, input, output}, preference {prompt, chosen, rejected}, kto {prompt, completion, "
        "label}; default alpaca",
    )
    check.add_argument("--preferences", action="store_true", help="the same as --format preference")
    check.set_defaults(handler=_data_check)
    chats = data_sub.add_parser(
        "from-chats",
        help="training rows from the users' thumbs, corrections and votes (reads every IP's chats)",
        description="Reads the chat database directly (every client's conversations: an operator's tool, never a web "
        "endpoint but the Data page's, for admins). alpaca: one row per upvoted or corrected reply. preference: "
        "{prompt, chosen, rejected} rows from compare votes and from corrections of downvoted replies. kto: "
        "{prompt, completion, label} rows from the thumbs (and corrections, as good answers). Prints what it "
        "skipped and why.",
    )
    chats.add_argument("--out", required=True, help="the JSON Lines file to write")
    chats.add_argument(
        "--format",
        choices=("alpaca", "preference", "kto"),
        default="alpaca",
        help="alpaca (for method lora/full), preference (for method dpo) or kto (for method kto); default alpaca",
    )
    chats.add_argument(
        "--models",
        action="append",
        metavar="ID[,ID...]",
        help="only replies of these models (a vote: either side); repeatable",
    )
    chats.add_argument("--since", metavar="DATE", help="only replies written (votes cast) since this date (UTC)")
    chats.add_argument("--database-url", help="default: the chat API's (configs/app.yaml, LLMCHAT_DATABASE_URL)")
    chats.add_argument(
        "--config",
        help="the training recipe the rows are for: its base model's tokenizer and "
        "cutoff_len decide what is too long (default configs/train/"
        "smollm2-chats-lora.yaml, preference: smollm2-chats-dpo.yaml, kto: smollm2-chats-kto.yaml)",
    )
    chats.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe key as `finetune --set` does, e.g. --set cutoff_len=1024",
    )
    chats.set_defaults(handler=_data_from_chats)

    finetune = subparsers.add_parser(
        "finetune", help="full, LoRA, DPO or KTO fine-tuning (HF Trainer / TRL on accelerate)"
    )
    finetune.add_argument("--config", required=True, help="configs/train/<name>.yaml")
    finetune.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, typed (repeatable), e.g. --set max_steps=5",
    )
    finetune.add_argument("--resume", action="store_true", help="continue from the run's last checkpoint")
    finetune.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    finetune.set_defaults(handler=_finetune)

    export = subparsers.add_parser(
        "export",
        help="a finished run as a merged HF folder, GGUF (+ Ollama Modelfile) or OpenVINO IR",
        description="GGUF and OpenVINO files go to models/runs/<run>/exports/, each made from the merged HF folder.",
    )
    export.add_argument("run", help="run id (models/runs/<run>) or a run folder")
    export.add_argument("--merge", action="store_true", help="merge the adapter into the base weights (HF folder)")
    export.add_argument(
        "--gguf",
        action="append",
        default=[],
        metavar="TYPE",
        help="write <run>-<type>.gguf (Q8_0 or Q4_0; llama-architecture models) and its Ollama Modelfile; repeatable",
    )
    export.add_argument(
        "--openvino",
        action="append",
        default=[],
        metavar="FORMAT",
        help="write the OpenVINO IR in int8 or int4 weights (<run>.openvino-<format>/); repeatable",
    )
    export.add_argument("--out", help="the merged HF folder (default: models/runs/<run>/merged)")
    export.set_defaults(handler=_export)

    evaluate = subparsers.add_parser(
        "evaluate",
        help="score models side by side through the worker (held-out answers, or --tasks benchmarks)",
        description="Without --tasks: each model's answers to held-out Alpaca examples, scored by exact/contains "
        "match (and eval loss, judge). With --tasks: lm-evaluation-harness tasks scored from the worker's "
        "logprobs (any OpenAI-compatible server with echo + logprobs, e.g. vLLM).",
    )
    evaluate.add_argument("--models", required=True, help="comma-separated model ids, as the worker lists them")
    evaluate.add_argument("--data", help="Alpaca JSON/JSONL (default: test.jsonl of the first run among --models)")
    evaluate.add_argument("--worker-url", default="http://127.0.0.1:8001")
    evaluate.add_argument("--limit", type=int, default=None, help="first N examples only (--tasks: per task)")
    evaluate.add_argument("--judge", default=None, help="a worker model that grades free-form answers 1-5")
    evaluate.add_argument("--out", default=None, help="report folder (default reports/eval-<time>/)")
    evaluate.add_argument("--max-tokens", type=int, default=32)
    evaluate.add_argument("--no-perplexity", action="store_true", help="skip the local eval-loss pass")
    evaluate.add_argument(
        "--models-config", default=None, help="registry file for the local eval-loss pass (default configs/models.yaml)"
    )
    evaluate.add_argument("--timeout", type=float, default=120.0, help="seconds per worker request")
    evaluate.add_argument(
        "--tasks", help="lm-evaluation-harness tasks, comma-separated (arc_easy,arc_challenge,hellaswag,mmlu,...)"
    )
    evaluate.add_argument(
        "--data-dir",
        help="--tasks data: DIR/<task>/<split>.jsonl in the dataset's own columns (default: the datasets cache)",
    )
    evaluate.add_argument("--num-fewshot", type=int, default=None, help="--tasks: few-shot examples (task default)")
    evaluate.add_argument(
        "--tokenizer",
        help="--tasks: HF tokenizer folder or name (default: the model's own from the registry, else the model id)",
    )
    evaluate.set_defaults(handler=_evaluate)
