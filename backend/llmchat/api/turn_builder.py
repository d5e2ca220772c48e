"""Building a chat turn from one read of the conversation: the parent, the model, the params, the history along
the branch, the prompt fitted to the context (counted by the model server that will answer), and the rows.

The route hands the request here and gets one ChatTurn back (api/turn.py); nothing later reads the conversation
again for it. A model server that fails while the prompt is counted ends the turn here, with the user's words kept
(`error`) for the web app to offer a retry. Request state lives in local objects only, so any number of callers
can chat at once.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage

from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.model_errors import WORKER_ERRORS, api_error
from llmchat.api.owned import not_found, owned_conversation, owned_message
from llmchat.api.routing import PARAM_KEYS, ModelInfo, Router
from llmchat.api.serializers import message_json, shorten_title
from llmchat.api.tokens import count_prompt
from llmchat.api.turn import ChatTurn, TurnKind
from llmchat.memory import MessageTooLong, branch_memory, fit_to_context, last_turns
from llmchat.modelclient import Endpoint
from llmchat.prompts import Prompt, PromptBuilder
from llmchat.store import ChatStore, ConversationRecord, MessageRecord, tree
from llmchat.store.replies import ReplyStore


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


class TurnBuilder:
    def __init__(
        self, config: AppConfig, store: ChatStore, replies: ReplyStore, router: Router, prompts: PromptBuilder
    ):
        self.config = config
        self.store = store
        self.replies = replies
        self.router = router
        self.prompts = prompts

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
                count_tokens=lambda prompt: count_prompt(self.router.client, endpoint, model.id, prompt),
                max_tokens=params["max_tokens"],
                context_length=model.context_length,
                continuing=continuing,
            )
        except MessageTooLong as exc:
            raise ApiError(400, "message_too_long", str(exc), field="message") from exc

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
        """The router picks the server (the next live one if one cannot be reached), which counts the prompt; the
        caller then saves the rows and sets them on the turn."""
        endpoint, (prompt, prompt_tokens) = self.router.call(
            model, lambda chosen: self.build_prompt(history, message, model, params, chosen, continuing)
        )
        return ChatTurn(
            kind=kind,
            conversation_id=conversation_id,
            model=model,
            params=params,
            prompt=prompt,
            prompt_tokens=prompt_tokens,
            endpoint=endpoint,
        )

    # the three kinds of turn -------------------------------------------------------------------
    def message_turn(self, owner: str, request: Any, message: str) -> ChatTurn:
        """POST /api/chat: a new user message (after the branch on screen, or under `parent_id`) and its reply."""
        conversation = (
            owned_conversation(self.store, owner, request.conversation_id, whole_tree=True)
            if request.conversation_id
            else None
        )
        column, model_id = self._column(conversation, request)
        parent_id = self._parent(owner, conversation, request, column)
        requested = request.params.model_dump(exclude_none=True)
        conversation_id = conversation.id if conversation else None
        try:
            model = self._resolve_for(conversation, model_id)
            params = self.effective_params(model, requested)
            history = branch_memory(conversation.tree, parent_id) if conversation else []
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
        turn.user_message, turn.reply, turn.job_id = self.replies.add_exchange(
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
        conversation = owned_conversation(self.store, owner, conversation_id, whole_tree=True)
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
            history = branch_memory(conversation.tree, user.parent_id)
            turn = self.prepare("regenerate", conversation_id, user.content, history, model, params)
        except WORKER_ERRORS as exc:
            if user.status != "complete":
                user = self.replies.fail_question(user.id)
            raise api_error(exc, saved(conversation_id, user)) from exc
        turn.column, turn.user_message = user.column, user
        turn.reply, turn.job_id = self.replies.add_reply(
            user, model=turn.model.id, params=turn.params, prompt_tokens=turn.prompt_tokens
        )
        return turn

    def continue_turn(self, owner: str, message_id: int, request: Any) -> ChatTurn:
        """Extend a reply that was cut off at max_tokens or stopped: same message, the text appended."""
        reply = owned_message(self.store, owner, message_id)
        if reply.status == "streaming":
            raise ApiError(409, "busy", "this reply is being generated right now")
        if reply.role != "assistant" or not (reply.finish_reason == "length" or reply.status == "stopped"):
            raise ApiError(
                400, "nothing_to_continue", "only a reply that was cut off at max_tokens or stopped can be continued"
            )
        messages = self.store.messages(reply.conversation_id)  # the one read of the conversation
        user = tree.path_to(messages, reply.parent_id)[-1:]
        if not user or user[0].role != "user":
            raise ApiError(400, "nothing_to_continue", "this reply answers no user message")
        earlier = {k: v for k, v in (reply.params or {}).items() if k in PARAM_KEYS}
        try:
            model = self._resolve_for(None, reply.model or "", hidden=reply.model_hidden)
            params = self.effective_params(model, {**earlier, **request.params.model_dump(exclude_none=True)})
            history = branch_memory(messages, user[0].parent_id)
            turn = self.prepare(
                "continue", reply.conversation_id, user[0].content, history, model, params, continuing=reply.content
            )
        except WORKER_ERRORS as exc:
            raise api_error(exc, saved(reply.conversation_id, None)) from exc
        claimed = self.replies.claim_for_continue(reply.id)
        if claimed is None:
            raise ApiError(409, "busy", "this reply is being generated right now")
        turn.column, turn.user_message, turn.previous = reply.column, user[0], reply
        turn.reply, turn.job_id = claimed
        return turn

    # helpers -----------------------------------------------------------------------------------
    def _new_conversation(self, owner: str, message: str, model: str) -> str:
        return self.store.create_conversation(owner, shorten_title(message, self.config.title_max_chars), model).id

    def _first_message_title(self, conversation: ConversationRecord | None, message: str) -> None:
        if conversation is not None and conversation.title_state == "untitled":
            self.store.title_from_first_message(conversation.id, shorten_title(message, self.config.title_max_chars))

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
            return self.router.model(model_id)
        except ApiError as exc:
            hidden = hidden or (conversation is not None and conversation.models_hidden)
            if not hidden or exc.code != "unknown_model":
                raise
            raise ApiError(
                400, "unknown_model", "this blind session's model is no longer served; start a new one", field="model"
            ) from exc

    def _parent(self, owner: str, conversation: ConversationRecord | None, request: Any, column: int) -> int | None:
        """Where the new message goes: under `parent_id`, else after the column's branch on screen."""
        if "parent_id" not in request.model_fields_set:
            if conversation is None:
                return None
            return tree.parent_of_new_message(conversation, column)
        if request.parent_id is None:
            return None
        parent = next((m for m in conversation.tree if m.id == request.parent_id), None) if conversation else None
        if parent is None or parent.column != column:
            parent = parent or owned_message(self.store, owner, request.parent_id)  # 404 when it is not theirs
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
        user = next((m for m in conversation.tree if m.id == message_id), None)
        if user is None:
            owned_message(self.store, owner, message_id)  # 404 when it is not theirs at all
            raise not_found("message")
        if user.role != "user":
            raise ApiError(
                400,
                "invalid_field",
                "message_id: regenerate answers a user message; this is a reply",
                field="message_id",
            )
        return user
