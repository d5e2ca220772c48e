"""The chat API passes a worker's card on only as its documented shape (api/documents.py): the benchmark scores of
`llmchat evaluate --tasks` and a run's scores beside its base must survive that check, a malformed score must not."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from llmchat.api.documents import ModelCard

SCORE = {"acc": 0.4, "acc_norm": 0.45, "n": 20, "limit": 20, "num_fewshot": None, "data": "d", "created": "20261203"}
CARD = {
    "id": "tiny-run",
    "kind": "lora",
    "base_model": "tiny-chat",
    "prompt_style": "alpaca",
    "engine": "openvino",
    "context_length": 512,
    "origin": "runs",
    "created": None,
    "run": {
        "method": "lora",
        "recipe": {},
        "loss_curve": [],
        "evaluation": None,
        "benchmarks": {"tasks": ["arc_easy"], "run": {"arc_easy": {"acc": 0.31}}, "base": {"arc_easy": {"acc": 0.36}}},
    },
    "benchmarks": {"arc_easy": SCORE},
}


def test_benchmarks_pass_through_the_card_document():
    shown = ModelCard.model_validate(CARD).model_dump(mode="json")
    assert shown["benchmarks"]["arc_easy"] == {**SCORE, "report": None}
    assert shown["run"]["benchmarks"]["base"]["arc_easy"]["acc"] == 0.36


def test_a_card_without_benchmarks_has_none_and_a_malformed_score_is_refused():
    old = {key: value for key, value in CARD.items() if key != "benchmarks"} | {"run": None}
    assert ModelCard.model_validate(old).benchmarks == {}
    with pytest.raises(ValidationError):
        ModelCard.model_validate({**CARD, "benchmarks": {"arc_easy": {"acc": "high"}}})
