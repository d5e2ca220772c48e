"""The JSON the API answers with, as pydantic models: the wire types. api/serializers.py fills them from stored
records and dumps them, and the OpenAPI document describes them; tests/api/test_schemathesis.py checks every real
response against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["complete", "error", "stopped", "pending", "streaming"]


class Usage(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None


class Feedback(BaseModel):
    rating: Literal["up", "down"] | None
    correction: str | None = Field(description="a better answer the user wrote")
    updated_at: datetime


class Message(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    content: str
    model: str | None
    status: Status = Field(
        description="pending: a user message whose reply is not saved yet; streaming: a reply "
        "being written (saved every few seconds)"
    )
    finish_reason: str | None = Field(
        description="stop | length (cut off at max_tokens: Continue extends it) | "
        "null (unknown, not a reply, or not finished)"
    )
    parent_id: int | None
    sibling_ids: list[int] = Field(
        description="versions: the messages with the same parent, role and column, oldest first, this one included"
    )
    column: int
    params: dict[str, Any]
    usage: Usage
    response_time_ms: int | None
    created_at: datetime
    updated_at: datetime
    feedback: Feedback | None = Field(description="the user's thumb and/or better answer (replies only)")


class ConversationSummary(BaseModel):
    id: str
    title: str
    title_pending: bool = Field(
        description="a model is writing a better title in the background (titles.source: model); read it again later"
    )
    kind: Literal["chat", "compare"]
    model: str | None = Field(description="the model of the latest reply (null in a blind session before its vote)")
    models: list[str | None] = Field(
        description="chat: the models that wrote replies, in order of first use; "
        "compare: the two column models ([null, null] in a blind session "
        "before its first vote)"
    )
    blind: bool = Field(description="a compare session whose two models were drawn at random")
    revealed: bool = Field(description="a blind session whose models are shown, after its first vote")
    created_at: datetime
    updated_at: datetime
    message_count: int
    answering: bool = Field(description="a reply of it is being generated right now (a live job)")


class Column(BaseModel):
    model: str | None
    messages: list[Message]


class VoteSide(BaseModel):
    message_id: int
    model: str | None
    content: str = Field(description="the reply's text at the time of the vote")


class Vote(BaseModel):
    id: int
    conversation_id: str
    prompt: str
    left: VoteSide
    right: VoteSide
    winner: Literal["left", "right", "tie", "both_bad"]
    created_at: datetime
    updated_at: datetime


class VoteResult(BaseModel):
    vote: Vote


class Conversation(ConversationSummary):
    current_leaf_id: int | None = Field(description="the last message of the branch on screen")
    messages: list[Message] = Field(description="the branch on screen, root first ([] for a compare session)")
    columns: list[Column] | None = Field(default=None, description="compare sessions only: each column's newest branch")
    votes: list[Vote] | None = Field(default=None, description="compare sessions only: the votes in it, oldest first")


class ExportInfo(BaseModel):
    version: int = Field(description="2: every message (1, before: the branch on screen only)")
    holds: str = Field(description="what the file holds, in words")
    messages: int = Field(description="messages in the file: every version of every message")
    on_screen: int = Field(description="of which on the branch the app shows")


class ExportedMessage(Message):
    on_screen: bool = Field(description="on the branch the app shows (of its column)")


class ExportedColumn(BaseModel):
    model: str | None


class ConversationExport(ConversationSummary):
    """GET /api/conversations/{id}/export?format=json: the whole tree."""

    export: ExportInfo
    current_leaf_id: int | None
    messages: list[ExportedMessage] = Field(description="every message, oldest first; parent_id gives the tree")
    columns: list[ExportedColumn] | None = Field(default=None, description="compare sessions only: the column models")
    votes: list[Vote] | None = Field(default=None, description="compare sessions only: the votes, oldest first")


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class ChatResult(BaseModel):
    conversation_id: str
    user_message: Message
    message: Message
    conversation: ConversationSummary | None


class ContinueResult(BaseModel):
    conversation_id: str
    message: Message


class StopResult(BaseModel):
    message: Message = Field(description="the reply: `stopped` (200), or still `streaming` (202: it ends soon)")


class ErrorDetail(BaseModel):
    message: str
    code: str
    field: str | None = None


class Error(BaseModel):
    """Some errors also carry what was saved: conversation_id, user_message, message."""

    error: ErrorDetail


class Model(BaseModel):
    id: str
    kind: str
    prompt_style: Literal["fewshot", "alpaca", "chat"]
    context_length: int
    base_model: str | None
    default_params: dict[str, Any]
    engine: str | None = Field(description="the engine that serves it (llmchat's worker), else null")
    origin: Literal["config", "adapters", "runs"] = Field(
        description="where the server found it: its registry file, an adapter folder, a fine-tuning run"
    )
    created: str | None = Field(description="runs: when the run finished (ISO 8601), else null")
    loaded: bool | None = Field(
        description="whether a server has it in memory now (else a chat waits for its load first); "
        "null when its server does not say"
    )
    loading: bool = Field(description="a server is loading it now")


class LossPoint(BaseModel):
    step: int
    loss: float | None = None
    eval_loss: float | None = None


class RunCard(BaseModel):
    method: Literal["lora", "full", "dpo"]
    recipe: dict[str, Any] = Field(description="the training config the run was made with")
    loss_curve: list[LossPoint]
    evaluation: dict[str, Any] | None = Field(description="the last `llmchat evaluate` summary with this run in it")
    benchmarks: dict[str, Any] | None = Field(
        default=None,
        description="the recipe's eval_tasks after training: {tasks, limit, base_model, run: {task: scores}, "
        "base: {task: scores}}",
    )


class BenchmarkScore(BaseModel):
    acc: float | None = Field(description="accuracy: the likeliest choice is the right one")
    acc_norm: float | None = Field(description="accuracy with each choice's loglikelihood divided by its length")
    n: int = Field(description="examples scored")
    limit: int | None = Field(description="--limit: the first N examples of the task only; null: all")
    num_fewshot: int | None = None
    data: str = Field(description="where the task's data came from: a --data-dir folder, or the datasets cache")
    created: str
    report: str | None = None


class ModelCard(BaseModel):
    id: str
    kind: str
    base_model: str | None
    prompt_style: Literal["fewshot", "alpaca", "chat"]
    engine: str | None
    context_length: int | None
    origin: Literal["config", "adapters", "runs"]
    created: str | None
    run: RunCard | None = Field(description="a fine-tuning run's recipe, loss curve and evaluation; null otherwise")
    benchmarks: dict[str, BenchmarkScore] = Field(
        default_factory=dict, description="the latest `llmchat evaluate --tasks` score per task (arc_easy, ...)"
    )


class LeaderboardRow(BaseModel):
    model: str
    rating: float | None = Field(description="Bradley-Terry on the Elo scale; null without battles")
    ci95: list[float] | None = Field(description="[low, high], bootstrap over the votes")
    battles: int
    wins: int
    losses: int
    ties: int = Field(description="tie and both_bad votes")
    both_bad: int
    win_rate: float | None = Field(description="(wins + ties / 2) / battles: a tie is half a win, as in the rating")
    provisional: bool = Field(description="fewer battles than min_battles: the rating is not yet reliable")
    thumbs_up: int
    thumbs_down: int
    thumbs_up_share: float | None


class Leaderboard(BaseModel):
    models: list[LeaderboardRow]
    votes: int = Field(description="votes counted (between two different models)")
    method: str
    ties: str = Field(description="how ties and both_bad count")
    min_battles: int = Field(description="battles a model needs before its rating is no longer provisional")


class ModelList(BaseModel):
    models: list[Model]


class WorkerHealth(BaseModel):
    url: str
    status: Literal["ok", "down"]
    queue_depth: int | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    api: str
    database: Literal["ok", "error"]
    workers: list[WorkerHealth]


class Limits(BaseModel):
    max_message_chars: int
    params: dict[str, dict[str, float]] = Field(
        description="per parameter: minimum, maximum, exclusiveMinimum, "
        "maxLength (from the schema the API validates with)"
    )


class SnippetPart(BaseModel):
    text: str
    match: bool


class SearchResult(BaseModel):
    conversation_id: str
    conversation_title: str
    message_id: int
    role: Literal["user", "assistant"]
    created_at: datetime
    snippet: list[SnippetPart] = Field(description="plain text segments, never HTML; match: the words found")


class SearchResults(BaseModel):
    results: list[SearchResult]


# the events of a streamed reply (the `data:` of each SSE event is one of these, as JSON)
class StartEvent(BaseModel):
    conversation_id: str
    user_message: Message | None = Field(default=None, description="absent for a Continue")
    message: Message = Field(description="the reply, saved as `streaming` before its first word")


class DeltaEvent(BaseModel):
    content: str


class DoneEvent(BaseModel):
    conversation_id: str
    message: Message


class StreamErrorDetail(ErrorDetail):
    status: int = Field(description="the HTTP status the same failure answers with before the stream opens")


class ErrorEvent(BaseModel):
    error: StreamErrorDetail
    conversation_id: str
    message: Message | None = Field(description="what was saved of the reply, if anything")


SSE_EVENTS: dict[str, type[BaseModel]] = {
    "start": StartEvent,
    "delta": DeltaEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
}


RESPONSES: list[type[BaseModel]] = [
    Message,
    Conversation,
    ConversationSummary,
    ConversationExport,
    ConversationList,
    ChatResult,
    ContinueResult,
    StopResult,
    Error,
    ModelList,
    Health,
    Limits,
    SearchResults,
    VoteResult,
    Leaderboard,
    ModelCard,
    *SSE_EVENTS.values(),
]
