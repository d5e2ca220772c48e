"""What the New run form offers and what it amounts to: the methods, the main settings with their defaults and
allowed ranges, the presets of configs/train/, and the exact `llmchat finetune` command of a filled-in form.

Everything comes from the training config (config.py: `TrainConfig` for the methods and defaults, `RANGES` for the
ranges), so a method or a range added there shows in the form, the API and the CLI alike.
"""

from __future__ import annotations

import shlex
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmchat.paths import PROJECT_ROOT, config_dir
from llmchat.training.config import RANGES, TrainConfig, load_config

# the recipe keys the form shows, in its order; every other key keeps the preset's value (or a --set of the CLI)
MAIN_SETTINGS = (
    "max_steps",
    "num_epochs",
    "learning_rate",
    "batch_size",
    "gradient_accumulation_steps",
    "cutoff_len",
    "warmup_ratio",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "validation_size",
    "test_size",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "dpo_beta",
    "kto_beta",
)
CHOSEN = ("run_name", "base_model", "method", "data")  # always written into the command


class FormError(ValueError):
    """A form value the recipe refuses; `field` names it (the API's 400 says which)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def methods() -> list[str]:
    """The training methods, as the config's `method` type lists them."""
    return list(typing.get_args(typing.get_type_hints(TrainConfig)["method"]))


def settings_schema() -> list[dict[str, Any]]:
    """[{name, type, default, min, max}] of the main settings."""
    defaults = TrainConfig()
    hints = typing.get_type_hints(TrainConfig)
    rows = []
    for name in MAIN_SETTINGS:
        low, high = RANGES[name]
        kind = "integer" if hints[name] is int else "number"
        rows.append({"name": name, "type": kind, "default": getattr(defaults, name), "min": low, "max": high})
    return rows


def presets_folder() -> Path:
    return config_dir() / "train"


def presets() -> list[dict[str, Any]]:
    """Each configs/train/*.yaml: its name, the path the command names, and its values."""
    rows = []
    for path in sorted(presets_folder().glob("*.yaml")):
        try:
            values = load_config(path).to_dict()
        except (ValueError, OSError, yaml.YAMLError):
            continue  # a recipe this version cannot read is not offered
        rows.append({"name": path.stem, "path": shown_path(path), "values": values})
    return rows


def shown_path(path: Path) -> str:
    """A path as the command shows it: relative to the project root (where runs start) when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _as_setting(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _same(value: Any, preset_value: Any) -> bool:
    """Whether a form value is the preset's own (8 and 8.0 are; "8" from the command line is 8 too)."""
    try:
        return float(value) == float(preset_value)
    except (TypeError, ValueError):
        return _as_setting(value) == _as_setting(preset_value)


@dataclass
class Plan:
    """A checked form: the finetune arguments and the config they amount to."""

    argv: list[str]
    config: TrainConfig

    @property
    def command(self) -> str:
        return "llmchat finetune " + shlex.join(self.argv)


def plan_run(preset: str, values: dict[str, Any]) -> Plan:
    """The preset with the form's values on top, checked like `llmchat finetune` checks them. Only what differs
    from the preset (and the run's name, base, method and data) becomes a --set, so the command stays readable."""
    path = presets_folder() / f"{preset}.yaml"
    if "/" in preset or not path.is_file():
        raise FormError("preset", f"preset: no recipe {preset!r} in {shown_path(presets_folder())}")
    base = load_config(path).to_dict()
    unknown = sorted(set(values) - set(base))
    if unknown:
        raise FormError(unknown[0], f"{unknown[0]}: not a recipe key")
    pairs = [
        f"{key}={_as_setting(value)}" for key, value in values.items() if key in CHOSEN or not _same(value, base[key])
    ]
    try:
        config = load_config(path, pairs)
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise FormError(field if field in base else "settings", str(exc)) from exc
    argv = ["--config", shown_path(path)]
    for pair in pairs:
        argv += ["--set", pair]
    return Plan(argv=argv, config=config)
