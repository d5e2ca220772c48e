"""One request's reply as text, whatever engine makes its tokens: token ids in, events out.

Text is released as soon as it is safe: a multi-byte character is complete and the tail could not be the start of
a stop string. The reply ends on EOS, on a stop string (cut before it), at max_tokens, or when the engine ends it;
the sink then gets one Finished (or Failed) event with the usage counts.
"""

from __future__ import annotations

from collections.abc import Callable

from llmchat.worker.engines.base import Delta, Event, Failed, Finished, GenerationHandle
from llmchat.worker.textstream import IncrementalDetokenizer, StopMatcher


def guarded(sink: Callable[[Event], None], handle: GenerationHandle) -> Callable[[Event], None]:
    """A receiver that fails (its client went away, its loop closed) cancels its request, never the engine."""

    def send(event: Event) -> None:
        try:
            sink(event)
        except Exception:
            handle.cancel()

    return send


class Reply:
    def __init__(
        self,
        prompt_ids: list[int],
        max_tokens: int,
        stop: tuple[str, ...],
        eos_ids: frozenset[int],
        tokenizer,
        sink: Callable[[Event], None],
        handle: GenerationHandle,
    ):
        self.prompt_tokens = len(prompt_ids)
        self.max_tokens = max_tokens
        self.eos_ids = eos_ids
        self.sink = guarded(sink, handle)
        self.handle = handle
        self.detokenizer = IncrementalDetokenizer(tokenizer, prompt_ids)
        self.stops = StopMatcher(list(stop))
        self.generated = 0
        self.finished = False

    def accept(self, token_id: int) -> None:
        """Take the next token: send the text it makes safe, finish if it ends the reply."""
        if self.finished:
            return
        self.generated += 1
        if token_id in self.eos_ids:
            return self.end("stop")
        self._send(self.stops.add(self.detokenizer.push(token_id)))
        if self.stops.stopped:
            return self._finish("stop")
        if self.generated >= self.max_tokens:
            self.end("length")

    def end(self, reason: str) -> None:
        """The reply ends here (EOS, the token limit, or the engine says so): send what is still held back — up to a
        stop string, if one shows in it — then finish."""
        if self.finished:
            return
        self._send(self.stops.add(self.detokenizer.flush()))
        if not self.stops.stopped:
            self._send(self.stops.finish())
        self._finish("stop" if self.stops.stopped else reason)

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
        self.sink(Finished(reason, self.prompt_tokens, self.generated))
