"""The service directory: SQLAlchemy 2, SQLite by default, PostgreSQL too.

One table, ``services``, holds one row per :class:`~matcher.services.ServiceRecord` (list
fields as JSON), plus a content hash for "unchanged" detection and the time the row last
changed. A small ``schema_version`` table records which of the ordered :data:`MIGRATIONS` have
been applied, so a database written by an older version is upgraded when it is opened.

Every import is one transaction (:meth:`Store.upsert_services`): if it fails, or the process
is killed half-way, the directory is exactly as it was before.

SQLite connections use WAL journalling (readers never block the writer) and a busy timeout,
and write transactions start with ``BEGIN IMMEDIATE`` so two writers queue instead of failing.
On PostgreSQL a write transaction first takes a transaction-level advisory lock
(:data:`PG_WRITE_LOCK`) for the same effect: two API workers creating the schema at once, or
two imports at once, run one after the other. Rows are put in id order in Python, so the order
and :meth:`Store.data_version` do not depend on the database's collation.
Nothing here is SQLite-only SQL: the same code runs on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matcher.errors import ConfigError, DataImportError
from matcher.services import ServiceRecord, records_to_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Store",
    "Base",
    "ServiceRow",
    "SchemaVersion",
    "Migration",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "record_hash",
    "PG_WRITE_LOCK",
    "DirectoryState",
    "ServiceReading",
]

#: SQLite busy timeout: how long a writer waits for another writer's lock (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Rows per INSERT/UPDATE batch inside the import transaction.
WRITE_BATCH = 1_000
#: PostgreSQL advisory lock key held by every write transaction (ASCII "matcher!").
PG_WRITE_LOCK = 0x6D61746368657221

_ListJSON = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class ServiceRow(Base):
    """One service, as stored. Field names mirror :class:`ServiceRecord`."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    organisation: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(_ListJSON)
    needs_raw: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[list[str]] = mapped_column(_ListJSON)
    needs_unrecognised: Mapped[list[str]] = mapped_column(_ListJSON)
    min_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    service_area: Mapped[list[str]] = mapped_column(_ListJSON)
    delivery: Mapped[list[str]] = mapped_column(_ListJSON)
    cost: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cost_details: Mapped[str] = mapped_column(Text, default="")
    when: Mapped[list[str]] = mapped_column(_ListJSON)
    accessibility: Mapped[list[str]] = mapped_column(_ListJSON)
    languages: Mapped[list[str]] = mapped_column(_ListJSON)
    referral: Mapped[list[str]] = mapped_column(_ListJSON)
    ehcp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    transitions: Mapped[list[str]] = mapped_column(_ListJSON)
    url: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="csv")
    audience: Mapped[list[str]] = mapped_column(_ListJSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    facts: Mapped[list[dict]] = mapped_column(_ListJSON, default=list)
    ratings: Mapped[list[dict]] = mapped_column(_ListJSON, default=list)
    accreditations: Mapped[list[str]] = mapped_column(_ListJSON, default=list)
    outcomes: Mapped[list[dict]] = mapped_column(_ListJSON, default=list)
    outside_area: Mapped[bool] = mapped_column(Boolean, default=False)
    used_by_local_families: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class DirectoryState(Base):
    """One row (``id`` 1): the directory's version counter, bumped in the same transaction as
    every write that changes a service, and its content fingerprint (see
    :meth:`Store.data_version`), so that both are one cheap read."""

    __tablename__ = "directory_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(16), default="empty")
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ServiceReading(Base):
    """What the engine read in one service's words (the needs its name and description
    mention, and those they say it does not cater for), worked out once per version of the
    record (``content_hash``) and of the reading (``reading_key``: the vocabulary and the
    code that read it), so that a start or a rebuild reads only the records that changed."""

    __tablename__ = "service_reading"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    reading_key: Mapped[str] = mapped_column(String(32))
    mentioned: Mapped[list[str]] = mapped_column(_ListJSON)
    excluded: Mapped[list[str]] = mapped_column(_ListJSON)


class SchemaVersion(Base):
    """One row per applied migration step; the highest ``version`` is the schema's version."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(Text, default="")
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


_RECORD_FIELDS: tuple[str, ...] = tuple(ServiceRecord.__dataclass_fields__)


@dataclass(frozen=True)
class Migration:
    """One schema step. ``apply`` runs inside the opening transaction on a :class:`Connection`.

    To change the schema: edit the models above (fresh databases are created from them and
    stamped with the latest version) *and* append a step here that brings a database of the
    previous version to the new shape (e.g. ``ALTER TABLE services ADD COLUMN ...`` via
    ``conn.execute(text(...))``, portable SQL only).
    """

    version: int
    description: str
    apply: Callable[[Connection], None]
    #: Also run on a fresh database (a step whose tables are not on :class:`Base`).
    on_fresh: bool = False


def _baseline(conn: Connection) -> None:
    """Version 1: the ``services`` table (created from the models on a fresh database)."""
    Base.metadata.create_all(conn, tables=[ServiceRow.__table__], checkfirst=True)


def _audience_and_status(conn: Connection) -> None:
    """Version 2: who a service is for (``audience``), ``status`` (inactive services are
    kept, never suggested) and ``facts`` (what the reading step found in the record's words,
    each with its quote)."""
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    conn.execute(text(f"ALTER TABLE services ADD COLUMN audience {json_type} "
                      "NOT NULL DEFAULT '[]'"))
    conn.execute(text("ALTER TABLE services ADD COLUMN status VARCHAR(16) NOT NULL "
                      "DEFAULT 'active'"))
    conn.execute(text(f"ALTER TABLE services ADD COLUMN facts {json_type} NOT NULL DEFAULT '[]'"))


def _quality_and_area(conn: Connection) -> None:
    """Version 20: what the Local Offer says beside a service (:mod:`matcher.quality`):
    ``ratings``, ``accreditations``, ``outcomes``, ``outside_area`` and
    ``used_by_local_families``. Numbered apart from the steps before it so that other steps
    can be added below 20 independently; :meth:`Store._ensure_schema` applies every step not
    yet recorded, whatever its number."""
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    for name in ("ratings", "accreditations", "outcomes"):
        conn.execute(text(f"ALTER TABLE services ADD COLUMN {name} {json_type} "
                          "NOT NULL DEFAULT '[]'"))
    for name in ("outside_area", "used_by_local_families"):
        conn.execute(text(f"ALTER TABLE services ADD COLUMN {name} BOOLEAN NOT NULL "
                          "DEFAULT FALSE"))
def _coproduction_tables(conn: Connection) -> None:
    """Version 10: the co-production tables (comments, their contacts and actions, directory
    tasks, feedback sessions, demand cells; :mod:`matcher.coprod.tables`, on their own
    declarative base). Numbered 10 to leave room for other steps; only adds tables."""
    from matcher.coprod.tables import CoprodBase

    CoprodBase.metadata.create_all(conn, checkfirst=True)


def _directory_state(conn: Connection) -> None:
    """Version 30: the ``directory_state`` row (version counter and content fingerprint),
    seeded from the services already stored, and the ``service_reading`` table (empty: it is
    filled by the next build)."""
    Base.metadata.create_all(conn, tables=[DirectoryState.__table__, ServiceReading.__table__],
                             checkfirst=True)
    _save_state(conn, dict(conn.execute(select(ServiceRow.id, ServiceRow.content_hash)).all()),
                dt.datetime.now(dt.UTC))


#: The ordered schema steps. Never edit or reorder a released step; append a new one.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "services table", _baseline),
    Migration(2, "services: audience, status and facts", _audience_and_status),
    Migration(10, "co-production tables", _coproduction_tables, on_fresh=True),
    Migration(20, "services: ratings, accreditations, outcomes and out-of-area",
              _quality_and_area),
    Migration(30, "directory version counter and fingerprint; per-record readings",
              _directory_state, on_fresh=True),
)
#: The schema version this code writes (the highest step).
SCHEMA_VERSION: int = max(m.version for m in MIGRATIONS)


def _record_values(record: ServiceRecord) -> dict[str, Any]:
    """The record's fields as a dict (lists copied), ready for an INSERT."""
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        value = getattr(record, name)
        values[name] = list(value) if isinstance(value, list) else value
    return values


def _hash_values(values: Mapping[str, Any]) -> str:
    def default(obj: object) -> str:
        if isinstance(obj, dt.date):
            return obj.isoformat()
        raise TypeError(f"cannot hash a {type(obj).__name__}")

    payload = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                         default=default)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record_hash(record: ServiceRecord) -> str:
    """SHA-256 of a record's content (every field), stable across runs and machines."""
    return _hash_values(_record_values(record))


