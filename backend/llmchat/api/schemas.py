"""Request bodies, validated with pydantic; a failure names the field (HTTP 400).

The sampling parameters come from llmchat.generation (their one definition); memory_window and system_prompt are
the API's own. The models are built per app, because the ceiling of max_tokens is the server's setting
(`limits.max_tokens`). The same classes give the OpenAPI document and GET /api/limits, so what is validated is
what is documented.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from llmchat.api.errors import ApiError
from llmchat.generation import MAX_TOKENS_LIMIT, Temperature, TopP, encodable

MAX_MEMORY_WINDOW = 100
MAX_SYSTEM_PROMPT_CHARS = 8000
MAX_MODEL_ID_CHARS = 200
MAX_TITLE_CHARS = 200
MAX_SEARCH_RESULTS = 100
MAX_QUERY_CHARS = 200  # a search is a few words; and the URL stays within gunicorn's request-line limit
# "0.5" is not a number and 8.5 is not a token count: wrong types are 400s; unknown keys too
STRICT = ConfigDict(extra="forbid", strict=True)


def _storable(value: str) -> str:
    """Text every database and the model server take: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return encodable(value)


Text = Annotated[str, AfterValidator(_storable)]
ModelId = Annotated[Text, Field(min_length=1, max_length=MAX_MODEL_ID_CHARS)]
MemoryWindow = Annotated[
    int, Field(ge=0, le=MAX_MEMORY_WINDOW, description="turns (a message and its reply) of history put in the prompt")
]
SystemPrompt = Annotated[Text, Field(max_length=MAX_SYSTEM_PROMPT_CHARS)]
MessageId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # the store's ids are INTEGER
Column = Annotated[int, Field(ge=0, le=1, description="0, or 0/1 in a compare session")]


@dataclass(frozen=True)
class RequestSchemas:
    params: type[BaseModel]
    chat: type[BaseModel]
    regenerate: type[BaseModel]
    continue_: type[BaseModel]
    rename: type[BaseModel]
    create_conversation: type[BaseModel]
    set_current: type[BaseModel]
    search: type[BaseModel]
    feedback: type[BaseModel]
    vote: type[BaseModel]

    def all(self) -> list[type[BaseModel]]:
        return [
            self.chat,
            self.regenerate,
            self.continue_,
            self.rename,
            self.create_conversation,
            self.set_current,
            self.feedback,
            self.vote,
        ]


def request_schemas(max_tokens: int = 4096, max_message_chars: int = 8000) -> RequestSchemas:
    """The request models of one app: `max_tokens` is the server's ceiling for a reply's length."""
    ceiling = min(max_tokens, MAX_TOKENS_LIMIT)
    MaxTokens = Annotated[int, Field(ge=1, le=ceiling, description="the most tokens the reply may have")]
    # longer messages are refused with 413 message_too_large (not 400): documented here, checked by the route
    Message = Annotated[Text, Field(json_schema_extra={"maxLength": max_message_chars})]

    class Params(BaseModel):
        """Generation settings; a missing one takes the model's default."""

        model_config = STRICT

        temperature: Temperature | None = None
        top_p: TopP | None = None
        max_tokens: MaxTokens | None = None
        memory_window: MemoryWindow | None = None
        system_prompt: SystemPrompt | None = None

    class ChatRequest(BaseModel):
        model_config = STRICT

        message: Message
        model: ModelId | None = Field(
            default=None,
            description="required, except in a compare session, whose "
            "columns have their models (a blind session: must be "
            "absent until its first vote)",
        )
        conversation_id: Annotated[Text, Field(max_length=64)] | None = None
        parent_id: MessageId | None = Field(
            default=None,
            description="the message the new one follows (null: a new first message); absent: after "
            "the branch on screen. Editing message X = sending with X's parent_id",
        )
        column: Column = 0
        params: Params = Field(default_factory=Params)
        stream: bool = False

    class RegenerateRequest(BaseModel):
        model_config = STRICT

        message_id: MessageId | None = Field(
            default=None, description="the user message to answer again (default: the last one on screen)"
        )
        model: ModelId | None = None
        params: Params = Field(default_factory=Params)
        stream: bool = False

    class ContinueParams(BaseModel):
        model_config = STRICT

        max_tokens: MaxTokens | None = None

    class ContinueRequest(BaseModel):
        model_config = STRICT

        params: ContinueParams = Field(default_factory=ContinueParams)
        stream: bool = False

    class RenameRequest(BaseModel):
        model_config = STRICT

        title: Annotated[Text, Field(min_length=1, max_length=MAX_TITLE_CHARS)]

    class CreateConversationRequest(BaseModel):
        model_config = STRICT

        kind: Literal["chat", "compare"] = "chat"
        models: Annotated[list[ModelId], Field(max_length=2, description="compare: [left, right]")] = Field(
            default_factory=list
        )
        blind: bool = Field(
            default=False,
            description="compare only: two different models hidden until the first vote, drawn at "
            "random (without models) or the two named, on sides drawn at random",
        )

    class SetCurrentRequest(BaseModel):
        model_config = STRICT

        message_id: MessageId

    class FeedbackRequest(BaseModel):
        """A thumb on a reply and/or a better answer the user wrote; `rating: null` without a correction clears."""

        model_config = STRICT

        rating: Literal["up", "down"] | None
        correction: Annotated[Text, Field(json_schema_extra={"maxLength": max_message_chars})] | None = Field(
            default=None, description="a better answer (trimmed; empty or null clears it; absent: unchanged)"
        )

    class VoteRequest(BaseModel):
        """Which of two replies to the same prompt was better (both the caller's, both finished)."""

        model_config = STRICT

        left_message_id: MessageId
        right_message_id: MessageId
        winner: Literal["left", "right", "tie", "both_bad"]

    class SearchQuery(BaseModel):
        """Query string parameters (text, so not strict: "20" is the number 20)."""

        model_config = ConfigDict(extra="ignore")

        q: Annotated[Text, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 20

    return RequestSchemas(
        params=Params,
        chat=ChatRequest,
        regenerate=RegenerateRequest,
        continue_=ContinueRequest,
        rename=RenameRequest,
        create_conversation=CreateConversationRequest,
        set_current=SetCurrentRequest,
        search=SearchQuery,
        feedback=FeedbackRequest,
        vote=VoteRequest,
    )


def validate(schema: type[BaseModel], body: Any) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ApiError(400, "invalid_field", f"{field}: {first['msg']}", field=field) from exc


def limits_document(schemas: RequestSchemas, max_message_chars: int) -> dict[str, Any]:
    """GET /api/limits: the bounds of each parameter, read from the JSON schema of the validating model."""
    properties = schemas.params.model_json_schema()["properties"]
    bounds = {}
    for name, schema in properties.items():
        variants = [v for v in schema.get("anyOf", [schema]) if v.get("type") != "null"]
        bounds[name] = {
            key: value
            for variant in variants
            for key, value in variant.items()
            if key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength")
        }
    return {"max_message_chars": max_message_chars, "params": bounds}
