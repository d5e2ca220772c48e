"""One request's reply as text, whatever engine makes its tokens: token ids in, events out.

Text is released as soon as it is safe: a multi-byte character is complete and the tail could not be the start of
a stop string. The reply ends on EOS, on a stop string (cut before it), at max_tokens, or when the engine ends it;
the sink then gets one Finished (or Failed) event with the usage counts. A token's logprob entry travels on the
Delta that releases its text (one still held back goes on a last, empty Delta before Finished).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from llmchat.worker.engines.base import (
    Delta,
    Event,
    Failed,
    Finished,
    GenerationHandle,
    PromptScored,
    TokenLogprob,
)
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
        self._logprobs: list[TokenLogprob] = []  # entries of tokens whose text is not sent yet
        self._special_ids = frozenset(tokenizer.all_special_ids)  # left out of the text (skip_special_tokens)

    def prompt_scored(self, entries: list[TokenLogprob]) -> None:
        """The prompt's own logprobs (echo), before any generated text."""
        if not self.finished:
            self.sink(PromptScored(tuple(entries)))

    def accept(self, token_id: int, logprob: TokenLogprob | None = None) -> None:
        """Take the next token (and its logprob entry, when the request asked for them): send the text it makes
        safe, finish if it ends the reply. EOS keeps its entry, outside the text (as vLLM does): a client that
        scores with max_tokens 1 reads the prompt's logprobs as all entries but the last."""
        if self.finished:
            return
        self.generated += 1
        if logprob is not None:
            in_text = token_id not in self._special_ids and token_id not in self.eos_ids
            self._logprobs.append(logprob if in_text else dataclasses.replace(logprob, in_text=False))
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
            self.sink(Delta(text, tuple(self._logprobs)))
            self._logprobs.clear()

    def _finish(self, reason: str) -> None:
        if self._logprobs and reason != "cancelled":
            self.sink(Delta("", tuple(self._logprobs)))
            self._logprobs.clear()
        self.finished = True
        self.sink(Finished(reason, self.prompt_tokens, self.generated))
