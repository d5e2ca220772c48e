"""Which engine serves a model: the entry's `engine`, else the worker's, where `auto` means transformers on CUDA
(bf16, exact PEFT adapters) and OpenVINO on CPU (int8, 3-8x faster there)."""

from __future__ import annotations

from llmchat.models.loading import placement_for
from llmchat.models.specs import ModelSpec


def engine_kind(spec: ModelSpec, worker_default: str) -> str:
    wanted = spec.engine or worker_default
    if wanted != "auto":
        return wanted
    return "transformers" if placement_for(spec).device.startswith("cuda") else "openvino"
