"""Stored message rows -> MessageRecords with what the API shows beside each one: its versions' ids, its
feedback, and whether its model is hidden (a blind compare session without a vote yet).

Used inside an open session by the conversation store (repository.py) and the feedback store (feedback.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from llmchat.store import tree
from llmchat.store.models import Conversation, Feedback, Message
from llmchat.store.records import MessageRecord, message_record


def models_hidden(session: Session, conversation_id: str) -> bool:
    conversation = session.get(Conversation, conversation_id)
    return bool(conversation is not None and conversation.blind and not conversation.revealed)


def message_snapshot(session: Session, message: Message) -> MessageRecord:
    """One message with its versions' ids (same parent, role and column), its feedback and its visibility."""
    same_parent = (
        Message.parent_id == message.parent_id if message.parent_id is not None else Message.parent_id.is_(None)
    )
    siblings = session.scalars(
        select(Message.id)
        .where(
            Message.conversation_id == message.conversation_id,
            Message.role == message.role,
            Message.column_index == message.column_index,
            same_parent,
        )
        .order_by(Message.id)
    )
    record = message_record(
        message, session.get(Feedback, message.id), hidden=models_hidden(session, message.conversation_id)
    )
    return record.with_siblings(tuple(siblings))


def conversation_messages(session: Session, conversation_id: str) -> list[MessageRecord]:
    """Every message of a conversation, oldest first, with sibling ids, feedback and visibility."""
    rows = list(session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)))
    feedback = {
        row.message_id: row
        for row in session.scalars(
            select(Feedback)
            .join(Message, Message.id == Feedback.message_id)
            .where(Message.conversation_id == conversation_id)
        )
    }
    hidden = models_hidden(session, conversation_id)
    return tree.with_sibling_ids(message_record(m, feedback.get(m.id), hidden) for m in rows)
