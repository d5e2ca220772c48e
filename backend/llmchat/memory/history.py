"""A conversation's messages as LangChain messages: the model's memory.

A conversation is a tree of versions; the memory is one branch of it: root first, down to `leaf_id`.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from llmchat.store import MessageRecord
from llmchat.store.tree import path_to


def to_langchain(record: MessageRecord) -> BaseMessage:
    cls = HumanMessage if record.role == "user" else AIMessage
    return cls(content=record.content, id=str(record.id))


def usable_for_memory(record: MessageRecord) -> bool:
    """Failed or empty messages are shown in the UI but never fed back to the model."""
    return record.status != "error" and bool(record.content.strip())


def branch_memory(messages: Sequence[MessageRecord], leaf_id: int | None) -> list[BaseMessage]:
    """The branch of `messages` (a conversation's, already read) up to `leaf_id` inclusive, root first, as the
    model's memory: failed and empty messages left out. [] for None (a first message)."""
    if leaf_id is None:
        return []
    return [to_langchain(m) for m in path_to(messages, leaf_id) if usable_for_memory(m)]
