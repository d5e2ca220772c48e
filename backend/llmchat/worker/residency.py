"""Which engines stay loaded: the loaded engines (slots), the requests holding them (leases), and the choice of what
to unload when the pool is over its limits (`worker.max_loaded_models`, `worker.max_loaded_bytes`) or an engine has
been idle for `worker.idle_unload_s`.

An engine with a lease (a request between choosing its model and its last token), with requests queued or running,
or pinned (`pin: true` on one of its entries) is never chosen. Among the others the least recently used goes first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from llmchat.worker.engines.base import Delta
from llmchat.worker.settings import WorkerSettings


@dataclass(eq=False)  # a slot is itself: compared by identity
class Slot:
    """One loaded engine and what the pool knows about it."""

    key: tuple  # what it was loaded from (ModelPool._key): entries with the same key share it
    engine: object
    size_bytes: int  # its weights on disk (footprint.py)
    pinned: bool
    leases: int = 0
    last_used: float = field(default_factory=time.monotonic)
    ids: set[str] = field(default_factory=set)  # the model ids asked for on it so far

    def idle(self) -> bool:
        return self.leases == 0 and not self.engine.queue_depth and not self.engine.active_count


def over_limits(settings: WorkerSettings, count: int, size_bytes: int) -> bool:
    too_many = settings.max_loaded_models is not None and count > settings.max_loaded_models
    too_big = settings.max_loaded_bytes is not None and size_bytes > settings.max_loaded_bytes
    return too_many or too_big


def to_unload(slots: list[Slot], settings: WorkerSettings, incoming_bytes: int | None = None) -> list[Slot]:
    """The idle, unpinned slots to unload, least recently used first, until the rest (plus an engine of
    `incoming_bytes` about to load, when given) fits the limits; fewer when not enough are idle."""
    count = len(slots) + (incoming_bytes is not None)
    size = sum(slot.size_bytes for slot in slots) + (incoming_bytes or 0)
    chosen = []
    for slot in sorted((s for s in slots if not s.pinned and s.idle()), key=lambda s: s.last_used):
        if not over_limits(settings, count, size):
            break
        chosen.append(slot)
        count -= 1
        size -= slot.size_bytes
    return chosen


def idle_too_long(slots: list[Slot], idle_unload_s: float | None, now: float) -> list[Slot]:
    if idle_unload_s is None:
        return []
    return [slot for slot in slots if not slot.pinned and slot.idle() and now - slot.last_used >= idle_unload_s]


class Lease:
    """One request's hold on its engine, from choosing the model until the request's last event: while any lease
    is held the engine is not unloaded. `release()` may be called more than once."""

    def __init__(self, slot: Slot, on_release: Callable[[Slot], None]):
        self.slot = slot
        self._on_release = on_release
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._on_release(self.slot)

    def releasing(self, sink: Callable) -> Callable:
        """`sink` for the engine that also releases the lease with the request's final event (Finished or Failed:
        every request gets exactly one)."""

        def forward(event) -> None:
            try:
                sink(event)
            finally:
                if not isinstance(event, Delta):
                    self.release()

        return forward
