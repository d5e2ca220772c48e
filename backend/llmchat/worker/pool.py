"""Loaded models: one engine per distinct set of weights, shared by every entry that uses them.

smollm2-chat and smollm2-base have the same source, so they get the same engine. A LoRA entry on the transformers
engine runs on its base's engine with its adapter loaded once (peft `load_adapter`), so switching adapters never
reloads the base; on the OpenVINO engine it gets an engine of its own on a merged export (openvino_export.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from llmchat.models.loading import cuda_available, placement_for
from llmchat.models.registry import Registry
from llmchat.models.sources import resolve_source
from llmchat.models.specs import ModelSpec
from llmchat.worker.engines import engine_kind, loaders
from llmchat.worker.engines.choice import served_weight_format
from llmchat.worker.settings import WorkerSettings

log = logging.getLogger("llmchat.worker")
ADAPTER_LOAD_TIMEOUT_S = 300


@dataclass(frozen=True)
class Target:
    """Where a request for one model id runs."""

    spec: ModelSpec
    engine: object  # an engine (engines/base.py)
    adapter: str | None  # a runtime adapter on that engine (transformers only)
    context_length: int


class ModelPool:
    def __init__(self, registry: Registry, settings: WorkerSettings, threads: int = 2):
        self.registry = registry
        self.settings = settings
        self.threads = threads
        self._engines: dict[tuple, object] = {}
        self._loaded_ids: set[str] = set()
        self._lock = threading.Lock()  # guards the dicts
        self._load_lock = threading.Lock()  # one load at a time: two loads of one model would double memory
        self._openvino_scheduler = None

    def engine_kind(self, spec: ModelSpec) -> str:
        """A lora entry is served by the engine kind of its base."""
        return engine_kind(self.registry.base_of(spec), self.settings.engine)

    def _key(self, spec: ModelSpec) -> tuple:
        base = self.registry.base_of(spec)
        source = str(resolve_source(base).resolve())
        if self.engine_kind(spec) == "openvino":  # one engine per export: the format is part of what it runs
            return ("openvino", source, str(spec.adapter) if spec.kind == "lora" else None, self.weight_format(spec))
        placement = placement_for(base)
        return ("transformers", source, placement.device, str(placement.dtype))

    def _engine_for(self, spec: ModelSpec):
        key = self._key(spec)
        with self._lock:
            if key in self._engines:
                return self._engines[key]
        with self._load_lock:
            with self._lock:
                if key in self._engines:
                    return self._engines[key]
            engine = self._load(spec, key[0])
            with self._lock:
                self._engines[key] = engine
            return engine

    def _load(self, spec: ModelSpec, kind: str):
        base = self.registry.base_of(spec)
        if kind == "transformers":
            return loaders.transformers_engine(base, self.settings)
        if self._openvino_scheduler is None:
            from llmchat.worker.engines.openvino import OpenVINOScheduler

            self._openvino_scheduler = OpenVINOScheduler()
        return loaders.openvino_engine(
            spec, base, self.settings, self._openvino_scheduler, Path(self.registry.models_dir) / ".cache", self.threads
        )

    def target(self, model_id: str) -> Target:
        """Load what `model_id` needs (blocking: it may export or load weights; call off the event loop).
        Raises UnknownModelError."""
        spec = self.registry.get_or_rescan(model_id)
        base = self.registry.base_of(spec)
        engine = self._engine_for(spec)
        adapter = None
        if spec.kind == "lora" and engine.kind == "transformers":
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

    def weight_format(self, spec: ModelSpec) -> str | None:
        """What the engine of `spec` runs (or would, once loaded): `int8`, `int4`, `gguf Q4_0`, `float32`, ..."""
        base = self.registry.base_of(spec)
        return served_weight_format(spec, base, self.engine_kind(spec), self.settings.weight_format)

    def context_length(self, spec: ModelSpec) -> int | None:
        """Known without loading when the spec says it; else from its engine if loaded, else the config file."""
        base = self.registry.base_of(spec)
        if spec.context_length or base.context_length:
            return spec.context_length or base.context_length
        with self._lock:
            engine = self._engines.get(self._key(spec))
        return engine.context_length if engine else _config_context_length(base)

    @staticmethod
    def cuda_available() -> bool:
        return cuda_available()

    def engines(self) -> list:
        with self._lock:
            return list(self._engines.values())

    def close(self) -> None:
        for engine in self.engines():
            engine.close()


def _config_context_length(spec: ModelSpec) -> int | None:
    """max_position_embeddings from an HF folder's config.json, or `<arch>.context_length` from a GGUF's metadata,
    without loading weights."""
    import json

    source = resolve_source(spec)
    if source.suffix == ".gguf":
        from llmchat.models.gguf_file import read_gguf_info

        return read_gguf_info(source).context_length
    try:
        config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config.get("max_position_embeddings")
