"""`method: kto`: Kahneman-Tversky Optimization of a LoRA adapter with TRL's KTOTrainer.

Rows are {prompt, completion, label} (data.load_kto): one answer with a thumb up (label true) or down (false), no
pairs, which is what the chat's thumbs give (`llmchat data from-chats --format kto`). As for DPO (dpo.py), the
prompt is rendered with the Alpaca template, the adapter is added by the trainer and the reference model is the
same base with the adapter disabled. TRL estimates KTO's KL term by pairing each row with another of its batch,
so a batch holds at least 2 rows (config.py refuses less) and rows are taken in the split's seeded order.
"""

from __future__ import annotations

from typing import Any

from llmchat.prompts import AlpacaTemplate
from llmchat.training.config import TrainConfig
from llmchat.training.dpo import adapter_trainer, prompt_dataset, trl_arguments


def kto_dataset(records: list[dict], template: AlpacaTemplate) -> Any:
    """TRL's unpaired preference format: prompt, completion, label."""
    return prompt_dataset(records, template, ("completion", "label"))


def as_alpaca(records: list[dict]) -> list[dict]:
    """The thumbs-up rows as Alpaca records: the run's test.jsonl, which `llmchat evaluate` reads like any run's."""
    return [
        {"instruction": r["prompt"], "input": r.get("input", ""), "output": r["completion"]}
        for r in records
        if r["label"]
    ]


def kto_trainer(
    config: TrainConfig,
    arguments: dict[str, Any],
    model: Any,
    tokenizer: Any,
    train: list[dict],
    validation: list[dict],
    template: AlpacaTemplate,
    callbacks: list,
) -> Any:
    """A KTOTrainer over `model` (the bare base) that trains a fresh LoRA adapter on it."""
    from trl import KTOConfig, KTOTrainer

    args = KTOConfig(
        **trl_arguments(config, arguments),
        beta=config.kto_beta,
        desirable_weight=config.kto_desirable_weight,
        undesirable_weight=config.kto_undesirable_weight,
    )
    datasets = (kto_dataset(train, template), kto_dataset(validation, template) if validation else None)
    return adapter_trainer(KTOTrainer, args, config, model, tokenizer, datasets, callbacks)
