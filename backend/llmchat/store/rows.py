"""Writing message rows: a new message at the end of the branch on screen, updating fields, the checks of role
and status. Shared by the repository's single writes and its exchange of a question and its reply."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from llmchat.store.models import MESSAGE_STATUSES, Conversation, Message, utc_now

MESSAGE_ROLES = ("user", "assistant")
# a message's status moves only along the reply's status machine (store/replies.py)
UPDATABLE = {
    "content",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "response_time_ms",
    "model",
    "params",
}


class NotFound(LookupError):
    """The conversation or message is gone (deleted, perhaps by another request of the same identity meanwhile)."""


def insert(
    session: Session,
    conversation_id: str,
    role: str,
    content: str,
    *,
    parent_id: int | None,
    column: int,
    **fields: Any,
) -> Message:
    """The row of a new message under `parent_id`, the end of the branch on screen from now on."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if parent_id is not None:
        parent = session.get(Message, parent_id)
        if parent is None or parent.conversation_id != conversation_id or parent.column_index != column:
            raise ValueError(f"message {parent_id} is not in column {column} of this conversation")
    message = Message(
        conversation_id=conversation_id, parent_id=parent_id, column_index=column, role=role, content=content, **fields
    )
    session.add(message)
    session.flush()
    conversation.updated_at = utc_now()
    if column == 0:
        conversation.current_leaf_id = message.id
    if fields.get("model") and role == "assistant":
        conversation.model = fields["model"]
    return message


def set_fields(session, message_id: int, fields: dict[str, Any]) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"message {message_id} does not exist")
    for name, value in fields.items():
        setattr(message, name, value)
    message.updated_at = utc_now()
    session.flush()
    return message


def check(role: str, status: str) -> None:
    if role not in MESSAGE_ROLES:
        raise ValueError(f"role must be one of {MESSAGE_ROLES}, not {role!r}")
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {MESSAGE_STATUSES}, not {status!r}")
