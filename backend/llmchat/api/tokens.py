"""Counting tokens with the model server's own tokenizer (`/tokenize`), or estimating them where it has none.

The turn counts its prompt here to fit the history into the model's context; the turn runner counts a reply whose
stream was cut before the server reported its usage; /v1 estimates what a server did not report.
"""

from __future__ import annotations

from llmchat.api.model_errors import WORKER_ERRORS
from llmchat.modelclient import Endpoint, ModelClient
from llmchat.prompts import Prompt


def estimate_tokens(text: str) -> int:
    """For a server without /tokenize: about four characters a token."""
    return max(1, (len(text) + 3) // 4)


def count_text(client: ModelClient, endpoint: Endpoint, model_id: str, text: str) -> int:
    counted = client.count_tokens(endpoint, model_id, text=text)
    return counted if counted is not None else estimate_tokens(text)


def count_prompt(client: ModelClient, endpoint: Endpoint, model_id: str, prompt: Prompt) -> int:
    """Chat prompts are counted as messages, so the server's own chat template is included."""
    if prompt.messages is None:
        return count_text(client, endpoint, model_id, prompt.as_text())
    counted = client.count_tokens(
        endpoint, model_id, messages=list(prompt.messages), template_flags=prompt.chat_flags()
    )
    return counted if counted is not None else estimate_tokens(prompt.as_text())


def count_quietly(client: ModelClient, endpoint: Endpoint, model_id: str, text: str) -> int:
    """A reply's token count when the server did not report one (a cut stream); never fails."""
    if not text:
        return 0
    try:
        return count_text(client, endpoint, model_id, text)
    except WORKER_ERRORS:
        return estimate_tokens(text)
