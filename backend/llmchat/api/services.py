"""The objects one app instance works with, kept in `app.extensions` (no module-level state)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import BadRequest

from llmchat.api.callers import CallerResolver, current_caller
from llmchat.api.config import AppConfig
from llmchat.api.errors import ApiError
from llmchat.api.jobs import ReplyJobs
from llmchat.api.reply_stream import ReplyFollower
from llmchat.api.routing import Router
from llmchat.api.schemas import RequestSchemas
from llmchat.api.turn_builder import TurnBuilder
from llmchat.api.turn_runner import TurnRunner
from llmchat.store import AccountStore, ChatStore, Database, FeedbackStore, KeyStore, UsageStore

EXTENSION = "llmchat"


@dataclass
class Services:
    config: AppConfig
    database: Database
    store: ChatStore
    feedback: FeedbackStore
    router: Router
    turns: TurnBuilder
    runner: TurnRunner
    jobs: ReplyJobs
    follower: ReplyFollower
    schemas: RequestSchemas
    accounts: AccountStore
    keys: KeyStore
    usage: UsageStore
    callers: CallerResolver


def services() -> Services:
    return current_app.extensions[EXTENSION]


def caller() -> str:
    """The caller's identity (`ip:...` or `user:...`), resolved before the route runs (callers.install_callers):
    whatever the route reads or writes belongs to it."""
    return current_caller().identity


def json_body(optional: bool = False) -> dict[str, Any]:
    """The parsed JSON object; malformed JSON or a non-object is a 400 naming the problem. A body that is not
    `application/json` never gets here (415, security.install_security)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    try:
        body = request.get_json(silent=False)
    except BadRequest as exc:  # werkzeug's, with an HTML message
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    return body


def check_message(message: str) -> str:
    limit = services().config.limits.max_message_chars
    if not message.strip():
        raise ApiError(400, "empty_message", "message must not be empty", field="message")
    if len(message) > limit:
        raise ApiError(
            413, "message_too_large", f"message has {len(message)} characters; the limit is {limit}", field="message"
        )
    return message.strip()
