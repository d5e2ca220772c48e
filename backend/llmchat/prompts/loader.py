"""Reads a prompt template file from configs/prompts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from llmchat.paths import config_dir


def read_template(name: str, directory: Path | None = None) -> dict[str, Any]:
    path = (directory or config_dir() / "prompts") / f"{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"prompt template {name!r} not found at {path}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of template fields")
    return data
