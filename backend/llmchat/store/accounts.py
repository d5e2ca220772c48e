"""Local accounts (identity: accounts): users with argon2 password hashes, and their sign-ins.

A sign-in is a random token in the browser's cookie and its sha256 here: signing out deletes the row, so a copy of
the cookie is worthless afterwards; a password change ends every sign-in of the user.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from llmchat.store.database import Database
from llmchat.store.models import Client, Conversation, SignIn, User, utc_now
from llmchat.store.records import FieldError, as_utc

ROLES = ("admin", "user")
STATUSES = ("active", "pending", "disabled")
USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 hashes any length; this bounds the work one request can ask for


class AccountError(FieldError):
    """A name or password that cannot be used; `field` names the request field at fault."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    role: str
    status: str
    created_at: datetime

    @property
    def identity(self) -> str:
        return f"user:{self.name}"

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def _record(user: User) -> UserRecord:
    return UserRecord(user.id, user.name, user.role, user.status, as_utc(user.created_at))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    if not USER_NAME.fullmatch(name or ""):
        raise AccountError("name", "name: 1 to 64 letters, digits or . _ @ -, starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password or "") <= MAX_PASSWORD_CHARS:
        raise AccountError("password", f"password: {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")
    return password


class AccountStore:
    def __init__(self, database: Database, hasher: PasswordHasher | None = None, sign_ins: bool = False):
        """`sign_ins`: this process checks passwords (the API in accounts mode): the decoy is made now, so that the
        first unknown name takes no longer than later ones. Elsewhere (other modes, the CLI) it is made if needed:
        an argon2 hash takes half a second, which every app and command paid for nothing."""
        self._sessions = database.sessions
        self._hasher = hasher or PasswordHasher()
        if sign_ins:
            _ = self._decoy

    @cached_property
    def _decoy(self) -> str:
        """Verified against when the name is unknown, so a wrong name takes as long as a wrong password."""
        return self._hasher.hash(secrets.token_hex(16))

    # users -----------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str = "user", status: str = "active") -> UserRecord:
        """Raises AccountError for a bad or taken name or a bad password."""
        user = User(
            name=check_name(name), password_hash=self._hasher.hash(check_password(password)), role=role, status=status
        )
        with self._sessions.begin() as session:
            try:
                with session.begin_nested():
                    session.add(user)
            except IntegrityError as exc:
                raise AccountError("name", f"name: {name!r} is taken") from exc
            return _record(user)

    def sign_up(self, name: str, password: str, approval: bool) -> UserRecord:
        """The first account is an active admin; later ones are users, pending when an admin must approve them."""
        with self._sessions() as session:
            first = not session.scalar(select(func.count()).select_from(User))
        if first:
            return self.add_user(name, password, role="admin")
        return self.add_user(name, password, status="pending" if approval else "active")

    def users(self) -> list[UserRecord]:
        with self._sessions() as session:
            return [_record(u) for u in session.scalars(select(User).order_by(User.id))]

    def user(self, name: str) -> UserRecord | None:
        if not USER_NAME.fullmatch(name):
            return None  # no such name can exist (and PostgreSQL refuses a NUL even in a WHERE clause)
        with self._sessions() as session:
            user = session.scalar(select(User).where(User.name == name))
            return _record(user) if user else None

    def update_user(self, name: str, role: str | None = None, status: str | None = None) -> UserRecord | None:
        changes = {k: v for k, v in (("role", role), ("status", status)) if v is not None}
        if not USER_NAME.fullmatch(name):
            return None
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                return None
            for key, value in changes.items():
                setattr(user, key, value)
            if status in ("disabled", "pending"):
                session.execute(delete(SignIn).where(SignIn.user_id == user.id))
            return _record(user)

    def verify(self, name: str, password: str) -> UserRecord | None:
        """The user when the password is theirs (whatever their status: the caller decides); else None."""
        user = None
        if USER_NAME.fullmatch(name):
            with self._sessions() as session:
                user = session.scalar(select(User).where(User.name == name))
        stored = user.password_hash if user else self._decoy
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._sessions.begin() as session:
                session.execute(
                    update(User).where(User.id == user.id).values(password_hash=self._hasher.hash(password))
                )
        return _record(user)

    def set_password(self, name: str, password: str) -> bool:
        """A new password ends every sign-in of the user (the caller signs the current browser in again)."""
        hashed = self._hasher.hash(check_password(password))
        with self._sessions.begin() as session:
            user = session.scalar(select(User).where(User.name == name))
            if user is None:
                return False
            user.password_hash = hashed
            session.execute(delete(SignIn).where(SignIn.user_id == user.id))
            return True

    def assign_conversations(self, from_identity: str, name: str) -> int:
        """Give every conversation of `from_identity` (say `ip:10.0.0.5`, from before accounts) to user `name`;
        returns how many moved. Raises AccountError for an unknown user."""
        if self.user(name) is None:
            raise AccountError("name", f"no user {name!r}")
        target = f"user:{name}"
        with self._sessions.begin() as session:
            source_id = session.scalar(select(Client.id).where(Client.identity == from_identity))
            if source_id is None:
                return 0
            target_id = session.scalar(select(Client.id).where(Client.identity == target))
            if target_id is None:
                session.execute(update(Client).where(Client.id == source_id).values(identity=target))
                return session.scalar(
                    select(func.count()).select_from(Conversation).where(Conversation.client_id == source_id)
                )
            moved = session.execute(
                update(Conversation).where(Conversation.client_id == source_id).values(client_id=target_id)
            ).rowcount
            session.execute(delete(Client).where(Client.id == source_id))
            return moved

    # sign-ins --------------------------------------------------------------------------------
    def sign_in(self, user: UserRecord, lifetime: timedelta) -> str:
        """A new sign-in of `user`; returns the token for the cookie (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        with self._sessions.begin() as session:
            session.add(
                SignIn(token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime)
            )
        return token

    def signed_in(self, token: str) -> UserRecord | None:
        """The active user of a live sign-in; None for an unknown, ended or expired one, or a user not active."""
        with self._sessions() as session:
            row = session.execute(
                select(SignIn.expires_at, User)
                .join(User, User.id == SignIn.user_id)
                .where(SignIn.token_hash == token_hash(token))
            ).first()
        if row is None or as_utc(row[0]) <= utc_now() or row[1].status != "active":
            return None
        return _record(row[1])

    def sign_out(self, token: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(SignIn).where(SignIn.token_hash == token_hash(token)))
