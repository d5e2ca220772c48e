"""Which engine serves a model: the entry's `engine`, else the worker's, where `auto` means transformers on CUDA
(bf16, exact PEFT adapters) and OpenVINO on CPU (int8/int4, 3-8x faster there); `llama.cpp` (an entry's choice, for
a GGUF source, or an HF folder it converts once) is llama.cpp's llama-server. And what weights that engine runs."""

from __future__ import annotations

from llmchat.models.loading import placement_for
from llmchat.models.sources import resolve_source
from llmchat.models.specs import LLAMA_CPP, ModelSpec


def engine_kind(spec: ModelSpec, worker_default: str) -> str:
    wanted = spec.engine or worker_default
    if wanted != "auto":
        return wanted
    return "transformers" if placement_for(spec).device.startswith("cuda") else "openvino"


def served_weight_format(spec: ModelSpec, base: ModelSpec, kind: str, worker_default: str) -> str | None:
    """`float32`/`bfloat16` (transformers), `gguf Q4_0` (a GGUF OpenVINO reads as it is), `gguf Q5_K -> Q8_0`
    (one it reads after a rewrite) or the export's `int8`/`int4`/`fp16` (HF folders, LoRA merges, GGUFs of other
    architectures); None when the weights are not there."""
    from llmchat.models.gguf_file import read_gguf_info
    from llmchat.models.llamacpp_gguf import gguf_type
    from llmchat.models.openvino_export import export_format

    if kind == "transformers":
        return str(placement_for(base).dtype).removeprefix("torch.")
    try:
        source = resolve_source(base)
        if kind == LLAMA_CPP:  # the file, or the GGUF llama.cpp's converter makes of a folder
            if source.suffix == ".gguf":
                return read_gguf_info(source).weight_format
            return f"gguf {gguf_type(source, spec.wanted_weight_format(base, worker_default))}"
        info = read_gguf_info(source) if source.suffix == ".gguf" else None
        if info is not None and spec.kind != "lora" and info.openvino_builds:
            return info.weight_format if info.openvino_refusal() is None else f"{info.weight_format} -> Q8_0"
        return export_format(source, spec.wanted_weight_format(base, worker_default))
    except (OSError, ValueError):
        return None
