"""Generation parameters: the one definition of each sampling knob and its limits (see params.py)."""

from llmchat.generation.params import (
    MAX_STOP_CHARS,
    MAX_STOPS,
    MAX_TOKENS_LIMIT,
    MaxTokens,
    RepetitionPenalty,
    Sampling,
    SamplingDefaults,
    Seed,
    Temperature,
    TopLogprobs,
    TopP,
    encodable,
)

__all__ = [
    "MAX_STOPS",
    "MAX_STOP_CHARS",
    "MAX_TOKENS_LIMIT",
    "MaxTokens",
    "RepetitionPenalty",
    "Sampling",
    "SamplingDefaults",
    "Seed",
    "Temperature",
    "TopLogprobs",
    "TopP",
    "encodable",
]
