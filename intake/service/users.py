"""People who use the review UI: users with a role, argon2 password hashes and login sessions.

Roles: ``csr`` works the review queue; ``admin`` also manages users, webhooks, thresholds and
models. Sessions are stored server-side (only a SHA-256 of the cookie's random token is kept),
so logging out or disabling a user ends every session at once. Nothing here commits: the
caller's unit of work does.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.core.errors import IntakeError, NotFound
from intake.service.db import Base

__all__ = [
    "ROLES", "UserError", "UserRow", "SessionRow", "Identity", "hash_password", "add_user", "get_user",
    "list_users", "set_disabled", "set_password", "set_role", "authenticate", "create_session",
    "session_identity", "end_session", "SESSION_IDLE", "SESSION_MAX", "MIN_PASSWORD_LENGTH",
]

ROLES = ("csr", "admin")
MIN_PASSWORD_LENGTH = 8
SESSION_IDLE = timedelta(hours=12)  # a session unused this long ends
SESSION_MAX = timedelta(days=7)  # and none lives longer than this
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_TS = DateTime(timezone=True)
# argon2id with the library's current defaults (RFC 9106 low-memory profile)
_hasher = PasswordHasher()
# a hash to verify against when the user does not exist, so both paths take the same time
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime) -> datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


class UserError(IntakeError):
    """A bad user name, role or password, or a clash with an existing user."""

    code = "user_error"


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="csr")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(_TS, default=_now)
    disabled_at: Mapped[datetime | None] = mapped_column(_TS)
    last_login_at: Mapped[datetime | None] = mapped_column(_TS)


class SessionRow(Base):
    """A login session. ``id`` is the SHA-256 of the cookie's token: a leaked table opens nothing."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(_TS, default=_now)
    expires_at: Mapped[datetime] = mapped_column(_TS)
    last_seen_at: Mapped[datetime] = mapped_column(_TS, default=_now)


@dataclass(frozen=True)
class Identity:
    """Who is signed in: what the review UI's pages and the API need to know."""

    user_id: int
    name: str
    role: str
    csrf: str
    session_id: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (refused when shorter than MIN_PASSWORD_LENGTH)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise UserError(f"user name {name!r} is not valid: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def add_user(session: Session, name: str, role: str, password: str) -> UserRow:
    """Create a user. Raises UserError for a taken or invalid name, a bad role or a short password."""
    name, role = _check_name(name), _check_role(role)
    if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    row = UserRow(name=name, role=role, password_hash=hash_password(password))
    session.add(row)
    session.flush()
    return row


def get_user(session: Session, name: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.name == name.strip()))
    if row is None:
        raise NotFound(f"user {name!r} not found")
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def set_disabled(session: Session, name: str, disabled: bool = True) -> UserRow:
    """Disable (or enable) a user; disabling ends every session of theirs."""
    row = get_user(session, name)
    row.disabled_at = _now() if disabled else None
    if disabled:
        session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
    session.flush()
    return row


def set_password(session: Session, name: str, password: str) -> UserRow:
    """Replace a user's password; their other sessions end."""
    row = get_user(session, name)
    row.password_hash = hash_password(password)
    session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
    session.flush()
    return row


def set_role(session: Session, name: str, role: str) -> UserRow:
    row = get_user(session, name)
    row.role = _check_role(role)
    session.flush()
    return row


def authenticate(session: Session, name: str, password: str) -> UserRow | None:
    """The enabled user with this name and password, else None (same work either way)."""
    row = session.scalar(select(UserRow).where(UserRow.name == name.strip()))
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)  # parameters got stronger since it was set
    row.last_login_at = _now()
    return row


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(session: Session, user: UserRow) -> tuple[str, Identity]:
    """Start a session for ``user``. Returns (cookie token, identity)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    row = SessionRow(id=_token_id(token), user_id=user.id, csrf=secrets.token_urlsafe(32), created_at=now,
                     expires_at=now + SESSION_MAX, last_seen_at=now)
    session.add(row)
    session.flush()
    return token, Identity(user.id, user.name, user.role, row.csrf, row.id)


def session_identity(session: Session, token: str) -> Identity | None:
    """The identity behind a session cookie, or None when it is unknown, expired or its user disabled.

    Refreshes the idle timer (at most once a minute, to spare writes).
    """
    if not token or len(token) > 200:
        return None
    row = session.get(SessionRow, _token_id(token))
    if row is None:
        return None
    now = _now()
    if _aware(row.expires_at) <= now or now - _aware(row.last_seen_at) > SESSION_IDLE:
        session.delete(row)
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    if now - _aware(row.last_seen_at) > timedelta(minutes=1):
        row.last_seen_at = now
    return Identity(user.id, user.name, user.role, row.csrf, row.id)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(SessionRow).where(SessionRow.id == _token_id(token)))
