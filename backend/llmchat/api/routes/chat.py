"""The generating routes: POST /api/chat, /api/conversations/<id>/regenerate, /api/messages/<id>/continue.

Each builds a ChatTurn (api/chat_service.py) and hands it to `run_turn`, the one place a generation starts,
whose reply is an SSE stream or, once the reply is done, JSON.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from llmchat.api.chat_service import WORKER_ERRORS, worker_error
from llmchat.api.disconnect import client_gone_check
from llmchat.api.errors import ApiError
from llmchat.api.limits import generation
from llmchat.api.schemas import validate
from llmchat.api.serializers import message_json
from llmchat.api.services import Services, caller, check_message, json_body, services
from llmchat.api.turn import ChatTurn
from llmchat.api.turn_runner import Event, TurnRunner

bp = Blueprint("chat", __name__, url_prefix="/api")


@bp.post("/chat")
@generation
def chat():
    app = services()
    owner = caller()
    body = validate(app.schemas.chat, json_body())
    turn = app.chat.message_turn(owner, body, check_message(body.message))
    return run_turn(app, owner, turn, body.stream)


@bp.post("/conversations/<conversation_id>/regenerate")
@generation
def regenerate(conversation_id: str):
    app = services()
    owner = caller()
    body = validate(app.schemas.regenerate, json_body(optional=True))
    return run_turn(app, owner, app.chat.regenerate_turn(owner, conversation_id, body), body.stream)


@bp.post("/messages/<int:message_id>/continue")
@generation
def continue_reply(message_id: int):
    app = services()
    owner = caller()
    body = validate(app.schemas.continue_, json_body(optional=True))
    return run_turn(app, owner, app.chat.continue_turn(owner, message_id, body), body.stream)


def run_turn(app: Services, owner: str, turn: ChatTurn, stream: bool):
    """Start the generation of `turn` and answer with its events (SSE) or its outcome (JSON)."""
    turn.owner = owner
    try:
        worker = app.runner.open(turn)
    except WORKER_ERRORS as exc:
        raise worker_error(exc, turn.conversation_id, turn.user_message) from exc
    events = app.runner.events(turn, worker, client_gone_check(request.environ))
    if stream:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return Response(sse_stream(events), mimetype="text/event-stream", headers=headers)
    return json_outcome(app.runner, owner, turn, app.runner.collect(events))


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def sse_stream(events):
    """The events as SSE; closing this (the client went away) closes the turn, which saves the reply."""
    try:
        for name, data in events:
            yield ": ping\n\n" if name == "ping" else sse(name, data)
    finally:
        events.close()


def json_outcome(runner: TurnRunner, owner: str, turn: ChatTurn, last: dict[str, Event]):
    """The non-streamed answer: the saved reply (and user message), or the error with what was saved."""
    if "error" in last:
        data = last["error"][1]
        error = data["error"]
        status = {"not_found": 404, "worker_rejected": 502, "internal_error": 500}.get(error["code"], 503)
        headers = {"Retry-After": "5"} if status == 503 else {}
        extra = {key: value for key, value in data.items() if key != "error"}
        if turn.kind != "continue" and turn.user_message is not None:
            extra["user_message"] = message_json(turn.user_message)
        raise ApiError(status, error["code"], error["message"], headers=headers, extra=extra)
    done = last["done"][1]
    if turn.kind == "continue":
        return jsonify({"conversation_id": turn.conversation_id, "message": done["message"]})
    return jsonify(
        {
            "conversation_id": turn.conversation_id,
            "user_message": message_json(turn.user_message),
            "message": done["message"],
            "conversation": runner.summary(owner, turn.conversation_id),
        }
    )
