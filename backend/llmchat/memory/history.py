"""`BaseChatMessageHistory` over llmchat's store: LangChain code can read and append a conversation."""

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
    """`before_id` limits the view to messages older than that one (regenerate answers an earlier message)."""

    def __init__(self, store: ChatStore, conversation_id: str, model: str | None = None, before_id: int | None = None):
        self.store = store
        self.conversation_id = conversation_id
        self.model = model
        self.before_id = before_id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        records = self.store.messages(self.conversation_id)
        if self.before_id is not None:
            records = [r for r in records if r.id < self.before_id]
        return [to_langchain(r) for r in records if usable_for_memory(r)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        for message in messages:
            role = "user" if message.type == "human" else "assistant"
            if message.type not in ("human", "ai"):
                raise ValueError(f"only human and ai messages are stored, not {message.type!r}")
            self.store.add_message(self.conversation_id, role, str(message.content), model=self.model)

    def clear(self) -> None:
        self.store.clear_messages(self.conversation_id)
