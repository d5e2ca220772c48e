"""Prompts into token ids, off the event loop and bounded: a long prompt takes seconds to tokenize, and while one
is tokenized the others wait for the engine's tokenizer. Past `max_waiting` the worker says busy at once (503)
instead of letting a queue of huge prompts hold every later request."""

from __future__ import annotations

import threading

from starlette.concurrency import run_in_threadpool

from llmchat.worker.errors import ApiError

RETRY_AFTER_S = "1"


class Tokenizing:
    def __init__(self, max_waiting: int):
        self.max_waiting = max_waiting
        self._count = 0
        self._lock = threading.Lock()

    async def prompt(self, target, prompt: str) -> list[int]:
        return await self._run(_encode, target, prompt)

    async def chat(self, target, messages: list[dict[str, str]], *, add_generation_prompt: bool = True,
                   continue_final: bool = False) -> list[int]:
        return await self._run(_render_chat, target, messages, add_generation_prompt, continue_final)

    async def _run(self, function, *args) -> list[int]:
        with self._lock:
            if self._count >= self.max_waiting:
                raise ApiError(503, f"{self._count} prompts are being tokenized; retry shortly", type_="server_busy",
                               code="tokenizer_busy", headers={"Retry-After": RETRY_AFTER_S})
            self._count += 1
        try:
            return await run_in_threadpool(function, *args)
        finally:
            with self._lock:
                self._count -= 1


def _encode(target, prompt: str) -> list[int]:
    with target.engine.encode_lock:
        return list(target.engine.tokenizer(prompt, add_special_tokens=True)["input_ids"])


def _render_chat(target, messages: list[dict[str, str]], add_generation_prompt: bool, continue_final: bool) -> list[int]:
    tokenizer = target.engine.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise ApiError(400, f"model {target.spec.id!r} has no chat template; use /v1/completions", param="model",
                       code="no_chat_template")
    with target.engine.encode_lock:
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt,
                                                 continue_final_message=continue_final)
        except Exception as exc:  # a template may reject a role order (e.g. two user turns)
            raise ApiError(400, f"the chat template rejected the messages: {exc}", param="messages") from exc
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