def _row_to_record(row: Mapping[str, Any]) -> ServiceRecord:
    kwargs = {name: row[name] for name in _RECORD_FIELDS}
    for name, value in kwargs.items():
        if isinstance(value, list | tuple):
            kwargs[name] = list(value)
    return ServiceRecord(**kwargs)


def _fingerprint(hashes: Mapping[str, str]) -> str:
    """The content fingerprint of a directory given as id -> content hash: 16 hex digits of
    the SHA-256 of the pairs in id order (code point order); ``"empty"`` for no service."""
    if not hashes:
        return "empty"
    digest = hashlib.sha256()
    for service_id in sorted(hashes):
        digest.update(f"{service_id}\x1f{hashes[service_id]}\x1e".encode())
    return digest.hexdigest()[:16]


def _save_state(conn: Connection, hashes: Mapping[str, str], now: dt.datetime) -> None:
    """Record the directory's new content (id -> content hash) in ``directory_state``: the
    fingerprint, and the counter bumped by one when the fingerprint changed. Runs inside the
    writing transaction, so readers see the rows and the version change together."""
    table = DirectoryState.__table__
    fingerprint = _fingerprint(hashes)
    row = conn.execute(select(table.c.version, table.c.fingerprint)
                       .where(table.c.id == 1)).first()
    if row is None:
        conn.execute(insert(table), {"id": 1, "version": 1 if hashes else 0,
                                     "fingerprint": fingerprint, "changed_at": now})
    elif row.fingerprint != fingerprint:
        conn.execute(update(table).where(table.c.id == 1).values(
            version=table.c.version + 1, fingerprint=fingerprint, changed_at=now))


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
    # An existing file is kept; any other failure (a read-only folder...) is reported by
    # SQLite itself when the store is opened.
    with suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _refuse_repeated_ids(records: Sequence[ServiceRecord], seen: set[str]) -> None:
    """Add the records' ids to ``seen``; refuse any id already there or repeated here."""
    repeated = sorted({r.id for r in records if r.id in seen or seen.add(r.id)})
    if repeated:
        raise DataImportError(
            f"The same service id appears more than once: {', '.join(repeated[:10])}. "
            "Give every service its own id."
        )


