"""Request bodies, validated with pydantic; a failure names the field (HTTP 400)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from llmchat.api.errors import ApiError


def _storable(value: str) -> str:
    """Text every database and the model server take: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"is not valid Unicode text ({exc.reason} at position {exc.start})") from exc
    return value


Text = Annotated[str, AfterValidator(_storable)]


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "0.5" is not a number: wrong types are 400s

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    memory_window: int | None = Field(default=None, ge=0, le=100)
    system_prompt: Text | None = Field(default=None, max_length=8000)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "0.5" is not a number: wrong types are 400s

    message: Text
    model: Text = Field(min_length=1, max_length=200)
    conversation_id: Text | None = Field(default=None, max_length=64)
    params: Params = Field(default_factory=Params)
    stream: bool = False


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "0.5" is not a number: wrong types are 400s

    model: Text | None = Field(default=None, min_length=1, max_length=200)
    params: Params = Field(default_factory=Params)
    stream: bool = False


class RenameRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # "0.5" is not a number: wrong types are 400s

    title: Text = Field(min_length=1, max_length=200)


def validate(schema: type[BaseModel], body: Any) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the request body must be a JSON object")
    try:
        return schema.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ApiError(400, "invalid_field", f"{field}: {first['msg']}", field=field) from exc
