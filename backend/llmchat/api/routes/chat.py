"""POST /api/chat and POST /api/conversations/<id>/regenerate (JSON or SSE)."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify

from llmchat.api.chat_service import Prepared, worker_error
from llmchat.api.errors import ApiError
from llmchat.api.routing import PARAM_KEYS
from llmchat.api.schemas import ChatRequest, RegenerateRequest, validate
from llmchat.api.serializers import message_json
from llmchat.api.services import Services, caller_ip, check_message, check_rate, json_body, services
from llmchat.api.streaming import stream_reply
from llmchat.modelclient import WorkerRejected, WorkerUnavailable

bp = Blueprint("chat", __name__, url_prefix="/api")

WORKER_ERRORS = (WorkerUnavailable, WorkerRejected)


@bp.post("/chat")
def chat():
    app = services()
    ip = caller_ip()
    check_rate(ip)
    request_ = validate(ChatRequest, json_body())
    message = check_message(request_.message)
    requested = request_.params.model_dump(exclude_none=True)
    conversation_id = request_.conversation_id
    if conversation_id:
        app.chat.owned_conversation(ip, conversation_id)
    try:
        model = app.chat.resolve_model(request_.model)
        params = app.chat.effective_params(model, requested)
        prepared = app.chat.prepare(message, app.chat.history(conversation_id), model, params)
    except WORKER_ERRORS as exc:
        # the user's words are kept (status error) so the UI can show them and offer a retry
        conversation_id = conversation_id or app.chat.new_conversation(ip, message, request_.model)
        user = app.store.add_message(conversation_id, "user", message, model=request_.model, params=requested,
                                     status="error")
        raise worker_error(exc, conversation_id, user) from exc
    prepared.conversation_id = conversation_id or app.chat.new_conversation(ip, message, model.id)
    prepared.user_message = app.store.add_message(prepared.conversation_id, "user", message, model=model.id,
                                                  params=params)
    return respond(app, prepared, request_.stream)


@bp.post("/conversations/<conversation_id>/regenerate")
def regenerate(conversation_id: str):
    app = services()
    ip = caller_ip()
    check_rate(ip)
    request_ = validate(RegenerateRequest, json_body(optional=True))
    conversation = app.chat.owned_conversation(ip, conversation_id)
    last_user = next((m for m in reversed(conversation.messages) if m.role == "user"), None)
    if last_user is None:
        raise ApiError(400, "nothing_to_regenerate", "the conversation has no user message to answer")
    replaces = tuple(m.id for m in conversation.messages if m.id > last_user.id and m.role == "assistant")
    model_id = request_.model or last_user.model or conversation.model or ""
    # the settings of the first answer, unless this request changes them
    earlier = {k: v for k, v in (last_user.params or {}).items() if k in PARAM_KEYS}
    try:
        model = app.chat.resolve_model(model_id)
        params = app.chat.effective_params(model, {**earlier, **request_.params.model_dump(exclude_none=True)})
        history = app.chat.history(conversation_id, before_id=last_user.id)
        prepared = app.chat.prepare(last_user.content, history, model, params)
    except WORKER_ERRORS as exc:
        user = app.store.update_message(last_user.id, status="error")
        raise worker_error(exc, conversation_id, user) from exc
    prepared.conversation_id = conversation_id
    prepared.user_message = last_user
    prepared.replaces = replaces
    return respond(app, prepared, request_.stream)


def respond(app: Services, prepared: Prepared, stream: bool):
    if not stream:
        reply = app.chat.answer(prepared)
        return jsonify(_result(prepared, {"message": message_json(reply)}))
    started = time.monotonic()
    try:
        worker = app.chat.call_with_failover(
            prepared, lambda endpoint: app.router.client.open_stream(endpoint, prepared.prompt.endpoint,
                                                                     prepared.payload()))
    except WORKER_ERRORS as exc:
        app.router.forget_health(prepared.endpoint)
        app.chat.save_reply(prepared, "", "error", started)
        raise worker_error(exc, prepared.conversation_id, prepared.user_message) from exc
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_reply(app.chat, prepared, worker, started), mimetype="text/event-stream",
                    headers=headers)


def _result(prepared: Prepared, extra: dict[str, Any]) -> dict[str, Any]:
    return {"conversation_id": prepared.conversation_id, "user_message": message_json(prepared.user_message),
            **extra}
