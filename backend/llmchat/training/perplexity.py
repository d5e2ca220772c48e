"""Eval loss and perplexity of a model on Alpaca records, computed locally.

The model is loaded the way the transformers engine loads it (llmchat.models), and each record is scored in the model's own
prompt style: the loss is the mean negative log-likelihood of the reference answer (plus the end-of-turn token)
given the prompt, over all answer tokens.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from llmchat.prompts import load_alpaca_template
from llmchat.training.worker_client import render_fewshot, user_text


def load_for_eval(model_id: str, models_config: Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) for a registry id (lora runs get their base with the adapter), in eval mode."""
    from llmchat.models.loading import load_model_and_tokenizer
    from llmchat.models.registry import load_registry

    registry = load_registry(models_config)
    try:
        spec = registry.get(model_id)
    except KeyError as exc:
        raise ValueError(f"cannot compute eval loss: {exc}") from exc
    model, tokenizer = load_model_and_tokenizer(spec, registry, device="auto")
    return model.eval(), tokenizer


def prompt_and_target(tokenizer: Any, style: str, record: dict) -> tuple[list[int], list[int]]:
    """Token ids of the prompt and of the answer the model should write, in `style`."""
    if style == "alpaca":
        prompt = load_alpaca_template().render(record["instruction"], record.get("input", ""))
        prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
        target_ids = tokenizer(record["output"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    elif style == "chat":
        messages = [{"role": "user", "content": user_text(record)}]
        prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        target_ids = tokenizer(record["output"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    else:  # fewshot: the reply follows "AI:" after a space and ends where the next turn would start
        prompt, _ = render_fewshot(record)
        prompt_ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
        target_ids = tokenizer(" " + record["output"], add_special_tokens=False)["input_ids"]
    return list(prompt_ids), list(target_ids)


def answer_loss(model: Any, tokenizer: Any, style: str, records: list[dict], progress: bool = True) -> dict:
    """{"eval_loss", "perplexity", "tokens"}: token-weighted mean NLL of the answers."""
    import torch
    from tqdm import tqdm

    device = next(model.parameters()).device
    total_nll, total_tokens = 0.0, 0
    with torch.inference_mode():
        for record in tqdm(records, desc="eval loss", disable=not progress, leave=False):
            prompt_ids, target_ids = prompt_and_target(tokenizer, style, record)
            ids = torch.tensor([prompt_ids + target_ids], device=device)
            logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
            targets = torch.tensor(target_ids, device=device)
            total_nll += torch.nn.functional.cross_entropy(logits, targets, reduction="sum").item()
            total_tokens += len(target_ids)
    loss = total_nll / max(total_tokens, 1)
    return {"eval_loss": round(loss, 4), "perplexity": round(math.exp(min(loss, 50.0)), 3), "tokens": total_tokens}
