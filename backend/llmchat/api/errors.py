"""Every error is JSON: `{"error": {"message", "code", "field"?}}`, Flask's own 404/405/413/500 included."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from llmchat.api.identity import ENVIRON_KEY
from llmchat.store import NotFound

log = logging.getLogger(__name__)
# one line per refused request (who, what, why): hosts, origins, media types, rate limits, generation caps
refusals = logging.getLogger("llmchat.api.refused")
REFUSED_KEY = "llmchat.refused"  # the refusal's code, in the WSGI environ, for the metrics (api/metrics.py)


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra or {}


class Refused(ApiError):
    """A request turned away to protect the service or its users; logged, unlike an ordinary 4xx."""


def log_refusal(status: int, code: str, message: str) -> None:
    who = request.environ.get(ENVIRON_KEY) or request.remote_addr or "-"
    request.environ[REFUSED_KEY] = code
    refusals.warning("refused %s %s %s: %s %s (%s)", who, request.method, request.path[:200], status, code, message)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "code": code}
    if field:
        error["field"] = field
    return {"error": error}


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def api_error_response(exc: ApiError):
    if isinstance(exc, Refused):
        log_refusal(exc.status, exc.code, exc.message)
    response = jsonify({**error_body(exc.code, exc.message, exc.field), **exc.extra})
    response.status_code = exc.status
    response.headers.update(exc.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, api_error_response)

    @app.errorhandler(NotFound)
    def gone(_exc: NotFound):
        # deleted while this request worked on it (another tab): what the caller would have got a moment later
        response = jsonify(error_body("not_found", "conversation not found"))
        response.status_code = 404
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = jsonify(error_body(_http_code(exc), exc.description or exc.name))
        if exc.code == 413:  # a body over MAX_CONTENT_LENGTH: turned away like the refusals above
            log_refusal(413, _http_code(exc), exc.description or exc.name)
        response.status_code = exc.code or 500
        if exc.code == 405 and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # the process never dies on a request: log it, answer 500
        log.exception("unhandled error")
        response = jsonify(error_body("internal_error", f"internal error: {type(exc).__name__}"))
        response.status_code = 500
        return response
