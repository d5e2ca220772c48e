"""OpenAI response bodies and SSE chunks for completions and chat completions, and the /health body."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator

from llmchat.worker.engines.base import Delta, Failed, Finished, GenerationHandle


def usage(finished: Finished) -> dict[str, int]:
    return {
        "prompt_tokens": finished.prompt_tokens,
        "completion_tokens": finished.completion_tokens,
        "total_tokens": finished.prompt_tokens + finished.completion_tokens,
    }


class CompletionShape:
    object_full = "text_completion"
    object_chunk = "text_completion"

    def __init__(self, model: str):
        self.model = model
        self.id = f"cmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def _envelope(self, kind: str, choices: list[dict]) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": choices}

    def choice(self, text: str, finish_reason: str | None) -> dict:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}

    def full(self, text: str, finished: Finished) -> dict:
        body = self._envelope(self.object_full, [self.choice(text, finished.reason)])
        body["usage"] = usage(finished)
        return body

    def opening(self) -> list[dict]:
        return []

    def chunk(self, text: str, finish_reason: str | None = None) -> dict:
        return self._envelope(self.object_chunk, [self.choice(text, finish_reason)])

    def usage_chunk(self, finished: Finished) -> dict:
        body = self._envelope(self.object_chunk, [])
        body["usage"] = usage(finished)
        return body


class ChatShape(CompletionShape):
    object_full = "chat.completion"
    object_chunk = "chat.completion.chunk"

    def __init__(self, model: str):
        super().__init__(model)
        self.id = f"chatcmpl-{uuid.uuid4().hex}"

    def full(self, text: str, finished: Finished) -> dict:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "logprobs": None,
            "finish_reason": finished.reason,
        }
        body = self._envelope(self.object_full, [choice])
        body["usage"] = usage(finished)
        return body

    def opening(self) -> list[dict]:
        return [
            self._envelope(
                self.object_chunk,
                [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}],
            )
        ]

    def chunk(self, text: str, finish_reason: str | None = None) -> dict:
        delta = {"content": text} if text or finish_reason is None else {}
        return self._envelope(
            self.object_chunk, [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        )


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
                yield _sse(shape.chunk(event.text))
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
    engines = pool.engines()
    devices = {engine.device_type for engine in engines}
    return {
        "status": "ok",
        "device": "cuda" if "cuda" in devices or (not devices and pool.cuda_available()) else "cpu",
        "models": pool.loaded_ids(),
        "engine_of": {model_id: pool.engine_kind(pool.registry.get(model_id)) for model_id in pool.loaded_ids()},
        "queue_depth": sum(engine.queue_depth for engine in engines),
        "max_queue": pool.settings.max_queue,
        "active": sum(engine.active_count for engine in engines),
        "max_batch_seen": max((engine.stats.max_batch_seen for engine in engines), default=0),
        "engines": [
            {
                "name": engine.name,
                "kind": engine.kind,
                "device": engine.device_type,
                "adapters": sorted(engine.adapters),
                "queue_depth": engine.queue_depth,
                "active": engine.active_count,
                "stats": vars(engine.stats).copy(),
            }
            for engine in engines
        ],
    }
