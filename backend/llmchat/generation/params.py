"""Each generation parameter is defined here once, with its limits, as an annotated pydantic type.

The worker's request bodies, the chat API's `params`, the `default_params` of configs/models.yaml and the
chat API's OpenAPI document (and through it the limits the web app shows) are all built from these types, so a
limit changed here changes everywhere.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_TOKENS_LIMIT = 32768  # the most tokens one request may ask for, whatever the model's context
MAX_STOPS = 16  # stop strings per request
MAX_STOP_CHARS = 256  # characters per stop string
MAX_TOP_LOGPROBS = 20  # most likely alternatives per token a request may ask for, as OpenAI allows
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed and OpenVINO's rng_seed take an unsigned 64-bit seed


def encodable(value: str) -> str:
    """A string a tokenizer can encode: a lone surrogate (a valid JSON escape, invalid UTF-8) is refused. For the
    pydantic validators of prompts, messages and stop strings, in the worker and the chat API alike."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"is not valid Unicode text ({exc.reason} at position {exc.start})") from exc
    return value


Temperature = Annotated[float, Field(ge=0.0, le=2.0, description="0 is greedy; higher is more random")]
TopP = Annotated[
    float,
    Field(gt=0.0, le=1.0, description="nucleus sampling: the smallest set of tokens whose probabilities reach top_p"),
]
MaxTokens = Annotated[int, Field(ge=1, le=MAX_TOKENS_LIMIT, description="the most tokens the reply may have")]
RepetitionPenalty = Annotated[
    float, Field(gt=0.0, le=10.0, description="1 is off; above 1 discourages tokens already in the prompt or the reply")
]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="the same seed and inputs give the same text")]
TopLogprobs = Annotated[
    int, Field(ge=0, le=MAX_TOP_LOGPROBS, description="the most likely alternatives to return beside each token")
]


class Sampling(BaseModel):
    """Sampling fields a request may set; a missing one takes the model's default."""

    model_config = ConfigDict(extra="forbid", strict=True)

    temperature: Temperature | None = None
    top_p: TopP | None = None
    max_tokens: MaxTokens | None = None
    repetition_penalty: RepetitionPenalty | None = None
    seed: Seed | None = None


class SamplingDefaults(BaseModel):
    """A model's defaults (`default_params` in configs/models.yaml): every field has a value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: Temperature = 0.7
    top_p: TopP = 0.9
    max_tokens: MaxTokens = 256
    repetition_penalty: RepetitionPenalty = 1.0

    def as_dict(self) -> dict[str, float | int]:
        return self.model_dump()

    def merged(self, request: Sampling) -> dict[str, float | int | None]:
        """The request's values over these defaults (seed has no default: None means a random one)."""
        chosen = request.model_dump(exclude_none=True)
        return {**self.model_dump(), "seed": None, **chosen}
