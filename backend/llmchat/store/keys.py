"""Personal API keys: `llmc-` and 43 random URL-safe characters (256 bits). A key that random needs no slow hash:
its sha256 is kept, and the first characters (the prefix) to tell one's keys apart; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from llmchat.store.database import Database
from llmchat.store.models import ApiKey, utc_now
from llmchat.store.records import as_utc
from llmchat.store.repository import MAX_ID

KEY_PREFIX = "llmc-"
SHOWN_CHARS = 12  # "llmc-" and 7 random characters: enough to tell keys apart, far too few to guess the rest
MAX_NAME_CHARS = 100
LAST_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyRecord:
    id: int
    identity: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


def _record(key: ApiKey) -> KeyRecord:
    return KeyRecord(
        id=key.id,
        identity=key.identity,
        name=key.name,
        prefix=key.prefix,
        created_at=as_utc(key.created_at),
        last_used_at=as_utc(key.last_used_at) if key.last_used_at else None,
        revoked=key.revoked_at is not None,
    )


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)


class KeyStore:
    def __init__(self, database: Database):
        self._sessions = database.sessions

    def create(self, identity: str, name: str) -> tuple[KeyRecord, str]:
        """A new key of `identity`; returns its record and the key (the only time it exists in the clear)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(identity=identity, name=name[:MAX_NAME_CHARS], prefix=key[:SHOWN_CHARS], key_hash=key_hash(key))
        with self._sessions.begin() as session:
            session.add(row)
        return _record(row), key

    def owner(self, key: str) -> str | None:
        """The identity of a live key (and its use noted), else None."""
        with self._sessions.begin() as session:
            row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash(key), ApiKey.revoked_at.is_(None)))
            if row is None:
                return None
            now = utc_now()
            # noted once a minute at most: a script's every request need not be a write
            if row.last_used_at is None or now - as_utc(row.last_used_at) > LAST_USE_PRECISION:
                row.last_used_at = now
            return row.identity

    def list(self, identity: str | None = None) -> list[KeyRecord]:
        """One identity's keys, or (None) everyone's; revoked ones included, newest first."""
        statement = select(ApiKey).order_by(ApiKey.id.desc())
        if identity is not None:
            statement = statement.where(ApiKey.identity == identity)
        with self._sessions() as session:
            return [_record(row) for row in session.scalars(statement)]

    def revoke(self, key_id: int, identity: str | None = None) -> bool:
        """Revoke a key of `identity` (None: anyone's, for the CLI); False when there is no such live key."""
        if not 0 < key_id <= MAX_ID:
            return False
        with self._sessions.begin() as session:
            row = session.get(ApiKey, key_id)
            if row is None or row.revoked_at is not None or (identity is not None and row.identity != identity):
                return False
            row.revoked_at = utc_now()
            return True
