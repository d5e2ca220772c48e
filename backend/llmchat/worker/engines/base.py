"""What every engine offers the server and the pool.

An engine owns one set of weights and a thread that generates for many requests at once. The server tokenizes a
prompt with `engine.tokenizer` (under `engine.encode_lock`), then `submit`s a GenerationRequest with a sink; the
sink receives Delta events as text becomes safe to send, then exactly one Finished or Failed, on the engine's
thread. A request that asks for logprobs gets them on its events: the prompt's (echo) in one PromptScored event
before any Delta, each generated token's on the Delta that carries its text (or on a last empty Delta). `handle.cancel()` makes the request leave at the next step.

    name: str                 the first model id it was loaded for (logs, /health)
    kind: str                 "transformers" | "openvino" | "llama.cpp"
    device_type: str          "cpu" | "cuda"
    tokenizer, encode_lock    the HF tokenizer and the lock that guards it
    context_length: int
    adapters: set[str]        runtime LoRA adapters loaded on it (transformers only)
    can_score: bool           whether it answers requests with logprobs / echo (not OpenVINO on a .gguf read
                              directly, not llama.cpp)
    stats: EngineStats
    queue_depth, active_count
    submit(request, sink, handle=None) -> GenerationHandle     raises QueueFull (a given handle is used: the
                              caller can hold it before the engine thread sees the request)
    close()
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

GREEDY_BELOW = 1e-5  # temperature at or under this means argmax, on every engine


def private_tokenizer_copy(tokenizer):
    """A copy for the engine's decoding thread: HF fast tokenizers are not safe to use from two threads at once."""
    import copy

    try:
        return copy.deepcopy(tokenizer)
    except Exception:  # a tokenizer that cannot be copied is shared; decoding does not change it
        return tokenizer


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
    cancelled: int = 0  # sequences that left because their client went away


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.7
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    seed: int | None = None

    @property
    def greedy(self) -> bool:
        return self.temperature <= GREEDY_BELOW

    @property
    def needs_history(self) -> bool:
        return self.repetition_penalty != 1.0


@dataclass(frozen=True)
class GenerationRequest:
    prompt_ids: list[int]
    max_tokens: int
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False
    adapter: str | None = None  # a runtime adapter on the engine's model (transformers); None: the base weights
    logprobs: int | None = None  # None: no logprobs; N: each token's logprob and the N most likely alternatives
    echo: bool = False  # score the prompt too (PromptScored); with max_tokens 0 nothing is generated


@dataclass(frozen=True)
class TokenLogprob:
    """One token's log-probability under the model's own distribution (before temperature, top_p and penalties),
    and the most likely tokens at its position, most likely first. `logprob` is None for the first prompt token:
    nothing comes before it."""

    token_id: int
    token: str  # the token's text, decoded alone (a partial multi-byte character shows as U+FFFD)
    logprob: float | None
    top: tuple[tuple[str, float], ...] = ()
    in_text: bool = True  # False for a generated special token: the reply's text leaves it out


@dataclass(frozen=True)
class Delta:
    text: str
    logprobs: tuple[TokenLogprob, ...] = ()  # the generated tokens released with this text


@dataclass(frozen=True)
class PromptScored:
    logprobs: tuple[TokenLogprob, ...]  # one per prompt token


@dataclass(frozen=True)
class Finished:
    reason: str  # "stop" | "length" | "cancelled"
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Failed:
    message: str


Event = Delta | PromptScored | Finished | Failed


class GenerationHandle:
    """What the submitter keeps: `cancel()` makes the request leave the batch at the next step boundary.
    `admitted_at` (time.perf_counter) is when the engine took the request from its queue (None until then)."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self.admitted_at: float | None = None

    def admitted(self) -> None:
        """Called by the engine as it takes the request into its batch (or hands it to its pipeline)."""
        if self.admitted_at is None:
            self.admitted_at = time.perf_counter()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()