def _update_by_id(conn: Connection, by_id: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Run ``by_id`` (an UPDATE keyed on ``b_id``) for ``rows``, in batches."""
    for part in _chunks(rows, WRITE_BATCH):
        params = []
        for values in part:
            values = dict(values)
            values["b_id"] = values.pop("id")
            params.append(values)
        conn.execute(by_id, params)


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
            cursor.execute("PRAGMA journal_mode = WAL")
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


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class Store:
    """The service directory behind one SQLAlchemy :class:`Engine`.

    Open it with :meth:`Store.open`; it creates or migrates the schema. It is safe to share
    between threads (each call checks out its own connection).
    """

    def __init__(self, engine: Engine):
        """Wrap an engine whose schema is already current (use :meth:`open` normally)."""
        self.engine = engine

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, url: str | None = None, *, echo: bool = False) -> Store:
        """Connect to ``url`` (default: ``get_settings().database_url``), creating or
        upgrading the schema as needed.

        Raises :class:`~matcher.errors.ConfigError` when the URL is malformed, names a driver
        that is not installed, or the database cannot be opened.
        """
        if url is None:
            from matcher.settings import get_settings

            url = get_settings().database_url
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigError(
                f"The database URL {url!r} is not a valid SQLAlchemy URL. Use for example "
                "sqlite:////path/to/matcher.sqlite or postgresql+psycopg://user@host/dbname."
            ) from exc
        backend = parsed.get_backend_name()
        is_sqlite = backend == "sqlite"
        if is_sqlite and parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database).expanduser())
        try:
            # A server's connections can be dropped under the pool (restart, idle timeout):
            # check each one as it is checked out. SQLite files need no such check.
            engine = create_engine(parsed, echo=echo, pool_pre_ping=not is_sqlite)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(
                f"Cannot use the database URL {_safe_url(url)}: {exc}. Check the driver name "
                "and that its Python package is installed (for PostgreSQL: pip install "
                "'send-matcher[postgres]')."
            ) from exc
        if is_sqlite:
            _install_sqlite_pragmas(engine)
        elif backend == "postgresql":
            _install_postgres_write_lock(engine)
        store = cls(engine)
        try:
            store._ensure_schema()
        except OperationalError as exc:
            engine.dispose()
            raise ConfigError(
                f"Cannot open the database {_safe_url(url)}: {exc.orig}. Check that the path "
                "or server exists and that you may write to it."
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        with self.engine.connect() as conn:
            conn.execution_options(matcher_write=True)
            with conn.begin():
                yield conn

    def _ensure_schema(self) -> None:
        now = dt.datetime.now(dt.UTC)
        with self._write() as conn:
            if not inspect(conn).has_table(SchemaVersion.__tablename__):
                # Fresh database: create the current shape and stamp every step as applied.
                Base.metadata.create_all(conn, checkfirst=True)
                for m in MIGRATIONS:
                    if m.on_fresh:
                        m.apply(conn)
                conn.execute(
                    insert(SchemaVersion.__table__),
                    [{"version": m.version, "description": m.description, "applied_at": now}
                     for m in MIGRATIONS],
                )
                return
            applied = set(conn.execute(select(SchemaVersion.version)).scalars())
            current = max(applied, default=0)
            if current > SCHEMA_VERSION:
                raise ConfigError(
                    f"The database {self.url} has schema version {current}, newer than this "
                    f"program's {SCHEMA_VERSION}. Upgrade send-matcher, or point "
                    "MATCHER_DATABASE_URL at another database."
                )
            for step in sorted(MIGRATIONS, key=lambda m: m.version):
                if step.version not in applied:
                    step.apply(conn)
                    conn.execute(
                        insert(SchemaVersion.__table__),
                        {"version": step.version, "description": step.description,
                         "applied_at": now},
                    )

    def schema_version(self) -> int:
        """The highest migration step applied to this database."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(SchemaVersion.version))).scalar() or 0)

    # ------------------------------------------------------------------ writing
    def upsert_services(
        self, records: Iterable[ServiceRecord], *, replace_all: bool = False
    ) -> tuple[int, int, int]:
        """Add new services and update changed ones, in ONE transaction.

        A record whose content (every field) equals the stored one is left untouched and
        counted as unchanged. With ``replace_all=True``, stored services whose id is not among
        ``records`` are deleted (same transaction). Returns ``(added, updated, unchanged)``.

        All or nothing: on any error, or if the process dies before the commit, the
        directory is exactly as it was.
        """
        return self.upsert_service_batches([records], replace_all=replace_all)

    def upsert_service_batches(
        self, batches: Iterable[Iterable[ServiceRecord]], *, replace_all: bool = False
    ) -> tuple[int, int, int]:
        """:meth:`upsert_services` for records that arrive in batches, in ONE transaction.

        Each batch is written as it comes (so the caller never holds every record), and the
        transaction commits after the last one. An exception raised by ``batches`` itself (a
        generator may raise, e.g. when an import turns out to be refused), a repeated id, or
        any other error rolls everything back: the directory is exactly as it was.
        """
        now = dt.datetime.now(dt.UTC)
        seen: set[str] = set()
        added = updated = unchanged = 0
        table = ServiceRow.__table__
        by_id = update(table).where(table.c.id == bindparam("b_id"))
        with self._write() as conn:
            stored = dict(conn.execute(select(ServiceRow.id, ServiceRow.content_hash)).all())
            for batch in batches:
                batch = list(batch)
                _refuse_repeated_ids(batch, seen)
                a, u, n = self._write_batch(conn, batch, stored, now, table, by_id)
                added, updated, unchanged = added + a, updated + u, unchanged + n
            if replace_all:
                gone = sorted(set(stored) - seen)
                for part in _chunks(gone, 500):
                    conn.execute(delete(table).where(table.c.id.in_(list(part))))
                for service_id in gone:
                    del stored[service_id]
            if added or updated or replace_all:
                _save_state(conn, stored, now)
        return added, updated, unchanged

    @staticmethod
    def _write_batch(conn: Connection, records: Sequence[ServiceRecord],
                     stored: dict[str, str], now: dt.datetime, table: Any,
                     by_id: Any) -> tuple[int, int, int]:
        """Insert the new and update the changed ``records`` (``stored``: id -> content hash
        of what the store holds, brought up to date here); return (added, updated,
        unchanged)."""
        to_insert: list[dict[str, Any]] = []
        to_update: list[dict[str, Any]] = []
        unchanged = 0
        for values in map(_record_values, records):
            digest = _hash_values(values)
            old = stored.get(values["id"])
            if old == digest:
                unchanged += 1
                continue
            values.update(content_hash=digest, imported_at=now)
            (to_insert if old is None else to_update).append(values)
            stored[values["id"]] = digest
        for part in _chunks(to_insert, WRITE_BATCH):
            conn.execute(insert(table), list(part))
        _update_by_id(conn, by_id, to_update)
        return len(to_insert), len(to_update), unchanged

    def sync_services(
        self,
        records: Iterable[ServiceRecord],
        *,
        scope_prefix: str | None,
        sources: Iterable[str] | None = None,
        present: Iterable[str] = (),
    ) -> tuple[int, int, int, int]:
        """Bring one feed's services in step with ``records``, in ONE transaction.

        New services are added and changed ones updated, exactly as :meth:`upsert_services`
        does (an inactive service that is back in the feed becomes active again through its
        record). Then every stored service of this feed (id ``<scope_prefix>:...`` when
        ``scope_prefix`` is given, ``source`` among ``sources`` when they are given) that is
        neither among ``records`` nor in ``present`` (ids the feed still lists, e.g. with a
        problem this time) is marked ``status="inactive"``: kept, not deleted. Services outside
        the scope are never touched. Returns ``(added, updated, unchanged, withdrawn)``,
        ``withdrawn`` counting the services newly marked inactive.

        All or nothing, under the same write lock as every import.
        """
        records = list(records)
        source_set = None if sources is None else sorted(set(sources))
        if not scope_prefix and not source_set:
            raise ValueError("sync_services needs a scope (an id prefix or sources); without "
                             "one every stored service would be withdrawn")
        seen: set[str] = set()
        _refuse_repeated_ids(records, seen)
        keep = seen | set(present)
        now = dt.datetime.now(dt.UTC)
        table = ServiceRow.__table__
        by_id = update(table).where(table.c.id == bindparam("b_id"))
        with self._write() as conn:
            stored = dict(conn.execute(select(table.c.id, table.c.content_hash)).all())
            added, updated, unchanged = self._write_batch(conn, records, stored, now, table, by_id)

            scope = select(table).where(table.c.status != "inactive")
            if scope_prefix:
                scope = scope.where(table.c.id.startswith(f"{scope_prefix}:", autoescape=True))
            if source_set:
                scope = scope.where(table.c.source.in_(source_set))
            withdrawn: list[dict[str, Any]] = []
            for row in conn.execute(scope).mappings().all():
                if row["id"] in keep:
                    continue
                values = _record_values(_row_to_record(row))
                values["status"] = "inactive"
                values.update(content_hash=_hash_values(values), imported_at=now)
                withdrawn.append(values)
                stored[values["id"]] = values["content_hash"]
            _update_by_id(conn, by_id, withdrawn)
            if added or updated or withdrawn:
                _save_state(conn, stored, now)
        return added, updated, unchanged, len(withdrawn)

    def delete_all(self) -> int:
        """Remove every service (one transaction). Returns how many were removed."""
        with self._write() as conn:
            removed = int(conn.execute(delete(ServiceRow.__table__)).rowcount or 0)
            _save_state(conn, {}, dt.datetime.now(dt.UTC))
            return removed

    # ------------------------------------------------------------------ reading
    def list_services(self) -> list[ServiceRecord]:
        """Every stored service, ordered by id (code point order, whatever the collation)."""
        table = ServiceRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table)).mappings()
            records = [_row_to_record(row) for row in rows]
        records.sort(key=lambda r: r.id)
        return records

    def get_service(self, service_id: str) -> ServiceRecord | None:
        """The service with this id, or ``None`` when there is none."""
        table = ServiceRow.__table__
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == service_id)).mappings().first()
            return None if row is None else _row_to_record(row)

    def count_services(self) -> int:
        """How many services are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ServiceRow)).scalar() or 0)

    def services_frame(self) -> pd.DataFrame:
        """Every service as a DataFrame (see :func:`matcher.services.records_to_frame`)."""
        return records_to_frame(self.list_services())

    def readings(self, key: str) -> dict[str, tuple[list[str], list[str]]]:
        """The stored readings made with ``key`` that are still current (their record has not
        changed since): id -> (mentioned, excluded)."""
        reading, services = ServiceReading.__table__, ServiceRow.__table__
        query = (select(reading.c.id, reading.c.mentioned, reading.c.excluded)
                 .join(services, (services.c.id == reading.c.id)
                       & (services.c.content_hash == reading.c.content_hash))
                 .where(reading.c.reading_key == key))
        with self.engine.connect() as conn:
            return {row.id: (list(row.mentioned), list(row.excluded))
                    for row in conn.execute(query)}

    def save_readings(self, key: str,
                      found: Mapping[str, tuple[str, list[str], list[str]]]) -> None:
        """Store readings made with ``key``: id -> (content hash of the record that was read,
        mentioned, excluded), replacing older ones of the same ids (a reading of a record
        that has changed since is never used: :meth:`readings` matches the hash). Readings
        of services no longer stored are dropped. One transaction."""
        if not found:
            return
        reading, services = ServiceReading.__table__, ServiceRow.__table__
        rows = [{"id": i, "content_hash": h, "reading_key": key, "mentioned": list(m),
                 "excluded": list(x)} for i, (h, m, x) in found.items()]
        with self._write() as conn:
            for part in _chunks(list(found), 500):
                conn.execute(delete(reading).where(reading.c.id.in_(list(part))))
            for part in _chunks(rows, WRITE_BATCH):
                conn.execute(insert(reading), list(part))
            conn.execute(delete(reading).where(reading.c.id.not_in(select(services.c.id))))

    def directory_state(self) -> tuple[int, str]:
        """``(version, fingerprint)`` of the directory, one row read: ``version`` is a counter
        bumped by every write that changes a service (imports, syncs, deletions), in the
        same transaction; ``fingerprint`` is :meth:`data_version`."""
        table = DirectoryState.__table__
        with self.engine.connect() as conn:
            row = conn.execute(select(table.c.version, table.c.fingerprint)
                               .where(table.c.id == 1)).first()
        if row is None:  # pragma: no cover - every opened store has the row
            return 0, "empty"
        return int(row.version), str(row.fingerprint)

    def directory_version(self) -> int:
        """The directory's version counter (see :meth:`directory_state`)."""
        return self.directory_state()[0]

    def data_version(self) -> str:
        """A fingerprint of the directory's content: changes whenever any service is added,
        changed or removed, and is identical for identical content (so engines can key
        caches and saved models on it). 16 hex digits; ``"empty"`` for an empty store.

        Worked out by each write and stored with it (:meth:`directory_state`), so reading it
        is one row, whatever the directory's size.
        """
        return self.directory_state()[1]
