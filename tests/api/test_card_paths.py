"""Model cards show no server paths to users: a run's recipe (data and output folders), its evaluation's report and
test data, and benchmark data locations are cut to file names (and report locations left out) for everyone but an
admin, who sees them as the model server wrote them. The model server is a real HTTP stand-in serving such a card."""

from __future__ import annotations

import json

import pytest
from flask import Flask, jsonify

from llmchat.api.routes.cards import looks_like_path
from tests.support.api_server import api_config, from_address, start_api
from tests.support.stand_in import serve_app

pytestmark = pytest.mark.integration  # a real worker and API

SCORE = {"acc": 0.4, "acc_norm": 0.45, "n": 20, "limit": 20, "num_fewshot": None, "created": "20261203-091500"}
CARD = {
    "id": "tuned",
    "kind": "lora",
    "base_model": "smollm2-chat",
    "prompt_style": "chat",
    "engine": "transformers",
    "context_length": 512,
    "origin": "runs",
    "created": "2026-12-03T09:15:00Z",
    "run": {
        "method": "lora",
        "recipe": {
            "base_model": "hf:HuggingFaceTB/SmolLM2-135M-Instruct",
            "data": "/srv/llmchat/data/train/tasks.jsonl",
            "output_dir": "models/runs/tuned",
            "eval_data_dir": "C:\\llm\\bench",
            "lora": {"r": 8, "target_modules": ["q_proj", "v_proj"]},
        },
        "loss_curve": [{"step": 10, "loss": 2.5}],
        "evaluation": {
            "created": "20261203-091800",
            "report": "/srv/llmchat/reports/eval-20261203",
            "data": "/srv/llmchat/data/test/tasks-test.jsonl",
            "n": 16,
            "model": "tuned",
            "models": {"tuned": {"summary": {"exact_match": 50.0, "n": 16}}},
        },
        "benchmarks": None,
    },
    "benchmarks": {"arc_easy": {**SCORE, "data": "/srv/llmchat/data/benchmarks", "report": "/srv/reports/bench-1"}},
}
SERVER_PATHS = ("/srv/", "C:\\", "models/runs", "reports/")


def card_server():
    app = Flask("card-server")

    @app.get("/v1/models")
    def models():
        return jsonify({"object": "list", "data": [{k: CARD[k] for k in ("id", "kind", "prompt_style", "origin")}]})

    @app.get("/v1/models/tuned/card")
    def card():
        return jsonify(CARD)

    return serve_app(app)


def test_cards_show_file_names_to_users_and_paths_to_admins(tmp_path):
    with card_server() as url:
        config = api_config(f"sqlite:///{tmp_path / 'c.db'}", [url], admin_ips=("127.0.0.1",))
        with (
            start_api(config) as api,
            from_address(api.url, "127.0.0.1") as admin,
            from_address(api.url, "127.0.0.9") as user,
        ):
            shown = user.get("/api/models/tuned/card")
            assert shown.status_code == 200, shown.text
            text = json.dumps(shown.json())
            assert not any(path in text for path in SERVER_PATHS), text
            card = shown.json()
            recipe = card["run"]["recipe"]
            assert (
                recipe["data"] == "tasks.jsonl"
                and recipe["output_dir"] == "tuned"
                and recipe["eval_data_dir"] == "bench"
            )
            assert recipe["base_model"] == "hf:HuggingFaceTB/SmolLM2-135M-Instruct"  # a model name, not a path
            assert recipe["lora"] == {"r": 8, "target_modules": ["q_proj", "v_proj"]}
            evaluation = card["run"]["evaluation"]
            assert "report" not in evaluation and evaluation["data"] == "tasks-test.jsonl"
            assert (
                card["benchmarks"]["arc_easy"]["data"] == "benchmarks"
                and "report" not in card["benchmarks"]["arc_easy"]
            )

            full = admin.get("/api/models/tuned/card").json()
            assert full["run"]["recipe"]["data"] == "/srv/llmchat/data/train/tasks.jsonl"
            assert full["run"]["evaluation"]["report"] == "/srv/llmchat/reports/eval-20261203"


def test_what_counts_as_a_server_path():
    for path in ("/srv/a b/tasks.jsonl", "~/data.jsonl", "C:\\data\\x.jsonl", "data/tasks.jsonl", "reports\\r1"):
        assert looks_like_path(path), path
    for text in ("hf:org/name", "ollama:llama3:8b", "https://example.com/x", "datasets cache", "q_proj", "a/b test"):
        assert not looks_like_path(text), text
