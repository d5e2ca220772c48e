"""Loads the base model and tokenizer for fine-tuning, and wraps it for the chosen method.

`base_model` is a path (an HF folder, or a .gguf file that transformers de-quantizes) or a registry id; both are
resolved and loaded by llmchat.models, the layer serving uses too, so training and serving agree on what
"smollm2-chat" is.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from llmchat.models.loading import load_pretrained, resolve_base_path
from llmchat.training.config import TrainConfig


def _quantization(config: TrainConfig) -> dict[str, Any]:
    """bitsandbytes 4/8-bit loading (QLoRA-style); CUDA and the bitsandbytes package only."""
    if not config.load_in:
        return {}
    import torch

    if config.method != "lora":
        raise ValueError("load_in (4bit/8bit) only works with method: lora")
    if not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None:
        raise ValueError(f"load_in: {config.load_in} needs a CUDA device and the bitsandbytes package")
    from transformers import BitsAndBytesConfig

    if config.load_in == "4bit":
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    elif config.load_in == "8bit":
        quant = BitsAndBytesConfig(load_in_8bit=True)
    else:
        raise ValueError(f"load_in: expected 4bit, 8bit or null, got {config.load_in!r}")
    return {"quantization_config": quant, "device_map": {"": 0}}


def load_base(config: TrainConfig) -> tuple[Any, Any]:
    """(model, tokenizer) ready to wrap; the tokenizer always has a pad token."""
    model, tokenizer = load_pretrained(resolve_base_path(config.base_model), **_quantization(config))
    if tokenizer.eos_token_id is None:
        raise ValueError(f"the tokenizer of {config.base_model!r} has no EOS token; targets need one")
    return model, tokenizer


def lora_config(config: TrainConfig) -> Any:
    """The peft LoraConfig of a lora or dpo run."""
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        bias="none",
        task_type="CAUSAL_LM",
    )


def apply_method(model: Any, config: TrainConfig) -> Any:
    """Full fine-tune: the model as is. LoRA: a peft model whose only trainable weights are the adapters.
    DPO and KTO: the model as is too; TRL's trainer adds the adapter (`lora_config`), so that the reference model is
    this same base with the adapter disabled."""
    if config.method in ("full", "dpo", "kto"):
        if config.gradient_checkpointing and config.method == "full":
            model.gradient_checkpointing_enable()
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if config.load_in:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    elif config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    return get_peft_model(model, lora_config(config))
