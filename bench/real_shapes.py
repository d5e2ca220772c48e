"""Speed and memory at a real model size: the llmchat worker (OpenVINO int4 and int8 exports, a GGUF read as it is,
the llama.cpp engine on the GGUF and on the HF folder) beside llama.cpp on the same GGUF and plain HF `generate`, as
ratios against llama.cpp Q4_0 from the same run.

Run:  make bench-real   (or .venv/bin/python bench/real_shapes.py --shape 1b [--llama-server PATH]
      [--llama-cpp-python VENV/bin/python] [--threads 2])
`--shape 1b` is a Llama shape of 1.07B parameters (hidden 2048, intermediate 8192, 16 layers, 32/8 heads, SmolLM2's
vocabulary of 49152, tied embeddings), `3b` one of 3.2B (hidden 3072, 28 layers, 24/8 heads), `tiny` a 3M one that
only proves the script works. Random weights in bf16, made once under --work (default bench/results/work/), with
pure Q4_0 and Q8_0 GGUFs (backend/llmchat/models/gguf_writer.py). Each OpenVINO export, and the Q4_0 GGUF llama.cpp's
converter makes of the folder, is made first by `llmchat models export` under /usr/bin/time -v (its peak memory).
Then every server is started and held up at once (an idle one uses no CPU) and measured in --rounds interleaved
rounds: one stream of 128 tokens after a 508-token prompt on each in turn
(EOS ignored; decode tok/s and time to first token), then 8 concurrent streams of ~50-token prompts and 64 tokens
each on each in turn (total tok/s), the order reversed every other round. Rows are medians over the rounds; ratios
are the medians of ratios taken inside one round, since this host drifts by up to 30 % over minutes and passes run
one after another compared the drift as much as the engines. Peak RSS is each server's own (with its children's:
the worker's llama.cpp engine runs llama-server as one). The worker on `engine: llama.cpp` serves the same Q4_0 GGUF
through the same llama-server binary as the bare llama-server rows, with the same slots. HF `generate` runs last,
alone (it needs the memory the servers hold). Results go to bench/results/ as JSON and a markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.bench_http import concurrent, single_stream, worker_memory_mb  # noqa: E402
from bench.bench_prompts import batch_prompts, long_prompt  # noqa: E402
from bench.llama_cpp_server import find_llama_cpp, serve_gguf  # noqa: E402
from bench.real_shapes_setup import (  # noqa: E402
    CONTEXT,
    build_shape,
    measured_export,
    write_config,
    write_ggufs,
)
from tests.support.servers import start_worker  # noqa: E402

PROMPT_TOKENS = 508
STREAMS = 8
QUANTS = ["Q4_0", "Q8_0"]
SLOT_CONTEXT = 1024  # each llama-server slot's context, bare or under the worker: the prompts and replies fit
# the targets, against llama.cpp Q4_0 in the same run
TARGETS = {"single": 1.0, "ttft": 0.6, "streams": 1.5, "rss": 1.3}


def exact_prompt(folder: Path, tokens: int) -> str:
    """Prose of exactly `tokens` tokens in the shape's tokenizer."""
    from llmchat.models.loading import load_tokenizer

    tokenizer = load_tokenizer(folder)
    ids = tokenizer(long_prompt(80))["input_ids"][:tokens]
    return tokenizer.decode(ids)


@dataclass
class Served:
    """One running server under measurement and what each round measured of it."""

    url: str
    model: str
    pid: int
    extra: dict = field(default_factory=dict)  # the export's cost, for a worker row
    request: dict = field(default_factory=dict)  # fields every request to it carries
    singles: list[dict] = field(default_factory=list)
    streams: list[dict] = field(default_factory=list)


def interleaved(servers: dict[str, Served], prompt: str, args) -> None:
    """Every server held up at once (idle ones use no CPU), then `--rounds` rounds: one stream on each in turn, then
    8 streams on each in turn, in the listed order on even rounds and reversed on odd ones (so that a drift within a
    round favours no position). The host drifts by up to 30 % over minutes; a ratio taken inside one round compares
    two engines under the same drift, where whole passes one after the other did not."""
    for served in servers.values():
        single_stream(served.url, served.model, "warm up", 4, **served.request)
    for round_ in range(args.rounds):
        order = list(servers.values()) if round_ % 2 == 0 else list(reversed(servers.values()))
        for served in order:
            # each prompt new to any prefix cache
            run = single_stream(served.url, served.model, f"Run {round_}. {prompt}", args.tokens, **served.request)
            served.singles.append(run)
        for served in order:
            prompts = batch_prompts(STREAMS)
            served.streams.append(concurrent(served.url, served.model, prompts, args.stream_tokens, **served.request))
        speeds = ", ".join(f"{label}: {s.singles[-1]['decode_tok_s']:.1f}" for label, s in servers.items())
        print(f"round {round_ + 1}/{args.rounds}, one stream tok/s: {speeds}", flush=True)


