"""What every engine offers the server and the pool.

An engine owns one set of weights and a thread that generates for many requests at once. The server tokenizes a
prompt with `engine.tokenizer` (under `engine.encode_lock`), then `submit`s a GenerationRequest with a sink; the
sink receives Delta events as text becomes safe to send, then exactly one Finished or Failed, on the engine's
thread. `handle.cancel()` makes the request leave at the next step.

    name: str                 the first model id it was loaded for (logs, /health)
    kind: str                 "transformers" | "openvino"
    device_type: str          "cpu" | "cuda"
    tokenizer, encode_lock    the HF tokenizer and the lock that guards it
    context_length: int
    adapters: set[str]        runtime LoRA adapters loaded on it (transformers only)
    stats: EngineStats
    queue_depth, active_count
    submit(request, sink) -> GenerationHandle     raises QueueFull
    close()
"""

from __future__ import annotations

from dataclasses import dataclass


class QueueFull(RuntimeError):
    """More requests are waiting than the engine accepts; the caller should retry later."""


@dataclass
class EngineStats:
    max_batch_seen: int = 0
    steps: int = 0
    prefills: int = 0
    prefill_passes: int = 0  # forward passes those prefills took (transformers: arrivals of similar length share one)
    tokens_generated: int = 0
    adapter_loads: int = 0
    cancelled: int = 0       # sequences that left because their client went away
