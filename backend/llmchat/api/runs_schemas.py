"""Request and answer models of the run queue's admin routes (api/routes/runs.py), and their OpenAPI paths (merged
into api/openapi.py's document; the same test and schemathesis run check them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from llmchat.api import documents
from llmchat.api.openapi_teams import _body as _team_body
from llmchat.api.openapi_teams import _json
from llmchat.api.schemas import STRICT
from llmchat.training.benchmark_tasks import STANDARD_TASKS

RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Status = Literal["queued", "running", "stopping", "stopped", "failed", "finished"]
SettingValue = str | int | float | bool | list[str] | None


class RunRequest(BaseModel):
    """A New run form: a preset of configs/train/ with values on top (recipe keys, as `--set` takes them)."""

    model_config = STRICT
    preset: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
    values: dict[Annotated[str, Field(max_length=64)], SettingValue] = Field(default_factory=dict)
    overwrite: bool = Field(default=False, description="replace models/runs/<run_name> when it exists")


class EvaluateRequest(BaseModel):
    model_config = STRICT
    limit: int = Field(default=40, ge=1, le=10_000, description="the first N examples of the test split (per task)")
    tasks: list[Literal[STANDARD_TASKS]] = Field(  # type: ignore[valid-type]  # the tuple's names, as Literal's
        default_factory=list,
        max_length=len(STANDARD_TASKS),
        description="standard benchmarks (lm-evaluation-harness, data from data/benchmarks/<task>/) instead of "
        "the run's test split",
    )


class Progress(BaseModel):
    step: int
    max_steps: int | None
    epoch: float | None
    elapsed_s: float | None
    eta_s: float | None


class RunSummary(BaseModel):
    id: str
    status: Status
    message: str
    method: str | None
    base_model: str | None
    data: str | None
    command: str
    created: str
    started: str | None
    ended: str | None
    attempts: int
    exit_code: int | None
    gpu: int | None
    progress: Progress


class OfferedTask(BaseModel):
    name: str
    data: bool = Field(description="data/benchmarks/<name>/ is there (else the local datasets cache is read)")


class Evaluation(BaseModel):
    running: bool
    command: str | None
    failed: bool = Field(description="the last evaluation ended without writing what it was asked for")
    log: list[str] = Field(description="the end of its output when it failed")
    summary: dict[str, Any] | None = Field(description="the last held-out evaluation (evaluation.json)")
    benchmarks: dict[str, Any] | None = Field(
        description="{tasks, base_model, run: {task: scores}, base: {task: scores}}: the latest benchmark scores"
    )
    tasks: list[OfferedTask] = Field(description="the benchmarks Evaluate offers")


class RunDetail(RunSummary):
    recipe: dict[str, Any]
    points: list[documents.LossPoint]
    log: list[str]
    report: dict[str, Any] | None
    evaluation: Evaluation


class RunList(BaseModel):
    runs: list[RunSummary]
    slots: int


class Setting(BaseModel):
    name: str
    type: Literal["integer", "number"]
    default: int | float
    min: int | float
    max: int | float


class Preset(BaseModel):
    name: str
    path: str
    values: dict[str, Any]


class RunForm(BaseModel):
    methods: list[str]
    settings: list[Setting]
    presets: list[Preset]


class RunCommand(BaseModel):
    command: str
    run_name: str


REQUESTS = [RunRequest, EvaluateRequest]
RESPONSES = [RunList, RunDetail, RunForm, RunCommand, Evaluation]
EVENTS = {"run": RunSummary, "point": documents.LossPoint, "progress": Progress, "end": RunDetail}

REASONS = {
    400: "invalid request: the error names the field (a recipe key, preset, data)",
    403: "admins only",
    404: "no such run",
    409: "the run's state does not allow it (exists, already running, not finished)",
    413: "too large",
    415: "the body is not JSON",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _json(documents.Error, REASONS[status]) for status in statuses}


def _body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    return {**_team_body(model), "required": required}


RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


def _events_schema() -> dict[str, Any]:
    names = [*EVENTS, "log", "status"]
    return {
        "type": "object",
        "description": "SSE events: run, point (a loss point), progress, log ({lines}), status ({status, "
        "message}), end (the whole detail); `: ping` comments keep it open",
        "properties": {"event": {"enum": names}, "data": {"type": "string", "contentMediaType": "application/json"}},
    }


def run_paths() -> dict[str, Any]:
    def action(summary: str, body: type[BaseModel] | None = None, ok: type[BaseModel] = RunDetail) -> dict[str, Any]:
        operation: dict[str, Any] = {"summary": summary, "responses": {"200": _json(ok), **_errors(403, 404, 409)}}
        if body is not None:
            operation["requestBody"] = _body(body, required=False)
            operation["responses"].update(_errors(400, 413, 415))
        return {"parameters": [RUN_ID], "post": operation}

    return {
        "/api/admin/runs": {
            "get": {
                "summary": "the run queue, oldest first, with each run's progress (admins)",
                "responses": {"200": _json(RunList), **_errors(403)},
            },
            "post": {
                "summary": "queue a fine-tuning run: a preset with the form's values; it starts when a slot is free "
                "(one on a CPU, one per GPU) as a process of its own that outlives the API (admins)",
                "requestBody": _body(RunRequest),
                "responses": {"201": _json(RunDetail, "queued"), **_errors(400, 403, 409, 413, 415)},
            },
        },
        "/api/admin/runs/form": {
            "get": {
                "summary": "the New run form: methods, main settings with default and range, presets (admins)",
                "responses": {"200": _json(RunForm), **_errors(403)},
            }
        },
        "/api/admin/runs/command": {
            "post": {
                "summary": "the exact `llmchat finetune` command a form amounts to, checked as a start would be",
                "requestBody": _body(RunRequest),
                "responses": {"200": _json(RunCommand), **_errors(400, 403, 413, 415)},
            }
        },
        "/api/admin/runs/{run_id}": {
            "parameters": [RUN_ID],
            "get": {
                "summary": "a run: status, command, progress with ETA, loss points, log tail, final report",
                "responses": {"200": _json(RunDetail), **_errors(403, 404)},
            },
        },
        "/api/admin/runs/{run_id}/events": {
            "parameters": [RUN_ID],
            "get": {
                "summary": "the run's live events (SSE) until it stops, fails or finishes",
                "responses": {
                    "200": {"description": "SSE", "content": {"text/event-stream": {"schema": _events_schema()}}},
                    **_errors(403, 404),
                },
            },
        },
        "/api/admin/runs/{run_id}/stop": action(
            "stop: a queued run leaves the queue, a running one saves a checkpoint"
        ),
        "/api/admin/runs/{run_id}/resume": action("resume a stopped or failed run from its last checkpoint"),
        "/api/admin/runs/{run_id}/evaluate": action(
            "`llmchat evaluate` of the finished run beside its base, in the background: on its test split, or "
            "with `tasks` on those benchmarks",
            EvaluateRequest,
            Evaluation,
        ),
    }
