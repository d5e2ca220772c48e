"""The OpenAI-compatible HTTP API (FastAPI): /health, /v1/models, /v1/completions, /v1/chat/completions, /tokenize,
and llmchat's own /v1/models/{id}/card and /v1/models/{id}/load|unload."""

from __future__ import annotations

import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from llmchat.models import cards
from llmchat.models.gguf_file import UnservableGGUF
from llmchat.models.specs import SourceUnavailable, UnknownModelError, spec_summary
from llmchat.worker import metrics, responses
from llmchat.worker.engines import QueueFull
from llmchat.worker.engines.base import GenerationHandle, GenerationRequest, SamplingParams
from llmchat.worker.errors import ApiError, busy
from llmchat.worker.guards import BodyTooLarge, RequestGuard
from llmchat.worker.pool import ModelBusy, ModelLoadFailed, ModelLoading, ModelPool, Target
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


async def _loading(call, *args):
    """`call(*args)` off the event loop, with the pool's refusals as HTTP errors: an unknown model is a 404, one still
    loading after `load_timeout_s` a 503 with Retry-After (the load goes on), a failed load a 500 that says so."""
    try:
        return await run_in_threadpool(call, *args)
    except UnknownModelError as exc:
        raise ApiError(404, str(exc), param="model", code="model_not_found", type_="not_found_error") from exc
    except SourceUnavailable as exc:  # e.g. an hf: model never pulled on an offline machine: say how to fix it
        raise ApiError(
            503, f"model {args[0]!r}: {exc}", param="model", code="model_unavailable", type_="server_error"
        ) from exc
    except UnservableGGUF as exc:  # a GGUF of an architecture nothing here reads: the request cannot succeed
        raise ApiError(400, f"model {args[0]!r}: {exc}", param="model", code="model_not_servable") from exc
    except ModelLoading as exc:
        raise busy(str(exc), "model_loading") from exc
    except ModelLoadFailed as exc:
        raise ApiError(500, str(exc), type_="server_error", code="model_load_failed") from exc


async def _target(pool: ModelPool, model_id: str) -> Target:
    return await _loading(pool.target, model_id)


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
    if body.logprob_count is not None and not target.engine.can_score:
        raise ApiError(
            400,
            f"model {target.spec.id!r}: the {target.engine.kind} engine reads this .gguf file directly and cannot score "
            "tokens (logprobs, echo); serve an HF folder or an export of it, or use engine: transformers",
            param="logprobs",
            code="logprobs_unsupported",
        )
    defaults = target.spec.default_params
    limit = defaults.max_tokens if body.token_limit is None else body.token_limit
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
        logprobs=body.logprob_count,
        echo=body.echo_prompt and body.logprob_count is not None,  # echo without logprobs needs no scoring
    )


def _submit(target: Target, request: GenerationRequest, sink, handle: GenerationHandle):
    """Queue the request; its lease on the engine is released with its final event."""
    try:
        return target.engine.submit(request, target.lease.releasing(sink), handle)
    except QueueFull as exc:
        raise busy(f"the worker is busy ({exc}); retry shortly", "queue_full") from exc


async def _prompt_ids(tokenizing: Tokenizing, target: Target, body: GenerationBody, chat: bool) -> list[int]:
    if chat:
        return await tokenizing.chat(
            target,
            [m.as_template_input() for m in body.messages],
            add_generation_prompt=body.add_generation_prompt,
            continue_final=body.continue_final_message,
        )
    if body.token_ids is not None:
        return await tokenizing.token_ids(target, body.token_ids)
    return await tokenizing.prompt(target, body.text)


async def _generate(request: Request, pool: ModelPool, tokenizing: Tokenizing, chat: bool):
    arrived = time.perf_counter()  # the queue time counts from here: model load, lease, tokenizing, engine queue
    raw = await _json_body(request)
    body = parse(ChatBody if chat else CompletionBody, raw)
    target = await _target(pool, body.model)
    try:
        prompt_ids = await _prompt_ids(tokenizing, target, body, chat)
        generation = _generation_request(target, prompt_ids, body, "messages" if chat else "prompt")
        if chat:
            shape = responses.ChatShape(target.spec.id, generation.logprobs)
        else:
            echo = (
                (body.text if body.token_ids is None else await tokenizing.text_of(target, prompt_ids))
                if body.echo
                else None
            )
            shape = responses.CompletionShape(target.spec.id, generation.logprobs, echo, scored=generation.echo)
        stream = EventStream()
        handle = GenerationHandle()
        timed = request.app.state.metrics.track(target.spec.id, stream.sink, arrived, handle)
        _submit(target, generation, timed, handle)
    except BaseException:  # refused before it reached the engine: the engine may be unloaded again
        target.lease.release()
        raise
    if body.stream:
        return StreamingResponse(
            responses.sse(stream, handle, shape, body.include_usage),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    return JSONResponse(shape.full(await stream.collect(request, handle)))


def _model_rows(pool: ModelPool) -> list[dict]:
    """/v1/models: each entry with the engine that serves it (or would) and whether it is loaded or loading now."""
    rows = []
    for spec in pool.registry.specs():
        loaded, loading = pool.state(spec)
        rows.append(
            {
                **spec_summary(spec, pool.context_length(spec), pool.engine_kind(spec), pool.weight_format(spec)),
                "loaded": loaded,
                "loading": loading,
            }
        )
    return rows


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
        return {"object": "list", "data": await run_in_threadpool(_model_rows, pool)}

    @app.post("/v1/models/{model_id:path}/load")
    async def load_model(model_id: str):
        """Load a model now (waits like a request, up to load_timeout_s): for an admin page."""
        served = await _loading(pool.load, model_id)
        return {"id": model_id, "loaded": True, "models": served}

    @app.post("/v1/models/{model_id:path}/unload")
    async def unload_model(model_id: str):
        """Unload the engine serving a model (and every entry sharing it); 409 while it has requests."""
        try:
            unloaded = await _loading(pool.unload, model_id)
        except ModelBusy as exc:
            raise ApiError(409, str(exc), param="model", code="model_busy") from exc
        return {"id": model_id, "loaded": False, "unloaded": unloaded}

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
        try:
            if body.messages is not None and body.prompt is None:
                ids = await tokenizing.chat(
                    target,
                    [m.as_template_input() for m in body.messages],
                    add_generation_prompt=body.add_generation_prompt,
                    continue_final=body.continue_final_message,
                )
            else:
                ids = await tokenizing.prompt(target, body.prompt)
        finally:
            target.lease.release()
        return {"count": len(ids), "max_model_len": target.context_length, "tokens": ids}

    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, api_key=settings.api_key)
    return app
