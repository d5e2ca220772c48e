"""The OpenAI-compatible HTTP API (FastAPI): /health, /v1/models, /v1/completions, /v1/chat/completions, /tokenize."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from llmchat.worker import responses
from llmchat.worker.engine import QueueFull
from llmchat.worker.params import ApiError, generation_fields, messages_field, model_field, prompt_field
from llmchat.worker.pool import ModelPool, Target
from llmchat.worker.registry import Registry
from llmchat.worker.sampling import SamplingParams
from llmchat.worker.sequence import GenerationRequest
from llmchat.worker.specs import UnknownModelError, spec_summary
from llmchat.worker.stream import EventStream

log = logging.getLogger("llmchat.worker")
RETRY_AFTER_S = "1"


async def _json_body(request: Request):
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays or objects nested too deep
        raise ApiError(400, f"the request body is not valid JSON: {exc}", code="invalid_json") from exc


async def _target(pool: ModelPool, model_id: str) -> Target:
    try:
        return await run_in_threadpool(pool.target, model_id)
    except UnknownModelError as exc:
        raise ApiError(404, str(exc), param="model", code="model_not_found", type_="not_found_error") from exc


def _encode_prompt_sync(target: Target, prompt: str) -> list[int]:
    with target.engine.encode_lock:
        return list(target.engine.tokenizer(prompt, add_special_tokens=True)["input_ids"])


def _template_flags(body: dict, messages: list[dict[str, str]]) -> dict[str, bool]:
    """vLLM's chat-template switches: `continue_final_message: true` (with `add_generation_prompt: false`) renders
    the last assistant message open, so the model extends it instead of starting a new turn (Continue)."""
    flags = {}
    for name, default in (("add_generation_prompt", True), ("continue_final_message", False)):
        value = body.get(name, default)
        if not isinstance(value, bool):
            raise ApiError(400, f"{name}: must be true or false", param=name, code="invalid_value")
        flags[name] = value
    if flags["continue_final_message"]:
        if flags["add_generation_prompt"] and "add_generation_prompt" in body:
            raise ApiError(400, "continue_final_message and add_generation_prompt cannot both be true",
                           param="continue_final_message", code="invalid_value")
        flags["add_generation_prompt"] = False
        if messages[-1]["role"] != "assistant":
            raise ApiError(400, "continue_final_message: the last message must be the assistant's",
                           param="messages", code="invalid_value")
    return flags


def _render_chat_sync(target: Target, messages: list[dict[str, str]], flags: dict[str, bool]) -> list[int]:
    tokenizer = target.engine.tokenizer
    if not getattr(tokenizer, "chat_template", None):
        raise ApiError(400, f"model {target.spec.id!r} has no chat template; use /v1/completions", param="model",
                       code="no_chat_template")
    with target.engine.encode_lock:
        try:
            text = tokenizer.apply_chat_template(messages, tokenize=False, **flags)
        except Exception as exc:  # a template may reject a role order (e.g. two user turns)
            raise ApiError(400, f"the chat template rejected the messages: {exc}", param="messages") from exc
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])


async def _encode_prompt(target: Target, prompt: str) -> list[int]:
    """Tokenizing a long prompt takes seconds: off the event loop, so /health and other streams go on meanwhile."""
    return await run_in_threadpool(_encode_prompt_sync, target, prompt)


async def _render_chat(target: Target, body: dict) -> list[int]:
    messages = messages_field(body)
    return await run_in_threadpool(_render_chat_sync, target, messages, _template_flags(body, messages))


def _room(target: Target, prompt_ids: list[int], param: str) -> int:
    if not prompt_ids:  # nothing to condition on: the prefill would fail on an empty tensor
        raise ApiError(400, f"{param}: the prompt is empty (0 tokens)", param=param, code="invalid_value")
    room = target.context_length - len(prompt_ids)
    if room <= 0:
        raise ApiError(400, f"the prompt is {len(prompt_ids)} tokens but the context of model {target.spec.id!r} "
                            f"is {target.context_length} tokens", param=param, code="context_length_exceeded")
    return room


def _submit(target: Target, prompt_ids: list[int], fields, stream: EventStream):
    request = GenerationRequest(
        prompt_ids=prompt_ids,
        max_tokens=min(fields.max_tokens, _room(target, prompt_ids, "max_tokens")),
        sampling=SamplingParams(fields.temperature, fields.top_p, fields.repetition_penalty, fields.seed),
        stop=fields.stop, ignore_eos=fields.ignore_eos, adapter=target.adapter)
    try:
        return target.engine.submit(request, stream.sink)
    except QueueFull as exc:
        raise ApiError(503, f"the worker is busy ({exc}); retry shortly", type_="server_busy", code="queue_full",
                       headers={"Retry-After": RETRY_AFTER_S}) from exc


async def _generate(request: Request, pool: ModelPool, chat: bool):
    body = await _json_body(request)
    target = await _target(pool, model_field(body))
    fields = generation_fields(body, target.spec.default_params)
    if chat:
        prompt_ids = await _render_chat(target, body)
    else:
        prompt_ids = await _encode_prompt(target, prompt_field(body))
    _room(target, prompt_ids, "messages" if chat else "prompt")
    stream = EventStream()
    handle = _submit(target, prompt_ids, fields, stream)
    shape = responses.ChatShape(target.spec.id) if chat else responses.CompletionShape(target.spec.id)
    if fields.stream:
        return StreamingResponse(responses.sse(stream, handle, shape, fields.include_usage),
                                 media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    text, finished = await stream.collect(request, handle)
    return JSONResponse(shape.full(text, finished))


def create_app(registry: Registry, pool: ModelPool) -> FastAPI:
    app = FastAPI(title="llmchat worker", version="1")

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception):
        log.exception("request failed")
        return JSONResponse(ApiError(500, f"internal error: {exc}", type_="server_error").body(), status_code=500)

    @app.get("/health")
    async def health():
        return responses.health(pool)

    @app.get("/v1/models")
    async def models():
        await run_in_threadpool(registry.rescan)
        rows = [spec_summary(spec, pool.context_length(spec)) for spec in registry.specs()]
        return {"object": "list", "data": rows}

    @app.post("/v1/completions")
    async def completions(request: Request):
        return await _generate(request, pool, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        return await _generate(request, pool, chat=True)

    @app.post("/tokenize")
    async def tokenize(request: Request):
        body = await _json_body(request)
        target = await _target(pool, model_field(body))
        if "messages" in body and "prompt" not in body:
            ids = await _render_chat(target, body)
        else:
            ids = await _encode_prompt(target, prompt_field(body))
        return {"count": len(ids), "max_model_len": target.context_length, "tokens": ids}

    return app
