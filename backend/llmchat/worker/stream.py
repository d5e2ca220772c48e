"""Carries engine events (from the engine thread) into the request's asyncio task."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from fastapi import Request

from llmchat.worker.engines.base import Delta, Event, Failed, Finished, GenerationHandle, PromptScored, TokenLogprob
from llmchat.worker.errors import ApiError

DISCONNECT_POLL_S = 0.5


@dataclass
class Collected:
    """A whole reply: its text, how it ended, and the logprob entries the request asked for."""

    text: str
    finished: Finished
    prompt_logprobs: tuple[TokenLogprob, ...] | None = None  # echo
    logprobs: list[TokenLogprob] = field(default_factory=list)  # the generated tokens'


class EventStream:
    """Create it on the event loop; hand `sink` to the engine; read events with `next()`."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()

    def sink(self, event: Event) -> None:
        """Called on the engine thread; raises if the loop is gone, which cancels the sequence."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, event)

    async def next(self, timeout: float | None = None) -> Event:
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def collect(self, request: Request, handle: GenerationHandle) -> Collected:
        """The whole reply; a client that disconnects while waiting cancels its generation."""
        parts: list[str] = []
        prompt_logprobs = None
        logprobs: list[TokenLogprob] = []
        try:
            while True:
                try:
                    event = await self.next(DISCONNECT_POLL_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        handle.cancel()
                        raise ApiError(499, "client closed the request", code="client_closed") from None
                    continue
                if isinstance(event, Delta):
                    parts.append(event.text)
                    logprobs.extend(event.logprobs)
                elif isinstance(event, PromptScored):
                    prompt_logprobs = event.logprobs
                elif isinstance(event, Failed):
                    raise ApiError(500, event.message, type_="server_error", code="generation_failed")
                else:
                    return Collected("".join(parts), event, prompt_logprobs, logprobs)
        finally:
            handle.cancel()  # no-op once finished; stops the sequence if this task is cancelled