def summary(served: Served, base: Served | None) -> dict:
    """Medians over the rounds, and the medians of the same-round ratios against `base` (llama.cpp Q4_0)."""
    rounds = per_round(served)
    row = {name: median(values) for name, values in rounds.items()}
    row |= {"peak_rss_mb": peak_rss_with_children_mb(served.pid), "rounds": rounds, **served.extra}
    if base is not None:
        theirs = per_round(base)
        row["ratios"] = {name: median(m / t for m, t in zip(mine, theirs[name])) for name, mine in rounds.items()}
        row["ratios"]["peak_rss_mb"] = row["peak_rss_mb"] / peak_rss_with_children_mb(base.pid)
    return row


def per_round(served: Served) -> dict[str, list[float]]:
    """Each round's one-stream decode speed and first-token time, and its 8-stream total."""
    return {
        "single_tok_s": [r["decode_tok_s"] for r in served.singles],
        "ttft_s": [r["ttft"] for r in served.singles],
        "streams_tok_s": [r["tok_s"] for r in served.streams],
    }


def peak_rss_with_children_mb(pid: int) -> float:
    """The server's peak RSS plus its children's (a llama.cpp engine's llama-server), each read from /proc."""
    import psutil

    children = psutil.Process(pid).children(recursive=True)
    return worker_memory_mb(pid)[1] + sum(worker_memory_mb(child.pid)[1] for child in children)


def serve_worker(stack: ExitStack, work: Path, name: str, entry: dict, args, env: dict | None = None) -> Served:
    """The llmchat worker serving one entry, its export made and measured first (when it has one)."""
    config = write_config(work / f"{name}.yaml", [{"id": name, "kind": "base", **entry}], args.threads)
    fresh = entry.get("weight_format") and not _export_exists(entry, work / "models")
    # an export left by an earlier run is reused: timing `models export` then would only time finding it
    export = measured_export(config, name, work / "models") if fresh else None
    worker = stack.enter_context(start_worker(config, models_dir=work / "models", timeout=1800, env=env))
    extra = {}
    if export:
        extra = {"export_s": export.seconds, "export_peak_rss_mb": export.peak_rss_mb}
    elif entry.get("weight_format"):
        extra = {"export_reused": True}
    return Served(worker.url, name, worker.process.pid, extra)


def _export_exists(entry: dict, models_dir: Path) -> bool:
    """Whether the entry's OpenVINO export (or, on engine llama.cpp, the GGUF converted from its folder) is there."""
    from llmchat.models.llamacpp_gguf import gguf_location
    from llmchat.models.openvino_export import suffix

    source, weight_format = Path(entry["source"]), entry["weight_format"]
    if entry.get("engine") == "llama.cpp":
        return gguf_location(source, models_dir / ".cache", weight_format).is_file()
    return (source.parent / f"{source.name}{suffix(weight_format)}" / "openvino_model.xml").is_file()


def serve_llama_cpp(stack: ExitStack, llama, gguf: Path, args, request: dict | None = None) -> Served:
    url, process = stack.enter_context(serve_gguf(llama, gguf, args.threads, SLOT_CONTEXT, STREAMS))
    return Served(url, "model", process.pid, request=request or {})


def measure_hf_generate(folder: Path, prompt: str, args) -> dict:
    """Plain `generate` in float32, in a process of its own (its peak RSS is the baseline's)."""
    import subprocess

    code = (
        "import json, resource, sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from bench.bench_baselines import hf_single;"
        "r = hf_single(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]));"
        "r['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; print(json.dumps(r))"
    )
    argv = [str(PROJECT_ROOT), str(folder), prompt, str(args.tokens), str(args.threads)]
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"single_tok_s": result["decode_tok_s"], "ttft_s": result["ttft"], "peak_rss_mb": result["peak_rss_mb"]}


