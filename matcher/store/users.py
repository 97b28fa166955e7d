"""API users and their keys: a name, a role and the SHA-256 hash of an API key (the key
itself is shown once, when it is made, and never stored). Nothing here is about families.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import DateTime, Engine, Integer, String, delete, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import ConfigError
from matcher.store.base import Base, write_transaction

__all__ = [
    "ApiUserRow",
    "ROLES",
    "Role",
    "ApiUser",
    "hash_key",
    "add_user",
    "list_users",
    "remove_user",
    "authenticate",
]

Role = Literal["key_worker", "commissioner", "admin", "editor"]
#: The roles an API key can carry. Public routes need no key at all.
ROLES: tuple[str, ...] = get_args(Role)

#: API keys look like ``mk_<8 hex id>_<43 url-safe characters>``; the id is not secret and
#: lets us find the row, the whole key is then checked against its hash in constant time.
_KEY_PREFIX = "mk_"


class ApiUserRow(Base):
    """One API key holder."""

    __tablename__ = "api_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


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
    with engine.connect() as conn:
        rows = conn.execute(select(ApiUserRow.name, ApiUserRow.role, ApiUserRow.created_at)
                            .order_by(ApiUserRow.name)).all()
    return [ApiUser(n, r, _as_utc(c)) for n, r, c in rows]


def remove_user(engine: Engine, name: str) -> bool:
    """Delete a user, which revokes their key at once. False when there was no such user."""
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
