"""Preparing a chat turn: conversation, parent, model, params, memory along the branch, prompt, server, rows.

Request state lives in local objects only (no shared prompt state), so any number of callers can chat at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from langchain_core.messages import BaseMessage

from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.model_errors import MODEL_LOADING, WORKER_ERRORS, api_error
from llmchat.api.routing import PARAM_KEYS, ModelInfo, Router
from llmchat.api.serializers import message_json, shorten_title
from llmchat.api.turn import ChatTurn, TurnKind
from llmchat.memory import MessageTooLong, StoreChatMessageHistory, fit_to_context, last_turns
from llmchat.modelclient import Endpoint, WorkerRejected, WorkerUnavailable
from llmchat.prompts import Prompt, PromptBuilder
from llmchat.store import ChatStore, ConversationRecord, MessageRecord

T = TypeVar("T")


def busy_wait_s(exc: WorkerRejected) -> float | None:
    """How long a server that refused because it is busy (503 with Retry-After) asks to wait; None otherwise."""
    if exc.status != 503 or not exc.retry_after:
        return None
    try:
        return max(0.0, float(exc.retry_after))
    except ValueError:
        return None  # an HTTP date: not what a busy model server sends


def estimate_tokens(text: str) -> int:
    """For a server without /tokenize: about four characters a token."""
    return max(1, (len(text) + 3) // 4)


def saved(conversation_id: str | None, user_message: MessageRecord | None) -> dict[str, Any]:
    """What a failed turn kept, beside its error: the conversation and the user's message."""
    return {"conversation_id": conversation_id, "user_message": message_json(user_message) if user_message else None}


def _blind_model_named() -> ApiError:
    return ApiError(
        400,
        "invalid_field",
        "model: the models of this blind session are hidden until you vote; send no model (each column keeps its own)",
        field="model",
    )


def not_found(what: str = "conversation") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


