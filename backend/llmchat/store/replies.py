"""A reply's life, in one place: its status machine, every write of it, and the job row of its generation.

    reply:  (new) ──> streaming ──> complete | stopped | error      the generation ends (`finish`)
                      streaming ──> (removed)                        it failed before its first word (`discard`)
                      complete | stopped ──> streaming               Continue (`claim_for_continue`)
                      streaming ──> complete | stopped               a Continue that failed to start (`restore`)
    user message:  pending | error ──> complete | error             with its reply's outcome, in the same transaction

A reply is written `streaming` together with the job row of its generation (store/jobs.py), in one transaction
(a new question and its reply too: no reader ever sees one without the other). So from the moment its id can be
known, a Stop has a job to reach, even while the request is still opening the model server's stream; the job reads
the flag when it starts. While it streams its text is saved every few seconds (`save_progress`); a `streaming`
reply not saved for `stale_after_s` lost its API process: the first reader settles it `stopped`, its text kept
(`settle_stale`). Any other move is refused (IllegalTransition).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session, aliased

from llmchat.store import tree
from llmchat.store.database import Database
from llmchat.store.jobs import discard_jobs, new_job
from llmchat.store.models import Conversation, Message, utc_now
from llmchat.store.records import MessageRecord
from llmchat.store.rows import NotFound, insert
from llmchat.store.snapshots import conversation_messages, message_snapshot

# where a reply may go from each status (None: a new row)
REPLY_MOVES: dict[str | None, frozenset[str]] = {
    None: frozenset({"streaming"}),
    "streaming": frozenset({"complete", "stopped", "error"}),
    "complete": frozenset({"streaming"}),
    "stopped": frozenset({"streaming"}),
    "error": frozenset(),
}
USER_MOVES: dict[str, frozenset[str]] = {
    "pending": frozenset({"complete", "error"}),
    "error": frozenset({"complete", "error"}),
    "complete": frozenset(),
}
FINAL = ("complete", "stopped", "error")


class IllegalTransition(ValueError):
    """A write the reply's status machine does not allow (a finished reply finished again, a question settled
    twice, ...)."""


def check_move(moves: dict, current: str | None, new: str, message_id: int | None = None) -> None:
    if new not in moves.get(current, frozenset()):
        raise IllegalTransition(f"message {message_id}: {current or 'new'} -> {new} is not a move a reply makes")


def settle_stale(session: Session, conversation_id: str, stale_before: datetime) -> None:
    """Streams whose API process died: the reply becomes `stopped` (text kept), its user message complete;
    a user message left `pending` with no reply at all becomes `error` (the UI offers a retry)."""
    stale = and_(
        Message.conversation_id == conversation_id,
        Message.updated_at < stale_before,
        Message.status.in_(("streaming", "pending")),
    )
    if not session.scalar(select(exists().where(stale))):
        return  # the usual case: a read, no write
    session.execute(
        update(Message)
        .where(stale, Message.status == "streaming")
        .values(status="stopped", finish_reason=None, updated_at=utc_now())
    )
    reply = aliased(Message)
    live = exists().where(reply.parent_id == Message.id, reply.status == "streaming")
    answered = exists().where(reply.parent_id == Message.id, reply.status != "error")
    session.execute(
        update(Message)
        .where(stale, Message.status == "pending", ~live, answered)
        .values(status="complete", updated_at=utc_now())
    )
    session.execute(
        update(Message).where(stale, Message.status == "pending", ~live).values(status="error", updated_at=utc_now())
    )


class ReplyStore:
    """`stale_after_s`: a `streaming` reply not saved for that long lost its stream. `kept_s`: how long the job
    rows of ended generations stay (their events are what a late reader resumes from)."""

    def __init__(self, database: Database, stale_after_s: float = 15.0, kept_s: float = 600.0):
        self._sessions = database.sessions
        self.stale_after_s = stale_after_s
        self.kept_s = kept_s

    # a generation starts ------------------------------------------------------------------------
    def add_exchange(
        self,
        conversation_id: str,
        content: str,
        *,
        parent_id: int | None,
        column: int,
        model: str,
        params: dict[str, Any],
        prompt_tokens: int,
    ) -> tuple[MessageRecord, MessageRecord, int]:
        """A user message (`pending`), its reply (`streaming`, empty: its id is known before the first word) and
        the reply's job, in one transaction. Returns both messages and the job's id."""
        with self._sessions.begin() as session:
            fields = {"column": column, "model": model, "params": params}
            user = insert(session, conversation_id, "user", content, parent_id=parent_id, status="pending", **fields)
            reply = insert(
                session,
                conversation_id,
                "assistant",
                "",
                parent_id=user.id,
                status="streaming",
                prompt_tokens=prompt_tokens,
                **fields,
            )
            job_id = new_job(session, conversation_id, reply.id, self.kept_s)
            return message_snapshot(session, user), message_snapshot(session, reply), job_id

    def add_reply(
        self, user: MessageRecord, *, model: str, params: dict[str, Any], prompt_tokens: int
    ) -> tuple[MessageRecord, int]:
        """A new version of the reply to `user` (regenerate), `streaming` and empty, with its job."""
        with self._sessions.begin() as session:
            reply = insert(
                session,
                user.conversation_id,
                "assistant",
                "",
                parent_id=user.id,
                column=user.column,
                model=model,
                params=params,
                status="streaming",
                prompt_tokens=prompt_tokens,
            )
            job_id = new_job(session, user.conversation_id, reply.id, self.kept_s)
            return message_snapshot(session, reply), job_id

    def claim_for_continue(self, reply_id: int) -> tuple[MessageRecord, int] | None:
        """Mark a finished reply (`complete`, `stopped`, or `streaming` but stale: its process died) `streaming`
        again to extend it, with a new job (the earlier one goes with its events); None when it is being generated
        right now (or failed: `error` has nothing to extend)."""
        with self._sessions.begin() as session:
            live = and_(Message.status == "streaming", Message.updated_at >= self._stale_before())
            result = session.execute(
                update(Message)
                .where(Message.id == reply_id, Message.role == "assistant", Message.status != "error", ~live)
                .values(status="streaming", updated_at=utc_now())
            )
            if result.rowcount != 1:
                return None
            reply = session.get(Message, reply_id)
            return message_snapshot(session, reply), new_job(session, reply.conversation_id, reply.id, self.kept_s)

    # while it streams ---------------------------------------------------------------------------
    def save_progress(self, reply_id: int, content: str) -> None:
        """The text so far (also what tells readers the stream is alive). NotFound: the conversation was deleted."""
        with self._sessions.begin() as session:
            reply = self._reply(session, reply_id)
            if reply.status != "streaming":
                raise IllegalTransition(f"message {reply_id} is {reply.status}: no longer streaming")
            reply.content = content
            reply.updated_at = utc_now()

    # a generation ends --------------------------------------------------------------------------
    def finish(
        self,
        reply_id: int,
        status: str,
        *,
        user_message_id: int | None = None,
        user_status: str | None = None,
        **fields: Any,
    ) -> tuple[MessageRecord, MessageRecord | None]:
        """The reply ends `complete`, `stopped` or `error` with its final content, finish reason and usage and,
        when `user_status` is given, its user message's outcome, in one transaction: no reader ever sees a settled
        reply under a question still `pending`."""
        allowed = {"content", "finish_reason", "prompt_tokens", "completion_tokens", "response_time_ms"}
        if set(fields) - allowed:
            raise ValueError(f"a finished reply does not set {sorted(set(fields) - allowed)}")
        with self._sessions.begin() as session:
            reply = self._move(session, reply_id, status, fields)
            user = None
            if user_status is not None and user_message_id is not None:
                user = self._settle_user(session, user_message_id, user_status)
            return message_snapshot(session, reply), (message_snapshot(session, user) if user is not None else None)

    def restore(self, earlier: MessageRecord, job_too: bool = True) -> MessageRecord:
        """A Continue that failed before its first word: the reply goes back to what it was (`job_too`: the stream
        never opened, so the job claimed for it goes too)."""
        with self._sessions.begin() as session:
            fields = {"content": earlier.content, "finish_reason": earlier.finish_reason}
            reply = self._move(session, earlier.id, earlier.status, fields)
            if job_too:
                discard_jobs(session, earlier.id)
            return message_snapshot(session, reply)

    def discard(self, reply_id: int, user_message_id: int | None = None, job_too: bool = True) -> MessageRecord | None:
        """A new reply whose generation failed before its first word is removed (unless something was added under
        it meanwhile), and its user message, still waiting for an answer, becomes `error`. `job_too`: the stream
        never opened, so the job goes too; otherwise the job stays, its last event saying why. When the reply was
        on screen, the branch goes back to its user message and down to the newest earlier reply there (a failed
        regenerate shows the earlier version again); without one it ends at the question. Returns the user
        message as it is now."""
        with self._sessions.begin() as session:
            if job_too:
                discard_jobs(session, reply_id)
            self._discard(session, reply_id)
            if user_message_id is None:
                return None
            user = session.get(Message, user_message_id)
            if user is None:
                return None
            if user.status != "complete":
                user = self._settle_user(session, user_message_id, "error")
            return message_snapshot(session, user)

    def fail_question(self, user_message_id: int) -> MessageRecord:
        """A question whose turn failed before a reply was written: `error` (a complete one stays as it is)."""
        with self._sessions.begin() as session:
            user = session.get(Message, user_message_id)
            if user is None:
                raise NotFound(f"message {user_message_id} does not exist")
            if user.status != "complete":
                user = self._settle_user(session, user_message_id, "error")
            return message_snapshot(session, user)

    # internals ----------------------------------------------------------------------------------
    def _stale_before(self) -> datetime:
        return utc_now() - timedelta(seconds=self.stale_after_s)

    @staticmethod
    def _reply(session: Session, reply_id: int) -> Message:
        reply = session.get(Message, reply_id)
        if reply is None:
            raise NotFound(f"message {reply_id} does not exist")
        if reply.role != "assistant":
            raise IllegalTransition(f"message {reply_id} is a user message, not a reply")
        return reply

    def _move(self, session: Session, reply_id: int, status: str, fields: dict[str, Any]) -> Message:
        reply = self._reply(session, reply_id)
        check_move(REPLY_MOVES, reply.status, status, reply_id)
        for name, value in fields.items():
            setattr(reply, name, value)
        reply.status = status
        reply.updated_at = utc_now()
        session.flush()
        return reply

    @staticmethod
    def _settle_user(session: Session, user_message_id: int, status: str) -> Message:
        user = session.get(Message, user_message_id)
        if user is None:
            raise NotFound(f"message {user_message_id} does not exist")
        if user.status != status:
            check_move(USER_MOVES, user.status, status, user_message_id)
            user.status = status
            user.updated_at = utc_now()
            session.flush()
        return user

    @staticmethod
    def _discard(session: Session, reply_id: int) -> bool:
        reply = session.get(Message, reply_id)
        if reply is None or reply.content or reply.role != "assistant":
            return False
        child = aliased(Message)
        if session.scalar(select(exists().where(child.parent_id == reply_id))):
            return False
        conversation_id, parent_id = reply.conversation_id, reply.parent_id
        session.delete(reply)
        session.flush()
        remaining = conversation_messages(session, conversation_id)
        leaf = tree.newest_leaf_under(remaining, parent_id) if parent_id is not None else None
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.current_leaf_id == reply_id)
            .values(current_leaf_id=leaf)
        )
        return True
