"""Every read and write of conversations, always scoped to the caller's IP.

A conversation of another IP is simply not found (the API answers 404): its existence is never revealed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from llmchat.store.database import Database
from llmchat.store.models import MESSAGE_STATUSES, Client, Conversation, Message, utc_now
from llmchat.store.records import ConversationRecord, MessageRecord, conversation_record, message_record

MESSAGE_ROLES = ("user", "assistant")


class NotFound(LookupError):
    """The conversation or message is gone (deleted, perhaps by another request of the same IP meanwhile)."""


class ChatStore:
    def __init__(self, database: Database):
        self._sessions = database.sessions

    # clients and conversations -------------------------------------------------------------
    def _client_id(self, session: Session, ip: str) -> int:
        client_id = session.scalar(select(Client.id).where(Client.ip == ip))
        if client_id is not None:
            return client_id
        try:
            with session.begin_nested():
                client = Client(ip=ip)
                session.add(client)
            return client.id
        except IntegrityError:
            # another request of the same IP created it first
            return session.scalar(select(Client.id).where(Client.ip == ip))

    def _owned(self, session: Session, ip: str, conversation_id: str) -> Conversation | None:
        if "\x00" in conversation_id:  # no id has one, and PostgreSQL refuses NUL even in a WHERE clause
            return None
        query = (
            select(Conversation)
            .join(Client, Client.id == Conversation.client_id)
            .where(Conversation.id == conversation_id, Client.ip == ip)
        )
        return session.scalar(query)

    def create_conversation(self, ip: str, title: str, model: str | None) -> ConversationRecord:
        with self._sessions.begin() as session:
            conversation = Conversation(client_id=self._client_id(session, ip), title=title[:200], model=model)
            session.add(conversation)
            session.flush()
            return conversation_record(conversation, 0)

    def list_conversations(self, ip: str) -> list[ConversationRecord]:
        counts = (
            select(Message.conversation_id, func.count(Message.id).label("n"))
            .group_by(Message.conversation_id)
            .subquery()
        )
        query = (
            select(Conversation, func.coalesce(counts.c.n, 0))
            .join(Client, Client.id == Conversation.client_id)
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(Client.ip == ip)
            .order_by(Conversation.updated_at.desc(), Conversation.created_at.desc())
        )
        with self._sessions() as session:
            return [conversation_record(row, count) for row, count in session.execute(query)]

    def get_conversation(self, ip: str, conversation_id: str) -> ConversationRecord | None:
        with self._sessions() as session:
            conversation = self._owned(session, ip, conversation_id)
            if conversation is None:
                return None
            messages = tuple(message_record(m) for m in conversation.messages)
            return conversation_record(conversation, len(messages), messages)

    def rename_conversation(self, ip: str, conversation_id: str, title: str) -> ConversationRecord | None:
        with self._sessions.begin() as session:
            conversation = self._owned(session, ip, conversation_id)
            if conversation is None:
                return None
            conversation.title = title[:200]
            conversation.updated_at = utc_now()
        return self.get_conversation(ip, conversation_id)

    def delete_conversation(self, ip: str, conversation_id: str) -> bool:
        with self._sessions.begin() as session:
            conversation = self._owned(session, ip, conversation_id)
            if conversation is None:
                return False
            session.delete(conversation)
            return True

    # messages -------------------------------------------------------------------------------
    def add_message(
        self,
        conversation_id: str,
        role: str,
        content: str,
        *,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        status: str = "complete",
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        response_time_ms: int | None = None,
    ) -> MessageRecord:
        _check(role, status)
        with self._sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            message = Message(
                conversation_id=conversation_id, role=role, content=content, model=model, params=params,
                status=status, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                response_time_ms=response_time_ms,
            )
            session.add(message)
            conversation.updated_at = utc_now()
            if model:
                conversation.model = model
            session.flush()
            return message_record(message)

    def update_message(self, message_id: int, **fields: Any) -> MessageRecord:
        """Set content, status, token counts, response_time_ms (whatever is given)."""
        allowed = {"content", "status", "prompt_tokens", "completion_tokens", "response_time_ms", "model", "params"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"cannot update message fields {sorted(unknown)}")
        if "status" in fields:
            _check("assistant", fields["status"])
        with self._sessions.begin() as session:
            message = session.get(Message, message_id)
            if message is None:
                raise NotFound(f"message {message_id} does not exist")
            for name, value in fields.items():
                setattr(message, name, value)
            message.updated_at = utc_now()
            session.flush()
            return message_record(message)

    def delete_message(self, message_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(Message).where(Message.id == message_id))

    def messages(self, conversation_id: str) -> list[MessageRecord]:
        query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        with self._sessions() as session:
            return [message_record(m) for m in session.scalars(query)]

    def clear_messages(self, conversation_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(Message).where(Message.conversation_id == conversation_id))

    def ping(self) -> None:
        """Raises when the database cannot answer (used by /api/health)."""
        with self._sessions() as session:
            session.execute(select(1))


def _check(role: str, status: str) -> None:
    if role not in MESSAGE_ROLES:
        raise ValueError(f"role must be one of {MESSAGE_ROLES}, not {role!r}")
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"status must be one of {MESSAGE_STATUSES}, not {status!r}")
