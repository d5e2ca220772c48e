"""Which engines the pool unloads (worker/residency.py): least recently used first, never a busy or pinned one, until
the rest fits `max_loaded_models` and `max_loaded_bytes`; and how an engine's size is estimated from its files."""

from __future__ import annotations

import json
from dataclasses import dataclass

from llmchat.worker import footprint
from llmchat.worker.residency import Slot, idle_too_long, to_unload
from llmchat.worker.settings import WorkerSettings


@dataclass
class FakeEngineLoad:
    """Only the two counters the choice reads (a real engine needs weights): what is queued and running on it."""

    queue_depth: int = 0
    active_count: int = 0


def slot(name: str, last_used: float, size: int = 100, pinned: bool = False, leases: int = 0, active: int = 0):
    return Slot((name,), FakeEngineLoad(active_count=active), size, pinned, leases=leases, last_used=last_used)


def names(slots) -> list[str]:
    return [s.key[0] for s in slots]


def test_least_recently_used_idle_unpinned_go_first_until_the_count_fits():
    slots = [slot("busy", 1, leases=1), slot("old", 2), slot("pinned", 0, pinned=True), slot("new", 5)]
    settings = WorkerSettings(max_loaded_models=2)
    assert names(to_unload(slots, settings)) == ["old", "new"]  # busy and pinned stay, even over the limit
    assert names(to_unload(slots, settings.model_copy(update={"max_loaded_models": 3}))) == ["old"]
    assert to_unload(slots, WorkerSettings()) == []  # no limits


def test_a_running_request_keeps_an_engine_even_without_a_lease():
    slots = [slot("streaming", 1, active=1), slot("idle", 2)]
    assert names(to_unload(slots, WorkerSettings(max_loaded_models=1), incoming_bytes=0)) == ["idle"]


def test_the_byte_budget_counts_the_engine_about_to_load():
    slots = [slot("a", 1, size=300), slot("b", 2, size=300)]
    settings = WorkerSettings(max_loaded_bytes="1KB")  # 1000 bytes
    assert to_unload(slots, settings) == []
    assert names(to_unload(slots, settings, incoming_bytes=300)) == []
    assert names(to_unload(slots, settings, incoming_bytes=500)) == ["a"]
    assert names(to_unload(slots, settings, incoming_bytes=900)) == ["a", "b"]


def test_idle_timeout_spares_pinned_and_busy_engines():
    slots = [slot("stale", 0), slot("fresh", 9), slot("pinned", 0, pinned=True), slot("busy", 0, leases=1)]
    assert names(idle_too_long(slots, 5, now=10)) == ["stale"]
    assert idle_too_long(slots, None, now=10) == []


def test_size_estimates_from_weight_files(tmp_path):
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\0" * 1000)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "config.json").write_text(json.dumps({"torch_dtype": "bfloat16"}))
    assert footprint.weight_files_bytes(folder) == 1000
    assert footprint.transformers_bytes(folder, "float32") == 2000  # bf16 on disk, float32 in memory
    assert footprint.transformers_bytes(folder, "bfloat16") == 1000
    export = tmp_path / "hf.openvino-int8"
    assert footprint.converted_bytes(export, folder) == 1000  # no export yet: the source stands in
    export.mkdir()
    (export / "openvino_model.bin").write_bytes(b"\0" * 300)
    assert footprint.converted_bytes(export, folder) == 300
