"""The objects one app instance works with, kept in `app.extensions` (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from llmchat.api.chat_service import ChatService
from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.identity import Network, client_ip
from llmchat.api.ratelimit import RateLimiter
from llmchat.api.routing import Router
from llmchat.api.schemas import RequestSchemas
from llmchat.api.turn_runner import TurnRunner
from llmchat.store import ChatStore, Database

EXTENSION = "llmchat"


@dataclass
class Services:
    config: AppConfig
    database: Database
    store: ChatStore
    router: Router
    chat: ChatService
    runner: TurnRunner
    schemas: RequestSchemas
    limiter: RateLimiter
    trusted_proxies: tuple[Network, ...]


def services() -> Services:
    return current_app.extensions[EXTENSION]


def caller_ip() -> str:
    return client_ip(request.remote_addr, request.headers.get("X-Forwarded-For"), services().trusted_proxies)


def check_rate(ip: str) -> None:
    wait = services().limiter.check(ip)
    if wait:
        limits = services().config.limits
        raise ApiError(
            429, "rate_limited",
            f"too many requests: at most {limits.rate_limit_requests} per {limits.rate_limit_window_s:g} s; "
            f"retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def json_body(optional: bool = False) -> dict[str, Any]:
    """The parsed JSON object; malformed JSON or a non-object is a 400 naming the problem."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    try:
        body = request.get_json(force=True, silent=False)
    except Exception as exc:  # noqa: BLE001 - werkzeug raises BadRequest with an HTML message
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    return body


def check_message(message: str) -> str:
    limit = services().config.limits.max_message_chars
    if not message.strip():
        raise ApiError(400, "empty_message", "message must not be empty", field="message")
    if len(message) > limit:
        raise ApiError(413, "message_too_large", f"message has {len(message)} characters; the limit is {limit}",
                       field="message")
    return message.strip()
