"""The run queue over HTTP, for admins: list, the New run form, start, stop, resume, a run's page and its live
events (SSE), and Evaluate (held-out split or benchmarks). The queue itself is training/runner; a run is a process
of its own, so these routes only read and change its record on disk (an API restart loses nothing)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, jsonify, request

from llmchat.api.disconnect import client_gone_check
from llmchat.api.errors import ApiError
from llmchat.api.routes.admin import admins_only
from llmchat.api.runs_schemas import (
    EVENTS,
    EvaluateRequest,
    Evaluation,
    RunCommand,
    RunDetail,
    RunForm,
    RunList,
    RunRequest,
)
from llmchat.api.schemas import validate
from llmchat.api.serializers import dump
from llmchat.api.services import json_body, services
from llmchat.paths import models_dir
from llmchat.training.runner.evaluation import evaluation_state, start_evaluation
from llmchat.training.runner.events import run_events
from llmchat.training.runner.form import FormError, methods, plan_run, presets, settings_schema
from llmchat.training.runner.queue import QueueError, RunQueue
from llmchat.training.runner.summary import run_detail, run_summary

bp = Blueprint("runs", __name__, url_prefix="/api/admin/runs")
bp.before_request(admins_only)
QUEUE_KEY = "llmchat.runs"


def run_queue() -> RunQueue:
    """One queue per app (it remembers the machine's slot count); its state is on disk, shared by every process."""
    queue = current_app.extensions.get(QUEUE_KEY)
    if queue is None:
        queue = current_app.extensions[QUEUE_KEY] = RunQueue(models_dir())
    return queue


def _detail(queue: RunQueue, run_id: str) -> dict:
    job = queue.get(run_id)
    if job is None:
        raise ApiError(404, "not_found", f"no run {run_id!r}")
    fields = {**run_detail(queue, job), "evaluation": evaluation_state(queue, job)}
    return dump(RunDetail, fields, exclude_unset=True)


def _form_error(exc: FormError) -> ApiError:
    return ApiError(400, "invalid_field", str(exc), field=exc.field)


@bp.get("")
def list_runs():
    queue = run_queue()
    runs = [run_summary(queue, job) for job in queue.jobs()]
    return jsonify(dump(RunList, {"runs": runs, "slots": queue.capacity()}))


@bp.get("/form")
def form():
    return jsonify(dump(RunForm, {"methods": methods(), "settings": settings_schema(), "presets": presets()}))


@bp.post("/command")
def command():
    body = validate(RunRequest, json_body())
    try:
        plan = plan_run(body.preset, body.values)
    except FormError as exc:
        raise _form_error(exc) from exc
    return jsonify(dump(RunCommand, {"command": plan.command, "run_name": plan.config.run_name}))


@bp.post("")
def start():
    body = validate(RunRequest, json_body())
    queue = run_queue()
    try:
        job = queue.submit(body.preset, body.values, overwrite=body.overwrite)
    except FormError as exc:
        raise _form_error(exc) from exc
    except QueueError as exc:
        raise ApiError(409, "run_conflict", str(exc), field="run_name") from exc
    response = jsonify(_detail(queue, job.id))
    response.status_code = 201
    return response


@bp.get("/<run_id>")
def detail(run_id: str):
    return jsonify(_detail(run_queue(), run_id))


@bp.post("/<run_id>/stop", defaults={"action": "stop"})
@bp.post("/<run_id>/resume", defaults={"action": "resume"})
def change(run_id: str, action: str):
    queue = run_queue()
    try:
        getattr(queue, action)(run_id)
    except LookupError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    except QueueError as exc:
        raise ApiError(409, "run_state", str(exc)) from exc
    return jsonify(_detail(queue, run_id))


@bp.post("/<run_id>/evaluate")
def evaluate(run_id: str):
    body = validate(EvaluateRequest, json_body(optional=True))
    queue = run_queue()
    job = queue.get(run_id)
    if job is None:
        raise ApiError(404, "not_found", f"no run {run_id!r}")
    worker_url = services().config.worker_urls[0]
    try:
        return jsonify(dump(Evaluation, start_evaluation(queue, job, worker_url, body.limit, body.tasks)))
    except QueueError as exc:
        raise ApiError(409, "run_state", str(exc)) from exc


@bp.get("/<run_id>/events")
def events(run_id: str):
    queue = run_queue()
    if queue.get(run_id) is None:
        raise ApiError(404, "not_found", f"no run {run_id!r}")
    stream = run_events(queue, run_id, gone=client_gone_check(request.environ))

    def frames():
        for name, data in stream:
            if name == "ping":
                yield ": ping\n\n"
                continue
            if name == "end":  # the whole detail, as GET answers it (with the evaluation), for the page to show
                data = _detail(queue, run_id)
            elif name in EVENTS:
                data = dump(EVENTS[name], data, exclude_unset=True)
            yield f"event: {name}\ndata: {json.dumps(data)}\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(frames(), mimetype="text/event-stream", headers=headers)
