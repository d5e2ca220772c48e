"""A plain OpenAI-compatible server without llmchat's extras (no kind/prompt_style/context_length in /v1/models,
no /health, no /tokenize), like llama.cpp's or an older vLLM: app.yaml's per-model settings fill the gaps and the
token budget falls back to characters/4. The stand-in server below is a real HTTP server that echoes the prompt it
got, so the test can see exactly what the API sent."""

from __future__ import annotations

import httpx
import pytest
from flask import Flask, jsonify, request

from llmchat.api.config import ModelSettings
from tests.support.api_server import api_config, start_api
from tests.support.stand_in import serve_app

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)


def plain_server_app(seen: list[dict]) -> Flask:
    app = Flask("plain-openai")

    @app.get("/v1/models")
    def models():
        return jsonify({"object": "list", "data": [{"id": "plain-llm", "object": "model", "owned_by": "someone"}]})

    @app.post("/v1/chat/completions")
    def chat():
        body = request.get_json()
        seen.append(body)
        if request.headers.get("Authorization") != "Bearer sk-test":
            return jsonify({"error": {"message": "bad key"}}), 401
        last = body["messages"][-1]["content"]
        return jsonify(
            {"choices": [{"message": {"role": "assistant", "content": f"echo: {last}"}, "finish_reason": "stop"}]}
        )

    return app


def plain_server(seen: list[dict]):
    return serve_app(plain_server_app(seen))


def test_app_yaml_settings_fill_in_for_a_plain_server(tmp_path):
    seen: list[dict] = []
    with plain_server(seen) as url:
        settings = {
            "plain-llm": ModelSettings(
                api_key="sk-test", context_length=300, default_params={"max_tokens": 50, "system_prompt": "Be kind."}
            )
        }
        config = api_config(f"sqlite:///{tmp_path / 't.db'}", [url], models=settings)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=30) as client:
            (model,) = client.get("/api/models").json()["models"]
            assert (model["prompt_style"], model["kind"], model["context_length"]) == ("chat", "chat", 300)
            assert model["default_params"]["max_tokens"] == 50
            assert client.get("/api/health").json()["workers"][0]["status"] == "ok"  # alive without /health

            reply = client.post("/api/chat", json={"message": "hello", "model": "plain-llm"}).json()["message"]
            assert reply["content"] == "echo: hello"
            assert seen[-1]["messages"][0] == {"role": "system", "content": "Be kind."}
            # no usage from the server and no /tokenize: characters/4 estimates
            assert reply["usage"]["prompt_tokens"] > 0 and reply["usage"]["completion_tokens"] == 3

            # 300 tokens of context - 50 for the reply leaves about 1000 characters for the prompt
            too_long = client.post("/api/chat", json={"message": "x" * 1200, "model": "plain-llm"})
            assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "message_too_long"
