"""Every error is JSON: `{"error": {"message", "code", "field"?}}`, Flask's own 404/405/413/500 included."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from llmchat.store import NotFound

log = logging.getLogger(__name__)


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


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "code": code}
    if field:
        error["field"] = field
    return {"error": error}


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        response = jsonify({**error_body(exc.code, exc.message, exc.field), **exc.extra})
        response.status_code = exc.status
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(NotFound)
    def gone(_exc: NotFound):
        # deleted while this request worked on it (another tab): what the caller would have got a moment later
        response = jsonify(error_body("not_found", "conversation not found"))
        response.status_code = 404
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = jsonify(error_body(_http_code(exc), exc.description or exc.name))
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
