"""A real worker subprocess on the tiny models, once per engine, shared by the HTTP tests of this folder.

Every test that uses `worker` runs on both engines: transformers (the CUDA engine, runtime LoRA) and OpenVINO (the
CPU engine, int8 exports made on first use: a few seconds each for the tiny model).
"""

from __future__ import annotations

import shutil

import httpx
import pytest

from tests.support.servers import start_worker
from tests.support.tiny_model import make_tiny_model, write_models_yaml

ENGINES = ("transformers", "openvino")


@pytest.fixture(scope="session", params=ENGINES)
def engine(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def worker_setup(tmp_path_factory, tiny_model_path, tiny_lora_paths, engine):
    """(config path, models dir): tiny chat + base (one source), a model without chat template, one adapter folder."""
    root = tmp_path_factory.mktemp(f"worker-{engine}")
    models = root / "models"
    shutil.copytree(tiny_lora_paths[0], models / "adapters" / "tiny-lora-a")
    plain = make_tiny_model(root / "plain", seed=3, chat_template=False, max_position_embeddings=64)
    config = write_models_yaml(
        root / "models.yaml",
        [
            {"id": "tiny-chat", "kind": "chat", "source": str(tiny_model_path), "prompt_style": "chat"},
            {"id": "tiny-base", "kind": "base", "source": str(tiny_model_path), "prompt_style": "fewshot"},
            {"id": "tiny-lora-b", "kind": "lora", "base": "tiny-base", "adapter": str(tiny_lora_paths[1])},
            {"id": "tiny-plain", "kind": "base", "source": str(plain), "prompt_style": "fewshot"},
        ],
        worker={"max_batch_size": 8, "max_queue": 16, "engine": engine},
    )
    return config, models


@pytest.fixture(scope="session")
def worker(worker_setup):
    config, models = worker_setup
    with start_worker(config, models_dir=models, timeout=180) as running:
        yield running


@pytest.fixture(scope="module")
def client(worker):
    """An HTTP client on the module's `worker` (this folder's shared one, or the module's own where it defines one)."""
    with httpx.Client(base_url=worker.url, timeout=120) as client:
        yield client
