"""What every part of the store shares: one declarative base, opening a database, and the
write transaction that never confirms a write it lost.

Every table of the store (directory, users and keys, plans, feedback and co-production) is
declared on :class:`Base`, so one ``MetaData`` describes the whole database and Alembic
(:mod:`matcher.store.schema`) compares and migrates all of it.

SQLite connections use WAL journalling (readers never block the writer) and a busy timeout,
and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing.
On PostgreSQL a write transaction first takes a transaction-level advisory lock
(:data:`PG_WRITE_LOCK`) for the same effect. Nothing here is SQLite-only SQL.

**Lost writes.** A SQLite file is opened in read-write mode only (``mode=rw``): a connection
never creates an empty database in place of one that was deleted. Its device and inode are
noted when the store is opened; every write transaction checks, before it starts and again
after it commits, that the file is still there and is still the same file, and that the
schema is the one this program was opened with. A write that fails any check raises
:class:`~matcher.errors.StoreUnavailableError`, which the API answers with 503 JSON: a write
is never confirmed unless it is in the store.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import JSON, Connection, Engine, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.orm import DeclarativeBase

from matcher.errors import ConfigError, StoreUnavailableError

__all__ = [
    "Base",
    "JSON_LIST",
    "PG_WRITE_LOCK",
    "SQLITE_BUSY_TIMEOUT_MS",
    "StoreGuard",
    "open_engine",
    "guard_of",
    "write_transaction",
    "safe_url",
    "sqlite_path",
]

log = logging.getLogger("matcher.store")

#: SQLite busy timeout: how long a writer waits for another writer's lock (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: PostgreSQL advisory lock key held by every write transaction (ASCII "matcher!").
PG_WRITE_LOCK = 0x6D61746368657221

#: A JSON column (JSONB on PostgreSQL).
JSON_LIST = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every table in the store (one metadata for the whole database)."""


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden (``url`` unchanged when it cannot be parsed)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def sqlite_path(url: str | URL) -> Path | None:
    """The file behind a SQLite URL; ``None`` for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().absolute()


def _create_private_file(path: Path) -> None:
    """Create a SQLite file that is not there yet, and the folders it needs, readable by
    their owner only (file 0600, folders 0700): it will hold saved plans. SQLite gives its
    ``-wal`` and ``-shm`` files the database file's permissions. An existing file or folder
    is left as it is."""
    missing: list[Path] = []
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    # An existing file is kept; any other failure (a read-only folder...) is reported when the
    # store is opened (the file is opened read-write only, never created by SQLite).
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return
    log.warning("There was no store at %s: a new, empty one was created (mode 0600).", path)


def _make_existing_file_private(path: Path) -> None:
    """An existing SQLite file (and its ``-wal``, ``-shm`` and ``-journal`` files) readable or
    writable by others than its owner is made 0600 when this process owns it, saying so in
    the log: it holds saved plans (needs, postcodes). Its folder is only reported: it may be
    shared with other programs."""
    uid = os.geteuid()
    for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        try:
            st = candidate.stat()
        except OSError:
            continue
        if st.st_mode & 0o077 and st.st_uid == uid:
            with suppress(OSError):
                candidate.chmod(0o600)
                log.warning("The store file %s could be read or written by its group or other "
                            "users (mode %o); it is now 0600.", candidate, st.st_mode & 0o777)
    with suppress(OSError):
        if path.parent.stat().st_mode & 0o077:
            log.warning("The store's folder %s is open to its group or other users (mode %o). It holds "
                        "saved plans: consider chmod 700 on it.", path.parent,
                        path.parent.stat().st_mode & 0o777)


@dataclass
class StoreGuard:
    """What a write checks: the SQLite file it must still be writing to (``None`` for
    PostgreSQL) and the schema revision the store was opened at (``None``: not checked)."""

    path: Path | None = None
    identity: tuple[int, int] | None = None
    revision: str | None = None

    def file_problem(self) -> str | None:
        """Why the SQLite file cannot be trusted any more (gone, replaced), or ``None``."""
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return (f"The database file {self.path} is gone (deleted or moved while the "
                    "server runs). Restore it from a backup, or run `matcher db upgrade` to "
                    "create a new empty store, then restart the server.")
        except OSError as exc:
            return f"The database file {self.path} cannot be checked ({exc.strerror})."
        if self.identity is not None and (st.st_dev, st.st_ino) != self.identity:
            return (f"The database file {self.path} was replaced by another file while the "
                    "server runs. Restart the server to use the new file.")
        return None

    def write_problem(self) -> str | None:
        """Why the SQLite file cannot be written (read-only file, folder or file system)."""
        if self.path is None:
            return None
        problem = self.file_problem()
        if problem:
            return problem
        folder = self.path.parent
        try:
            read_only_fs = bool(os.statvfs(self.path).f_flag & os.ST_RDONLY)
        except OSError:
            read_only_fs = False
        if read_only_fs:
            return f"The database file {self.path} is on a read-only file system."
        if not os.access(self.path, os.W_OK):
            return (f"The database file {self.path} is read-only. Give the server's user write "
                    "permission on it (chmod 600, owned by that user).")
        if not os.access(folder, os.W_OK | os.X_OK):
            return (f"The folder {folder} of the database file is read-only: SQLite needs to "
                    "write its journal there. Give the server's user write permission on it "
                    "(chmod 700, owned by that user).")
        return None


_GUARDS: weakref.WeakKeyDictionary[Engine, StoreGuard] = weakref.WeakKeyDictionary()


def guard_of(engine: Engine) -> StoreGuard | None:
    """The checks registered for ``engine`` by :func:`open_engine` (``None`` for another)."""
    return _GUARDS.get(engine)


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode = WAL``, waiting for another connection doing the same.

    Switching the journal mode of a new file answers "database is locked" at once, without the
    busy timeout, while another connection is switching it (several workers' first start):
    try again for up to the busy timeout.
    """
    import sqlite3
    import time

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def _install_sqlite_pragmas(engine: Engine) -> None:
    """WAL, busy timeout, and explicit BEGIN (IMMEDIATE for writes) on every SQLite connection.

    pysqlite's own transaction handling starts transactions lazily and only before DML, so we
    switch it off and emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite dialect notes).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("matcher_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _install_postgres_write_lock(engine: Engine) -> None:
    """Every write transaction (execution option ``matcher_write``) on PostgreSQL starts by
    taking the advisory lock :data:`PG_WRITE_LOCK`, held until it commits or rolls back, so
    writers queue as with SQLite's ``BEGIN IMMEDIATE``. Reads are never blocked."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("matcher_write", False):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")


