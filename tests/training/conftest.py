"""Training fixtures: a registry (configs dir + models dir) around the tiny model, a small dataset, one finished run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmchat.paths import PROJECT_ROOT
from tests.support.tiny_model import write_models_yaml

TINY_ID = "tiny-chat"


def tiny_train_settings(data: Path, **overrides) -> list[str]:
    """--set pairs for a few-second LoRA run on the tiny model; a high lr so the tiny tied model moves."""
    settings = {
        "base_model": TINY_ID,
        "data": str(data),
        "method": "lora",
        "max_steps": 40,
        "batch_size": 4,
        "learning_rate": 3e-2,
        "warmup_ratio": 0.0,
        "logging_steps": 5,
        "eval_steps": 20,
        "save_steps": 20,
        "validation_size": 8,
        "test_size": 8,
        "cutoff_len": 96,
        "torch_threads": 1,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "seed": 0,
        "lora_target_modules": "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
    }
    settings.update(overrides)
    return [f"{key}={value}" for key, value in settings.items()]


def tiny_preference_settings(data: Path, **overrides) -> list[str]:
    """--set pairs for a 12-step DPO or KTO run of the tiny model (4 rows validate, 4 test)."""
    short = {"max_steps": 12, "learning_rate": 1e-2, "eval_steps": 6, "save_steps": 6}
    return tiny_train_settings(data, **short, validation_size=4, test_size=4, **overrides)


NORM_GAIN = 4.0


@pytest.fixture(scope="session")
def trainable_tiny_path(tmp_path_factory) -> Path:
    """The tiny model with its final norm gain raised: with a tiny tied lm_head, LoRA on the random model barely
    moves the logits otherwise (the loss test would then measure noise)."""
    import torch
    from transformers import AutoModelForCausalLM

    from tests.support.tiny_model import make_tiny_model

    folder = make_tiny_model(tmp_path_factory.mktemp("tiny-trainable") / "model")
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    with torch.no_grad():
        model.model.norm.weight.mul_(NORM_GAIN)
    model.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def registry_dirs(trainable_tiny_path, tmp_path_factory) -> tuple[Path, Path]:
    """(config dir, models dir): models.yaml serves the tiny model as `tiny-chat`; prompts are the project's."""
    root = tmp_path_factory.mktemp("registry")
    config_dir, models_dir = root / "configs", root / "models"
    shutil.copytree(PROJECT_ROOT / "configs" / "prompts", config_dir / "prompts")
    models_dir.mkdir()
    write_models_yaml(
        config_dir / "models.yaml",
        [
            {
                "id": TINY_ID,
                "kind": "chat",
                "source": str(trainable_tiny_path),
                "prompt_style": "chat",
                "default_params": {"temperature": 0.0, "max_tokens": 16},
            }
        ],
        worker={"max_batch_size": 4, "max_queue": 32, "threads": 1, "preload": True},
    )
    return config_dir, models_dir


def _point_at(patch: pytest.MonkeyPatch, dirs: tuple[Path, Path]) -> None:
    patch.setenv("LLMCHAT_CONFIG_DIR", str(dirs[0]))
    patch.setenv("LLMCHAT_MODELS_DIR", str(dirs[1]))


@pytest.fixture
def registry_env(registry_dirs, monkeypatch):
    """LLMCHAT_CONFIG_DIR / LLMCHAT_MODELS_DIR pointed at the tiny registry for one test (never leaks to others)."""
    _point_at(monkeypatch, registry_dirs)
    return registry_dirs


@pytest.fixture(scope="session")
def task_data(tmp_path_factory) -> Path:
    """A small slice of the shipped generator: short arithmetic / word tasks, 96 in training phrasings + 8 held out."""
    from llmchat.training.datagen import make_examples, write_jsonl

    return write_jsonl(make_examples(96, seed=3, unseen=8), tmp_path_factory.mktemp("data") / "tasks.jsonl")


def train_tiny(registry_dirs: tuple[Path, Path], recipe: str, settings: list[str]) -> Path:
    """A finished run of configs/train/<recipe> with `settings` on top, in the tiny registry's models/runs/."""
    import torch

    from llmchat.training.config import load_config
    from llmchat.training.finetune import run_finetune

    torch.set_num_threads(1)
    config = load_config(PROJECT_ROOT / "configs" / "train" / recipe, settings)
    with pytest.MonkeyPatch.context() as patch:
        _point_at(patch, registry_dirs)
        return run_finetune(config).run_dir


@pytest.fixture(scope="session")
def lora_run(registry_dirs, task_data) -> Path:
    """One finished LoRA run of the tiny model, written into the registry's models/runs/."""
    return train_tiny(registry_dirs, "smollm2-lora.yaml", tiny_train_settings(task_data, run_name="tiny-lora"))


@pytest.fixture(scope="session")
def preference_data(tmp_path_factory) -> Path:
    """DPO rows from the shipped generator: the right short answer preferred to a wrong or wordy one."""
    from llmchat.training.datagen import make_preferences, write_jsonl

    return write_jsonl(make_preferences(48, seed=5), tmp_path_factory.mktemp("prefs") / "preferences.jsonl")


@pytest.fixture(scope="session")
def dpo_run(registry_dirs, preference_data) -> Path:
    """One finished DPO run (LoRA via TRL's DPOTrainer) of the tiny model, in the registry's models/runs/."""
    settings = tiny_preference_settings(preference_data, run_name="tiny-dpo", method="dpo", dpo_beta=0.1)
    return train_tiny(registry_dirs, "smollm2-dpo.yaml", settings)
