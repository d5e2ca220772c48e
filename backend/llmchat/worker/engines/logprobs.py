"""Token log-probabilities out of logits, the same way on every engine.

The distribution is the model's own: log_softmax of the raw logits, before temperature, top_p and the repetition
penalty (what vLLM returns by default), so a score does not depend on how the reply was sampled.
"""

from __future__ import annotations

import torch

from llmchat.worker.engines.base import TokenLogprob

FLOOR = -9999.0  # log(0) as vLLM writes it: JSON has no -infinity


def _decoded(tokenizer, token_id: int) -> str:
    return tokenizer.decode([token_id], skip_special_tokens=False, clean_up_tokenization_spaces=False)


def scored_tokens(tokenizer, logits: torch.Tensor, token_ids: list[int], top_n: int) -> list[TokenLogprob]:
    """One entry per token: row i of `logits` (rows, vocab) is the distribution token_ids[i] was drawn from."""
    if not token_ids:
        return []
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    ids = torch.tensor(token_ids, dtype=torch.long, device=logprobs.device)
    chosen = logprobs.gather(1, ids[:, None])[:, 0].clamp(min=FLOOR).tolist()
    tops: list[list[tuple[str, float]]] = [[] for _ in token_ids]
    if top_n:
        values, top_ids = torch.topk(logprobs, min(top_n, logprobs.shape[-1]), dim=-1)
        for row, (row_values, row_ids) in enumerate(zip(values.clamp(min=FLOOR).tolist(), top_ids.tolist())):
            tops[row] = [(_decoded(tokenizer, t), v) for t, v in zip(row_ids, row_values)]
    return [
        TokenLogprob(token_id, _decoded(tokenizer, token_id), logprob, tuple(top))
        for token_id, logprob, top in zip(token_ids, chosen, tops)
    ]


def first_prompt_token(tokenizer, token_id: int) -> TokenLogprob:
    """The prompt's first token: nothing comes before it, so it has no logprob (null, as in vLLM and OpenAI)."""
    return TokenLogprob(token_id, _decoded(tokenizer, token_id), None)


def prompt_tokens(tokenizer, logits: torch.Tensor, prompt_ids: list[int], top_n: int) -> list[TokenLogprob]:
    """Every prompt token's entry from the logits of a forward pass over the prompt (positions × vocab)."""
    scored = scored_tokens(tokenizer, logits[: len(prompt_ids) - 1], prompt_ids[1:], top_n)
    return [first_prompt_token(tokenizer, prompt_ids[0]), *scored]
