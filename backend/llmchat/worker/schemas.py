"""The bodies of the OpenAI-style requests, as pydantic models built on llmchat.generation's parameter types.

Fields OpenAI clients send that this worker does not use (user, presence_penalty, ...) are ignored, as
OpenAI-compatible servers do; every field it does use is checked strictly ("0.5" is not a number) and a failure is
a 400 that names the field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from llmchat.generation import (
    MAX_STOP_CHARS,
    MAX_STOPS,
    MAX_TOKENS_LIMIT,
    MaxTokens,
    RepetitionPenalty,
    Seed,
    Temperature,
    TopLogprobs,
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

    @property
    def logprob_count(self) -> int | None:
        """None: no logprobs; N: each token's logprob and its N most likely alternatives."""
        return None

    @property
    def echo_prompt(self) -> bool:
        return False


TokenIds = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=1)]


class CompletionBody(GenerationBody):
    """OpenAI's legacy completions: the prompt as text or as token ids (what lm-evaluation-harness sends), one
    prompt per request; `logprobs: N` and `echo` (the prompt's own logprobs; with max_tokens 0 nothing is made)."""

    prompt: (
        Text
        | Annotated[list[Text], Field(min_length=1, max_length=1)]
        | TokenIds
        | Annotated[list[TokenIds], Field(min_length=1, max_length=1)]
    )
    max_tokens: Annotated[int, Field(ge=0, le=MAX_TOKENS_LIMIT)] | None = None
    logprobs: TopLogprobs | None = None
    echo: bool = False

    @model_validator(mode="after")
    def _nothing_to_make_needs_echo(self):
        if self.max_tokens == 0 and not self.echo:
            raise ValueError("max_tokens: 0 is only allowed with echo: true (to score the prompt)")
        return self

    @property
    def text(self) -> str | None:
        """The prompt text, or None when it came as token ids."""
        prompt = self.prompt if isinstance(self.prompt, str) else self.prompt[0]
        return prompt if isinstance(prompt, str) else None

    @property
    def token_ids(self) -> list[int] | None:
        if isinstance(self.prompt, str) or isinstance(self.prompt[0], str):
            return None
        return self.prompt[0] if isinstance(self.prompt[0], list) else self.prompt

    @property
    def logprob_count(self) -> int | None:
        return self.logprobs

    @property
    def echo_prompt(self) -> bool:
        return self.echo


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
    logprobs: bool = False
    top_logprobs: TopLogprobs | None = None

    @model_validator(mode="after")
    def _top_logprobs_needs_logprobs(self):
        if self.top_logprobs is not None and not self.logprobs:
            raise ValueError("top_logprobs: needs logprobs: true")
        return self

    @property
    def logprob_count(self) -> int | None:
        return (self.top_logprobs or 0) if self.logprobs else None


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
        raise _invalid(_most_telling(exc.errors()), set(model.model_fields)) from exc


def _most_telling(errors: list[dict]) -> dict:
    """With a union (stop: a string or a list), pydantic reports each member it tried; a wrong type is reported for
    every member, so an error that is not about the type (too many stop strings) says more."""
    return next((error for error in errors if not error["type"].endswith("_type")), errors[0])


def _invalid(error: dict, fields: set[str]) -> ApiError:
    location = [part for part in error["loc"] if not _is_union_branch(part)]
    param = ""
    for part in location:
        param += f"[{part}]" if isinstance(part, int) else (f".{part}" if param else str(part))
    message = error["msg"].removeprefix("Value error, ")
    named = message.split(":", 1)[0]
    if not param and named in fields:  # a check across fields (a model validator) says which field it is about
        return ApiError(400, message, param=named, code="invalid_value")
    if error["type"] == "missing" and param == "model":
        return ApiError(
            400, "model: required, the id of a model from GET /v1/models", param="model", code="invalid_value"
        )
    return ApiError(400, f"{param}: {message}" if param else message, param=param or None, code="invalid_value")


def _is_union_branch(part: Any) -> bool:
    """pydantic names the union member it tried ('str', 'list[...]', 'function-after[...]'): not a field."""
    return isinstance(part, str) and (part in {"str", "int", "float", "bool"} or "[" in part)
