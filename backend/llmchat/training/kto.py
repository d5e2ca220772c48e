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


def kto_dataset(records: list[dict], template: AlpacaTemplate) -> Any:
    """A `datasets.Dataset` of TRL's standard unpaired preference format, prompts rendered."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "prompt": template.render(record["prompt"], record.get("input", "")),
                "completion": record["completion"],
                "label": record["label"],
            }
            for record in records
        ]
    )


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

    from llmchat.training.modeling import lora_config

    args = KTOConfig(
        **{**arguments, "remove_unused_columns": True},  # TRL keeps the tokenized columns it needs by itself
        beta=config.kto_beta,
        desirable_weight=config.kto_desirable_weight,
        undesirable_weight=config.kto_undesirable_weight,
        max_length=config.cutoff_len,
        gradient_checkpointing=config.gradient_checkpointing,  # TRL's default is on; ours follows the config
        precompute_ref_log_probs=False,
    )
    return KTOTrainer(
        model=model,
        args=args,
        train_dataset=kto_dataset(train, template),
        eval_dataset=kto_dataset(validation, template) if validation else None,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=callbacks,
    )
