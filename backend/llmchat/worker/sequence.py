"""One request inside the engine: its inputs, its sampling and text state, and where its events go."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

from llmchat.worker.sampling import Sampler, SamplingParams
from llmchat.worker.textstream import IncrementalDetokenizer, StopMatcher


@dataclass(frozen=True)
class GenerationRequest:
    prompt_ids: list[int]
    max_tokens: int
    sampling: SamplingParams = field(default_factory=SamplingParams)
    stop: tuple[str, ...] = ()
    ignore_eos: bool = False
    adapter: str | None = None   # a peft adapter name on the engine's model; None: the base weights


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Finished:
    reason: str          # "stop" | "length" | "cancelled"
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Failed:
    message: str


Event = Delta | Finished | Failed


class GenerationHandle:
    """What the submitter keeps: `cancel()` makes the sequence leave the batch at the next step boundary."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


def _guarded(sink: Callable[[Event], None], handle: GenerationHandle) -> Callable[[Event], None]:
    """A receiver that fails (its client went away, its loop closed) cancels its sequence, never the engine."""

    def send(event: Event) -> None:
        try:
            sink(event)
        except Exception:
            handle.cancel()

    return send


class Sequence:
    def __init__(self, request: GenerationRequest, sink: Callable[[Event], None], handle: GenerationHandle,
                 tokenizer, eos_ids: frozenset[int], vocab_size: int, device):
        self.request = request
        self.sink = _guarded(sink, handle)
        self.handle = handle
        self.eos_ids = frozenset() if request.ignore_eos else eos_ids
        self.sampler = Sampler(request.sampling, request.prompt_ids, vocab_size, device)
        self.detokenizer = IncrementalDetokenizer(tokenizer, request.prompt_ids)
        self.stops = StopMatcher(list(request.stop))
        self.generated = 0
        self.finished = False

    def accept(self, token_id: int) -> None:
        """Take the token chosen for this sequence: send the text it makes safe, finish if it ends the reply."""
        self.generated += 1
        if token_id in self.eos_ids:
            self._send_rest()  # text held back as a possible stop string is reply text after all
            return self._finish("stop")
        self.sampler.observe(token_id)
        self._send(self.stops.add(self.detokenizer.push(token_id)))
        if self.stops.stopped:
            return self._finish("stop")
        if self.generated >= self.request.max_tokens:
            self._send_rest()
            self._finish("stop" if self.stops.stopped else "length")

    def _send_rest(self) -> None:
        """The reply ends: send what the detokenizer and the stop matcher still hold (up to a stop, if one shows)."""
        self._send(self.stops.add(self.detokenizer.flush()))
        if not self.stops.stopped:
            self._send(self.stops.finish())

    def fail(self, message: str) -> None:
        if not self.finished:
            self.finished = True
            self.sink(Failed(message))

    def cancel(self) -> None:
        if not self.finished:
            self._finish("cancelled")

    def _send(self, text: str) -> None:
        if text:
            self.sink(Delta(text))

    def _finish(self, reason: str) -> None:
        self.finished = True
        self.sink(Finished(reason, len(self.request.prompt_ids), self.generated))
