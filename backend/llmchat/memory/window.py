"""The k-turn window: only the last k exchanges (user + assistant) go into the prompt."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage, trim_messages

from llmchat.prompts import Turn


def last_turns(history: Sequence[BaseMessage], k: int) -> list[BaseMessage]:
    """At most 2k messages, starting on a human message (an orphan AI reply at the cut is dropped too)."""
    if k <= 0 or not history:
        return []
    return trim_messages(
        list(history), max_tokens=2 * k, token_counter=len, strategy="last", start_on="human", allow_partial=False
    )


def to_turns(messages: Sequence[BaseMessage]) -> list[Turn]:
    return [Turn(role="user" if m.type == "human" else "assistant", content=str(m.content)) for m in messages]
