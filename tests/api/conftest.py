"""A real worker with a tiny random model (three prompt styles over the same weights) and real API servers."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.api_server import api_config, start_api
from tests.support.servers import start_worker
from tests.support.sse import iter_sse
from tests.support.tiny_model import make_tiny_model, write_models_yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
PARAMS = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 8}


def model_entries(folder: Path, context_length: int = 512) -> list[dict]:
    return [
        {
            "id": f"tiny-{style}",
            "kind": kind,
            "source": str(folder),
            "prompt_style": style,
            "context_length": context_length,
            "default_params": dict(PARAMS),
        }
        for style, kind in (("chat", "chat"), ("fewshot", "base"), ("alpaca", "alpaca"))
    ]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    import torch

    torch.set_num_threads(1)
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def models_yaml(tiny_model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("worker") / "models.yaml"
    return write_models_yaml(path, model_entries(tiny_model), worker={"max_batch_size": 4, "max_queue": 16})


@pytest.fixture(scope="session")
def worker(models_yaml):
    with start_worker(models_yaml) as running:
        yield running


@pytest.fixture
def api(worker, tmp_path, fresh_sqlite):
    with start_api(api_config(fresh_sqlite(tmp_path / "api.db"), [worker.url])) as server:
        yield server


@pytest.fixture
def client(api):
    with httpx.Client(base_url=api.url, timeout=60) as http:
        yield http


def read_sse(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) pairs of an SSE response."""
    return list(iter_sse(response.iter_lines()))
