"""The SSE answer of POST /api/chat and /regenerate (stream: true).

Events: `start` {conversation_id, user_message}, `delta` {content} many times, then `done` {conversation_id,
message} or `error` {error, conversation_id, message|null}. Whatever happens, the reply text produced so far
is saved: `complete`, `error` (the server died mid-reply) or `stopped` (the browser went away; the server's
request is closed so it stops generating).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from llmchat.api.chat_service import ChatService, Prepared
from llmchat.api.errors import error_body
from llmchat.api.serializers import message_json
from llmchat.modelclient import WorkerRejected, WorkerStream, WorkerUnavailable
from llmchat.prompts import StreamCutter

log = logging.getLogger(__name__)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _error_event(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, WorkerUnavailable):
        return error_body("worker_unavailable", f"the model server failed mid-reply: {exc}")
    if isinstance(exc, WorkerRejected):
        return error_body("worker_rejected", f"the model server refused: {exc.message}")
    return error_body("internal_error", f"internal error: {type(exc).__name__}")


def stream_reply(service: ChatService, prepared: Prepared, worker: WorkerStream, started: float) -> Iterator[str]:
    cutter = StreamCutter(prepared.prompt.stop)
    status, failure, reply = "error", None, None
    try:
        yield sse("start", {"conversation_id": prepared.conversation_id,
                            "user_message": message_json(prepared.user_message)})
        with service.router.using(prepared.endpoint):
            for piece in worker.pieces():
                text = cutter.feed(piece)
                if text:
                    yield sse("delta", {"content": text})
                if cutter.stopped:
                    break  # a server that ignores `stop` babbles on: the cut ends the reply here
        rest = cutter.finish()
        if rest:
            yield sse("delta", {"content": rest})
        status = "complete"
    except GeneratorExit:
        status = "stopped"  # the client disconnected: the `finally` below still saves
        raise
    except Exception as exc:  # noqa: BLE001 - any failure becomes an `error` event, never a dead process
        if not isinstance(exc, (WorkerUnavailable, WorkerRejected)):
            log.exception("stream failed")
        failure = exc
    finally:
        worker.close()
        if failure is not None:
            service.router.forget_health(prepared.endpoint)
        reply = _save(service, prepared, cutter.text, status, started, worker)
    if failure is None:
        yield sse("done", {"conversation_id": prepared.conversation_id, "message": message_json(reply)})
    else:
        yield sse("error", {**_error_event(failure), "conversation_id": prepared.conversation_id,
                            "message": message_json(reply) if reply else None})


def _save(service: ChatService, prepared: Prepared, text: str, status: str, started: float, worker: WorkerStream):
    try:
        return service.save_reply(prepared, text, status, started, worker.state.prompt_tokens,
                                  worker.state.completion_tokens if status == "complete" else None)
    except Exception:  # noqa: BLE001 - a failed save must not hide the stream's own outcome
        log.exception("could not save the reply of conversation %s", prepared.conversation_id)
        return None
