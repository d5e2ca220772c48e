"""Measurements through a real worker's HTTP API (streamed completions), for the benchmark."""

from __future__ import annotations

import contextlib
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml

from tests.support.servers import PROJECT_ROOT, start_worker


@contextlib.contextmanager
def run_worker_for(engine: str, threads: int):
    """configs/models.yaml served with `engine`, on `threads` threads."""
    from llmchat.paths import models_dir

    config = yaml.safe_load((PROJECT_ROOT / "configs" / "models.yaml").read_text(encoding="utf-8"))
    config["worker"] = {**(config.get("worker") or {}), "engine": engine, "threads": threads}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "models.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        with start_worker(path, models_dir=models_dir(), timeout=600) as worker:
            yield worker


def single_stream(url: str, model: str, prompt: str, tokens: int, **fields) -> dict:
    """Time to the first text and decode speed after it, of one streamed greedy completion."""
    body = {
        "model": model,
        "prompt": prompt,
        "max_tokens": tokens,
        "temperature": 0,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
        **fields,
    }
    started, first, usage, pieces = time.perf_counter(), None, {}, 0
    with httpx.stream("POST", f"{url}/v1/completions", json=body, timeout=1800) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if chunk.get("choices") and chunk["choices"][0].get("text"):
                pieces += 1
                if first is None:
                    first = time.perf_counter() - started
            usage = chunk.get("usage") or usage
    total = time.perf_counter() - started
    first = first or total
    made = usage.get("completion_tokens") or pieces  # a server that reports no usage streams one token a chunk
    return {"ttft": first, "decode_tok_s": (made - 1) / max(total - first, 1e-9), "tokens": made}


def concurrent(url: str, model: str, prompts: list[str], tokens: int, **fields) -> dict:
    """All prompts at once, one stream each: total tok/s over the wall time."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(prompts)) as pool:
        results = list(pool.map(lambda prompt: single_stream(url, model, prompt, tokens, **fields), prompts))
    elapsed = time.perf_counter() - started
    return {
        "tok_s": sum(r["tokens"] for r in results) / elapsed,
        "ttft_median": statistics.median(r["ttft"] for r in results),
    }


def follow_up_ttft(url: str, model: str, prompt: str) -> tuple[float, float]:
    """(cold, follow-up) first-token times for prompts of the same length: the follow-up is the first turn, its
    reply and a new question (an engine with a prefix cache does not read the first turn again); the cold one is the
    same text with its first word changed, so nothing of it was seen before."""
    reply = httpx.post(
        f"{url}/v1/completions",
        timeout=600,
        json={"model": model, "prompt": prompt, "max_tokens": 32, "temperature": 0, "ignore_eos": True},
    ).json()
    follow_up = prompt + reply["choices"][0]["text"] + "\nAnd in one sentence?"
    cached = single_stream(url, model, follow_up, 2)["ttft"]
    cold = single_stream(url, model, "Cold: " + follow_up[6:], 2)["ttft"]
    return cold, cached


def worker_memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of the worker process, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
