"""Where the project's folders are. Every path can be moved with an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def config_dir() -> Path:
    """configs/ (YAML): models, app, prompts, training, accelerate."""
    return _from_env("LLMCHAT_CONFIG_DIR", PROJECT_ROOT / "configs")


def models_dir() -> Path:
    """models/: prepared checkpoints, adapters/ and runs/."""
    return _from_env("LLMCHAT_MODELS_DIR", PROJECT_ROOT / "models")


def data_dir() -> Path:
    """data/: datasets that scripts make again (never committed)."""
    return _from_env("LLMCHAT_DATA_DIR", PROJECT_ROOT / "data")
