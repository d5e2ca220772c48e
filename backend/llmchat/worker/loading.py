"""Loads weights and tokenizers: HF folders, GGUF files (dequantised by transformers) and peft adapters."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from llmchat.worker.registry import Registry
from llmchat.worker.sources import resolve_source
from llmchat.worker.specs import PACKAGE_PREFIX, ModelSpec

__all__ = ["Placement", "load_model_and_tokenizer", "load_weights", "resolve_source", "placement_for",
           "context_length_of", "set_cpu_threads"]

log = logging.getLogger("llmchat.worker")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: torch.dtype


def placement_for(spec: ModelSpec, device: str = "auto") -> Placement:
    """`auto`: CUDA with bf16 when a GPU is present, else CPU float32 (fp16/bf16 matmuls are slow on CPU)."""
    wanted = spec.device if device == "auto" else device
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if spec.dtype != "auto":
        return Placement(wanted, DTYPES[spec.dtype])
    return Placement(wanted, torch.bfloat16 if wanted.startswith("cuda") else torch.float32)


def set_cpu_threads(threads: int | None) -> int:
    """Few threads: a small model gains little from more, and the machine is shared."""
    count = threads or int(os.environ.get("LLMCHAT_WORKER_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)
    torch.set_num_threads(count)
    return count


def _load_tokenizer(source: Path):
    from transformers import AutoTokenizer

    if source.suffix == ".gguf":
        return AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    return AutoTokenizer.from_pretrained(str(source))


def load_weights(spec: ModelSpec, placement: Placement):
    """(model, tokenizer) for a non-lora spec, in eval mode on its device."""
    from transformers import AutoModelForCausalLM

    source = resolve_source(spec)
    started = time.monotonic()
    if source.suffix == ".gguf":
        if spec.source and spec.source.startswith(PACKAGE_PREFIX):
            log.info("loading %s from the GGUF (slow, ~20 s); run `llmchat models prepare` once to load in seconds",
                     spec.id)
        model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=placement.dtype)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(source), dtype=placement.dtype)
    model.to(placement.device).eval()
    tokenizer = _load_tokenizer(source)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    log.info("loaded %s from %s in %.1f s (%s, %s)", spec.id, source, time.monotonic() - started,
             placement.device, str(placement.dtype).replace("torch.", ""))
    return model, tokenizer


def context_length_of(spec: ModelSpec, model) -> int:
    """The spec's context_length, else the model config's; never the tokenizer's (GGUF ones report ~1e30)."""
    if spec.context_length:
        return spec.context_length
    config = model.config
    return int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 2048))


def load_model_and_tokenizer(spec: ModelSpec, registry: Registry, device: str = "auto"):
    """(model, tokenizer) ready for inference; a lora spec gets its base with the adapter on it (peft)."""
    if spec.kind != "lora":
        return load_weights(spec, placement_for(spec, device))
    from peft import PeftModel

    base_spec = registry.get(spec.base)
    model, tokenizer = load_weights(base_spec, placement_for(base_spec, device))
    peft_model = PeftModel.from_pretrained(model, str(spec.adapter), adapter_name=spec.id, is_trainable=False)
    return peft_model.eval(), tokenizer
