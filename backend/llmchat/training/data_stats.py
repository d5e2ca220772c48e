"""What a dataset amounts to for one recipe (configs/train/*.yaml): its train / validation / test split and the token
length of every row, against the recipe's `cutoff_len`, counted as training counts them (encoding.example_length:
the Alpaca prompt, the answer and the end of text; a preference row by its longer answer)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from llmchat.paths import config_dir
from llmchat.training.config import TrainConfig, load_config
from llmchat.training.data import METHOD_FORMATS, split_examples
from llmchat.training.encoding import example_length

BINS = 16
DEFAULT_RECIPES = {"alpaca": "smollm2-lora", "preference": "smollm2-dpo", "kto": "smollm2-kto"}
CHAT_RECIPES = {"alpaca": "smollm2-chats-lora", "preference": "smollm2-chats-dpo", "kto": "smollm2-chats-kto"}


def recipes_dir() -> Path:
    return config_dir() / "train"


def recipes() -> list[dict[str, Any]]:
    """Every recipe with the data format its method trains on (a broken file is listed with its error)."""
    found = []
    for path in sorted(recipes_dir().glob("*.yaml")):
        try:
            config = load_config(path)
        except (ValueError, OSError) as exc:
            found.append({"name": path.stem, "error": str(exc)})
            continue
        found.append(
            {
                "name": path.stem,
                "method": config.method,
                "format": METHOD_FORMATS[config.method],
                "base_model": config.base_model,
                "cutoff_len": config.cutoff_len,
            }
        )
    return found


def load_recipe(name: str) -> TrainConfig:
    """configs/train/<name>.yaml; ValueError naming the recipe when there is none such or it is broken."""
    path = recipes_dir() / f"{name}.yaml"
    if "/" in name or "\\" in name or not path.is_file():
        raise ValueError(f"recipe: no configs/train/{name}.yaml")
    return load_config(path)


def default_recipe(format_name: str, source: str) -> str:
    """The demo (or, for a chat export, the chat) recipe of the format; when that file is gone, the first recipe
    whose method trains on the format."""
    name = (CHAT_RECIPES if source == "chats" else DEFAULT_RECIPES)[format_name]
    if (recipes_dir() / f"{name}.yaml").is_file():
        return name
    return next((r["name"] for r in recipes() if r.get("format") == format_name), name)


def row_length(tokenizer: Any, template: Any, format_name: str, row: dict) -> int:
    if format_name == "alpaca":
        return example_length(tokenizer, template, row["instruction"], row["input"], row["output"])
    answers = (row["chosen"], row["rejected"]) if format_name == "preference" else (row["completion"],)
    return max(example_length(tokenizer, template, row["prompt"], row["input"], answer) for answer in answers)


def histogram(lengths: list[int], cutoff_len: int, bins: int = BINS) -> dict[str, Any]:
    """Equal-width bins from 0 to the longer of the longest row and `cutoff_len`, and how many rows are over it."""
    top = max([cutoff_len, *lengths])
    width = max(1, math.ceil(top / bins))
    counts = [0] * bins
    for length in lengths:
        counts[min(length // width, bins - 1)] += 1
    return {
        "cutoff_len": cutoff_len,
        "bins": [{"start": i * width, "end": (i + 1) * width, "count": count} for i, count in enumerate(counts)],
        "over_cutoff": sum(1 for length in lengths if length > cutoff_len),
        "max": max(lengths, default=0),
        "mean": round(sum(lengths) / len(lengths), 1) if lengths else 0,
    }


def split_sizes(rows: list[dict], recipe: TrainConfig) -> dict[str, Any]:
    """The sizes `llmchat finetune` would split the rows into with this recipe's sizes and seed."""
    try:
        split = split_examples(rows, recipe.validation_size, recipe.test_size, recipe.seed)
    except ValueError as exc:
        return {"error": str(exc)}
    return {"train": len(split.train), "validation": len(split.validation), "test": len(split.test)}


def describe(format_name: str, rows: list[dict], recipe: TrainConfig) -> dict[str, Any]:
    """Split sizes and the token length histogram of `rows` for `recipe` (its base model's tokenizer)."""
    from llmchat.models.loading import load_tokenizer, resolve_base_path
    from llmchat.prompts import load_alpaca_template

    tokenizer = load_tokenizer(resolve_base_path(recipe.base_model))
    template = load_alpaca_template()
    lengths = [row_length(tokenizer, template, format_name, row) for row in rows]
    return {"split": split_sizes(rows, recipe), "lengths": histogram(lengths, recipe.cutoff_len)}
