"""Blind compare sessions, as in Chatbot Arena: two different models drawn at random from those the servers list.

The draw uses the operating system's randomness (random.SystemRandom): nothing a client sees or sends predicts it.
Hiding the models until the first vote is the store's and the serializers' job (a record says `model_hidden`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from llmchat.api.errors import ApiError


def draw_pair(model_ids: Iterable[str], rng: random.Random | None = None) -> list[str]:
    """[left, right], two different models; 400 not_enough_models when fewer than two are served."""
    candidates = sorted(set(model_ids))
    if len(candidates) < 2:
        raise ApiError(
            400,
            "not_enough_models",
            f"a blind session needs two models; the servers offer {len(candidates)}",
            field="blind",
        )
    return (rng or random.SystemRandom()).sample(candidates, 2)
