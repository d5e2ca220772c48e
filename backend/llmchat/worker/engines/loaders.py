"""Build an engine for a model entry: the transformers engine on the loaded weights, or the OpenVINO engine on the
(cached) int8 export of the entry's weights — with the LoRA adapter merged in, for a lora entry."""

from __future__ import annotations

import json
import logging
from pathlib import Path

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
    """`spec` may be a lora entry on `base`: its adapter is merged into the export."""
    from llmchat.worker.engines.openvino import OpenVINOEngine

    if placement_for(base).device.startswith("cuda"):
        raise ValueError(
            f"model {spec.id!r}: the openvino engine runs on the CPU; set device: cpu or engine: transformers"
        )
    adapter = spec.adapter if spec.kind == "lora" else None
    folder = ensure_export(resolve_source(base), adapter, cache_dir)
    tokenizer = load_tokenizer(folder)
    context = spec.context_length or base.context_length or _config_context_length(folder)
    return OpenVINOEngine(
        spec.id,
        folder,
        tokenizer,
        context,
        _eos_ids(folder, tokenizer),
        scheduler=scheduler,
        threads=threads,
        max_batch_size=settings.max_batch_size,
        max_queue=settings.max_queue,
    )


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
