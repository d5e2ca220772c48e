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


def prompt_dataset(records: list[dict], template: AlpacaTemplate, fields: tuple[str, ...]) -> Any:
    """A `datasets.Dataset` in TRL's standard (non-conversational) format: the prompt rendered with the Alpaca
    template, the other `fields` as they are."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {"prompt": template.render(record["prompt"], record.get("input", "")), **{f: record[f] for f in fields}}
            for record in records
        ]
    )


def preference_dataset(records: list[dict], template: AlpacaTemplate) -> Any:
    """TRL's preference format: prompt, chosen, rejected."""
    return prompt_dataset(records, template, ("chosen", "rejected"))


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


def adapter_trainer(
    trainer_class: Any,
    args: Any,
    config: TrainConfig,
    model: Any,
    tokenizer: Any,
    datasets: tuple[Any, Any],
    callbacks: list,
) -> Any:
    """A TRL trainer (DPOTrainer, KTOTrainer) over `model` (the bare base) that adds a fresh LoRA adapter to it, so
    that its reference model is the base with the adapter disabled."""
    from llmchat.training.modeling import lora_config

    train_set, eval_set = datasets
    return trainer_class(
        model=model,
        args=args,
        train_dataset=train_set,
        eval_dataset=eval_set,
        processing_class=tokenizer,
        peft_config=lora_config(config),
        callbacks=callbacks,
    )


def trl_arguments(config: TrainConfig, arguments: dict[str, Any]) -> dict[str, Any]:
    """The Trainer's arguments as TRL's DPO and KTO configs take them."""
    return {
        **arguments,
        "remove_unused_columns": True,  # TRL keeps the tokenized columns it needs by itself
        "max_length": config.cutoff_len,
        "gradient_checkpointing": config.gradient_checkpointing,  # TRL's default is on; ours follows the config
        "precompute_ref_log_probs": False,
    }


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

    args = DPOConfig(**trl_arguments(config, arguments), beta=config.dpo_beta)
    datasets = (
        preference_dataset(train, template),
        preference_dataset(validation, template) if validation else None,
    )
    return adapter_trainer(DPOTrainer, args, config, model, tokenizer, datasets, callbacks)
