"""Build an engine for a model entry: the transformers engine on the loaded weights, the OpenVINO engine on what
OpenVINO reads fastest — a .gguf of an architecture GenAI's GGUF reader builds as it is (or its Q8_0 rewrite when
GenAI cannot read its weight types), else the (cached) export of the entry's weights in its weight format (a GGUF
of another architecture is converted for it tensor by tensor), with the LoRA adapter merged in for a lora entry —
or the llama.cpp engine: a llama-server child on the .gguf as it is, or on a GGUF made once of an HF folder."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from llmchat.models.gguf_convert import readable_gguf
from llmchat.models.gguf_file import read_gguf_info
from llmchat.models.loading import context_length_of, load_tokenizer, load_weights, placement_for
from llmchat.models.openvino_export import ensure_export
from llmchat.models.sources import resolve_source
from llmchat.models.specs import ModelSpec
from llmchat.worker.settings import WorkerSettings

log = logging.getLogger("llmchat.worker")


def transformers_engine(base: ModelSpec, settings: WorkerSettings):
    from llmchat.worker.engines.transformers.engine import Engine

    model, tokenizer = load_weights(base, placement_for(base))
    return Engine(
        base.id,
        model,
        tokenizer,
        context_length_of(base, model),
        max_batch_size=settings.max_batch_size,
        max_queue=settings.max_queue,
        max_prefill_tokens_per_step=settings.max_prefill_tokens_per_step,
    )


def openvino_engine(
    spec: ModelSpec, base: ModelSpec, settings: WorkerSettings, scheduler, cache_dir: Path, threads: int
):
    """`spec` may be a lora entry on `base`: its adapter is merged into an export."""
    from llmchat.worker.engines.openvino import OpenVINOEngine

    if placement_for(base).device.startswith("cuda"):
        raise ValueError(
            f"model {spec.id!r}: the openvino engine runs on the CPU; set device: cpu or engine: transformers"
        )
    source = resolve_source(base)
    if source.suffix == ".gguf" and spec.kind != "lora" and read_gguf_info(source).openvino_builds:
        model_path, tokenizer, context, eos_ids = _gguf_model(source, cache_dir)
    else:
        adapter = spec.adapter if spec.kind == "lora" else None
        model_path = ensure_export(source, adapter, cache_dir, spec.wanted_weight_format(base, settings.weight_format))
        tokenizer = load_tokenizer(model_path)
        context = _config_context_length(model_path)
        eos_ids = _eos_ids(model_path, tokenizer)
    log.info("%s: OpenVINO reads %s", spec.id, model_path)
    return OpenVINOEngine(
        spec.id,
        model_path,
        tokenizer,
        spec.context_length or base.context_length or context,
        eos_ids,
        scheduler=scheduler,
        threads=threads,
        kv_cache_precision=settings.kv_cache_precision,
        max_batch_size=settings.max_batch_size,
        max_queue=settings.max_queue,
    )


def llamacpp_engine(spec: ModelSpec, base: ModelSpec, settings: WorkerSettings, cache_dir: Path, threads: int):
    """A llama-server child on the entry's .gguf, or on the GGUF llama.cpp's converter makes of its HF folder (once;
    llamacpp_gguf.py). Raises LlamaServerMissing when there is no binary to run."""
    from llmchat.models.llamacpp_gguf import ensure_gguf
    from llmchat.worker.engines.llamacpp import LlamaCppEngine
    from llmchat.worker.engines.llamacpp_process import LlamaServer, find_llama_server

    if spec.kind == "lora":
        raise ValueError(f"model {spec.id!r}: the llama.cpp engine serves a model as it is, without LoRA adapters")
    binary = find_llama_server(settings.llama_server)
    source = resolve_source(base)
    if source.suffix == ".gguf":
        gguf = source
        tokenizer, context, _eos_ids = _gguf_tokenizer(source)
    else:  # the folder's own tokenizer and chat template, as the other engines use them
        gguf = ensure_gguf(source, cache_dir, spec.wanted_weight_format(base, settings.weight_format), binary)
        tokenizer = load_tokenizer(source)
        context = _config_context_length(source)
    context = spec.context_length or base.context_length or context
    server = LlamaServer(binary, gguf, parallel=settings.max_batch_size, context_length=context, threads=threads)
    log.info("%s: llama-server (pid %d, %s) reads %s", spec.id, server.pid, server.url, gguf)
    return LlamaCppEngine(
        spec.id, server, tokenizer, context, max_batch_size=settings.max_batch_size, max_queue=settings.max_queue
    )


def _gguf_model(source: Path, cache_dir: Path) -> tuple[Path, object, int, frozenset[int]]:
    """(the file OpenVINO reads, the HF tokenizer, the context length, EOS ids) of a GGUF served without export."""
    return (readable_gguf(source, cache_dir), *_gguf_tokenizer(source))


def _gguf_tokenizer(source: Path) -> tuple[object, int, frozenset[int]]:
    """(the HF tokenizer, the context length, EOS ids) of a GGUF: the tokenizer, chat template, context length and
    EOS come from the file's metadata."""
    info = read_gguf_info(source)
    tokenizer = load_tokenizer(source)
    tokenizer.model_max_length = info.context_length or 2048  # the GGUF tokenizer reports ~1e30
    ids = {tokenizer.eos_token_id, info.eos_token_id}
    return tokenizer, info.context_length or 2048, frozenset(i for i in ids if i is not None)


def _config_context_length(folder: Path) -> int:
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return int(config.get("max_position_embeddings") or config.get("n_positions") or 2048)


def _eos_ids(folder: Path, tokenizer) -> frozenset[int]:
    """EOS from the tokenizer and the generation config (which may list several), as the transformers engine."""
    ids = {tokenizer.eos_token_id}
    path = folder / "generation_config.json"
    if path.is_file():
        configured = json.loads(path.read_text(encoding="utf-8")).get("eos_token_id")
        ids.update(configured if isinstance(configured, list) else [configured])
    return frozenset(i for i in ids if i is not None)
