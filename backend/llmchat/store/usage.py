"""Requests and tokens per identity, model and UTC day: recorded with each reply, read for /api/usage, the Admin
page and `limits.tokens_per_day`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from llmchat.store.database import Database
from llmchat.store.models import Usage

INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class UsageRow:
    identity: str
    model: str
    day: str
    requests: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def utc_day(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).date().isoformat()


def next_utc_midnight(moment: datetime | None = None) -> datetime:
    today = (moment or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


class UsageStore:
    def __init__(self, database: Database):
        self._sessions = database.sessions
        self._insert = INSERTS[database.engine.dialect.name]

    def record(self, identity: str, model: str, prompt_tokens: int, completion_tokens: int) -> None:
        """One request more for today (an upsert: concurrent replies of one identity add up, none is lost)."""
        values = {
            "identity": identity,
            "model": model,
            "day": utc_day(),
            "requests": 1,
            "prompt_tokens": max(0, prompt_tokens),
            "completion_tokens": max(0, completion_tokens),
        }
        statement = self._insert(Usage).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[Usage.identity, Usage.model, Usage.day],
            set_={
                "requests": Usage.requests + 1,
                "prompt_tokens": Usage.prompt_tokens + values["prompt_tokens"],
                "completion_tokens": Usage.completion_tokens + values["completion_tokens"],
            },
        )
        with self._sessions.begin() as session:
            session.execute(statement)

    def tokens_today(self, identity: str) -> int:
        with self._sessions() as session:
            total = session.scalar(
                select(func.sum(Usage.prompt_tokens + Usage.completion_tokens)).where(
                    Usage.identity == identity, Usage.day == utc_day()
                )
            )
        return int(total or 0)

    def rows(self, identity: str | None = None, since: date | None = None) -> list[UsageRow]:
        """One identity's rows (None: everyone's) from `since` on, by day then identity then model."""
        statement = select(Usage).order_by(Usage.day, Usage.identity, Usage.model)
        if identity is not None:
            statement = statement.where(Usage.identity == identity)
        if since is not None:
            statement = statement.where(Usage.day >= since.isoformat())
        with self._sessions() as session:
            return [
                UsageRow(u.identity, u.model, u.day, u.requests, u.prompt_tokens, u.completion_tokens)
                for u in session.scalars(statement)
            ]
