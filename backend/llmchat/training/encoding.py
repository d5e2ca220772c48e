"""Alpaca records -> token ids and labels, and the collator that pads a batch.

The prompt is rendered by `llmchat.prompts` (the same text the worker serves), the target is the output plus
EOS, prompt tokens get label -100 unless `train_on_inputs`, and padding always gets -100 (found by position,
not by token id: many tokenizers pad with the EOS id, and the EOS that ends a target must still be learned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llmchat.prompts import AlpacaTemplate

IGNORE_INDEX = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def encode_example(
    tokenizer: Any, template: AlpacaTemplate, record: dict, cutoff_len: int, train_on_inputs: bool = False
) -> Encoded:
    prompt = template.render(record["instruction"], record.get("input", ""))
    prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
    target_ids = tokenizer(record["output"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    input_ids = (prompt_ids + target_ids)[:cutoff_len]
    prompt_labels = list(prompt_ids) if train_on_inputs else [IGNORE_INDEX] * len(prompt_ids)
    labels = (prompt_labels + target_ids)[:cutoff_len]
    return Encoded(input_ids=list(input_ids), labels=list(labels))


def example_length(tokenizer: Any, template: AlpacaTemplate, instruction: str, input_text: str, answer: str) -> int:
    """Tokens of a whole example as `encode_example` makes it (prompt, answer, EOS): above `cutoff_len`, the end of
    the answer would be cut off in training."""
    prompt = template.render(instruction, input_text)
    return (
        len(tokenizer(prompt, add_special_tokens=True)["input_ids"])
        + len(tokenizer(answer, add_special_tokens=False)["input_ids"])
        + 1
    )


class EncodedDataset:
    """A torch-style map dataset over encoded records (no `datasets` dependency)."""

    def __init__(self, items: list[Encoded]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        item = self.items[index]
        return {"input_ids": item.input_ids, "labels": item.labels}


def encode_records(
    tokenizer: Any, template: AlpacaTemplate, records: list[dict], cutoff_len: int, train_on_inputs: bool = False
) -> EncodedDataset:
    encoded = [encode_example(tokenizer, template, r, cutoff_len, train_on_inputs) for r in records]
    # a record cut so short that no target token is left teaches nothing and gives a NaN loss: drop it
    return EncodedDataset([e for e in encoded if any(label != IGNORE_INDEX for label in e.labels)])


@dataclass
class PadCollator:
    """Right-pads a batch; labels of padding are -100 and the attention mask is 0 there."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        ids, labels, mask = [], [], []
        for feature in features:
            pad = length - len(feature["input_ids"])
            ids.append(feature["input_ids"] + [self.pad_token_id] * pad)
            labels.append(feature["labels"] + [IGNORE_INDEX] * pad)
            mask.append([1] * len(feature["input_ids"]) + [0] * pad)
        return {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(mask, dtype=torch.long),
        }
