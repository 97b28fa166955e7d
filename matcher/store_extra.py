"""Tables beside the service directory: API users, feedback and key workers' plans.

They live in the same database as :mod:`matcher.store` but on their own SQLAlchemy metadata
(:class:`ExtraBase`), created with ``CREATE TABLE IF NOT EXISTS`` semantics by
:func:`ensure_extra_tables`, so the service store's own migrations are left alone.

Nothing here holds personal data about families:

- ``api_users``: a name, a role and the SHA-256 hash of an API key (the key itself is shown once,
  when it is made, and never stored);
- ``feedback``: a service id, a kind and the hour it was given (no text, no IP, no user);
- ``plans``: see :mod:`matcher.plans` (a pseudonymous label chosen by the key worker, deleted
  after its retention date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matcher.errors import ConfigError

__all__ = [
    "ExtraBase",
    "ApiUserRow",
    "FeedbackRow",
    "PlanRow",
    "ROLES",
    "Role",
    "FEEDBACK_KINDS",
    "FeedbackKind",
    "ApiUser",
    "ensure_extra_tables",
    "write_transaction",
    "hash_key",
    "add_user",
    "list_users",
    "remove_user",
    "authenticate",
    "add_feedback",
    "feedback_summary",
]

Role = Literal["key_worker", "commissioner", "admin", "editor"]
#: The roles an API key can carry. Public routes need no key at all.
ROLES: tuple[str, ...] = get_args(Role)
FeedbackKind = Literal["helpful", "not_helpful", "out_of_date"]
FEEDBACK_KINDS: tuple[str, ...] = get_args(FeedbackKind)

#: API keys look like ``mk_<8 hex id>_<43 url-safe characters>``; the id is not secret and
#: lets us find the row, the whole key is then checked against its hash in constant time.
_KEY_PREFIX = "mk_"


class ExtraBase(DeclarativeBase):
    """Declarative base of the tables in this module (separate from the service store's)."""


class ApiUserRow(ExtraBase):
    """One API key holder."""

    __tablename__ = "api_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class FeedbackRow(ExtraBase):
    """One piece of anonymous feedback about a service."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PlanRow(ExtraBase):
    """One key worker's plan (content as JSON, see :mod:`matcher.plans`)."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    retain_until: Mapped[dt.date] = mapped_column(Date, index=True)


def ensure_extra_tables(engine: Engine) -> None:
    """Create this module's tables where they are missing (idempotent, safe to call often).

    Runs as a write transaction, so processes doing it at the same moment on a fresh
    PostgreSQL database queue (the store's advisory lock) instead of colliding."""
    with write_transaction(engine) as conn:
        ExtraBase.metadata.create_all(conn, checkfirst=True)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL,
    both through the store's connection hooks)."""
    with engine.connect() as conn:
        conn.execution_options(matcher_write=True)
        with conn.begin():
            yield conn


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- users
@dataclass(frozen=True)
class ApiUser:
    """Who is calling: the key holder's name and role."""

    name: str
    role: str
    created_at: dt.datetime | None = None


def hash_key(key: str) -> str:
    """SHA-256 (hex) of an API key; what the database keeps instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _key_id(key: str) -> str | None:
    if not key.startswith(_KEY_PREFIX):
        return None
    parts = key[len(_KEY_PREFIX):].split("_", 1)
    if len(parts) != 2 or len(parts[0]) != 8:
        return None
    return parts[0]


def add_user(engine: Engine, name: str, role: str) -> str:
    """Create a user and return their new API key (shown once; only its hash is stored).

    Raises :class:`~matcher.errors.ConfigError` for an unknown role, a blank name or a name
    already in use.
    """
    name = name.strip()
    if not name:
        raise ConfigError("The user name is blank. Give a name, e.g. matcher users add alex "
                          "--role key_worker.")
    if len(name) > 100:
        raise ConfigError("The user name is longer than 100 characters. Use a shorter name.")
    if role not in ROLES:
        raise ConfigError(f"'{role}' is not a role. Use one of: {', '.join(ROLES)}.")
    ensure_extra_tables(engine)
    key_id = secrets.token_hex(4)
    key = f"{_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with write_transaction(engine) as conn:
        taken = conn.execute(select(ApiUserRow.id).where(ApiUserRow.name == name)).first()
        if taken is not None:
            raise ConfigError(f"There is already a user called '{name}'. Choose another name, "
                              f"or remove the old one with: matcher users remove {name}")
        conn.execute(insert(ApiUserRow.__table__), {
            "name": name, "role": role, "key_id": key_id, "key_hash": hash_key(key),
            "created_at": _now()})
    return key


def list_users(engine: Engine) -> list[ApiUser]:
    """Every user (name, role, when created), by name. Keys are never shown again."""
    ensure_extra_tables(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(ApiUserRow.name, ApiUserRow.role, ApiUserRow.created_at)
                            .order_by(ApiUserRow.name)).all()
    return [ApiUser(n, r, _as_utc(c)) for n, r, c in rows]


def remove_user(engine: Engine, name: str) -> bool:
    """Delete a user, which revokes their key at once. False when there was no such user."""
    ensure_extra_tables(engine)
    with write_transaction(engine) as conn:
        gone = conn.execute(delete(ApiUserRow.__table__).where(ApiUserRow.name == name))
        return bool(gone.rowcount)


def authenticate(engine: Engine, key: str) -> ApiUser | None:
    """The user holding ``key``, or ``None``. The hash comparison is constant-time."""
    key_id = _key_id(key)
    if key_id is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(ApiUserRow.name, ApiUserRow.role, ApiUserRow.key_hash)
                           .where(ApiUserRow.key_id == key_id)).first()
    if row is None or not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return ApiUser(row.name, row.role)


# --------------------------------------------------------------------------- feedback
def add_feedback(engine: Engine, service_id: str, kind: str,
                 now: dt.datetime | None = None) -> dt.datetime:
    """Record one piece of feedback. The time is kept to the hour only, so a row cannot be
    matched to a request in a web server's log. Returns the stored time."""
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FEEDBACK_KINDS)}")
    at = (now or _now()).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    with write_transaction(engine) as conn:
        conn.execute(insert(FeedbackRow.__table__),
                     {"service_id": service_id, "kind": kind, "created_at": at})
    return at


def feedback_summary(engine: Engine, since: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """``{service_id: {kind: count}}`` for every service with feedback (since ``since``)."""
    q = select(FeedbackRow.service_id, FeedbackRow.kind, func.count()).group_by(
        FeedbackRow.service_id, FeedbackRow.kind).order_by(FeedbackRow.service_id)
    if since is not None:
        q = q.where(FeedbackRow.created_at >= since)
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for service_id, kind, n in conn.execute(q):
            out.setdefault(service_id, dict.fromkeys(FEEDBACK_KINDS, 0))[kind] = int(n)
    return out
