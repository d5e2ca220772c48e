"""Loaded models: one engine per distinct set of weights, shared by every entry that uses them, loaded on demand and
unloaded when the limits or idleness say so (residency.py).

smollm2-chat and smollm2-base have the same source, so they get the same engine. A LoRA entry on the transformers
engine runs on its base's engine with its adapter loaded once (peft `load_adapter`), so switching adapters never
reloads the base; on the OpenVINO engine it gets an engine of its own on a merged export (openvino_export.py).

Loads run one at a time on one loader thread (two at once would double the peak memory); every request for a model
being loaded waits for that one load, up to `worker.load_timeout_s`. Unloading happens on the loader thread (to
make room) and on a housekeeping thread (back under the limits once an engine is idle; idle timeout), never on an
engine's own thread.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from llmchat.models.gguf_file import UnservableGGUF
from llmchat.models.llamacpp_gguf import gguf_location
from llmchat.models.loading import cuda_available, placement_for
from llmchat.models.openvino_export import export_location, suffix
from llmchat.models.registry import Registry
from llmchat.models.sources import resolve_source
from llmchat.models.specs import LLAMA_CPP, ModelSpec, SourceUnavailable
from llmchat.models.weight_formats import WEIGHT_FORMATS
from llmchat.worker import footprint
from llmchat.worker.engines import engine_kind, loaders
from llmchat.worker.engines.choice import served_weight_format
from llmchat.worker.engines.llamacpp_process import LlamaServerMissing
from llmchat.worker.residency import Lease, Slot, idle_too_long, over_limits, to_unload
from llmchat.worker.settings import WorkerSettings

log = logging.getLogger("llmchat.worker")
ADAPTER_LOAD_TIMEOUT_S = 300
HOUSEKEEPING_S = 0.5  # how often idle engines are looked at (and at once after a request ends)


class ModelLoading(Exception):
    """The model is still loading after `load_timeout_s`; the load goes on, the caller may retry."""


class ModelLoadFailed(Exception):
    """The load failed; every request waiting for it gets this, and the next request tries again."""


class ModelBusy(Exception):
    """An unload was asked for an engine with requests (or one being loaded)."""


@dataclass(frozen=True)
class Target:
    """Where a request for one model id runs; `lease` keeps the engine loaded until the request is done."""

    spec: ModelSpec
    engine: object  # an engine (engines/base.py)
    adapter: str | None  # a runtime adapter on that engine (transformers only)
    context_length: int
    lease: Lease


@dataclass
class _Load:
    """A load under way: requests for it wait on `done`; `waiters` each get a lease on the slot it makes."""

    spec: ModelSpec
    done: threading.Event = field(default_factory=threading.Event)
    waiters: int = 0
    ids: set[str] = field(default_factory=set)
    slot: Slot | None = None
    error: Exception | None = None


@dataclass
class PoolCounters:
    loads: int = 0
    load_failures: int = 0
    unloads: int = 0


class ModelPool:
    def __init__(self, registry: Registry, settings: WorkerSettings, threads: int = 2):
        self.registry = registry
        self.settings = settings
        self.threads = threads
        self.counters = PoolCounters()
        self._slots: dict[tuple, Slot] = {}
        self._loads: dict[tuple, _Load] = {}
        self._lock = threading.Lock()  # guards _slots, _loads, leases and counters
        self._pull_lock = threading.Lock()
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="model-load")
        self._openvino_scheduler = None
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._housekeeper = threading.Thread(target=self._housekeep, name="model-housekeeping", daemon=True)
        self._housekeeper.start()

    # ---- which engine serves a spec ----

    def engine_kind(self, spec: ModelSpec) -> str:
        """A lora entry is served by the engine kind of its base."""
        return engine_kind(self.registry.base_of(spec), self.settings.engine)

    def _key(self, spec: ModelSpec, pull: bool = False) -> tuple:
        """Which engine serves `spec`: entries whose weights are the same file share one. pull=True downloads an
        `hf:` model that is not in the cache yet (its first use); without it, SourceUnavailable."""
        base = self.registry.base_of(spec)
        source = str(resolve_source(base, pull=pull).resolve())
        kind = self.engine_kind(spec)
        if kind == "openvino":  # one engine per export: the format is part of what it runs
            return ("openvino", source, str(spec.adapter) if spec.kind == "lora" else None, self.weight_format(spec))
        if kind == LLAMA_CPP:
            # one llama-server per file (a folder's: per GGUF type) and context: its slots are sized for it
            return (LLAMA_CPP, source, spec.context_length or base.context_length, self.weight_format(spec))
        placement = placement_for(base)
        return ("transformers", source, placement.device, str(placement.dtype))

    def _runtime_adapter(self, spec: ModelSpec) -> bool:
        return spec.kind == "lora" and self.engine_kind(spec) == "transformers"

    # ---- requests ----

    def target(self, model_id: str, patient: bool = False) -> Target:
        """The engine for `model_id`, loading it first if needed (waiting `load_timeout_s`, or as long as it takes
        when `patient`), with a lease the caller must release (blocking: call off the event loop).
        Raises UnknownModelError, ModelLoading, ModelLoadFailed."""
        spec = self.registry.get_or_rescan(model_id)
        base = self.registry.base_of(spec)
        slot = self._lease(spec, None if patient else self.settings.load_timeout_s)
        lease = Lease(slot, self._release)
        try:
            adapter = None
            if self._runtime_adapter(spec):
                slot.engine.ensure_adapter(spec.id, spec.adapter).result(ADAPTER_LOAD_TIMEOUT_S)
                adapter = spec.id
            context = spec.context_length or base.context_length or slot.engine.context_length
            return Target(spec, slot.engine, adapter, context, lease)
        except BaseException:
            lease.release()
            raise

    def _pulled_key(self, spec: ModelSpec) -> tuple:
        try:
            return self._key(spec)
        except SourceUnavailable:
            with self._pull_lock:  # a model never pulled: downloaded on its first use, one download at a time
                return self._key(spec, pull=True)

    def _lease(self, spec: ModelSpec, wait_s: float | None) -> Slot:
        key = self._pulled_key(spec)
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None:
                slot.leases += 1
                slot.last_used = time.monotonic()
                slot.ids.add(spec.id)
                return slot
            load = self._loads.get(key)
            if load is None:
                load = self._loads[key] = _Load(spec)
                self._loader.submit(self._run_load, key, load)
            load.waiters += 1
            load.ids.add(spec.id)
        load.done.wait(wait_s)
        with self._lock:  # the loader finishes under this lock: a waiter either counts in the new slot or leaves
            if not load.done.is_set():
                load.waiters -= 1
                raise ModelLoading(
                    f"model {spec.id!r} is still loading after {self.settings.load_timeout_s:g} s; retry shortly"
                )
        if isinstance(load.error, (UnservableGGUF, LlamaServerMissing)):  # its message is meant for the client
            raise type(load.error)(str(load.error)) from load.error  # a new one per waiter: they are on other threads
        if load.error is not None:
            # the exception may tell paths and internals: it goes to the log (with its traceback), not to the client
            raise ModelLoadFailed(
                f"model {spec.id!r} could not be loaded (the worker's log says why); the next request tries again"
            ) from load.error
        return load.slot

    def _release(self, slot: Slot) -> None:
        with self._lock:
            slot.leases -= 1
            slot.last_used = time.monotonic()
        self._wake.set()  # the housekeeper trims back to the limits if this was the last request on an engine

    # ---- loading and unloading ----

    def _run_load(self, key: tuple, load: _Load) -> None:
        """On the loader thread: make room, load, then hand the slot (with one lease per waiter) to the waiters."""
        engine = None
        try:
            size = self._estimate_bytes(load.spec, key)
            self._make_room(size, load.spec.id)
            started = time.monotonic()
            engine = self._load(load.spec, key[0])
            size = self._estimate_bytes(load.spec, key)  # an OpenVINO export now exists: its own size
            pinned = any(spec.pin and self._safe_key(spec) == key for spec in self.registry.configured())
            log.info("loaded %s in %.1f s (%s, ~%d MB)", load.spec.id, time.monotonic() - started, key[0], size >> 20)
        except Exception as exc:  # the waiters get it; the next request starts a new load
            if isinstance(exc, LlamaServerMissing):  # a set-up step not taken, said in one line
                log.warning("cannot load %s: %s", load.spec.id, exc)
            else:
                log.exception("loading %s failed", load.spec.id)
            if engine is not None:
                engine.close()
            with self._lock:
                self.counters.load_failures += 1
                load.error = exc
                del self._loads[key]
                load.done.set()
            return
        with self._lock:
            load.slot = self._slots[key] = Slot(key, engine, size, pinned, leases=load.waiters, ids=set(load.ids))
            self.counters.loads += 1
            del self._loads[key]
            load.done.set()
        self._wake.set()  # every waiter may have given up: the housekeeper rechecks the limits

    def _load(self, spec: ModelSpec, kind: str):
        base = self.registry.base_of(spec)
        if kind == "transformers":
            return loaders.transformers_engine(base, self.settings)
        if kind == LLAMA_CPP:
            return loaders.llamacpp_engine(spec, base, self.settings, self._cache_dir(), self.threads)
        if self._openvino_scheduler is None:
            from llmchat.worker.engines.openvino import OpenVINOScheduler

            self._openvino_scheduler = OpenVINOScheduler()
        return loaders.openvino_engine(
            spec, base, self.settings, self._openvino_scheduler, self._cache_dir(), self.threads
        )

    def _cache_dir(self) -> Path:
        return Path(self.registry.models_dir) / ".cache"

    def _estimate_bytes(self, spec: ModelSpec, key: tuple) -> int:
        base = self.registry.base_of(spec)
        source = resolve_source(base)
        if key[0] == LLAMA_CPP:  # llama-server maps the file: the .gguf, or the GGUF made of a folder
            if source.suffix == ".gguf":
                return footprint.weight_files_bytes(source)
            wanted = spec.wanted_weight_format(base, self.settings.weight_format)
            return footprint.converted_bytes(gguf_location(source, self._cache_dir(), wanted).parent, source)
        if key[0] == "openvino":  # the export when there is one, else the source (a GGUF served as it is)
            adapter = spec.adapter if spec.kind == "lora" else None
            export_format = key[3] if key[3] in WEIGHT_FORMATS else "int8"
            export = export_location(source, adapter, self._cache_dir(), suffix(export_format))
            return footprint.converted_bytes(export, source)
        return footprint.transformers_bytes(source, str(placement_for(base).dtype).removeprefix("torch."))

    def _make_room(self, incoming_bytes: int, model_id: str) -> None:
        with self._lock:
            victims = self._take(to_unload(list(self._slots.values()), self.settings, incoming_bytes))
            loaded = list(self._slots.values())
        self._close_all(victims, f"room for {model_id}")
        if over_limits(self.settings, len(loaded) + 1, sum(s.size_bytes for s in loaded) + incoming_bytes):
            # every loaded engine is busy or pinned: load over the limits rather than make this request wait for
            # someone else's reply; the housekeeper unloads the least recently used one as soon as one is idle
            log.warning("loading %s over the limits: the %d loaded engines are busy or pinned", model_id, len(loaded))

    def _take(self, slots: list[Slot]) -> list[Slot]:
        """Remove `slots` from the pool (under the lock): no new request can lease them any more."""
        for slot in slots:
            del self._slots[slot.key]
            self.counters.unloads += 1
        return slots

    def _close_all(self, slots: list[Slot], why: str) -> None:
        for slot in slots:
            log.info("unloading %s (%s)", ", ".join(sorted(slot.ids)) or slot.engine.name, why)
            slot.engine.close()
        if slots:
            _free_memory()

    def _housekeep(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(HOUSEKEEPING_S)
            self._wake.clear()
            with self._lock:
                slots = list(self._slots.values())
                idle = self._take(idle_too_long(slots, self.settings.idle_unload_s, time.monotonic()))
                over = self._take(to_unload([s for s in slots if s not in idle], self.settings))
            self._close_all(idle, f"idle for {self.settings.idle_unload_s} s")
            self._close_all(over, "over the limits")

    # ---- the admin routes and preload ----

    def load(self, model_id: str, patient: bool = False) -> list[str]:
        """Load `model_id` now (as a request would, without generating); the ids its engine serves."""
        target = self.target(model_id, patient)
        target.lease.release()
        return self._ids_served(target.lease.slot)

    def unload(self, model_id: str) -> list[str]:
        """Unload the engine serving `model_id` (with every entry on it, pinned or not); the ids unloaded, [] when
        it was not loaded. Raises ModelBusy while it has requests or is loading."""
        spec = self.registry.get_or_rescan(model_id)
        key = self._key(spec)
        with self._lock:
            if key in self._loads:
                raise ModelBusy(f"model {model_id!r} is being loaded")
            slot = self._slots.get(key)
            if slot is None:
                return []
            if not slot.idle():
                raise ModelBusy(f"model {model_id!r} has requests in progress; unload it when they are done")
            self._take([slot])
        ids = self._ids_served(slot)
        self._close_all([slot], "asked to")
        return ids

    def preload(self) -> None:
        """The configured models, pinned ones first, as many as fit the limits (none is unloaded for another)."""
        for spec in sorted(self.registry.configured(), key=lambda spec: not spec.pin):
            key = self._pulled_key(spec)  # an hf: model not in the cache is pulled now (offline: SourceUnavailable)
            with self._lock:
                loaded = list(self._slots.values())
                known = key in self._slots
            if not known and over_limits(
                self.settings, len(loaded) + 1, sum(s.size_bytes for s in loaded) + self._estimate_bytes(spec, key)
            ):
                log.info("not preloading %s: the limits are reached (it loads on its first request)", spec.id)
                continue
            try:
                self.load(spec.id, patient=True)  # at start-up an export may take minutes: no request is waiting
            except LlamaServerMissing as exc:  # the worker serves the others; this one answers 503 until it is built
                log.warning("not preloading %s: %s", spec.id, exc)

    # ---- state, for /v1/models and /health ----

    def _safe_key(self, spec: ModelSpec) -> tuple | None:
        try:
            return self._key(spec)
        except (OSError, ValueError, KeyError):  # weights gone, or a lora whose base left: it cannot be loaded
            return None

    def _ids_served(self, slot: Slot) -> list[str]:
        """Every model id a request would find ready on this engine (entries sharing its weights included)."""
        return sorted(
            spec.id
            for spec in self.registry.specs()
            if self._safe_key(spec) == slot.key and (not self._runtime_adapter(spec) or spec.id in slot.engine.adapters)
        )

    def _slot_of(self, spec: ModelSpec) -> Slot | None:
        key = self._safe_key(spec)
        with self._lock:
            return self._slots.get(key) if key else None

    def state(self, spec: ModelSpec) -> tuple[bool, bool]:
        """(loaded, loading) for one model id: loaded when a request would find its engine (and, for a runtime
        LoRA adapter, the adapter on it) ready."""
        key = self._safe_key(spec)
        if key is None:
            return False, False
        with self._lock:
            slot, loading = self._slots.get(key), key in self._loads
        if slot is not None and self._runtime_adapter(spec):
            return spec.id in slot.engine.adapters, False
        return slot is not None, loading

    def loaded_ids(self) -> list[str]:
        return sorted(spec.id for spec in self.registry.specs() if self.state(spec)[0])

    def loading_ids(self) -> list[str]:
        with self._lock:
            return sorted({model_id for load in self._loads.values() for model_id in load.ids})

    def slots(self) -> list[Slot]:
        with self._lock:
            return list(self._slots.values())

    def weight_format(self, spec: ModelSpec) -> str | None:
        """What the engine of `spec` runs (or would, once loaded): `int8`, `int4`, `gguf Q4_0`, `float32`, ..."""
        base = self.registry.base_of(spec)
        return served_weight_format(spec, base, self.engine_kind(spec), self.settings.weight_format)

    def context_length(self, spec: ModelSpec) -> int | None:
        """Known without loading when the spec says it; else from its engine if loaded, else the config file."""
        base = self.registry.base_of(spec)
        if spec.context_length or base.context_length:
            return spec.context_length or base.context_length
        slot = self._slot_of(spec)
        return slot.engine.context_length if slot else _config_context_length(base)

    @staticmethod
    def cuda_available() -> bool:
        return cuda_available()

    def engines(self) -> list:
        return [slot.engine for slot in self.slots()]

    def close(self) -> None:
        self._closing.set()
        self._wake.set()
        self._loader.shutdown(wait=False, cancel_futures=True)
        for engine in self.engines():
            engine.close()


def _free_memory() -> None:
    """Give an unloaded engine's memory back: drop cycles, then return freed heap pages to the OS (glibc keeps them
    otherwise, and the RSS would not drop), and CUDA's cached blocks."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
    if cuda_available():
        import torch

        torch.cuda.empty_cache()


def _config_context_length(spec: ModelSpec) -> int | None:
    """max_position_embeddings from an HF folder's config.json, or `<arch>.context_length` from a GGUF's metadata,
    without loading weights."""
    import json

    try:  # an hf: model not pulled yet (SourceUnavailable is an OSError) has nothing to read it from
        source = resolve_source(spec)
        if source.suffix == ".gguf":
            from llmchat.models.gguf_file import read_gguf_info

            return read_gguf_info(source).context_length
        config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config.get("max_position_embeddings")
