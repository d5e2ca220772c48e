"""The fine-tuning config: a typed dataclass read from configs/train/*.yaml, with `--set key=value` overrides."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


@dataclass
class TrainConfig:
    # what to train
    run_name: str = "run"
    # registry id (configs/models.yaml), a path (HF folder or .gguf) or a source: hf:ORG/NAME, ollama:NAME[:TAG]
    base_model: str = "smollm2-chat"
    # dpo: a LoRA trained on {prompt, chosen, rejected} rows; kto: a LoRA trained on {prompt, completion, label} rows
    method: Literal["full", "lora", "dpo", "kto"] = "lora"
    data: str = "data/generated/alpaca_tasks.jsonl"
    output_dir: str = ""  # default: models/runs/<run_name>
    # prompt / tokens
    cutoff_len: int = 256
    train_on_inputs: bool = False  # False: prompt tokens get label -100 (alpaca-lora's default)
    # split (a value below 1 is a fraction, else a count)
    validation_size: float = 0.05
    test_size: float = 0.1
    seed: int = 42
    # optimisation (Stanford Alpaca: cosine, warmup ratio 0.03, 3 epochs, lr 2e-5 full / 3e-4 LoRA)
    num_epochs: float = 3.0
    max_steps: int = -1  # > 0 wins over num_epochs
    batch_size: int = 4
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    lr_scheduler_type: str = "cosine"
    bf16: str = "auto"  # auto: bf16 on a CUDA device that supports it
    gradient_checkpointing: bool = False
    logging_steps: int = 5
    eval_steps: int = 50
    save_steps: int = 100
    save_total_limit: int = 2
    dataloader_num_workers: int = 0
    torch_threads: int = 0  # 0: torch's default
    # LoRA (peft LoraConfig)
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    load_in: str | None = None  # 4bit | 8bit (CUDA + bitsandbytes only) | null
    # DPO (method: dpo, TRL's DPOTrainer; the reference model is the base with the adapter disabled)
    dpo_beta: float = 0.1  # how far the run may move from the reference (higher: less)
    # KTO (method: kto, TRL's KTOTrainer; rated answers without pairs, the same adapter-disabled reference)
    kto_beta: float = 0.1  # as dpo_beta
    kto_desirable_weight: float = 1.0  # weigh the thumbs-up rows' loss (counter more downs than ups, or the reverse)
    kto_undesirable_weight: float = 1.0
    # standard benchmarks after training (lm-evaluation-harness tasks, e.g. [arc_easy]): the run and its base
    eval_tasks: list[str] = field(default_factory=list)
    eval_limit: int | None = None  # the first N examples per task
    eval_data_dir: str = ""  # DIR/<task>/<split>.jsonl; empty: the local datasets cache

    def run_dir(self, models_root: Path) -> Path:
        return Path(self.output_dir) if self.output_dir else models_root / "runs" / self.run_name

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# the allowed values of the numeric keys, inclusive: build_config refuses the rest (naming the key), and the New run
# form (training/runner/form.py) shows them. A split size below 1 is a fraction, else a count; max_steps -1: epochs.
RANGES: dict[str, tuple[float, float]] = {
    "cutoff_len": (8, 131072),
    "validation_size": (0, 1_000_000),
    "test_size": (0, 1_000_000),
    "num_epochs": (0.01, 1000),
    "max_steps": (-1, 10_000_000),
    "batch_size": (1, 4096),
    "gradient_accumulation_steps": (1, 4096),
    "learning_rate": (1e-9, 1.0),
    "weight_decay": (0.0, 1.0),
    "warmup_ratio": (0.0, 0.99),
    "logging_steps": (1, 1_000_000),
    "eval_steps": (0, 1_000_000),
    "save_steps": (1, 1_000_000),
    "save_total_limit": (1, 1000),
    "dataloader_num_workers": (0, 256),
    "torch_threads": (0, 1024),
    "lora_r": (1, 4096),
    "lora_alpha": (1, 16384),
    "lora_dropout": (0.0, 0.99),
    "dpo_beta": (1e-4, 100.0),
    "kto_beta": (1e-4, 100.0),
    "kto_desirable_weight": (1e-3, 1000.0),
    "kto_undesirable_weight": (1e-3, 1000.0),
}


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}
_TYPES = typing.get_type_hints(TrainConfig)


def _coerce(name: str, value: Any) -> Any:
    """`value` (from YAML or a --set string) as the field's declared type; ValueError names the key."""
    hint = _TYPES[name]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(value, str) and value.lower() in ("null", "none", "~") and type(None) in args:
        return None
    if origin in (typing.Union, types.UnionType):
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if value is None:
            return None
    if origin is Literal:
        if value not in args:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ValueError(f"{name}: expected a list, got {value!r}")
        return [str(item).strip() for item in items if str(item).strip()]
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    try:
        return hint(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected {hint.__name__}, got {value!r}") from exc


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {pair!r}")
        overrides[key.strip()] = value.strip()
    return overrides


def build_config(values: dict[str, Any]) -> TrainConfig:
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ValueError(f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(_FIELDS))}")
    config = TrainConfig(**{name: _coerce(name, value) for name, value in values.items()})
    _check_ranges(config)
    _check_base_model(config.base_model)
    if config.method == "kto" and config.batch_size < 2:
        # TRL's KL estimate pairs each row with another row of the same batch
        raise ValueError("batch_size: method kto needs at least 2 rows per batch")
    return config


def _check_ranges(config: TrainConfig) -> None:
    for name, (low, high) in RANGES.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise ValueError(f"{name}: {value!r} is outside the allowed range {low:g} to {high:g}")


def _check_base_model(base_model: str) -> None:
    """A malformed `hf:`/`ollama:` base_model is refused with the recipe, not after the data is tokenised."""
    from llmchat.models.sources import is_source_string, parse_source

    if is_source_string(base_model):
        try:
            parse_source(base_model)
        except ValueError as exc:
            raise ValueError(f"base_model: {exc}") from exc


def load_config(path: Path | str | None, overrides: list[str] | None = None) -> TrainConfig:
    """The YAML file's values, then each `key=value` override on top, all checked against the dataclass."""
    values: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: expected a mapping of config keys")
        values.update(loaded)
    values.update(parse_overrides(overrides or []))
    return build_config(values)


def save_config(config: TrainConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
