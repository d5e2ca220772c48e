"""The caller's own conversations and messages, or 404: another identity's are never revealed to exist."""

from __future__ import annotations

from llmchat.api.errors import ApiError
from llmchat.store import ChatStore, ConversationRecord, MessageRecord


def not_found(what: str = "conversation") -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def owned_conversation(
    store: ChatStore, owner: str, conversation_id: str, whole_tree: bool = False
) -> ConversationRecord:
    """The conversation with its branch on screen; with `whole_tree`, every message too (one read)."""
    conversation = store.get_conversation(owner, conversation_id, whole_tree=whole_tree)
    if conversation is None:
        raise not_found()
    return conversation


def owned_message(store: ChatStore, owner: str, message_id: int) -> MessageRecord:
    message = store.owned_message(owner, message_id)
    if message is None:
        raise not_found("message")
    return message
