"""Shared fixtures: offline, few threads, and tiny models built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# before anything imports torch/transformers: no downloads, and do not fight the other processes for CPU cores
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """A random-initialised 2-layer Llama HF folder with an offline tokenizer and a chat template."""
    from tests.support.tiny_model import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="session")
def tiny_lora_paths(tiny_model_path, tmp_path_factory) -> tuple[Path, Path]:
    """Two different LoRA adapters on the tiny model."""
    from tests.support.tiny_model import make_tiny_lora

    root = tmp_path_factory.mktemp("lora")
    return (
        make_tiny_lora(tiny_model_path, root / "lora-a", seed=1),
        make_tiny_lora(tiny_model_path, root / "lora-b", seed=2),
    )
