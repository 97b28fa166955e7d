"""The SQLAlchemy store: schema, migrations, upsert counts, one transaction per import."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import event, inspect

import matcher.store.directory as store_mod
from matcher.errors import ConfigError, DataImportError
from matcher.services import ServiceRecord
from matcher.settings import get_settings
from matcher.store import Store, record_hash
from matcher.store.base import SQLITE_BUSY_TIMEOUT_MS
from matcher.store.schema import head_revision


def _record(i: int, **changes: object) -> ServiceRecord:
    base = ServiceRecord(
        id=f"S-{i:03d}",
        name=f"Service {i}",
        description="A description, with a comma.",
        categories=["leisure", "health"],
        organisation="Org",
        needs_raw="autism; ADHD",
        needs=["autism", "adhd"],
        needs_unrecognised=["wibble"],
        min_age=3,
        max_age=11,
        postcode="E9 6FH",
        latitude=51.546884,
        longitude=-0.043952,
        address="1 Road, London",
        service_area=["E5", "E9"],
        delivery=["in_person"],
        cost="free_for_some",
        cost_details="£2",
        when=["weekends"],
        accessibility=["wheelchair"],
        languages=["English", "Turkish"],
        referral=["self"],
        ehcp_required=True,
        transitions=["primary_to_secondary"],
        url="https://x.example",
        phone="020 7946 0000",
        email="a@x.example",
        last_reviewed=dt.date(2024, 5, 1),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sub' / 'store.sqlite'}"


@pytest.fixture
def store(url: str):
    s = Store.open(url)
    yield s
    s.close()


def test_open_creates_schema_and_folder(url: str, tmp_path: Path) -> None:
    with Store.open(url) as s:
        names = set(inspect(s.engine).get_table_names())
        assert {"services", "alembic_version", "plans", "api_users"} <= names
        assert s.schema_version() == int(head_revision())
        assert s.count_services() == 0
        assert s.data_version() == "empty"
    assert (tmp_path / "sub" / "store.sqlite").is_file()


def test_a_new_sqlite_file_and_its_folders_are_private(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)                            # a usual umask: files 644, folders 755
    try:
        path = tmp_path / "a" / "b" / "plans.sqlite"
        with Store.open(f"sqlite:///{path}") as s:
            s.upsert_services([_record(1)])          # writes the -wal and -shm files too
            mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
            assert mode(path) == 0o600
            assert mode(path.parent) == mode(path.parent.parent) == 0o700
            for extra in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                assert mode(extra) == 0o600, extra
        # an existing folder is left as it is
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        with Store.open(f"sqlite:///{shared / 'x.sqlite'}"):
            pass
        assert stat.S_IMODE(shared.stat().st_mode) == 0o755
        assert stat.S_IMODE((shared / "x.sqlite").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_an_existing_store_readable_by_others_is_made_private(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A store file left 0644 (by an older version, a copy, a restore) becomes 0600 when the
    store is opened, and the log says so; its shared folder is reported, not changed."""
    import stat

    from legacy_store import make_legacy_store

    path = tmp_path / "shared" / "old.sqlite"
    make_legacy_store(f"sqlite:///{path}")
    path.chmod(0o644)
    path.parent.chmod(0o755)
    with caplog.at_level("WARNING", logger="matcher.store"), Store.open(f"sqlite:///{path}") as s:
        assert s.count_services() == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o755
    said = " ".join(r.getMessage() for r in caplog.records)
    assert "now 0600" in said and "consider chmod 700" in said


def test_sqlite_uses_wal_and_busy_timeout(store: Store, url: str) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS


def test_round_trip_every_field(store: Store) -> None:
    rec = _record(1)
    store.upsert_services([rec, _record(2, min_age=None, postcode=None, latitude=None,
                                        longitude=None, last_reviewed=None, cost=None)])
    assert store.get_service("S-001") == rec
    got = store.get_service("S-002")
    assert got is not None and got.min_age is None and got.last_reviewed is None
    assert store.get_service("nope") is None
    assert [r.id for r in store.list_services()] == ["S-001", "S-002"]


