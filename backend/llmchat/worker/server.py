"""The OpenAI-compatible HTTP API (FastAPI): /health, /v1/models, /v1/completions, /v1/chat/completions, /tokenize,
and llmchat's own /v1/models/{id}/card."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from llmchat.models import cards
from llmchat.models.specs import UnknownModelError, spec_summary
from llmchat.worker import metrics, responses
from llmchat.worker.engines import QueueFull
from llmchat.worker.engines.base import GenerationRequest, SamplingParams
from llmchat.worker.errors import ApiError, busy
from llmchat.worker.guards import BodyTooLarge, RequestGuard
from llmchat.worker.pool import ModelPool, Target
from llmchat.worker.schemas import ChatBody, CompletionBody, GenerationBody, TokenizeBody, parse
from llmchat.worker.stream import EventStream
from llmchat.worker.tokenizing import Tokenizing

log = logging.getLogger("llmchat.worker")


async def _json_body(request: Request):
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError) as exc:  # RecursionError: arrays or objects nested too deep
        raise ApiError(400, f"the request body is not valid JSON: {exc}", code="invalid_json") from exc


async def _spec(registry, model_id: str):
    try:
        return await run_in_threadpool(registry.get_or_rescan, model_id)
    except UnknownModelError as exc:
        raise ApiError(404, str(exc), param="model", code="model_not_found", type_="not_found_error") from exc


async def _target(pool: ModelPool, model_id: str) -> Target:
    try:
        return await run_in_threadpool(pool.target, model_id)
    except UnknownModelError as exc:
        raise ApiError(404, str(exc), param="model", code="model_not_found", type_="not_found_error") from exc


def _room(target: Target, prompt_ids: list[int], param: str) -> int:
    if not prompt_ids:  # nothing to condition on: the prefill would fail on an empty tensor
        raise ApiError(400, f"{param}: the prompt is empty (0 tokens)", param=param, code="invalid_value")
    room = target.context_length - len(prompt_ids)
    if room <= 0:
        raise ApiError(
            400,
            f"the prompt is {len(prompt_ids)} tokens but the context of model {target.spec.id!r} "
            f"is {target.context_length} tokens",
            param=param,
            code="context_length_exceeded",
        )
    return room


def _generation_request(target: Target, prompt_ids: list[int], body: GenerationBody, param: str) -> GenerationRequest:
    """The request's sampling fields over the model's defaults, its token limit cut to the room left in context."""
    defaults = target.spec.default_params
    limit = body.token_limit or defaults.max_tokens
    return GenerationRequest(
        prompt_ids=prompt_ids,
        max_tokens=min(limit, _room(target, prompt_ids, param)),
        sampling=SamplingParams(
            temperature=defaults.temperature if body.temperature is None else body.temperature,
            top_p=defaults.top_p if body.top_p is None else body.top_p,
            repetition_penalty=(
                defaults.repetition_penalty if body.repetition_penalty is None else body.repetition_penalty
            ),
            seed=body.seed,
        ),
        stop=body.stops,
        ignore_eos=body.ignore_eos,
        adapter=target.adapter,
    )


def _submit(target: Target, request: GenerationRequest, sink):
    try:
        return target.engine.submit(request, sink)
    except QueueFull as exc:
        raise busy(f"the worker is busy ({exc}); retry shortly", "queue_full") from exc


async def _generate(request: Request, pool: ModelPool, tokenizing: Tokenizing, chat: bool):
    raw = await _json_body(request)
    body = parse(ChatBody if chat else CompletionBody, raw)
    target = await _target(pool, body.model)
    if chat:
        prompt_ids = await tokenizing.chat(
            target,
            [m.as_template_input() for m in body.messages],
            add_generation_prompt=body.add_generation_prompt,
            continue_final=body.continue_final_message,
        )
    else:
        prompt_ids = await tokenizing.prompt(target, body.text)
    generation = _generation_request(target, prompt_ids, body, "messages" if chat else "prompt")
    stream = EventStream()
    handle = _submit(target, generation, request.app.state.metrics.track(target.spec.id, stream.sink))
    shape = responses.ChatShape(target.spec.id) if chat else responses.CompletionShape(target.spec.id)
    if body.stream:
        return StreamingResponse(
            responses.sse(stream, handle, shape, body.include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    text, finished = await stream.collect(request, handle)
    return JSONResponse(shape.full(text, finished))


def create_app(pool: ModelPool) -> FastAPI:
    settings = pool.settings
    registry = pool.registry
    tokenizing = Tokenizing(settings.max_tokenize_backlog_chars)
    app = FastAPI(title="llmchat worker", version="1")
    metrics.install(app, pool)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError):
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(BodyTooLarge)
    async def too_large(_request: Request, _exc: BodyTooLarge):
        error = ApiError(
            413, f"the request body is larger than {settings.max_body_bytes} bytes", code="request_too_large"
        )
        return JSONResponse(error.body(), status_code=413)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # the details go to the log, not to the client: an exception text can tell paths and internals
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse(
            ApiError(500, "internal error (see the worker's log)", type_="server_error").body(), status_code=500
        )

    @app.get("/health")
    async def health():
        return responses.health(pool)

    @app.get("/v1/models")
    async def models():
        await run_in_threadpool(registry.rescan)
        rows = [spec_summary(spec, pool.context_length(spec), pool.engine_kind(spec)) for spec in registry.specs()]
        return {"object": "list", "data": rows}

    @app.get("/v1/models/{model_id:path}/card")
    async def model_card(model_id: str):
        """What the model is and, for a fine-tuning run, its recipe, loss curve and last evaluation (the chat API
        shows it; it reads the worker's disk only through this route)."""
        spec = await _spec(registry, model_id)
        return await run_in_threadpool(cards.model_card, spec, pool.context_length(spec), pool.engine_kind(spec))

    @app.post("/v1/completions")
    async def completions(request: Request):
        return await _generate(request, pool, tokenizing, chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        return await _generate(request, pool, tokenizing, chat=True)

    @app.post("/tokenize")
    async def tokenize(request: Request):
        body = parse(TokenizeBody, await _json_body(request))
        target = await _target(pool, body.model)
        if body.messages is not None and body.prompt is None:
            ids = await tokenizing.chat(
                target,
                [m.as_template_input() for m in body.messages],
                add_generation_prompt=body.add_generation_prompt,
                continue_final=body.continue_final_message,
            )
        else:
            ids = await tokenizing.prompt(target, body.prompt)
        return {"count": len(ids), "max_model_len": target.context_length, "tokens": ids}

    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, api_key=settings.api_key)
    return app
