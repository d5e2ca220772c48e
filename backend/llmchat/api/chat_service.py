"""One chat request, start to end: conversation, memory, prompt, server, saving.

Request state lives in local objects only (no shared prompt state), so any number of IPs can chat at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage

from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.routing import ModelInfo, Router
from llmchat.api.serializers import message_json, shorten_title
from llmchat.modelclient import Endpoint, WorkerRejected, WorkerUnavailable
from llmchat.memory import MessageTooLong, StoreChatMessageHistory, fit_to_context, last_turns
from llmchat.prompts import Prompt, PromptBuilder, clean_reply
from llmchat.store import ChatStore, ConversationRecord, MessageRecord


@dataclass
class Prepared:
    """Everything a generation needs, decided before any reply text exists."""

    model: ModelInfo
    params: dict[str, Any]
    prompt: Prompt
    prompt_tokens: int
    endpoint: Endpoint
    conversation_id: str = ""
    user_message: MessageRecord | None = None
    replaces: tuple[int, ...] = ()  # assistant replies a regenerate replaces once the new one is saved

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            **self.model.extra_body,
            "model": self.model.id,
            "max_tokens": self.params["max_tokens"],
            "temperature": self.params["temperature"],
            "top_p": self.params["top_p"],
        }
        if self.prompt.messages is not None:
            body["messages"] = list(self.prompt.messages)
        else:
            body["prompt"] = self.prompt.text
        if self.prompt.stop:
            body["stop"] = list(self.prompt.stop)
        return body


def estimate_tokens(text: str) -> int:
    """For a server without /tokenize: about four characters a token."""
    return max(1, (len(text) + 3) // 4)


def worker_error(exc: Exception, conversation_id: str | None, user_message: MessageRecord | None) -> ApiError:
    extra = {"conversation_id": conversation_id, "user_message": message_json(user_message) if user_message else None}
    if isinstance(exc, WorkerRejected):
        status = exc.status if exc.status in (400, 404, 503) else 502
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else {}
        return ApiError(status, "worker_rejected", f"the model server refused: {exc.message}", headers=headers,
                        extra=extra)
    return ApiError(503, "worker_unavailable", f"model server unavailable: {exc}",
                    headers={"Retry-After": "5"}, extra=extra)


class ChatService:
    def __init__(self, config: AppConfig, store: ChatStore, router: Router, prompts: PromptBuilder):
        self.config = config
        self.store = store
        self.router = router
        self.prompts = prompts

    # models and params -------------------------------------------------------------------
    def resolve_model(self, model_id: str) -> ModelInfo:
        """Raises WorkerUnavailable when no server answers, ApiError(400) for a model nobody serves."""
        catalog = self.router.catalog()
        if model_id not in catalog:
            names = ", ".join(sorted(catalog)) or "none"
            raise ApiError(400, "unknown_model", f"unknown model {model_id!r}; available: {names}", field="model")
        return catalog[model_id]

    @staticmethod
    def effective_params(model: ModelInfo, requested: dict[str, Any]) -> dict[str, Any]:
        params = {**model.default_params, **{k: v for k, v in requested.items() if v is not None}}
        if params["max_tokens"] >= model.context_length:
            raise ApiError(400, "invalid_field", f"params.max_tokens must be below the model's context length "
                           f"({model.context_length})", field="params.max_tokens")
        return params

    # conversations -----------------------------------------------------------------------
    def owned_conversation(self, ip: str, conversation_id: str) -> ConversationRecord:
        conversation = self.store.get_conversation(ip, conversation_id)
        if conversation is None:
            raise ApiError(404, "not_found", "conversation not found")
        return conversation

    def new_conversation(self, ip: str, message: str, model: str) -> str:
        return self.store.create_conversation(ip, shorten_title(message, self.config.title_max_chars), model).id

    # prompt --------------------------------------------------------------------------------
    def count_tokens(self, endpoint: Endpoint, model: ModelInfo, text: str) -> int:
        counted = self.router.client.count_tokens(endpoint, model.id, text=text)
        return counted if counted is not None else estimate_tokens(text)

    def count_prompt(self, endpoint: Endpoint, model: ModelInfo, prompt: Prompt) -> int:
        """Chat prompts are counted as messages, so the server's own chat template is included."""
        if prompt.messages is None:
            return self.count_tokens(endpoint, model, prompt.as_text())
        counted = self.router.client.count_tokens(endpoint, model.id, messages=list(prompt.messages))
        return counted if counted is not None else estimate_tokens(prompt.as_text())

    def build_prompt(
        self, history: list[BaseMessage], message: str, model: ModelInfo, params: dict[str, Any], endpoint: Endpoint
    ) -> tuple[Prompt, int]:
        window = last_turns(history, params["memory_window"])
        system_prompt = params.get("system_prompt") or ""
        try:
            return fit_to_context(
                window,
                message,
                render=lambda turns: self.prompts.render(model.prompt_style, system_prompt, turns),
                count_tokens=lambda prompt: self.count_prompt(endpoint, model, prompt),
                max_tokens=params["max_tokens"],
                context_length=model.context_length,
            )
        except MessageTooLong as exc:
            raise ApiError(400, "message_too_long", str(exc), field="message") from exc

    def prepare(self, message: str, history: list[BaseMessage], model: ModelInfo, params: dict[str, Any]) -> Prepared:
        """Pick a server and build the prompt; the caller then sets conversation_id and user_message."""
        tried: set[str] = set()
        while True:
            endpoint = self.router.pick(model, exclude=frozenset(tried))
            try:
                prompt, prompt_tokens = self.build_prompt(history, message, model, params, endpoint)
            except WorkerUnavailable as exc:
                if not exc.never_reached:
                    raise
                self.router.mark_down(endpoint)  # its health was cached as alive, but it is gone: next one
                tried.add(endpoint.url)
                continue
            return Prepared(model=model, params=params, prompt=prompt, prompt_tokens=prompt_tokens, endpoint=endpoint)

    def call_with_failover(self, prepared: Prepared, call):
        """`call(endpoint)`; when a server cannot even be reached, the next live one of the model gets it."""
        tried: set[str] = set()
        while True:
            try:
                return call(prepared.endpoint)
            except WorkerUnavailable as exc:
                if not exc.never_reached:
                    raise
                self.router.mark_down(prepared.endpoint)
                tried.add(prepared.endpoint.url)
                prepared.endpoint = self.router.pick(prepared.model, exclude=frozenset(tried))

    def history(self, conversation_id: str | None, before_id: int | None = None) -> list[BaseMessage]:
        if conversation_id is None:
            return []
        return StoreChatMessageHistory(self.store, conversation_id, before_id=before_id).messages

    # after the reply -------------------------------------------------------------------------
    def save_reply(
        self, prepared: Prepared, text: str, status: str, started: float,
        prompt_tokens: int | None = None, completion_tokens: int | None = None,
    ) -> MessageRecord | None:
        """Store the reply (unless an error left nothing to store) and settle the user message's status."""
        assert prepared.user_message is not None
        if status == "error":
            prepared.user_message = self.store.update_message(prepared.user_message.id, status="error")
            if not text:
                return None
        elif prepared.user_message.status != "complete":
            prepared.user_message = self.store.update_message(prepared.user_message.id, status="complete")
        elapsed_ms = int((time.monotonic() - started) * 1000)
        if completion_tokens is None and text:
            completion_tokens = self._count_quietly(prepared, text)  # a cut-off stream reports no usage
        reply = self.store.add_message(
            prepared.conversation_id, "assistant", text, model=prepared.model.id, params=prepared.params,
            status=status, prompt_tokens=prompt_tokens or prepared.prompt_tokens,
            completion_tokens=completion_tokens or 0, response_time_ms=elapsed_ms,
        )
        if status != "error":
            for old in prepared.replaces:
                self.store.delete_message(old)
        return reply

    def _count_quietly(self, prepared: Prepared, text: str) -> int:
        try:
            return self.count_tokens(prepared.endpoint, prepared.model, text)
        except (WorkerUnavailable, WorkerRejected):
            return estimate_tokens(text)

    def answer(self, prepared: Prepared) -> MessageRecord:
        """The whole reply at once (stream: false)."""
        started = time.monotonic()
        try:
            result = self.call_with_failover(prepared, lambda endpoint: self._complete(prepared, endpoint))
        except (WorkerUnavailable, WorkerRejected) as exc:
            self.router.forget_health(prepared.endpoint)
            self.save_reply(prepared, "", "error", started)
            raise worker_error(exc, prepared.conversation_id, prepared.user_message) from exc
        text = clean_reply(result.text, prepared.prompt.stop)
        reply = self.save_reply(prepared, text, "complete", started, result.prompt_tokens, result.completion_tokens)
        assert reply is not None
        return reply

    def _complete(self, prepared: Prepared, endpoint: Endpoint):
        with self.router.using(endpoint):
            return self.router.client.complete(endpoint, prepared.prompt.endpoint, prepared.payload())
