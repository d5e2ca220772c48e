"""Prompts into token ids, off the event loop and bounded: a long prompt takes seconds to tokenize, and while one
is tokenized the others wait for the engine's tokenizer. The bound is on the text waiting, not on the number of
requests: sixteen users' short prompts take milliseconds together, a few megabyte-sized ones take seconds. Past
`max_backlog_chars` the worker says busy at once (503) instead of letting huge prompts hold every later request."""

from __future__ import annotations

import threading

from starlette.concurrency import run_in_threadpool

from llmchat.worker.errors import ApiError, busy


class Tokenizing:
    def __init__(self, max_backlog_chars: int):
        self.max_backlog_chars = max_backlog_chars
        self._backlog = 0  # characters waiting for, or in, the tokenizer
        self._lock = threading.Lock()

    async def prompt(self, target, prompt: str) -> list[int]:
        return await self._run(len(prompt), _encode, target, prompt)

    async def chat(
        self,
        target,
        messages: list[dict[str, str]],
        *,
        add_generation_prompt: bool = True,
        continue_final: bool = False,
    ) -> list[int]:
        size = sum(len(message["content"]) for message in messages)
        return await self._run(size, _render_chat, target, messages, add_generation_prompt, continue_final)

    async def token_ids(self, target, ids: list[int]) -> list[int]:
        """A prompt sent as token ids (lm-evaluation-harness does): each must be in the model's vocabulary."""
        vocabulary = len(target.engine.tokenizer)
        outside = next((token for token in ids if token >= vocabulary), None)
        if outside is not None:
            raise ApiError(
                400,
                f"prompt: token id {outside} is outside the vocabulary of model {target.spec.id!r} ({vocabulary} tokens)",
                param="prompt",
                code="invalid_value",
            )
        return ids

    async def text_of(self, target, ids: list[int]) -> str:
        """The text of prompt token ids (echo of a prompt sent as ids)."""
        return await self._run(len(ids), _decode, target, ids)

    async def _run(self, size: int, function, *args):
        with self._lock:
            if self._backlog and self._backlog + size > self.max_backlog_chars:  # one prompt alone always goes
                raise busy(f"{self._backlog} characters are waiting to be tokenized; retry shortly", "tokenizer_busy")
            self._backlog += size
        try:
            return await run_in_threadpool(function, *args)
        finally:
            with self._lock:
                self._backlog -= size


def _encode(target, prompt: str) -> list[int]:
    with target.engine.encode_lock:
        return list(target.engine.tokenizer(prompt, add_special_tokens=True)["input_ids"])


def _decode(target, ids: list[int]) -> str:
    with target.engine.encode_lock:
        return target.engine.tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def _render_chat(
    target, messages: list[dict[str, str]], add_generation_prompt: bool, continue_final: bool
) -> list[int]:
    tokenizer = target.engine.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise ApiError(
            400,
            f"model {target.spec.id!r} has no chat template; use /v1/completions",
            param="model",
            code="no_chat_template",
        )
    with target.engine.encode_lock:
        try:
            text = tokenizer.apply_chat_template(
                messages,
                tokenize=False,
                add_generation_prompt=add_generation_prompt,
                continue_final_message=continue_final,
            )
        except Exception as exc:  # a template may reject a role order (e.g. two user turns)
            raise ApiError(400, f"the chat template rejected the messages: {exc}", param="messages") from exc
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])
