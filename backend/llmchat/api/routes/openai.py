"""The OpenAI API on the chat server's own port: GET /v1/models and POST /v1/chat/completions.

A stateless pass-through to the model servers: nothing is stored as a conversation, but the request goes by the
caller's identity (a personal API key; in ip mode the address will do), its rate limit, generation slots and
token quota, over the same routing as the chat (the least busy live server of the model), and its tokens are
recorded as usage. A streamed answer is the server's SSE as it is (`data: {...}` ... `data: [DONE]`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from flask import Blueprint, Response, jsonify

from llmchat.api.callers import current_caller, unauthenticated
from llmchat.api.errors import ApiError
from llmchat.api.limits import generation
from llmchat.api.model_errors import error_event
from llmchat.api.routing import ModelInfo
from llmchat.api.schemas import validate
from llmchat.api.services import Services, json_body, services
from llmchat.api.team_schemas import OpenAIChatRequest
from llmchat.api.tokens import estimate_tokens
from llmchat.modelclient import Endpoint, WorkerUnavailable

log = logging.getLogger(__name__)
bp = Blueprint("openai", __name__, url_prefix="/v1")
COMPLETIONS = "/v1/chat/completions"


@bp.before_request
def key_required():
    """Beyond ip mode a request must bring a personal key: a browser's cookie is not accepted here."""
    if services().config.identity != "ip" and not current_caller().by_key:
        raise unauthenticated("send a personal API key: Authorization: Bearer llmc-...")


@bp.get("/models")
def list_models():
    app = services()
    catalog = _catalog(app)
    created = int(time.time())
    return jsonify(
        {
            "object": "list",
            "data": [
                {"id": info.id, "object": "model", "created": created, "owned_by": "llmchat", "kind": info.kind}
                for info in catalog.values()
            ],
        }
    )


@bp.post("/chat/completions")
@generation
def chat_completions():
    app = services()
    raw = json_body()
    body = validate(OpenAIChatRequest, raw)
    info = _catalog(app).get(body.model)
    if info is None:
        raise ApiError(404, "model_not_found", f"the model {body.model!r} does not exist", field="model")
    payload = {**info.extra_body, **raw, "max_tokens": _max_tokens(app, info, body)}
    payload.pop("max_completion_tokens", None)
    identity = current_caller().identity
    if body.stream:
        asked_usage = bool((raw.get("stream_options") or {}).get("include_usage"))
        payload["stream_options"] = {**(raw.get("stream_options") or {}), "include_usage": True}
        endpoint, upstream = _send(app, info, lambda e: app.router.client.open_relay(e, COMPLETIONS, payload))
        recorder = _usage_recorder(app, identity, info, raw)
        relayed = _relay(upstream, asked_usage, recorder, lambda: app.router.forget_health(endpoint))
        return Response(relayed, mimetype="text/event-stream", headers={"Cache-Control": "no-cache"})
    _, answer = _send(app, info, lambda e: app.router.client.relay(e, COMPLETIONS, payload))
    usage = answer.get("usage") or {}
    _usage_recorder(app, identity, info, raw)(usage, _answer_text(answer))
    return jsonify(answer)


def _catalog(app: Services) -> dict[str, ModelInfo]:
    return app.router.catalog()


def _max_tokens(app: Services, info: ModelInfo, body: OpenAIChatRequest) -> int:
    """The request's (max_tokens or max_completion_tokens), else the model's default; never over limits.max_tokens."""
    asked = body.max_tokens or body.max_completion_tokens
    ceiling = app.config.limits.max_tokens
    if asked is not None and asked > ceiling:
        field = "max_tokens" if body.max_tokens else "max_completion_tokens"
        raise ApiError(400, "invalid_field", f"{field}: at most {ceiling} on this server", field=field)
    return asked or min(int(info.default_params.get("max_tokens") or ceiling), ceiling)


def _send(app: Services, info: ModelInfo, call: Callable[[Endpoint], Any]) -> tuple[Endpoint, Any]:
    """`call(endpoint)` through the router (the least busy live server, failover, a busy one asked again); a
    failure is the API's error for it (api/model_errors.py)."""
    return app.router.call(info, call)


def _answer_text(answer: dict[str, Any]) -> str:
    choices = answer.get("choices") or [{}]
    return str((choices[0].get("message") or {}).get("content") or "")


def _usage_recorder(app: Services, identity: str, info: ModelInfo, raw: dict[str, Any]):
    """Records one request's tokens: the server's counts, or, when it reported none (a cut stream), an estimate."""

    def record(usage: dict[str, Any], text: str) -> None:
        prompt = usage.get("prompt_tokens")
        completion = usage.get("completion_tokens")
        if prompt is None:
            prompt = estimate_tokens(json.dumps(raw.get("messages"), ensure_ascii=False))
        if completion is None:
            completion = estimate_tokens(text) if text else 0
        try:
            app.usage.record(identity, info.id, int(prompt), int(completion))
        except Exception:
            log.exception("could not record the usage of %s", identity)

    return record


def _relay(
    upstream: httpx.Response,
    asked_usage: bool,
    record: Callable[[dict[str, Any], str], None],
    on_failure: Callable[[], None],
) -> Iterator[str]:
    """The server's SSE events as they come; its usage chunk is read (and passed on only if the client asked).
    The client going away closes the server's request, so it stops generating."""
    usage: dict[str, Any] = {}
    text: list[str] = []
    try:
        for line in upstream.iter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            chunk = json.loads(data)
            choices = chunk.get("choices") or []
            if choices:
                text.append(str((choices[0].get("delta") or {}).get("content") or ""))
            if "usage" in chunk and not asked_usage:
                # we asked for the counts on the client's behalf: they are ours, not passed on
                usage = chunk.pop("usage") or usage
                if not choices:
                    continue
                data = json.dumps(chunk, ensure_ascii=False)
            usage = chunk.get("usage") or usage
            yield f"data: {data}\n\n"
        yield "data: [DONE]\n\n"
    except (httpx.HTTPError, json.JSONDecodeError) as exc:
        on_failure()
        error = error_event(WorkerUnavailable(f"the model server stopped mid-reply: {exc}"))
        yield f"data: {json.dumps(error)}\n\n"
    finally:
        upstream.close()
        record(usage, "".join(text))