def test_upsert_counts_added_updated_unchanged(store: Store) -> None:
    records = [_record(i) for i in range(1, 6)]
    assert store.upsert_services(records) == (5, 0, 0)
    assert store.upsert_services(records) == (0, 0, 5)
    records[2] = _record(3, name="Renamed")
    assert store.upsert_services(records + [_record(9)]) == (1, 1, 4)
    assert store.get_service("S-003").name == "Renamed"
    assert store.count_services() == 6


def test_replace_all_removes_missing(store: Store) -> None:
    store.upsert_services([_record(i) for i in range(1, 6)])
    assert store.upsert_services([_record(1), _record(2)], replace_all=True) == (0, 0, 2)
    assert [r.id for r in store.list_services()] == ["S-001", "S-002"]


def test_duplicate_ids_refused(store: Store) -> None:
    with pytest.raises(DataImportError, match="S-001"):
        store.upsert_services([_record(1), _record(1)])
    assert store.count_services() == 0


def test_data_version_tracks_content(store: Store, tmp_path: Path) -> None:
    store.upsert_services([_record(1), _record(2)])
    v1 = store.data_version()
    store.upsert_services([_record(1), _record(2)])
    assert store.data_version() == v1
    store.upsert_services([_record(2, description="new words")])
    v2 = store.data_version()
    assert v2 != v1
    with Store.open(f"sqlite:///{tmp_path / 'other.sqlite'}") as other:
        other.upsert_services([_record(2, description="new words"), _record(1)])
        assert other.data_version() == v2


def test_record_hash_sees_every_field() -> None:
    base = _record(1)
    for f in dataclasses.fields(ServiceRecord):
        value = getattr(base, f.name)
        if isinstance(value, bool):
            changed = not value
        elif isinstance(value, list):
            changed = value + ["x"]
        elif isinstance(value, dt.date):
            changed = value + dt.timedelta(days=1)
        elif isinstance(value, int | float):
            changed = value + 1
        else:
            changed = f"{value}!"
        assert record_hash(dataclasses.replace(base, **{f.name: changed})) != record_hash(base), f.name


def test_services_frame(store: Store) -> None:
    store.upsert_services([_record(1), _record(2, min_age=None)])
    frame = store.services_frame()
    assert list(frame["id"]) == ["S-001", "S-002"]
    assert frame.loc[0, "categories"] == ["leisure", "health"]
    assert frame["min_age"].isna().tolist() == [False, True]


def test_failure_half_way_leaves_store_as_it_was(store: Store, monkeypatch) -> None:
    store.upsert_services([_record(i) for i in range(1, 4)])
    before = store.list_services()
    version = store.data_version()
    monkeypatch.setattr(store_mod, "WRITE_BATCH", 2)
    inserts = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def fail_on_second_insert(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SERVICES"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise RuntimeError("disk on fire")

    new = [_record(1, name="changed")] + [_record(i) for i in range(10, 16)]
    with pytest.raises(RuntimeError, match="disk on fire"):
        store.upsert_services(new)
    event.remove(store.engine, "before_cursor_execute", fail_on_second_insert)
    assert len(inserts) == 2  # the first batch really was written before the failure
    assert store.list_services() == before
    assert store.data_version() == version


def test_open_without_url_uses_settings(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'from_env.sqlite'}")
    get_settings.cache_clear()
    try:
        with Store.open() as s:
            s.upsert_services([_record(1)])
    finally:
        get_settings.cache_clear()
    assert (tmp_path / "from_env.sqlite").is_file()


def test_bad_urls_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL"):
        Store.open("not a url")
    with pytest.raises(ConfigError, match="driver"):
        Store.open("nosuchdb://x/y")


