"""A run queue for tests: a configs folder with one tiny LoRA preset (configs/train/tiny-lora.yaml) beside the tiny
model's registry, and an empty models folder; plus reading a run's SSE events."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.sse import iter_sse

PRESET = "tiny-lora"


def tiny_preset(data: Path, **overrides: Any) -> dict[str, Any]:
    """A LoRA recipe for the tiny model that trains in seconds: a loss point every step, a validation loss and a
    checkpoint every 5 steps. 16 micro-batches a step (~0.5 s here, ~40 ms with one): slow enough that a stop, a
    killed API or a browser sees the run mid-way, not after it ended."""
    return {
        "run_name": "tiny-queued",
        "base_model": "tiny-chat",
        "method": "lora",
        "data": str(data),
        "cutoff_len": 96,
        "validation_size": 8,
        "test_size": 8,
        "seed": 0,
        "max_steps": 20,
        "batch_size": 4,
        "gradient_accumulation_steps": 16,
        "learning_rate": 3e-2,
        "warmup_ratio": 0.0,
        "logging_steps": 1,
        "eval_steps": 5,
        "save_steps": 5,
        "save_total_limit": 2,
        "torch_threads": 1,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "lora_target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        **overrides,
    }


def make_queue_dirs(registry_config_dir: Path, data: Path, root: Path) -> tuple[Path, Path]:
    """(config dir, models dir): the registry's models.yaml and prompts, and configs/train/tiny-lora.yaml."""
    config_dir, models_dir = root / "configs", root / "models"
    shutil.copytree(registry_config_dir, config_dir)
    (config_dir / "train").mkdir(exist_ok=True)
    (config_dir / "train" / f"{PRESET}.yaml").write_text(yaml.safe_dump(tiny_preset(data)), encoding="utf-8")
    models_dir.mkdir()
    return config_dir, models_dir


def read_events(
    client: httpx.Client, run_id: str, until: Callable[[str, dict], bool], timeout: float = 300
) -> list[tuple[str, dict]]:
    """The run's SSE events as they arrive, up to and including the first one `until` accepts (or the stream's
    end)."""
    seen = []
    with client.stream("GET", f"/api/admin/runs/{run_id}/events", timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        for name, data in iter_sse(response.iter_lines()):
            seen.append((name, data))
            if until(name, data):
                break
    return seen
