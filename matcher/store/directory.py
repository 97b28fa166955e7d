"""The service directory: one row per :class:`~matcher.services.ServiceRecord` (list fields as
JSON), plus a content hash for "unchanged" detection and the time the row last changed; and
:class:`Store`, the handle on the store's database (SQLAlchemy 2; SQLite by default,
PostgreSQL too), which opens it and brings its schema up to date (:mod:`matcher.store.schema`).

Every import is one transaction (:meth:`Store.upsert_services`): if it fails, or the process
is killed half-way, the directory is exactly as it was before. Writes go through
:func:`matcher.store.base.write_transaction`, which queues writers and never confirms a write
the store did not keep. Rows are put in id order in Python, so the order and
:meth:`Store.data_version` do not depend on the database's collation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
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
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from matcher.errors import ConfigError, DataImportError
from matcher.services import ServiceRecord, records_to_frame
from matcher.store.base import (
    JSON_LIST,
    Base,
    guard_of,
    open_engine,
    safe_url,
    write_transaction,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Store", "ServiceRow", "record_hash", "WRITE_BATCH"]

#: Rows per INSERT/UPDATE batch inside the import transaction.
WRITE_BATCH = 1_000


class ServiceRow(Base):
    """One service, as stored. Field names mirror :class:`ServiceRecord`."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    organisation: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON_LIST)
    needs_raw: Mapped[str] = mapped_column(Text, default="")
    needs: Mapped[list[str]] = mapped_column(JSON_LIST)
    needs_unrecognised: Mapped[list[str]] = mapped_column(JSON_LIST)
    min_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    service_area: Mapped[list[str]] = mapped_column(JSON_LIST)
    delivery: Mapped[list[str]] = mapped_column(JSON_LIST)
    cost: Mapped[str | None] = mapped_column(String(32), nullable=True)
    cost_details: Mapped[str] = mapped_column(Text, default="")
    when: Mapped[list[str]] = mapped_column(JSON_LIST)
    accessibility: Mapped[list[str]] = mapped_column(JSON_LIST)
    languages: Mapped[list[str]] = mapped_column(JSON_LIST)
    referral: Mapped[list[str]] = mapped_column(JSON_LIST)
    ehcp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    transitions: Mapped[list[str]] = mapped_column(JSON_LIST)
    url: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(Text, default="")
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    source: Mapped[str] = mapped_column(String(200), default="csv")
    audience: Mapped[list[str]] = mapped_column(JSON_LIST, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    facts: Mapped[list[dict]] = mapped_column(JSON_LIST, default=list)
    ratings: Mapped[list[dict]] = mapped_column(JSON_LIST, default=list)
    accreditations: Mapped[list[str]] = mapped_column(JSON_LIST, default=list)
    outcomes: Mapped[list[dict]] = mapped_column(JSON_LIST, default=list)
    outside_area: Mapped[bool] = mapped_column(Boolean, default=False)
    used_by_local_families: Mapped[bool] = mapped_column(Boolean, default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


_RECORD_FIELDS: tuple[str, ...] = tuple(ServiceRecord.__dataclass_fields__)


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
    def open(cls, url: str | None = None, *, echo: bool = False, upgrade: bool = True) -> Store:
        """Connect to ``url`` (default: ``get_settings().database_url``) and, unless
        ``upgrade`` is false, create or upgrade its schema to this program's newest revision
        (:func:`matcher.store.schema.upgrade`). A missing SQLite file is created only then.

        Raises :class:`~matcher.errors.ConfigError` when the URL is malformed, names a driver
        that is not installed, the database cannot be opened, or its schema is newer than
        this program; :class:`~matcher.errors.StoreUnavailableError` when the SQLite file is
        missing and may not be created.
        """
        from matcher.store.schema import head_revision
        from matcher.store.schema import upgrade as upgrade_schema

        if url is None:
            from matcher.settings import get_settings

            url = get_settings().database_url
        engine = open_engine(url, echo=echo, create=upgrade)
        try:
            if upgrade:
                upgrade_schema(engine)
            guard = guard_of(engine)
            if guard is not None:
                guard.revision = head_revision()
        except OperationalError as exc:
            engine.dispose()
            raise ConfigError(
                f"Cannot open the database {safe_url(url)}: {exc.orig}. Check that the path "
                "or server exists and that you may write to it."
            ) from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

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
        """One write transaction (:func:`~matcher.store.base.write_transaction`)."""
        with write_transaction(self.engine) as conn:
            yield conn

    def schema_version(self) -> int:
        """The schema revision the database is at, as a number (0: none)."""
        from matcher.store.schema import current_revision

        with self.engine.connect() as conn:
            revision = current_revision(conn)
        return int(revision) if revision and revision.isdigit() else 0

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
        return added, updated, unchanged

    @staticmethod
    def _write_batch(conn: Connection, records: Sequence[ServiceRecord],
                     stored: Mapping[str, str], now: dt.datetime, table: Any,
                     by_id: Any) -> tuple[int, int, int]:
        """Insert the new and update the changed ``records`` (``stored``: id -> content hash
        of what the store holds); return (added, updated, unchanged)."""
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
            _update_by_id(conn, by_id, withdrawn)
        return added, updated, unchanged, len(withdrawn)

    def delete_all(self) -> int:
        """Remove every service (one transaction). Returns how many were removed."""
        with self._write() as conn:
            return int(conn.execute(delete(ServiceRow.__table__)).rowcount or 0)

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

    def data_version(self) -> str:
        """A fingerprint of the directory's content: changes whenever any service is added,
        changed or removed, and is identical for identical content (so engines can key
        caches and saved models on it). 16 hex digits; ``"empty"`` for an empty store.
        """
        digest = hashlib.sha256()
        with self.engine.connect() as conn:
            rows = sorted(map(tuple, conn.execute(select(ServiceRow.id, ServiceRow.content_hash))))
        for service_id, content_hash in rows:
            digest.update(f"{service_id}\x1f{content_hash}\x1e".encode())
        return digest.hexdigest()[:16] if rows else "empty"
