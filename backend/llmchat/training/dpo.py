"""`method: dpo`: Direct Preference Optimization of a LoRA adapter with TRL's DPOTrainer.

Rows are {prompt, chosen, rejected} (data.load_preferences). The prompt is rendered with the same Alpaca
template as supervised runs and as the worker's `prompt_style: alpaca`, so a DPO run is served like any LoRA run.
The adapter is added by the trainer (peft_config), which makes the reference model the same base weights with
the adapter disabled: no second copy of the model in memory.
"""

from __future__ import annotations

from typing import Any

from llmchat.prompts import AlpacaTemplate
from llmchat.training.config import TrainConfig


def preference_dataset(records: list[dict], template: AlpacaTemplate) -> Any:
    """A `datasets.Dataset` of TRL's standard (non-conversational) preference format, prompts rendered."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "prompt": template.render(record["prompt"], record.get("input", "")),
                "chosen": record["chosen"],
                "rejected": record["rejected"],
            }
            for record in records
        ]
    )


def as_alpaca(records: list[dict]) -> list[dict]:
    """Preference rows as Alpaca records whose answer is the preferred one: the run's test.jsonl, which
    `llmchat evaluate` reads like any other run's."""
    return [
        {
            "instruction": r["prompt"],
            "input": r.get("input", ""),
            "output": r["chosen"],
            **({"task": r["task"]} if r.get("task") else {}),
        }
        for r in records
    ]


def dpo_trainer(
    config: TrainConfig,
    arguments: dict[str, Any],
    model: Any,
    tokenizer: Any,
    train: list[dict],
    validation: list[dict],
    template: AlpacaTemplate,
    callbacks: list,
) -> Any:
    """A DPOTrainer over `model` (the bare base) that trains a fresh LoRA adapter on it."""
    from trl import DPOConfig, DPOTrainer

    from llmchat.training.modeling import lora_config

    args = DPOConfig(
        **{**arguments, "remove_unused_columns": True},  # TRL keeps the tokenized columns it needs by itself
        beta=config.dpo_beta,
        max_length=config.cutoff_len,
        gradient_checkpointing=config.gradient_checkpointing,  # TRL's default is on; ours follows the config
        precompute_ref_log_probs=False,
    )
    return DPOTrainer(
        model=model,
        args=args,
        train_dataset=preference_dataset(train, template),
        eval_dataset=preference_dataset(validation, template) if validation else None,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=callbacks,
    )
