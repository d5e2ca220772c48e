"""Checks the JSON of OpenAI-style requests; every problem becomes a 400 that names the field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from llmchat.worker.specs import SamplingDefaults

MAX_STOPS = 16
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes an unsigned 64-bit seed
ROLES = ("system", "user", "assistant", "tool")


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, type_: str = "invalid_request_error",
                 code: str | int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.type, self.code = status, message, param, type_, code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param}}


def invalid(param: str, problem: str) -> ApiError:
    return ApiError(400, f"{param}: {problem}", param=param, code="invalid_value")


@dataclass(frozen=True)
class GenerationFields:
    model: str
    max_tokens: int | None
    temperature: float
    top_p: float
    repetition_penalty: float
    seed: int | None
    stop: tuple[str, ...]
    stream: bool
    ignore_eos: bool
    include_usage: bool


def _number(body: dict, name: str, default: float, low: float, high: float, *, low_open: bool = False) -> float:
    value = body.get(name)
    if value is None:
        return float(default)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise invalid(name, f"must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < low or value > high or (low_open and value == low):
        raise invalid(name, f"must be {'>' if low_open else '>='} {low} and <= {high}, got {value}")
    return float(value)


def _integer(body: dict, name: str, low: int, high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bounds = f">= {low}" + (f" and <= {high}" if high is not None else "")
        raise invalid(name, f"must be an integer {bounds}, got {value!r}")
    return value


def _text(value: str, param: str) -> str:
    """A string the tokenizer can encode: a lone surrogate (valid JSON escape, invalid UTF-8) is a 400."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid(param, f"is not valid Unicode text ({exc.reason} at position {exc.start})") from exc
    return value


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid(name, f"must be true or false, got {value!r}")
    return value


def _stops(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise invalid("stop", "must be a string or a list of strings")
    if len(stops) > MAX_STOPS:
        raise invalid("stop", f"at most {MAX_STOPS} stop strings, got {len(stops)}")
    return tuple(s for s in stops if s)


def model_field(body: Any) -> str:
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model", "required, the id of a model from GET /v1/models")
    return model


def generation_fields(body: dict, defaults: SamplingDefaults) -> GenerationFields:
    """The sampling fields shared by completions and chat completions; missing ones take the model's defaults."""
    n = body.get("n", 1)
    if n is not None and (n != 1 or isinstance(n, bool)):
        raise invalid("n", "only n=1 is supported")
    max_tokens = _integer(body, "max_tokens", 1)
    if max_tokens is None:
        max_tokens = _integer(body, "max_completion_tokens", 1)
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise invalid("stream_options", "must be an object")
    include_usage = options.get("include_usage") or False
    if not isinstance(include_usage, bool):  # bool("no") is True
        raise invalid("stream_options.include_usage", f"must be true or false, got {include_usage!r}")
    return GenerationFields(
        model=model_field(body),
        max_tokens=max_tokens if max_tokens is not None else defaults.max_tokens,
        temperature=_number(body, "temperature", defaults.temperature, 0.0, 2.0),
        top_p=_number(body, "top_p", defaults.top_p, 0.0, 1.0, low_open=True),
        repetition_penalty=_number(body, "repetition_penalty", defaults.repetition_penalty, 0.0, 10.0, low_open=True),
        seed=_integer(body, "seed", 0, MAX_SEED),
        stop=_stops(body.get("stop")),
        stream=_flag(body, "stream"),
        ignore_eos=_flag(body, "ignore_eos"),
        include_usage=include_usage,
    )


def prompt_field(body: dict) -> str:
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise invalid("prompt", "required, a string (a list of one string also works)")
    return _text(prompt, "prompt")


def messages_field(body: dict) -> list[dict[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages", "required, a non-empty list of {role, content}")
    checked = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise invalid(where, "must be an object with role and content")
        if message.get("role") not in ROLES:
            raise invalid(f"{where}.role", f"must be one of {', '.join(ROLES)}")
        content = message.get("content")
        if isinstance(content, list):  # OpenAI content parts: keep the text ones
            texts = [part.get("text", "") for part in content if isinstance(part, dict)]
            if not all(isinstance(text, str) for text in texts):
                raise invalid(f"{where}.content", "a text part's text must be a string")
            content = "".join(texts)
        if not isinstance(content, str):
            raise invalid(f"{where}.content", "must be a string")
        checked.append({"role": message["role"], "content": _text(content, f"{where}.content")})
    return checked
