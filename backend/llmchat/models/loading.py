"""The one loader of transformers weights: HF folders and GGUF files (de-quantised by transformers), for serving,
training, evaluation and `llmchat models prepare` alike, plus peft adapters on top for a lora entry."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmchat.models.registry import Registry
from llmchat.models.sources import resolve_source
from llmchat.models.specs import PACKAGE_PREFIX, ModelSpec, UnknownModelError

log = logging.getLogger("llmchat.models")
GGUF_CONTROL_TOKEN = 3  # tokenizer.ggml.token_type of special tokens (gguf.TokenType.CONTROL)


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: Any  # a torch.dtype


def torch_dtype(name: str):
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[name]


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def placement_for(spec: ModelSpec, device: str = "auto") -> Placement:
    """`auto`: CUDA with bf16 when a GPU is present, else CPU float32 (fp16/bf16 matmuls are slow on CPU)."""
    wanted = spec.device if device == "auto" else device
    if wanted == "auto":
        wanted = "cuda" if cuda_available() else "cpu"
    if spec.dtype != "auto":
        return Placement(wanted, torch_dtype(spec.dtype))
    return Placement(wanted, torch_dtype("bfloat16" if wanted.startswith("cuda") else "float32"))


def set_cpu_threads(threads: int | None) -> int:
    """Few threads: a small model gains little from more, and the machine is shared."""
    import torch

    count = threads or int(os.environ.get("LLMCHAT_WORKER_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)
    torch.set_num_threads(count)
    return count


def load_tokenizer(source: Path):
    """The tokenizer of an HF folder or a .gguf file; it always has a pad token (EOS when it names none)."""
    from transformers import AutoTokenizer

    if source.suffix == ".gguf":
        tokenizer = load_gguf_tokenizer(source)
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(source))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_gguf_tokenizer(gguf: Path):
    """The tokenizer stored in a GGUF file.

    transformers picks the GGUF tokenizer converter by the model's architecture. A llama-architecture model with a
    byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`, as SmolLM2 is) then gets a SentencePiece-style
    tokenizer: a BOS token glued to every text, EOS taken from the BOS id and a decoder that, once saved, leaves
    `Ġ` and `Ċ` in the text. For such a file the tokenizer is built from the converter the vocabulary names."""
    from tokenizers import AddedToken
    from transformers import AutoTokenizer, PreTrainedTokenizerFast
    from transformers.integrations.ggml import GGUF_TO_FAST_CONVERTERS
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    metadata = load_gguf_checkpoint(str(gguf), return_tensors=False)
    vocabulary = metadata["tokenizer"]
    by_architecture = GGUF_TO_FAST_CONVERTERS.get(metadata["config"].get("model_type"))
    by_vocabulary = GGUF_TO_FAST_CONVERTERS.get(vocabulary.get("tokenizer_type"))
    if by_vocabulary is None or by_architecture is None or by_vocabulary is by_architecture:
        return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokens = vocabulary["tokens"]

    def token(key: str) -> str | None:
        index = vocabulary.get(key)
        return tokens[index] if index is not None else None

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=by_vocabulary(dict(vocabulary)).converted(),
        bos_token=token("bos_token_id"),
        eos_token=token("eos_token_id"),
        unk_token=token("unk_token_id"),
        pad_token=token("pad_token_id"),
        chat_template=metadata.get("tokenizer_config", {}).get("chat_template"),
        model_max_length=metadata["config"].get("max_position_embeddings"),
    )
    # control tokens (chat markers such as <|im_start|>) are single tokens, never spelled out by the BPE
    kinds = vocabulary.get("token_type") or []
    control = [tokens[index] for index, kind in enumerate(kinds) if kind == GGUF_CONTROL_TOKEN]
    tokenizer.add_tokens([AddedToken(text, special=True, normalized=False) for text in control], special_tokens=True)
    return tokenizer


def load_pretrained(source: Path, dtype: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """(model, tokenizer) from an HF folder or a .gguf file, on the CPU unless `kwargs` place it."""
    import torch
    from transformers import AutoModelForCausalLM

    dtype = dtype or torch.float32
    if source.suffix == ".gguf":
        model = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=dtype, **kwargs)
        forget_gguf_quantization(model)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(source), dtype=dtype, **kwargs)
    return model, load_tokenizer(source)


def forget_gguf_quantization(model: Any) -> None:
    """transformers de-quantises GGUF weights to `dtype` on load but still tags the model as GGUF-quantised, which
    makes the Trainer refuse it and `save_pretrained` write a quantisation config. The weights are plain floats."""
    model.hf_quantizer = None
    for attribute in ("is_quantized", "quantization_method"):
        if attribute in vars(model):
            delattr(model, attribute)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def load_weights(spec: ModelSpec, placement: Placement) -> tuple[Any, Any]:
    """(model, tokenizer) for a non-lora spec, in eval mode on its device."""
    source = resolve_source(spec)
    started = time.monotonic()
    if source.suffix == ".gguf" and spec.source and spec.source.startswith(PACKAGE_PREFIX):
        log.info(
            "loading %s from the GGUF (slow, ~20 s); run `llmchat models prepare` once to load in seconds", spec.id
        )
    model, tokenizer = load_pretrained(source, placement.dtype)
    model.to(placement.device).eval()
    log.info(
        "loaded %s from %s in %.1f s (%s, %s)",
        spec.id,
        source,
        time.monotonic() - started,
        placement.device,
        str(placement.dtype).replace("torch.", ""),
    )
    return model, tokenizer


def context_length_of(spec: ModelSpec, model) -> int:
    """The spec's context_length, else the model config's; never the tokenizer's (GGUF ones report ~1e30)."""
    if spec.context_length:
        return spec.context_length
    config = model.config
    return int(getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", 2048))


def load_model_and_tokenizer(spec: ModelSpec, registry: Registry, device: str = "auto"):
    """(model, tokenizer) ready for inference; a lora spec gets its base with the adapter on it (peft)."""
    if spec.kind != "lora":
        return load_weights(spec, placement_for(spec, device))
    from peft import PeftModel

    base_spec = registry.get(spec.base)
    model, tokenizer = load_weights(base_spec, placement_for(base_spec, device))
    peft_model = PeftModel.from_pretrained(model, str(spec.adapter), adapter_name=spec.id, is_trainable=False)
    return peft_model.eval(), tokenizer


def resolve_base_path(base_model: str, registry: Registry | None = None) -> Path:
    """Where the weights of `base_model` are: the path itself, or the registry entry's source (so training and
    serving agree on what "smollm2-chat" is)."""
    path = Path(base_model).expanduser()
    if path.exists():
        return path
    from llmchat.models.registry import load_registry

    try:
        spec = (registry or load_registry()).get(base_model)
    except UnknownModelError as exc:
        raise ValueError(f"base_model {base_model!r} is neither a path nor a model id in the registry: {exc}") from exc
    if spec.kind == "lora":
        raise ValueError(f"base_model {base_model!r} is a LoRA entry; train on its base {spec.base!r} instead")
    return resolve_source(spec)
