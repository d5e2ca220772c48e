"""How much memory an engine takes, estimated from its weight files on disk (for `worker.max_loaded_bytes`), and how
much the process and its children hold (their RSS, for /health and /metrics).

The estimate is the size of the weights the engine reads: an OpenVINO engine reads its int8 export, a llama.cpp
engine its .gguf or the GGUF made of its HF folder (before a conversion exists, the source's files stand in: an
over-estimate, so the budget errs on the safe side); the transformers engine
holds the source's weights in the dtype it loads them in (float32 on a CPU: twice a bf16 checkpoint's size). The KV
cache and the runtime come on top; a budget should leave room for them.
"""

from __future__ import annotations

import json
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


def weight_files_bytes(path: Path) -> int:
    """The size of a weight file, or of the weight files directly in a folder; 0 when there are none."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(file.stat().st_size for file in path.iterdir() if file.is_file() and file.suffix in WEIGHT_SUFFIXES)


def stored_dtype(folder: Path) -> str | None:
    """The dtype an HF checkpoint is saved in (config.json's `dtype`, older `torch_dtype`), when it says."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = config.get("dtype") or config.get("torch_dtype")
    return value if isinstance(value, str) else None


def transformers_bytes(source: Path, loaded_dtype: str) -> int:
    """The source's weights scaled from the dtype they are stored in to the one the engine holds them in (a GGUF
    file counts as its size: how it dequantizes depends on its quantization)."""
    size = weight_files_bytes(source)
    stored = DTYPE_BYTES.get(stored_dtype(source) or "") if source.is_dir() else None
    wanted = DTYPE_BYTES.get(loaded_dtype)
    return size * wanted // stored if stored and wanted else size


def converted_bytes(converted: Path, source: Path) -> int:
    """The weights of what was made of `source` (an OpenVINO export, a llama.cpp GGUF of an HF folder) when it
    exists, else the source's (a conversion is never larger than its source)."""
    return weight_files_bytes(converted) or weight_files_bytes(source)


def rss_bytes() -> int | None:
    """The resident memory of this process and its children (a llama.cpp engine's llama-server holds its model's
    weights and KV cache in a child process: without it the budget would leave them out); None where psutil cannot
    tell."""
    import psutil

    try:
        worker = psutil.Process()
        total = worker.memory_info().rss
        for child in worker.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.NoSuchProcess:  # it left between the listing and the reading
                pass
    except psutil.Error:
        return None
    return total
