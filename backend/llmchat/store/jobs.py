"""Reply jobs and their event logs: what lets a reply outlive the request that started it.

A job is one generation of one reply, written with the reply's row (store/replies.py: `new_job`). The API process running it appends its events here (in batches) and
refreshes its heartbeat; any API process streams them to any client from any offset, so a reload, another tab or
another server behind the same database picks the reply up where it is. Stop is a flag here, so it reaches the job
from whichever process the user's request lands on. A job whose heartbeat stopped (its process died) is settled by
the first reader that notices (`interrupt`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from llmchat.store.database import Database
from llmchat.store.models import ReplyEvent, ReplyJob, utc_now
from llmchat.store.records import as_utc
from llmchat.store.rows import NotFound

EVENTS_PER_READ = 500


@dataclass(frozen=True)
class JobRecord:
    id: int
    message_id: int
    state: str  # running | finished | interrupted
    stop_requested: bool
    heartbeat_at: datetime


@dataclass(frozen=True)
class EventRecord:
    id: int  # the SSE event id: later events have larger ids, in every job
    name: str
    data: str  # JSON


def new_job(session: Session, conversation_id: str, message_id: int, kept_s: float) -> int:
    """A running job for the reply, in the caller's transaction (the one that writes the reply `streaming`). An
    earlier job of the same reply (Continue) goes with its events, and so do jobs last heard of more than `kept_s`
    ago (ended, or dead with nobody to notice)."""
    now = utc_now()
    discard_jobs(session, message_id)
    session.execute(delete(ReplyJob).where(ReplyJob.heartbeat_at < now - timedelta(seconds=kept_s)))
    job = ReplyJob(
        conversation_id=conversation_id,
        message_id=message_id,
        state="running",
        stop_requested=False,
        created_at=now,
        heartbeat_at=now,
    )
    session.add(job)
    session.flush()
    return job.id


def discard_jobs(session: Session, message_id: int) -> None:
    """The reply's jobs and their events (the reply is removed, or starts another generation)."""
    session.execute(delete(ReplyJob).where(ReplyJob.message_id == message_id))


class JobStore:
    """`stale_after_s`: a running job whose heartbeat is older lost its process. `kept_s`: how long the events of a
    finished job stay readable (a client that lost its connection at the very end still gets `done`)."""

    def __init__(self, database: Database, stale_after_s: float, kept_s: float):
        self._sessions = database.sessions
        self.stale_after_s = stale_after_s
        self.kept_s = kept_s

    def append(self, job_id: int, events: list[tuple[str, str]], final_state: str | None = None) -> bool:
        """Append `(name, json)` events in order and refresh the heartbeat (`final_state`: the job ends with them).
        Returns whether Stop was asked for; raises NotFound when the job is gone (its conversation was deleted)."""
        values: dict = {"heartbeat_at": utc_now()}
        if final_state is not None:
            values["state"] = final_state
        try:
            with self._sessions.begin() as session:
                touched = session.execute(update(ReplyJob).where(ReplyJob.id == job_id).values(**values))
                if touched.rowcount != 1:
                    raise NotFound(f"job {job_id} does not exist")
                session.add_all(ReplyEvent(job_id=job_id, name=name, data=data) for name, data in events)
                return bool(session.scalar(select(ReplyJob.stop_requested).where(ReplyJob.id == job_id)))
        except IntegrityError as exc:  # deleted between the update and the insert (PostgreSQL)
            raise NotFound(f"job {job_id} does not exist") from exc

    def request_stop(self, message_id: int) -> bool:
        """Ask the reply's running job to stop; False when none is running."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ReplyJob)
                .where(ReplyJob.message_id == message_id, ReplyJob.state == "running")
                .values(stop_requested=True)
            )
            return result.rowcount > 0

    def latest(self, message_id: int) -> JobRecord | None:
        with self._sessions() as session:
            job = session.scalar(
                select(ReplyJob).where(ReplyJob.message_id == message_id).order_by(ReplyJob.id.desc()).limit(1)
            )
            if job is None:
                return None
            return JobRecord(job.id, job.message_id, job.state, job.stop_requested, as_utc(job.heartbeat_at))

    def events_after(self, job_id: int, after: int) -> list[EventRecord]:
        with self._sessions() as session:
            rows = session.execute(
                select(ReplyEvent.id, ReplyEvent.name, ReplyEvent.data)
                .where(ReplyEvent.job_id == job_id, ReplyEvent.id > after)
                .order_by(ReplyEvent.id)
                .limit(EVENTS_PER_READ)
            )
            return [EventRecord(*row) for row in rows]

    def is_dead(self, job: JobRecord) -> bool:
        return job.state == "running" and job.heartbeat_at < self._stale_before()

    def interrupt(self, job_id: int, events: list[tuple[str, str]]) -> bool:
        """End a running job whose heartbeat is stale with `events`; True for the one caller that did it (several
        readers may notice the same dead job)."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ReplyJob)
                .where(ReplyJob.id == job_id, ReplyJob.state == "running", ReplyJob.heartbeat_at < self._stale_before())
                .values(state="interrupted")
            )
            if result.rowcount != 1:
                return False
            session.add_all(ReplyEvent(job_id=job_id, name=name, data=data) for name, data in events)
            return True

    def _stale_before(self) -> datetime:
        return utc_now() - timedelta(seconds=self.stale_after_s)
