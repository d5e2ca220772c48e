"""Tables as SQLAlchemy 2.0 typed mapped classes. Alembic migrations (store/migrations) create them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# pending: a user message whose reply is not saved yet; streaming: a reply being written (saved every few seconds)
MESSAGE_STATUSES = ("complete", "error", "stopped", "pending", "streaming")
CONVERSATION_KINDS = ("chat", "compare")
# untitled: no message yet; first_line: the first message's first line, a model-written title may replace it;
# writing: a model is writing one (api/titles.py); final: settled (the model's, the user's, the first line after a
# failed or skipped model title, or older than titles), never replaced automatically. ("model": older rows, settled)
TITLE_STATES = ("untitled", "first_line", "writing", "final")
RATINGS = ("up", "down")
# both_bad counts as a tie for the rating (ranking/), and is reported apart
VOTE_WINNERS = ("left", "right", "tie", "both_bad")


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_conversation_id() -> str:
    # random ids: a conversation id never tells anything about another one
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


class Client(Base):
    """Who conversations belong to: an identity string, `ip:<address>` (identity: ip) or `user:<name>` (header,
    accounts); see llmchat.api.callers."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    conversations: Mapped[list[Conversation]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_conversation_id)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    title_state: Mapped[str] = mapped_column(String(16), default="first_line")
    kind: Mapped[str] = mapped_column(String(16), default="chat")
    # the model of the latest reply
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # a compare session's two column models, [left, right]
    models: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # the last message of the branch on screen (no foreign key: a dangling id falls back to the newest message)
    current_leaf_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a compare session whose two models were drawn at random and are hidden from the user until the first vote
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)

    client: Mapped[Client] = relationship(back_populates="conversations")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.id",
    )


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # the message this one follows: a user message follows a reply (None: the first), a reply its user message
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True, index=True)
    # 0, or 0/1 in a compare session: each column is a tree of its own
    column_index: Mapped[int] = mapped_column("column_index", Integer, default=0)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="complete")
    finish_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # "stop" | "length" | None
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


# a reply's generation: running until the model ends, Stop, or an error; interrupted: its API process died
JOB_STATES = ("running", "finished", "interrupted")


class ReplyJob(Base):
    """One generation of a reply, run by an API process apart from the request that started it. Its events (below)
    are what any API process streams to a client, from any offset; `heartbeat_at` is refreshed while it runs, so a
    job whose process died is told from a slow one; `stop_requested` is how Stop reaches it from any process."""

    __tablename__ = "reply_jobs"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # it goes with the conversation, not with the reply: a reply removed because the model failed before its first
    # word leaves the job, whose last event says why
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(Integer, index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)


class ReplyEvent(Base):
    """One event of a job (start, delta, done, error, title), in order. The id is the SSE event id: ids only grow
    (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), so `Last-Event-ID` is an offset into any job."""

    __tablename__ = "reply_events"
    __table_args__: ClassVar[dict] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("reply_jobs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)  # the event's JSON, as sent


class Feedback(Base):
    """The user's verdict on one reply: a thumb and/or a better answer they wrote. One row per reply at most;
    it goes with the reply (and so with the conversation)."""

    __tablename__ = "feedback"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    rating: Mapped[str | None] = mapped_column(String(8), nullable=True)  # "up" | "down" | None
    correction: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)


class Vote(Base):
    """A verdict between two replies to the same prompt. The prompt, both texts and both model ids are copied at
    the time of the vote (the replies may be continued later); it goes with the conversation."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    # "<smaller id>:<larger id>": one vote per pair of replies, whichever side each is shown on
    pair: Mapped[str] = mapped_column(String(32), unique=True)
    left_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    right_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    left_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    right_model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt: Mapped[str] = mapped_column(Text)
    left_content: Mapped[str] = mapped_column(Text)
    right_content: Mapped[str] = mapped_column(Text)
    winner: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class User(Base):
    """A local account (identity: accounts). `status`: active, pending (waits for an admin), disabled."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default="user")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class SignIn(Base):
    """A signed-in browser: the cookie holds a random token, this row its sha256, so signing out (or a password
    change) ends it for good, wherever a copy of the cookie is."""

    __tablename__ = "sign_ins"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A personal API key: only its sha256 is kept, and the first characters to tell keys apart."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Usage(Base):
    """Requests and tokens per identity, model and UTC day (YYYY-MM-DD)."""

    __tablename__ = "usage"

    identity: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
