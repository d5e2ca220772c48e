"""The generating routes: POST /api/chat, /api/conversations/<id>/regenerate, /api/messages/<id>/continue; and a
reply's own: GET /api/messages/<id>/stream (follow it, from an offset) and POST /api/messages/<id>/stop.

The path of a message, straight down: the route builds a ChatTurn from one read of the conversation
(api/turn_builder.py), the turn runner opens the model server's stream through the router (api/turn_runner.py,
api/routing.py: failover; a refusal is this request's HTTP answer, api/model_errors.py), the reply becomes a job
(api/jobs.py) whose outcome the store saves (store/replies.py), and this request follows the job's events like any
other client (api/reply_stream.py): as SSE, or, once the reply is done, as JSON.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from llmchat.api.errors import ApiError
from llmchat.api.limits import generation, take_slot
from llmchat.api.model_errors import WORKER_ERRORS, api_error, from_event
from llmchat.api.owned import owned_message
from llmchat.api.reply_stream import collect, past_shown, sse_frames
from llmchat.api.schemas import validate
from llmchat.api.serializers import conversation_summary, message_json
from llmchat.api.services import Services, caller, check_message, json_body, services
from llmchat.api.turn import ChatTurn
from llmchat.api.turn_builder import saved

STOP_WAIT_S = 5.0  # how long Stop waits for the job to save the stopped reply before answering 202
MAX_EVENT_ID = 2**63 - 1

bp = Blueprint("chat", __name__, url_prefix="/api")


@bp.post("/chat")
@generation
def chat():
    app = services()
    owner = caller()
    body = validate(app.schemas.chat, json_body())
    turn = app.turns.message_turn(owner, body, check_message(body.message))
    return run_turn(app, owner, turn, body.stream)


@bp.post("/conversations/<conversation_id>/regenerate")
@generation
def regenerate(conversation_id: str):
    app = services()
    owner = caller()
    body = validate(app.schemas.regenerate, json_body(optional=True))
    return run_turn(app, owner, app.turns.regenerate_turn(owner, conversation_id, body), body.stream)


@bp.post("/messages/<int:message_id>/continue")
@generation
def continue_reply(message_id: int):
    app = services()
    owner = caller()
    body = validate(app.schemas.continue_, json_body(optional=True))
    return run_turn(app, owner, app.turns.continue_turn(owner, message_id, body), body.stream)


def run_turn(app: Services, owner: str, turn: ChatTurn, stream: bool):
    """Start the generation of `turn` as a job and answer with its events (SSE) or its outcome (JSON)."""
    turn.owner = owner
    try:
        worker = app.runner.open(turn)
    except WORKER_ERRORS as exc:
        raise api_error(exc, saved(turn.conversation_id, turn.user_message)) from exc
    app.jobs.start(turn, worker, take_slot())
    events = app.follower.follow(owner, turn.reply)
    if stream:
        return sse_response(events)
    return json_outcome(app, owner, turn, collect(events))


@bp.get("/messages/<int:message_id>/stream")
def follow_reply(message_id: int):
    """A reply's events as SSE from the start, or after the event id in `Last-Event-ID` (or `?after=`), or past the
    first `?shown=` characters of its text: a page that was reloaded or lost its connection re-attaches here without
    replaying what it shows; a finished reply is one `done`."""
    app = services()
    owner = caller()
    reply = owned_message(app.store, owner, message_id)
    if reply.role != "assistant":
        raise ApiError(400, "not_a_reply", "only a reply has a stream; this is a user message")
    after, shown = event_offset(), shown_chars()
    if after and shown:
        raise ApiError(400, "invalid_field", "shown: give an event id or the characters shown, not both", field="shown")
    events = app.follower.follow(owner, reply, after=after)
    return sse_response(past_shown(events, shown) if shown else events)


@bp.post("/messages/<int:message_id>/stop")
def stop_reply(message_id: int):
    """Stop a reply being generated, whichever API process runs it: 200 with the saved reply (`stopped`, or as it
    was when it had already ended), 202 with it still `streaming` when the job has not wound down within
    STOP_WAIT_S (its stream ends with `done` as soon as it has)."""
    app = services()
    owner = caller()
    reply = owned_message(app.store, owner, message_id)
    if reply.role != "assistant":
        raise ApiError(400, "not_a_reply", "only a reply can be stopped; this is a user message")
    if app.jobs.stop(message_id):
        deadline = time.monotonic() + STOP_WAIT_S
        while reply.status == "streaming" and time.monotonic() < deadline:
            time.sleep(app.config.replies.event_flush_s)
            reply = owned_message(app.store, owner, message_id)
    return jsonify({"message": message_json(reply)}), 202 if reply.status == "streaming" else 200


def event_offset() -> int:
    """The last event id the client has: `Last-Event-ID` (what a browser's EventSource sends) or `?after=`."""
    raw = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    field = "Last-Event-ID" if request.headers.get("Last-Event-ID") else "after"
    if not raw.isdigit() or int(raw) > MAX_EVENT_ID:
        raise ApiError(400, "invalid_field", f"{field}: an event id (a whole number) is expected", field=field)
    return int(raw)


def shown_chars() -> int:
    """`?shown=N`: the page shows the reply's first N characters (Unicode code points) already."""
    raw = request.args.get("shown") or "0"
    if not raw.isdigit() or int(raw) > MAX_EVENT_ID:
        raise ApiError(
            400, "invalid_field", "shown: a number of characters (a whole number) is expected", field="shown"
        )
    return int(raw)


def sse_response(events) -> Response:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(sse_frames(events), mimetype="text/event-stream", headers=headers)


def json_outcome(app: Services, owner: str, turn: ChatTurn, last: dict[str, dict]):
    """The non-streamed answer: the saved reply (and user message), or the error with what was saved."""
    if "error" in last:
        error = from_event(last["error"])
        if turn.kind != "continue" and turn.user_message is not None:
            error.extra["user_message"] = message_json(turn.user_message)
        raise error
    done = last["done"]
    if turn.kind == "continue":
        return jsonify({"conversation_id": turn.conversation_id, "message": done["message"]})
    summary = app.store.get_conversation(owner, turn.conversation_id)
    return jsonify(
        {
            "conversation_id": turn.conversation_id,
            # the job saved the user message's outcome with the reply and set it on the turn
            "user_message": message_json(turn.user_message),
            "message": done["message"],
            "conversation": conversation_summary(summary) if summary else None,
        }
    )