def open_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for ``url`` with the store's connection hooks and write checks.

    A SQLite file is created (0600, in 0700 folders) when it is missing and ``create`` is true,
    then always opened read-write only, so no connection ever creates an empty database in its
    place. Raises :class:`~matcher.errors.ConfigError` when the URL is malformed or names a
    driver that is not installed, and :class:`~matcher.errors.StoreUnavailableError` when the
    SQLite file is missing and may not be created.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"The database URL {url!r} is not a valid SQLAlchemy URL. Use for example "
            "sqlite:////path/to/matcher.sqlite or postgresql+psycopg://user@host/dbname."
        ) from exc
    backend = parsed.get_backend_name()
    path = sqlite_path(parsed)
    guard = StoreGuard()
    if path is not None:
        if create:
            _create_private_file(path)
        if not path.exists():
            raise StoreUnavailableError(
                f"The database file {path} does not exist"
                + (" and cannot be created (check that its folder exists and may be written)."
                   if create else ". Run `matcher db upgrade` to create it."))
        if create:
            _make_existing_file_private(path)
        st = os.stat(path)
        guard.path, guard.identity = path, (st.st_dev, st.st_ino)
        parsed = parsed.set(database=f"file:{quote(str(path))}",
                            query={**parsed.query, "mode": "rw", "uri": "true"})
    try:
        # A server's connections can be dropped under the pool (restart, idle timeout):
        # check each one as it is checked out. SQLite files need no such check.
        engine = create_engine(parsed, echo=echo, pool_pre_ping=backend != "sqlite")
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(
            f"Cannot use the database URL {safe_url(url)}: {exc}. Check the driver name "
            "and that its Python package is installed (for PostgreSQL: pip install "
            "'send-matcher[postgres]')."
        ) from exc
    if backend == "sqlite":
        _install_sqlite_pragmas(engine)
    elif backend == "postgresql":
        _install_postgres_write_lock(engine)
    _GUARDS[engine] = guard
    return engine


def _current_revision(conn: Connection) -> str | None:
    try:
        rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):
        return None
    return rows[0] if len(rows) == 1 else None


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on success, rolled back on any exception.

    ``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL (both through the hooks of
    :func:`open_engine`). Before it starts, the SQLite file is checked (still there, the same
    file, writable: a connection opened before a ``chmod`` could otherwise still write); after it
    commits, that it is still there and the same; inside it, the schema revision is checked. Any failure, and
    any error of the database itself (unwritable, unreachable, locked too long), raises
    :class:`~matcher.errors.StoreUnavailableError`, so a caller never reports a write as done
    unless it is stored.
    """
    guard = _GUARDS.get(engine)
    if guard is not None and (problem := guard.write_problem()):
        raise StoreUnavailableError(problem)
    try:
        with engine.connect() as conn:
            conn.execution_options(matcher_write=True)
            with conn.begin():
                if guard is not None and guard.revision is not None:
                    found = _current_revision(conn)
                    if found != guard.revision:
                        raise StoreUnavailableError(
                            f"The database schema is at revision {found or 'none'}, not "
                            f"{guard.revision} as when the server started. Run `matcher db "
                            "upgrade` with this version of the program, then restart the "
                            "server.")
                yield conn
    except (OperationalError, InternalError, InterfaceError) as exc:
        # Unreachable, locked too long, read-only (SQLite: OperationalError; PostgreSQL's
        # read-only transaction: InternalError), connection lost. Not IntegrityError: a
        # conflict is the caller's to explain.
        raise StoreUnavailableError(
            f"The database could not keep the change: {exc.orig}. Check that it is running "
            "and may be written (for a SQLite file: the file and its folder)."
        ) from exc
    if guard is not None and (problem := guard.file_problem()):
        raise StoreUnavailableError(problem + " The last change was not kept.")
