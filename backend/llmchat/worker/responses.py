"""OpenAI response bodies and SSE chunks for completions and chat completions, and the /health body."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence

from llmchat.models.specs import LLAMA_CPP
from llmchat.worker import footprint
from llmchat.worker.engines.base import Delta, Failed, Finished, GenerationHandle, PromptScored, TokenLogprob
from llmchat.worker.logprob_format import chat_logprobs, completion_logprobs
from llmchat.worker.stream import Collected


def usage(finished: Finished) -> dict[str, int]:
    return {
        "prompt_tokens": finished.prompt_tokens,
        "completion_tokens": finished.completion_tokens,
        "total_tokens": finished.prompt_tokens + finished.completion_tokens,
    }


class CompletionShape:
    """`logprobs`: None, or the alternatives asked per token; `echo`: the prompt text to put before the reply (None
    without echo); `scored`: the prompt's logprobs come as a PromptScored event, which then carries the echo."""

    object_full = "text_completion"
    object_chunk = "text_completion"

    def __init__(self, model: str, logprobs: int | None = None, echo: str | None = None, scored: bool = False):
        self.model = model
        self.id = f"cmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.logprobs = logprobs
        self.echo = echo
        self.scored = scored
        self._sent = 0  # characters streamed so far: where the next chunk's tokens start

    def _envelope(self, kind: str, choices: list[dict]) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": choices}

    def _logprobs(self, entries: Sequence[TokenLogprob], offset: int) -> dict | None:
        return None if self.logprobs is None else completion_logprobs(entries, offset)

    def full(self, reply: Collected) -> dict:
        text = (self.echo or "") + reply.text
        entries = [*(reply.prompt_logprobs or ()), *reply.logprobs]
        choice = {
            "index": 0,
            "text": text,
            "logprobs": self._logprobs(entries, 0),
            "finish_reason": reply.finished.reason,
        }
        body = self._envelope(self.object_full, [choice])
        body["usage"] = usage(reply.finished)
        return body

    def opening(self) -> list[dict]:
        return [self.chunk(self.echo)] if self.echo and not self.scored else []

    def prompt_chunk(self, entries: Sequence[TokenLogprob]) -> dict:
        """The echoed prompt with its logprobs, before any generated text."""
        return self.chunk(self.echo or "", None, entries)

    def chunk(self, text: str, finish_reason: str | None = None, entries: Sequence[TokenLogprob] = ()) -> dict:
        choice = {
            "index": 0,
            "text": text,
            "logprobs": self._logprobs(entries, self._sent),
            "finish_reason": finish_reason,
        }
        self._sent += len(text)
        return self._envelope(self.object_chunk, [choice])

    def usage_chunk(self, finished: Finished) -> dict:
        body = self._envelope(self.object_chunk, [])
        body["usage"] = usage(finished)
        return body


class ChatShape(CompletionShape):
    object_full = "chat.completion"
    object_chunk = "chat.completion.chunk"

    def __init__(self, model: str, logprobs: int | None = None):
        super().__init__(model, logprobs)
        self.id = f"chatcmpl-{uuid.uuid4().hex}"

    def _logprobs(self, entries: Sequence[TokenLogprob], offset: int = 0) -> dict | None:
        return None if self.logprobs is None else chat_logprobs(entries)

    def full(self, reply: Collected) -> dict:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": reply.text},
            "logprobs": self._logprobs(reply.logprobs),
            "finish_reason": reply.finished.reason,
        }
        body = self._envelope(self.object_full, [choice])
        body["usage"] = usage(reply.finished)
        return body

    def opening(self) -> list[dict]:
        return [
            self._envelope(
                self.object_chunk,
                [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}],
            )
        ]

    def chunk(self, text: str, finish_reason: str | None = None, entries: Sequence[TokenLogprob] = ()) -> dict:
        delta = {"content": text} if text or finish_reason is None else {}
        choice = {"index": 0, "delta": delta, "logprobs": self._logprobs(entries), "finish_reason": finish_reason}
        return self._envelope(self.object_chunk, [choice])


def _sse(data: dict | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


async def sse(stream, handle: GenerationHandle, shape: CompletionShape, include_usage: bool) -> AsyncIterator[str]:
    """`data: {chunk}` per piece of text as it is made, the finishing chunk (with usage), then `data: [DONE]`.

    If the client goes away the response task is cancelled; `finally` then takes the sequence out of the batch.
    """
    try:
        for opening in shape.opening():
            yield _sse(opening)
        while True:
            event = await stream.next()
            if isinstance(event, Delta):
                yield _sse(shape.chunk(event.text, None, event.logprobs))
                continue
            if isinstance(event, PromptScored):
                yield _sse(shape.prompt_chunk(event.logprobs))
                continue
            if isinstance(event, Failed):
                yield _sse(
                    {
                        "error": {
                            "message": event.message,
                            "type": "server_error",
                            "code": "generation_failed",
                            "param": None,
                        }
                    }
                )
            elif isinstance(event, Finished) and event.reason != "cancelled":
                last = shape.chunk("", event.reason)
                last["usage"] = usage(event)
                yield _sse(last)
                if include_usage:
                    yield _sse(shape.usage_chunk(event))
            yield _sse("[DONE]")
            return
    finally:
        handle.cancel()


def health(pool) -> dict:
    slots = pool.slots()
    engines = [slot.engine for slot in slots]
    devices = {engine.device_type for engine in engines}
    loaded = pool.loaded_ids()
    settings = pool.settings
    now = time.monotonic()
    return {
        "status": "ok",
        "device": "cuda" if "cuda" in devices or (not devices and pool.cuda_available()) else "cpu",
        "models": loaded,
        "loading": pool.loading_ids(),
        "engine_of": {model_id: pool.engine_kind(pool.registry.get(model_id)) for model_id in loaded},
        "queue_depth": sum(engine.queue_depth for engine in engines),
        "max_queue": settings.max_queue,
        "active": sum(engine.active_count for engine in engines),
        "max_batch_seen": max((engine.stats.max_batch_seen for engine in engines), default=0),
        "residency": {
            **vars(pool.counters),
            "loaded_bytes": sum(slot.size_bytes for slot in slots),
            "max_loaded_models": settings.max_loaded_models,
            "max_loaded_bytes": settings.max_loaded_bytes,
            "idle_unload_s": settings.idle_unload_s,
            "rss_bytes": footprint.rss_bytes(),
        },
        "engines": [
            {
                "name": slot.engine.name,
                "kind": slot.engine.kind,
                "device": slot.engine.device_type,
                "models": sorted(slot.ids),
                "adapters": sorted(slot.engine.adapters),
                "pinned": slot.pinned,
                "size_bytes": slot.size_bytes,
                "idle_s": round(now - slot.last_used, 1) if slot.idle() else 0.0,
                "queue_depth": slot.engine.queue_depth,
                "active": slot.engine.active_count,
                "stats": vars(slot.engine.stats).copy(),
                **({"llama_server": _llama_server(slot.engine)} if slot.engine.kind == LLAMA_CPP else {}),
            }
            for slot in slots
        ],
    }


def _llama_server(engine) -> dict:
    """The child process of a llama.cpp engine: where it listens and what it holds (in the worker's rss_bytes too)."""
    return {"pid": engine.server.pid, "url": engine.server.url, "rss_bytes": engine.server.rss_bytes()}
