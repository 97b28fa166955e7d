"""The store's schema under Alembic: every table, directory and application data alike.

The revisions live inside the package (``matcher/store/migrations/versions``), so they work
from an installed wheel. ``matcher db upgrade`` applies them, and so does every start
(:meth:`matcher.store.Store.open`): under the store's write lock, so several processes
starting at once upgrade one after the other, and the later ones find nothing to do.

Revision ids are increasing numbers written with four digits (``"0021"``, ``"0022"``...), one
head at a time, so :meth:`~matcher.store.Store.schema_version` can report a number. A store
written before Alembic carries a ``schema_version`` table of applied steps (1, 2, 10, 20);
revision 0021 adopts it, whatever subset of those steps it holds: it adds what is missing,
keeps every row, and drops the old table.

To change the schema: edit the models (``matcher/store/*.py``), then add a revision whose
``down_revision`` is the current head, e.g. ``matcher db revision "services: add x"`` (which
fills it from the difference between the models and a fresh database), and read it through.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import ConfigError

__all__ = [
    "MIGRATIONS_PACKAGE",
    "alembic_config",
    "head_revision",
    "current_revision",
    "SchemaState",
    "schema_state",
    "describe",
    "probe",
    "upgrade",
    "new_revision",
]

#: Where the Alembic environment and revisions are (a package, shipped in the wheel).
MIGRATIONS_PACKAGE = "matcher.store.migrations"


def _script_location() -> Path:
    return Path(str(resources.files(MIGRATIONS_PACKAGE)))


def alembic_config(connection: Connection | None = None, url: str | None = None):
    """An Alembic ``Config`` for the store's migrations, with no ini file.

    ``connection``: run on this connection (already in a transaction); ``url``: connect to
    this database instead (as ``alembic`` on the command line would).
    """
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_script_location()))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head_revision() -> str:
    """The newest revision this program knows (exactly one head)."""
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise ConfigError(f"The store's migrations have {len(heads)} heads ({', '.join(heads)}); "
                          "give the newest revision the other as its down_revision.")
    return heads[0]


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at (``None``: no Alembic revision recorded)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def _legacy_version(conn: Connection) -> int | None:
    """The highest step of a store written before Alembic (``None``: not such a store)."""
    if not inspect(conn).has_table("schema_version"):
        return None
    return int(conn.execute(text("SELECT max(version) FROM schema_version")).scalar() or 0)


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this program's migrations."""

    current: str | None
    head: str
    legacy: int | None = None   # the old schema_version step of a store not yet adopted

    @property
    def ok(self) -> bool:
        return self.current == self.head

    def problem(self) -> str | None:
        """Why the schema is not usable as it is, in plain English (``None`` when it is)."""
        if self.ok:
            return None
        if self.legacy is not None:
            return (f"The database has the schema of an older version of the program (step "
                    f"{self.legacy}). Run `matcher db upgrade` to bring it to revision "
                    f"{self.head}.")
        if self.current is None:
            return (f"The database has no schema yet. Run `matcher db upgrade` to create it "
                    f"(revision {self.head}).")
        if self.current.isdigit() and self.head.isdigit() and self.current > self.head:
            return (f"The database schema is at revision {self.current}, newer than this "
                    f"program's {self.head}. Upgrade send-matcher, or point "
                    "MATCHER_DATABASE_URL at another database.")
        return (f"The database schema is at revision {self.current}, not this program's "
                f"{self.head}. Run `matcher db upgrade` with this version of the program.")


def describe(state: SchemaState) -> str:
    """Where the schema stands, in one sentence (for ``matcher db``)."""
    if state.ok:
        return f"at revision {state.current}, this program's newest."
    if state.legacy is not None:
        return (f"written before migrations were versioned (step {state.legacy}); this "
                f"program's newest revision is {state.head}.")
    if state.current is None:
        return f"no schema yet; this program's newest revision is {state.head}."
    return f"at revision {state.current}; this program's newest is {state.head}."


def schema_state(conn: Connection) -> SchemaState:
    """Where the database behind ``conn`` stands (reads only)."""
    current = current_revision(conn)
    legacy = _legacy_version(conn) if current is None else None
    return SchemaState(current=current, head=head_revision(), legacy=legacy)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to ``revision`` (default: the newest) in ONE write transaction,
    holding the store's write lock. Returns the revisions before and after.

    Raises :class:`~matcher.errors.ConfigError` when the database is newer than this program.
    """
    from alembic import command
    from alembic.util import CommandError

    with engine.connect() as conn:
        conn.execution_options(matcher_write=True)
        with conn.begin():
            before = current_revision(conn)
            try:
                command.upgrade(alembic_config(conn), revision)
            except CommandError as exc:
                raise ConfigError(
                    f"The database schema is at revision {before}, which this program does "
                    f"not know (its newest is {head_revision()}): {exc}. Upgrade send-matcher, "
                    "or point MATCHER_DATABASE_URL at another database.") from exc
            after = current_revision(conn)
    return before, after


def new_revision(engine: Engine, message: str) -> Path:
    """Write a new revision file from the difference between the models and a database at the
    newest revision (``engine``: a scratch database; it is brought to the head first)."""
    from alembic import command

    upgrade(engine)
    with engine.connect() as conn, conn.begin():
        script = command.revision(alembic_config(conn), message=message, autogenerate=True,
                                  rev_id=f"{int(head_revision()) + 1:04d}")
    head_revision.cache_clear()
    if script is None or isinstance(script, list):  # pragma: no cover - one head only
        raise ConfigError("No revision was written.")
    return Path(script.path)


def _probe(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        return schema_state(conn)


def probe(engine: Engine) -> SchemaState | str:
    """:func:`schema_state` on a fresh connection, or why the database could not be read."""
    try:
        return _probe(engine)
    except SQLAlchemyError as exc:
        return f"The database cannot be read: {getattr(exc, 'orig', None) or exc}."
