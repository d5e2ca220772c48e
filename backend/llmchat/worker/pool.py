"""Loaded models: one engine per distinct set of weights, shared by every entry that uses them.

smollm2-chat and smollm2-base have the same source, so they get the same engine; every LoRA entry runs on its
base's engine with its adapter loaded once (peft `load_adapter`), so switching adapters never reloads the base.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from llmchat.worker.engine import Engine
from llmchat.worker.loading import context_length_of, load_weights, placement_for
from llmchat.worker.registry import Registry
from llmchat.worker.sources import resolve_source
from llmchat.worker.specs import ModelSpec, WorkerSettings

log = logging.getLogger("llmchat.worker")
ADAPTER_LOAD_TIMEOUT_S = 300


@dataclass(frozen=True)
class Target:
    """Where a request for one model id runs."""
    spec: ModelSpec
    engine: Engine
    adapter: str | None
    context_length: int


class ModelPool:
    def __init__(self, registry: Registry, settings: WorkerSettings):
        self.registry = registry
        self.settings = settings
        self._engines: dict[tuple[str, str, str], Engine] = {}
        self._loaded_ids: set[str] = set()
        self._lock = threading.Lock()          # guards the dicts
        self._load_lock = threading.Lock()     # one load at a time: two loads of one model would double memory

    def _weights_key(self, spec: ModelSpec) -> tuple[str, str, str]:
        placement = placement_for(spec)
        return (str(resolve_source(spec).resolve()), placement.device, str(placement.dtype))

    def _engine_for(self, base: ModelSpec) -> Engine:
        key = self._weights_key(base)
        with self._lock:
            if key in self._engines:
                return self._engines[key]
        with self._load_lock:
            with self._lock:
                if key in self._engines:
                    return self._engines[key]
            model, tokenizer = load_weights(base, placement_for(base))
            engine = Engine(base.id, model, tokenizer, context_length_of(base, model),
                            max_batch_size=self.settings.max_batch_size, max_queue=self.settings.max_queue,
                            max_prefill_per_step=self.settings.max_prefill_per_step)
            with self._lock:
                self._engines[key] = engine
            return engine

    def target(self, model_id: str) -> Target:
        """Load what `model_id` needs (blocking; call off the event loop). Raises UnknownModelError."""
        spec = self.registry.get_or_rescan(model_id)
        base = self.registry.base_of(spec)
        engine = self._engine_for(base)
        adapter = None
        if spec.kind == "lora":
            engine.ensure_adapter(spec.id, spec.adapter).result(ADAPTER_LOAD_TIMEOUT_S)
            adapter = spec.id
        with self._lock:
            self._loaded_ids.add(spec.id)
        context = spec.context_length or base.context_length or engine.context_length
        return Target(spec, engine, adapter, context)

    def preload(self) -> None:
        for spec in self.registry.configured():
            self.target(spec.id)

    def loaded_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._loaded_ids)

    def context_length(self, spec: ModelSpec) -> int | None:
        """Known without loading when the spec says it; else from its engine if loaded."""
        base = self.registry.base_of(spec)
        if spec.context_length or base.context_length:
            return spec.context_length or base.context_length
        with self._lock:
            engine = self._engines.get(self._weights_key(base))
        return engine.context_length if engine else _config_context_length(base)

    @staticmethod
    def cuda_available() -> bool:
        import torch

        return torch.cuda.is_available()

    def engines(self) -> list[Engine]:
        with self._lock:
            return list(self._engines.values())

    def close(self) -> None:
        for engine in self.engines():
            engine.close()


def _config_context_length(spec: ModelSpec) -> int | None:
    """max_position_embeddings from an HF folder's config.json, without loading weights."""
    import json

    source = resolve_source(spec)
    try:
        config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config.get("max_position_embeddings")
