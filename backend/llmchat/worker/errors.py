"""Errors in OpenAI's shape: {"error": {"message", "type", "code", "param"}} with an HTTP status."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        type_: str = "invalid_request_error",
        code: str | int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.type, self.code = status, message, param, type_, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}


RETRY_AFTER_S = "1"  # a refusal for being busy passes in a moment: a queue place or the tokenizer frees up


def busy(message: str, code: str) -> ApiError:
    """503 `server_busy` with Retry-After: the request was fine, the worker is full right now."""
    return ApiError(503, message, type_="server_busy", code=code, headers={"Retry-After": RETRY_AFTER_S})
