"""`BaseChatMessageHistory` over llmchat's store: LangChain code can read and append a conversation.

A conversation is a tree of versions; the history is one branch of it: root first, down to `leaf_id`.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from llmchat.store import ChatStore, MessageRecord


def to_langchain(record: MessageRecord) -> BaseMessage:
    cls = HumanMessage if record.role == "user" else AIMessage
    return cls(content=record.content, id=str(record.id))


def usable_for_memory(record: MessageRecord) -> bool:
    """Failed or empty messages are shown in the UI but never fed back to the model."""
    return record.status != "error" and bool(record.content.strip())


class StoreChatMessageHistory(BaseChatMessageHistory):
    """The branch ending at `leaf_id` (inclusive); None: the branch on screen of `column`. New messages are
    appended to that branch."""

    def __init__(
        self,
        store: ChatStore,
        conversation_id: str,
        model: str | None = None,
        leaf_id: int | None = None,
        column: int = 0,
    ):
        self.store = store
        self.conversation_id = conversation_id
        self.model = model
        self.leaf_id = leaf_id
        self.column = column

    def _leaf(self) -> int | None:
        if self.leaf_id is not None:
            return self.leaf_id
        return self.store.default_parent(self.conversation_id, self.column)

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        records = self.store.branch(self.conversation_id, self._leaf())
        return [to_langchain(r) for r in records if usable_for_memory(r)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        parent = self._leaf()
        for message in messages:
            role = "user" if message.type == "human" else "assistant"
            if message.type not in ("human", "ai"):
                raise ValueError(f"only human and ai messages are stored, not {message.type!r}")
            parent = self.store.add_message(
                self.conversation_id, role, str(message.content), parent_id=parent, column=self.column, model=self.model
            ).id
        if self.leaf_id is not None:
            self.leaf_id = parent

    def clear(self) -> None:
        self.store.clear_messages(self.conversation_id)
