"""The one mapping from a failure of a reply (a model server's, the store's, a bug) to the API's error.

Every place that talks to a model server hands its failure here: the chat routes when the stream is opened, the
reply job when the stream breaks, the /v1 routes, the model list, cards and the admin's load/unload. The same
failure gets the same status and code wherever it happens:

| failure                                             | status | code                 |
|-----------------------------------------------------|--------|----------------------|
| no model server answered, a timeout, a cut stream   | 503    | `worker_unavailable` |
| the model server is still loading the model         | 503    | `model_loading`      |
| the model server does not have the model (404)      | 404    | `model_not_found`    |
| the model server refused (its status kept when it is 400, 413, 422 or 503; else 502) | | `worker_rejected` |
| the conversation was deleted while the reply was written | 404 | `not_found`          |
| anything else (a bug)                               | 500    | `internal_error`     |

Before the answer's headers are sent (the stream is opened, or the answer is JSON) that status is the HTTP
status. Once an SSE stream has started its status is 200 and cannot change: the failure is then the `error` event,
whose `error` carries the same code and, as `status`, the HTTP status it would have had.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from llmchat.api.errors import ApiError, api_error_response, error_body
from llmchat.modelclient import WorkerRejected, WorkerUnavailable
from llmchat.store import NotFound

WORKER_ERRORS = (WorkerUnavailable, WorkerRejected)
MODEL_LOADING = "model_loading"  # llmchat's worker: the model is still loading; asking again waits for it
RETRY_AFTER_S = "5"  # a model server that is down or loading: worth trying again soon
KEPT_STATUSES = (400, 413, 422, 503)  # a refusal whose status means the same to our client


class ConversationDeleted(NotFound):
    """The reply's rows are gone: its conversation was deleted while the reply was being written."""


def api_error(exc: BaseException, extra: dict[str, Any] | None = None) -> ApiError:
    """The API's error for `exc`; `extra` (what was saved: conversation_id, user_message, message) goes beside it."""
    status, code, message = _classify(exc)
    if isinstance(exc, WorkerRejected) and exc.retry_after:
        headers = {"Retry-After": exc.retry_after}
    else:
        headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else {}
    return ApiError(status, code, message, headers=headers, extra=extra)


def register_model_error_handler(app: Flask) -> None:
    """A model server's failure that a route lets through is answered with the API's error for it, so a route that
    asks a model server (catalog, cards, load/unload, /v1) needs no try/except of its own. Streamed answers, whose
    headers are already sent, turn failures into `error` events instead (error_event)."""
    for kind in WORKER_ERRORS:
        app.register_error_handler(kind, lambda exc: api_error_response(api_error(exc)))


def error_event(exc: BaseException) -> dict[str, Any]:
    """The `error` of an SSE `error` event: the same code as the HTTP answer, and its status."""
    error = api_error(exc)
    body = error_body(error.code, error.message)
    body["error"]["status"] = error.status
    return body


def from_event(data: dict[str, Any]) -> ApiError:
    """An `error` event as the HTTP error a JSON (non-streamed) answer gives for it; the event's other fields (what
    was saved) go beside the error."""
    detail = data["error"]
    status = int(detail.get("status") or 500)
    extra = {key: value for key, value in data.items() if key != "error"}
    headers = {"Retry-After": RETRY_AFTER_S} if status == 503 else {}
    return ApiError(status, detail["code"], detail["message"], headers=headers, extra=extra)


def _classify(exc: BaseException) -> tuple[int, str, str]:
    if isinstance(exc, WorkerUnavailable):
        return 503, "worker_unavailable", f"the model server is unavailable: {exc}"
    if isinstance(exc, WorkerRejected):
        if exc.code == MODEL_LOADING:
            return 503, MODEL_LOADING, f"the model server is still loading the model: {exc.message}"
        if exc.status == 404:
            return 404, "model_not_found", f"the model server does not have this model: {exc.message}"
        status = exc.status if exc.status in KEPT_STATUSES else 502
        return status, "worker_rejected", f"the model server refused: {exc.message}"
    if isinstance(exc, NotFound):
        return 404, "not_found", "the conversation was deleted while the reply was being written"
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    return 500, "internal_error", f"internal error: {type(exc).__name__}"
