"""What every request passes before it reaches a route: the optional API key, JSON only, and a size limit.

A raw ASGI middleware, so a body over the limit is refused while it arrives (never held whole in memory) and a
route never sees a request it should not.
"""

from __future__ import annotations

import hmac
import json
import logging

from llmchat.worker.errors import ApiError

log = logging.getLogger("llmchat.worker")
OPEN_PATHS = ("/health",)  # load balancers and the chat API's router probe it without a key


class BodyTooLarge(Exception):
    pass


class RequestGuard:
    def __init__(self, app, *, max_body_bytes: int, api_key: str | None):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.api_key = api_key

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        problem = self._refusal(scope, headers)
        if problem is not None:
            log.warning(
                "refused %s %s from %s: %s",
                scope["method"],
                scope["path"],
                (scope.get("client") or ("?",))[0],
                problem.message,
            )
            return await _send_error(send, problem)
        await self.app(scope, self._limited(receive), send)

    def _refusal(self, scope, headers: dict[str, str]) -> ApiError | None:
        if self.api_key and scope["path"] not in OPEN_PATHS:
            given = headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode()):
                return ApiError(
                    401,
                    "a valid API key is required (Authorization: Bearer <key>)",
                    type_="authentication_error",
                    code="invalid_api_key",
                )
        if scope["method"] == "POST":
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                # a form or text/plain body is what a web page can send cross-site without asking: refused
                return ApiError(
                    415,
                    f"the body must be application/json, not {media_type or 'unspecified'}",
                    code="unsupported_media_type",
                )
            length = headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                return _too_large(self.max_body_bytes)
        return None

    def _limited(self, receive):
        """`receive` that stops a body growing past the limit (for chunked bodies without a Content-Length)."""
        seen = 0

        async def receive_limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        return receive_limited


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"the request body is larger than {limit} bytes", code="request_too_large")


async def _send_error(send, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if error.status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