class ChatService:
    def __init__(self, config: AppConfig, store: ChatStore, router: Router, prompts: PromptBuilder):
        self.config = config
        self.store = store
        self.router = router
        self.prompts = prompts

    # models and params -------------------------------------------------------------------
    def resolve_model(self, model_id: str, field: str = "model") -> ModelInfo:
        """Raises WorkerUnavailable when no server answers, ApiError(400) for a model nobody serves."""
        catalog = self.router.catalog()
        if model_id not in catalog:
            names = ", ".join(sorted(catalog)) or "none"
            raise ApiError(400, "unknown_model", f"unknown model {model_id!r}; available: {names}", field=field)
        return catalog[model_id]

    def effective_params(self, model: ModelInfo, requested: dict[str, Any]) -> dict[str, Any]:
        """The model's defaults, then the request's; nothing above the server's ceiling (limits.max_tokens): the
        request schema refuses a larger request (400), and a model default or an earlier reply's setting above it is
        lowered to it."""
        ceiling = self.config.limits.max_tokens
        params = {**model.default_params, **{k: v for k, v in requested.items() if v is not None}}
        params["max_tokens"] = min(params["max_tokens"], ceiling)
        if params["max_tokens"] >= model.context_length:
            raise ApiError(
                400,
                "invalid_field",
                f"params.max_tokens must be below the model's context length ({model.context_length})",
                field="params.max_tokens",
            )
        return params

    # conversations -----------------------------------------------------------------------
    def owned_conversation(self, owner: str, conversation_id: str) -> ConversationRecord:
        conversation = self.store.get_conversation(owner, conversation_id)
        if conversation is None:
            raise not_found()
        return conversation

    def owned_message(self, owner: str, message_id: int) -> MessageRecord:
        message = self.store.owned_message(owner, message_id)
        if message is None:
            raise not_found("message")
        return message

    # prompt --------------------------------------------------------------------------------
    def count_tokens(self, endpoint: Endpoint, model: ModelInfo, text: str) -> int:
        counted = self.router.client.count_tokens(endpoint, model.id, text=text)
        return counted if counted is not None else estimate_tokens(text)

    def count_prompt(self, endpoint: Endpoint, model: ModelInfo, prompt: Prompt) -> int:
        """Chat prompts are counted as messages, so the server's own chat template is included."""
        if prompt.messages is None:
            return self.count_tokens(endpoint, model, prompt.as_text())
        counted = self.router.client.count_tokens(
            endpoint, model.id, messages=list(prompt.messages), template_flags=prompt.chat_flags()
        )
        return counted if counted is not None else estimate_tokens(prompt.as_text())

    def count_quietly(self, endpoint: Endpoint, model: ModelInfo, text: str) -> int:
        """A reply's token count when the server did not report one (a cut stream); never fails."""
        if not text:
            return 0
        try:
            return self.count_tokens(endpoint, model, text)
        except WORKER_ERRORS:
            return estimate_tokens(text)

    def build_prompt(
        self,
        history: list[BaseMessage],
        message: str,
        model: ModelInfo,
        params: dict[str, Any],
        endpoint: Endpoint,
        continuing: str | None = None,
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
                continuing=continuing,
            )
        except MessageTooLong as exc:
            raise ApiError(400, "message_too_long", str(exc), field="message") from exc

    def when_busy_wait(self, call: Callable[[], T]) -> T:
        """`call()`; while the server refuses it as busy (503 + Retry-After: its queue or its tokenizer is full for
        a moment), wait as asked and call again, for `worker_busy_wait_s` in all. Under load this turns a short
        refusal into a short wait instead of a failed reply (bench/soak.py showed 8 % of chats refused).
        A model still loading (503 `model_loading`: the worker already held the call for its load_timeout_s) is
        asked again until `worker_load_wait_s` have passed since the first call."""
        waited = 0.0
        loading_until = time.monotonic() + self.config.worker_load_wait_s
        while True:
            try:
                return call()
            except WorkerRejected as exc:
                wait = busy_wait_s(exc)
                if wait is None:
                    raise
                if exc.code == MODEL_LOADING:
                    if time.monotonic() + wait > loading_until:
                        raise
                elif waited + wait > self.config.worker_busy_wait_s:
                    raise
                else:
                    waited += wait
                time.sleep(wait)

    def prepare(
        self,
        kind: TurnKind,
        conversation_id: str,
        message: str,
        history: list[BaseMessage],
        model: ModelInfo,
        params: dict[str, Any],
        continuing: str | None = None,
    ) -> ChatTurn:
        """Pick a server and build the prompt; the caller then saves the rows and sets them on the turn."""
        tried: set[str] = set()
        while True:
            endpoint = self.router.pick(model, exclude=frozenset(tried))
            try:
                prompt, prompt_tokens = self.when_busy_wait(
                    lambda chosen=endpoint: self.build_prompt(history, message, model, params, chosen, continuing)
                )
            except WorkerUnavailable as exc:
                if not exc.never_reached:
                    raise
                self.router.mark_down(endpoint)  # its health was cached as alive, but it is gone: next one
                tried.add(endpoint.url)
                continue
            return ChatTurn(
                kind=kind,
                conversation_id=conversation_id,
                model=model,
                params=params,
                prompt=prompt,
                prompt_tokens=prompt_tokens,
                endpoint=endpoint,
            )

    def call_with_failover(self, turn: ChatTurn, call):
        """`call(endpoint)`; when a server cannot even be reached, the next live one of the model gets it; a busy
        one is asked again (when_busy_wait)."""
        tried: set[str] = set()
        while True:
            try:
                return self.when_busy_wait(lambda: call(turn.endpoint))
            except WorkerUnavailable as exc:
                if not exc.never_reached:
                    raise
                self.router.mark_down(turn.endpoint)
                tried.add(turn.endpoint.url)
                turn.endpoint = self.router.pick(turn.model, exclude=frozenset(tried))

    def history(self, conversation_id: str, leaf_id: int | None) -> list[BaseMessage]:
        """The branch up to `leaf_id` (inclusive) as memory; nothing for a first message."""
        if leaf_id is None:
            return []
        return StoreChatMessageHistory(self.store, conversation_id, leaf_id=leaf_id).messages

    # the three kinds of turn -------------------------------------------------------------------
    def message_turn(self, owner: str, request: Any, message: str) -> ChatTurn:
        """POST /api/chat: a new user message (after the branch on screen, or under `parent_id`) and its reply."""
        conversation = self.owned_conversation(owner, request.conversation_id) if request.conversation_id else None
        column, model_id = self._column(conversation, request)
        parent_id = self._parent(owner, conversation, request, column)
        requested = request.params.model_dump(exclude_none=True)
        conversation_id = conversation.id if conversation else None
        try:
            model = self._resolve_for(conversation, model_id)
            params = self.effective_params(model, requested)
            history = self.history(conversation_id, parent_id) if conversation_id else []
            turn = self.prepare("message", conversation_id or "", message, history, model, params)
        except WORKER_ERRORS as exc:
            # the user's words are kept (status error) so the UI can show them and offer a retry
            conversation_id = conversation_id or self._new_conversation(owner, message, model_id)
            self._first_message_title(conversation, message)
            user = self.store.add_message(
                conversation_id,
                "user",
                message,
                parent_id=parent_id,
                column=column,
                model=model_id,
                params=requested,
                status="error",
            )
            raise api_error(exc, saved(conversation_id, user)) from exc
        turn.conversation_id = conversation_id or self._new_conversation(owner, message, model.id)
        self._first_message_title(conversation, message)
        turn.column = column
        turn.user_message, turn.reply = self.store.add_exchange(
            turn.conversation_id,
            message,
            parent_id=parent_id,
            column=column,
            model=model.id,
            params=params,
            prompt_tokens=turn.prompt_tokens,
        )
        return turn

    def regenerate_turn(self, owner: str, conversation_id: str, request: Any) -> ChatTurn:
        """A new version of the reply to a user message; the earlier versions stay."""
        conversation = self.owned_conversation(owner, conversation_id)
        user = self._user_to_answer(owner, conversation, request.message_id)
        column_model = self._column_model(conversation, user.column)
        if conversation.models_hidden and request.model is not None:
            raise _blind_model_named()
        if column_model and request.model and request.model != column_model:
            raise ApiError(
                400,
                "invalid_field",
                f"model: column {user.column} of this compare session is answered by {column_model!r}",
                field="model",
            )
        model_id = request.model or column_model or user.model or conversation.model
        # the settings of the first answer, unless this request changes them
        earlier = {k: v for k, v in (user.params or {}).items() if k in PARAM_KEYS}
        try:
            model = self._resolve_for(conversation, model_id or "")
            params = self.effective_params(model, {**earlier, **request.params.model_dump(exclude_none=True)})
            history = self.history(conversation_id, user.parent_id)
            turn = self.prepare("regenerate", conversation_id, user.content, history, model, params)
        except WORKER_ERRORS as exc:
            if user.status != "complete":
                user = self.store.update_message(user.id, status="error")
            raise api_error(exc, saved(conversation_id, user)) from exc
        turn.column, turn.user_message = user.column, user
        turn.reply = self._new_reply(turn, user)
        return turn

    def continue_turn(self, owner: str, message_id: int, request: Any) -> ChatTurn:
        """Extend a reply that was cut off at max_tokens or stopped: same message, the text appended."""
        reply = self.owned_message(owner, message_id)
        if reply.status == "streaming":
            raise ApiError(409, "busy", "this reply is being generated right now")
        if reply.role != "assistant" or not (reply.finish_reason == "length" or reply.status == "stopped"):
            raise ApiError(
                400, "nothing_to_continue", "only a reply that was cut off at max_tokens or stopped can be continued"
            )
        user = self.store.branch(reply.conversation_id, reply.parent_id)[-1:]
        if not user or user[0].role != "user":
            raise ApiError(400, "nothing_to_continue", "this reply answers no user message")
        earlier = {k: v for k, v in (reply.params or {}).items() if k in PARAM_KEYS}
        try:
            model = self._resolve_for(None, reply.model or "", hidden=reply.model_hidden)
            params = self.effective_params(model, {**earlier, **request.params.model_dump(exclude_none=True)})
            history = self.history(reply.conversation_id, user[0].parent_id)
            turn = self.prepare(
                "continue", reply.conversation_id, user[0].content, history, model, params, continuing=reply.content
            )
        except WORKER_ERRORS as exc:
            raise api_error(exc, saved(reply.conversation_id, None)) from exc
        claimed = self.store.claim_for_continue(reply.id)
        if claimed is None:
            raise ApiError(409, "busy", "this reply is being generated right now")
        turn.column, turn.user_message, turn.previous, turn.reply = reply.column, user[0], reply, claimed
        return turn

    # helpers -----------------------------------------------------------------------------------
    def _new_conversation(self, owner: str, message: str, model: str) -> str:
        return self.store.create_conversation(owner, shorten_title(message, self.config.title_max_chars), model).id

    def _first_message_title(self, conversation: ConversationRecord | None, message: str) -> None:
        if conversation is not None and conversation.title_state == "untitled":
            self.store.title_from_first_message(conversation.id, shorten_title(message, self.config.title_max_chars))

    def _new_reply(self, turn: ChatTurn, user: MessageRecord) -> MessageRecord:
        return self.store.add_message(
            turn.conversation_id,
            "assistant",
            "",
            parent_id=user.id,
            column=turn.column,
            model=turn.model.id,
            params=turn.params,
            status="streaming",
            prompt_tokens=turn.prompt_tokens,
        )

    @staticmethod
    def _column_model(conversation: ConversationRecord, column: int) -> str | None:
        if conversation.kind == "compare" and len(conversation.models) > column:
            return conversation.models[column]
        return None

    def _column(self, conversation: ConversationRecord | None, request: Any) -> tuple[int, str]:
        """The column and the model of a new message: a chat has one column (0) and names its model; a compare
        session has two, each answered by its own model (named or not; a blind session's must not be named)."""
        if conversation is None or conversation.kind != "compare":
            if request.column != 0:
                raise ApiError(400, "invalid_field", "column: only a compare session has column 1", field="column")
            if request.model is None:
                raise ApiError(
                    400,
                    "invalid_field",
                    "model: name the model to answer (only a compare session's columns have models of their own)",
                    field="model",
                )
            return 0, request.model
        if conversation.models_hidden and request.model is not None:
            raise _blind_model_named()
        expected = self._column_model(conversation, request.column)
        if expected is not None and request.model is not None and request.model != expected:
            raise ApiError(
                400,
                "invalid_field",
                f"model: column {request.column} of this compare session is answered by {expected!r}",
                field="model",
            )
        model_id = expected or request.model
        if model_id is None:
            raise ApiError(400, "invalid_field", "model: name the model to answer", field="model")
        return request.column, model_id

    def _resolve_for(self, conversation: ConversationRecord | None, model_id: str, hidden: bool = False) -> ModelInfo:
        """The model's entry; in a blind session an error about it must not name it either."""
        try:
            return self.resolve_model(model_id)
        except ApiError as exc:
            hidden = hidden or (conversation is not None and conversation.models_hidden)
            if not hidden or exc.code != "unknown_model":
                raise
            raise ApiError(
                400, "unknown_model", "this blind session's model is no longer served; start a new one", field="model"
            ) from exc

    def _parent(self, owner: str, conversation: ConversationRecord | None, request: Any, column: int) -> int | None:
        if "parent_id" not in request.model_fields_set:
            return self.store.default_parent(conversation.id, column) if conversation else None
        if request.parent_id is None:
            return None
        parent = self.owned_message(owner, request.parent_id)
        if conversation is None or parent.conversation_id != conversation.id or parent.column != column:
            raise ApiError(
                400,
                "invalid_field",
                f"parent_id: message {request.parent_id} is not in this "
                f"conversation{f' (column {column})' if column else ''}",
                field="parent_id",
            )
        return parent.id

    def _user_to_answer(self, owner: str, conversation: ConversationRecord, message_id: int | None) -> MessageRecord:
        if message_id is None:
            shown = conversation.messages or (conversation.columns[0].messages if conversation.columns else ())
            user = next((m for m in reversed(shown) if m.role == "user"), None)
            if user is None:
                raise ApiError(400, "nothing_to_regenerate", "the conversation has no user message to answer")
            return user
        user = self.owned_message(owner, message_id)
        if user.conversation_id != conversation.id:
            raise not_found("message")
        if user.role != "user":
            raise ApiError(
                400,
                "invalid_field",
                "message_id: regenerate answers a user message; this is a reply",
                field="message_id",
            )
        return user
