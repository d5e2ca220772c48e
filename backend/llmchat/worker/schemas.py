"""The bodies of the OpenAI-style requests, as pydantic models built on llmchat.generation's parameter types.

Fields OpenAI clients send that this worker does not use (user, logprobs, presence_penalty, ...) are ignored, as
OpenAI-compatible servers do; every field it does use is checked strictly ("0.5" is not a number) and a failure is
a 400 that names the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmchat.generation import (
    MAX_STOP_CHARS,
    MAX_STOPS,
    MaxTokens,
    RepetitionPenalty,
    Seed,
    Temperature,
    TopP,
    encodable,
)
from llmchat.worker.errors import ApiError

ROLES = ("system", "user", "assistant", "tool")


Text = Annotated[str, AfterValidator(encodable)]
Stop = Annotated[str, Field(max_length=MAX_STOP_CHARS), AfterValidator(encodable)]


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    include_usage: bool = False


class GenerationBody(BaseModel):
    """What /v1/completions and /v1/chat/completions share."""

    model_config = ConfigDict(extra="ignore", strict=True)

    model: str = Field(min_length=1, description="the id of a model from GET /v1/models")
    max_tokens: MaxTokens | None = None
    max_completion_tokens: MaxTokens | None = None  # the newer OpenAI name of max_tokens
    temperature: Temperature | None = None
    top_p: TopP | None = None
    repetition_penalty: RepetitionPenalty | None = None
    seed: Seed | None = None
    stop: Stop | Annotated[list[Stop], Field(max_length=MAX_STOPS)] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    ignore_eos: bool = False
    n: Annotated[int, Field(ge=1, le=1, description="only n=1 is supported")] = 1

    @property
    def stops(self) -> tuple[str, ...]:
        stops = [self.stop] if isinstance(self.stop, str) else (self.stop or [])
        return tuple(stop for stop in stops if stop)

    @property
    def token_limit(self) -> int | None:
        return self.max_tokens if self.max_tokens is not None else self.max_completion_tokens

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class CompletionBody(GenerationBody):
    prompt: Text | Annotated[list[Text], Field(min_length=1, max_length=1)]

    @property
    def text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    type: str = "text"
    text: Text = ""


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal[ROLES]
    content: Text | list[TextPart]

    def as_template_input(self) -> dict[str, str]:
        """OpenAI content parts: the text ones, joined."""
        content = self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)
        return {"role": self.role, "content": content}


class TemplateSwitches(BaseModel):
    """vLLM's chat-template switches: with `continue_final_message: true, add_generation_prompt: false` the last
    (assistant) message is rendered open, so the model goes on with it instead of starting a new turn — how a reply
    cut off at max_tokens is continued."""

    model_config = ConfigDict(extra="ignore", strict=True)

    add_generation_prompt: bool = True
    continue_final_message: bool = False

    @model_validator(mode="after")
    def _continue_needs_an_assistant_message(self):
        messages = getattr(self, "messages", None)
        if self.continue_final_message:
            if not messages or messages[-1].role != "assistant":
                raise ValueError("continue_final_message needs the last message to be the assistant's")
            if self.add_generation_prompt:
                raise ValueError("continue_final_message needs add_generation_prompt: false")
        return self


class ChatBody(TemplateSwitches, GenerationBody):
    messages: Annotated[list[ChatMessage], Field(min_length=1)]


class TokenizeBody(TemplateSwitches):
    model_config = ConfigDict(extra="ignore", strict=True)

    model: str = Field(min_length=1)
    prompt: Text | None = None
    messages: Annotated[list[ChatMessage], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _one_input(self) -> TokenizeBody:
        if self.prompt is None and self.messages is None:
            raise ValueError("give a prompt or messages")
        return self


def parse(model: type[BaseModel], body: Any) -> Any:
    """The validated body, or a 400 naming the first field that is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise _invalid(_most_telling(exc.errors())) from exc


def _most_telling(errors: list[dict]) -> dict:
    """With a union (stop: a string or a list), pydantic reports each member it tried; a wrong type is reported for
    every member, so an error that is not about the type (too many stop strings) says more."""
    return next((error for error in errors if not error["type"].endswith("_type")), errors[0])


def _invalid(error: dict) -> ApiError:
    location = [part for part in error["loc"] if not _is_union_branch(part)]
    param = ""
    for part in location:
        param += f"[{part}]" if isinstance(part, int) else (f".{part}" if param else str(part))
    if error["type"] == "missing" and param == "model":
        return ApiError(
            400, "model: required, the id of a model from GET /v1/models", param="model", code="invalid_value"
        )
    message = error["msg"].removeprefix("Value error, ")
    return ApiError(400, f"{param}: {message}" if param else message, param=param or None, code="invalid_value")


def _is_union_branch(part: Any) -> bool:
    """pydantic names the union member it tried ('str', 'list[...]', 'function-after[...]'): not a field."""
    return isinstance(part, str) and (part in {"str", "int", "float", "bool"} or "[" in part)
