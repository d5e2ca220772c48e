"""Logprob entries in OpenAI's two shapes: the legacy completions object and the chat `content` list.

Completions (as vLLM writes it): `{tokens, token_logprobs, top_logprobs, text_offset}`, where each `top_logprobs`
item maps the token itself and the N most likely tokens to their logprobs (null for the first prompt token of an
echo) and `text_offset` is where each token's text starts in the choice's text (a generated special token, left out of the text, takes no
room). Chat: `{content: [{token, logprob,
bytes, top_logprobs: [{token, logprob, bytes}]}]}`.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmchat.worker.engines.base import TokenLogprob


def _top_map(entry: TokenLogprob) -> dict[str, float] | None:
    """The token and its alternatives by text; where two tokens decode alike (two halves of characters both show
    as U+FFFD), the likelier one's logprob stays, so the map's maximum is the position's."""
    if entry.logprob is None:
        return None
    top: dict[str, float] = {}
    for token, logprob in ((entry.token, entry.logprob), *entry.top):
        top[token] = max(logprob, top.get(token, logprob))
    return top


def completion_logprobs(entries: Sequence[TokenLogprob], offset: int = 0) -> dict:
    """The completions logprobs object; `offset` is where the first token's text starts."""
    text_offset = []
    for entry in entries:
        text_offset.append(offset)
        offset += len(entry.token) if entry.in_text else 0
    return {
        "tokens": [entry.token for entry in entries],
        "token_logprobs": [entry.logprob for entry in entries],
        "top_logprobs": [_top_map(entry) for entry in entries],
        "text_offset": text_offset,
    }


def _chat_token(token: str, logprob: float) -> dict:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def chat_logprobs(entries: Sequence[TokenLogprob]) -> dict:
    return {
        "content": [
            {
                **_chat_token(entry.token, entry.logprob),
                "top_logprobs": [_chat_token(token, logprob) for token, logprob in entry.top],
            }
            for entry in entries
        ]
    }
