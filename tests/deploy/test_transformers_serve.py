"""A third-party OpenAI-compatible server as a worker: `transformers serve` (transformers' own server) on a model
folder, routed to by URL in the app config. No llmchat code runs on the model side."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import httpx
import pytest

from llmchat.api.config import ModelSettings
from tests.api.conftest import read_sse
from tests.support.api_server import api_config, start_api
from tests.support.servers import free_port, run_server
from tests.support.tiny_model import make_tiny_model

pytestmark = pytest.mark.integration  # starts real servers (tests/conftest.py)

CLI = Path(sys.executable).with_name("transformers")


@contextlib.contextmanager
def transformers_serve(model_folder: Path, cache: Path):
    port = free_port()
    # HF_HUB_CACHE must exist: its /v1/models lists the hub cache and answers 500 without one
    cache.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(cache), OMP_NUM_THREADS="1")
    command = [str(CLI), "serve", str(model_folder), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    url = f"http://127.0.0.1:{port}"
    with run_server(command, url, "/health", env, 120, "transformers-serve-"):
        yield url


def test_chat_through_transformers_serve(tmp_path):
    folder = make_tiny_model(tmp_path / "tiny")
    model_id = str(folder)  # transformers serve names a local model by its path
    with transformers_serve(folder, tmp_path / "hub") as url:
        settings = {
            model_id: ModelSettings(
                workers=(url,),
                prompt_style="chat",
                context_length=512,
                default_params={"max_tokens": 6, "temperature": 0.0},
            )
        }
        config = api_config(f"sqlite:///{tmp_path / 'api.db'}", [], models=settings)
        with start_api(config) as api, httpx.Client(base_url=api.url, timeout=120) as client:
            models = client.get("/api/models").json()["models"]
            assert [m["id"] for m in models] == [model_id]

            reply = client.post("/api/chat", json={"message": "hello", "model": model_id}).json()
            message = reply["message"]
            assert message["status"] == "complete" and message["model"] == model_id
            assert message["usage"]["completion_tokens"] == 6  # the server's own count, max_tokens reached

            with client.stream(
                "POST",
                "/api/chat",
                json={
                    "message": "again",
                    "model": model_id,
                    "stream": True,
                    "conversation_id": reply["conversation_id"],
                },
            ) as stream:
                events = read_sse(stream)
            names = [name for name, _ in events]
            assert names[0] == "start" and names[-1] == "done"
            streamed = "".join(data["content"] for name, data in events if name == "delta")
            assert events[-1][1]["message"]["content"] == streamed

            saved = client.get(f"/api/conversations/{reply['conversation_id']}").json()["messages"]
            assert [m["role"] for m in saved] == ["user", "assistant", "user", "assistant"]
            assert all(m["status"] == "complete" for m in saved)