def run(args) -> dict:
    work = Path(args.work) / args.shape
    folder = build_shape(args.shape, work / f"llama-{args.shape}")
    ggufs = write_ggufs(folder, QUANTS)
    prompt = exact_prompt(folder, PROMPT_TOKENS)
    llama = find_llama_cpp(args.llama_server, args.llama_cpp_python)
    base_label = f"llama.cpp Q4_0 ({llama.kind if llama else 'not measured'})"
    workers = {  # label: (model id, models.yaml entry)
        "llmchat worker, OpenVINO int4 sym export": ("int4", {"source": str(folder), "weight_format": "int4"}),
        "llmchat worker, OpenVINO int8 export": ("int8", {"source": str(folder), "weight_format": "int8"}),
        "llmchat worker, GGUF Q4_0 read directly": ("gguf-q4_0", {"source": str(ggufs["Q4_0"])}),
    }
    servers: dict[str, Served] = {}
    with ExitStack() as stack:
        for label, (model_id, entry) in workers.items():
            print(f"starting {label} ...", flush=True)
            servers[label] = serve_worker(stack, work, model_id, entry, args)
        if llama:
            for quant in QUANTS:
                print(f"starting llama.cpp {quant} ...", flush=True)
                servers[f"llama.cpp {quant} ({llama.kind})"] = serve_llama_cpp(stack, llama, ggufs[quant], args)
            # what the worker's llama.cpp engine asks for a greedy reply (the same argmax, without llama-server's
            # default top_k 40 over the vocabulary): the engine's speed with the worker's share taken out
            label = f"llama.cpp Q4_0 ({llama.kind}), asked with top_k 1"
            servers[label] = serve_llama_cpp(stack, llama, ggufs["Q4_0"], args, {"top_k": 1})
        engine_label = "llmchat worker, engine llama.cpp, GGUF Q4_0"
        if llama and llama.kind == "llama-server":  # the same binary, as the worker would find it
            print(f"starting {engine_label} ...", flush=True)
            entry = {"source": str(ggufs["Q4_0"]), "engine": "llama.cpp", "context_length": SLOT_CONTEXT}
            env = {"LLMCHAT_LLAMA_SERVER": llama.program}
            servers[engine_label] = serve_worker(stack, work, "llamacpp-q4_0", entry, args, env)
            # the HF folder itself: llama.cpp's converter and llama-quantize make its Q4_0 GGUF (timed like an export)
            label = "llmchat worker, engine llama.cpp, HF folder -> Q4_0"
            if Path(llama.program).with_name("llama-quantize").is_file():
                entry = {"source": str(folder), "engine": "llama.cpp", "weight_format": "int4"}
                entry["context_length"] = SLOT_CONTEXT  # the same slots as the rows above (the folder says 4096)
                servers[label] = serve_worker(stack, work, "llamacpp-folder", entry, args, env)
        interleaved(servers, prompt, args)
        base = servers.get(base_label)
        rows = {label: summary(served, base) for label, served in servers.items()}
    for label in (base_label, engine_label):
        rows.setdefault(label, {})
    print("measuring HF generate float32 ...", flush=True)
    rows["HF transformers `generate`, float32"] = measure_hf_generate(folder, prompt, args)
    if base is not None:
        hf = rows["HF transformers `generate`, float32"]
        # not interleaved (it needs the memory the servers hold): a ratio across passes, to be read loosely
        hf["ratios"] = {"single_tok_s": hf["single_tok_s"] / rows[base_label]["single_tok_s"]}
    return {"shape": args.shape, "threads": args.threads, "context": CONTEXT, "rounds": args.rounds, "rows": rows}


def table(results: dict) -> str:
    """Markdown: every row's numbers and its ratios against llama.cpp Q4_0, with the issue's targets checked."""
    rows = results["rows"]
    lines = [
        f"Shape {results['shape']}, {results['threads']} threads, {results['rounds']} interleaved rounds: medians, "
        "and the medians of the same-round ratios against llama.cpp Q4_0; "
        f"targets: one stream >= {TARGETS['single']}x, first token <= {TARGETS['ttft']}x, "
        f"{STREAMS} streams >= {TARGETS['streams']}x, peak RSS <= {TARGETS['rss']}x.",
        "",
        f"| engine / format | one stream tok/s | first token s | {STREAMS} streams tok/s | peak RSS MB "
        "| export s / peak MB | vs llama.cpp Q4_0 (one / first / streams / RSS) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, row in rows.items():
        if not row:
            lines.append(f"| {label} | not measured | | | | | |")
            continue
        export = f"{row['export_s']:.0f} / {row['export_peak_rss_mb']:.0f}" if "export_s" in row else ""
        export = "reused" if row.get("export_reused") else export
        lines.append(
            f"| {label} | {row['single_tok_s']:.1f} | {row['ttft_s']:.2f} | {_number(row.get('streams_tok_s'))} "
            f"| {row['peak_rss_mb']:.0f} | {export} | {_ratios(row)} |"
        )
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratios(row: dict) -> str:
    """The same-round ratios against llama.cpp Q4_0 (medians over the rounds), each checked against its target."""
    ratios = row.get("ratios")
    if ratios is None:
        return "no llama.cpp to compare"
    checks = [
        ("single_tok_s", lambda r: r >= TARGETS["single"]),
        ("ttft_s", lambda r: r <= TARGETS["ttft"]),
        ("streams_tok_s", lambda r: r >= TARGETS["streams"]),
        ("peak_rss_mb", lambda r: r <= TARGETS["rss"]),
    ]
    return " / ".join(
        "-" if ratios.get(key) is None else f"{ratios[key]:.2f}{' ✓' if meets(ratios[key]) else ' ✗'}"
        for key, meets in checks
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=["tiny", "1b", "3b"], default="1b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=128, help="tokens of the single stream")
    parser.add_argument("--stream-tokens", type=int, default=64, help="tokens of each concurrent stream")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds over all the servers")
    parser.add_argument("--llama-server", default=None, help="llama.cpp's llama-server binary (default: on PATH)")
    parser.add_argument("--llama-cpp-python", default=None, help="python of a venv with llama-cpp-python[server]")
    parser.add_argument("--work", default=str(PROJECT_ROOT / "bench" / "results" / "work"))
    args = parser.parse_args()
    results = run(args)
    markdown = table(results)
    out = PROJECT_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"real-{args.shape}-{stamp}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / f"real-{args.shape}-{stamp}.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
