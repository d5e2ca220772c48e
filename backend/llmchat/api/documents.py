"""The JSON the API answers with, as pydantic models: they describe (in the OpenAPI document) what
api/serializers.py writes; tests/api/test_schemathesis.py checks every real response against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["complete", "error", "stopped", "pending", "streaming"]


class Usage(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None


class Message(BaseModel):
    id: int
    role: Literal["user", "assistant"]
    content: str
    model: str | None
    status: Status = Field(description="pending: a user message whose reply is not saved yet; streaming: a reply "
                                       "being written (saved every few seconds)")
    finish_reason: str | None = Field(description="stop | length (cut off at max_tokens: Continue extends it) | "
                                                  "null (unknown, not a reply, or not finished)")
    parent_id: int | None
    sibling_ids: list[int] = Field(description="versions: the messages with the same parent, role and column, "
                                               "oldest first, this one included")
    column: int
    params: dict[str, Any]
    usage: Usage
    response_time_ms: int | None
    created_at: datetime
    updated_at: datetime


class ConversationSummary(BaseModel):
    id: str
    title: str
    kind: Literal["chat", "compare"]
    model: str | None = Field(description="the model of the latest reply")
    models: list[str] = Field(description="chat: the models that wrote replies, in order of first use; compare: "
                                          "the two column models")
    created_at: datetime
    updated_at: datetime
    message_count: int


class Column(BaseModel):
    model: str | None
    messages: list[Message]


class Conversation(ConversationSummary):
    current_leaf_id: int | None = Field(description="the last message of the branch on screen")
    messages: list[Message] = Field(description="the branch on screen, root first ([] for a compare session)")
    columns: list[Column] | None = Field(default=None, description="compare sessions only: each column's "
                                                                   "newest branch")


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
    params: dict[str, dict[str, float]] = Field(description="per parameter: minimum, maximum, exclusiveMinimum, "
                                                            "maxLength (from the schema the API validates with)")


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


RESPONSES: list[type[BaseModel]] = [Message, Conversation, ConversationSummary, ConversationList, ChatResult,
                                    ContinueResult, Error, ModelList, Health, Limits, SearchResults]
