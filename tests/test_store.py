"""The SQLAlchemy store: schema, migrations, upsert counts, one transaction per import."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text

import matcher.store as store_mod
from matcher.errors import ConfigError, DataImportError
from matcher.services import ServiceRecord
from matcher.settings import get_settings
from matcher.store import SCHEMA_VERSION, Migration, Store, record_hash


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
        assert {"services", "schema_version"} <= names
        assert s.schema_version() == SCHEMA_VERSION
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


def test_sqlite_uses_wal_and_busy_timeout(store: Store, url: str) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store_mod.SQLITE_BUSY_TIMEOUT_MS


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


def test_migration_steps_run_once_in_order(url: str, monkeypatch) -> None:
    Store.open(url).close()  # a database at the current version
    calls: list[int] = []
    nxt = store_mod.SCHEMA_VERSION + 1

    def step(conn):
        calls.append(nxt)
        conn.execute(text("CREATE INDEX ix_services_postcode ON services (postcode)"))

    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS + (Migration(nxt, "index", step),))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", nxt)
    with Store.open(url) as s:
        assert s.schema_version() == nxt
        assert "ix_services_postcode" in {i["name"] for i in inspect(s.engine).get_indexes("services")}
    Store.open(url).close()
    assert calls == [nxt]


def test_version_1_database_gains_audience_status_and_facts(url: str, tmp_path: Path) -> None:
    with Store.open(url) as s:
        s.upsert_services([ServiceRecord(id="S1", name="Club", description="A club.",
                                         categories=["leisure"])])
    path = tmp_path / "sub" / "store.sqlite"
    with sqlite3.connect(path) as conn:     # back to the version-1 shape
        conn.execute("ALTER TABLE services DROP COLUMN audience")
        conn.execute("ALTER TABLE services DROP COLUMN status")
        conn.execute("ALTER TABLE services DROP COLUMN facts")
        for name in QUALITY_COLUMNS:     # and the version-20 columns
            conn.execute(f"ALTER TABLE services DROP COLUMN {name}")
        conn.execute("DELETE FROM schema_version WHERE version > 1")
    with Store.open(url) as s:
        assert s.schema_version() == store_mod.SCHEMA_VERSION
        record = s.get_service("S1")
    assert (record.audience, record.status, record.facts) == ([], "active", [])


QUALITY_COLUMNS = ("ratings", "accreditations", "outcomes", "outside_area",
                   "used_by_local_families")


def test_version_2_database_gains_ratings_outcomes_and_area(url: str, tmp_path: Path) -> None:
    with Store.open(url) as s:
        s.upsert_services([ServiceRecord(id="S1", name="Club", description="A club.",
                                         categories=["leisure"])])
    path = tmp_path / "sub" / "store.sqlite"
    with sqlite3.connect(path) as conn:     # back to the version-2 shape
        for name in QUALITY_COLUMNS:
            conn.execute(f"ALTER TABLE services DROP COLUMN {name}")
        conn.execute("DELETE FROM schema_version WHERE version = 20")
    with Store.open(url) as s:
        assert s.schema_version() == store_mod.SCHEMA_VERSION
        record = s.get_service("S1")
        rated = dataclasses.replace(record, ratings=[{"body": "Ofsted", "rating": "Good",
                                                      "date": "2024-03-12", "url": ""}],
                                    outside_area=True, used_by_local_families=True,
                                    outcomes=[{"text": "All went on to college.", "year": 2025}],
                                    accreditations=["A quality mark"])
        assert s.upsert_services([rated]) == (0, 1, 0)
        back = s.get_service("S1")
    assert (record.ratings, record.outcomes, record.outside_area) == ([], [], False)
    assert back == rated


def test_a_step_numbered_below_the_highest_applied_is_still_applied(
        url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps are applied by what is recorded, not by the highest number: a step added with a
    lower number than one already applied (two lines of work merged) still runs."""
    Store.open(url).close()
    ran: list[int] = []
    extra = store_mod.Migration(3, "a later, lower-numbered step", lambda conn: ran.append(3))
    monkeypatch.setattr(store_mod, "MIGRATIONS", (*store_mod.MIGRATIONS, extra))
    with Store.open(url) as s:
        assert ran == [3]
        assert s.schema_version() == SCHEMA_VERSION
    with Store.open(url):
        assert ran == [3]                    # recorded: not run twice


def test_newer_database_is_refused(url: str, tmp_path: Path) -> None:
    Store.open(url).close()
    path = tmp_path / "sub" / "store.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version, description, applied_at) "
                     "VALUES (99, 'future', '2030-01-01 00:00:00')")
    with pytest.raises(ConfigError, match="newer"):
        Store.open(url)


def test_directory_version_counts_changing_writes(store: Store) -> None:
    """The version counter moves with every write that changes the directory (in the same
    transaction), never with one that changes nothing, and the stored fingerprint is the
    content's."""
    assert store.directory_state() == (0, "empty")
    store.upsert_services([_record(1), _record(2)])
    v1, f1 = store.directory_state()
    assert v1 == 1 and f1 == store_mod._fingerprint(
        {r.id: record_hash(r) for r in (_record(1), _record(2))})
    store.upsert_services([_record(1), _record(2)])          # unchanged
    assert store.directory_state() == (v1, f1)
    store.upsert_services([_record(2, name="Renamed")])
    assert store.directory_version() == v1 + 1 and store.data_version() != f1
    store.sync_services([_record(1)], scope_prefix=None, sources=["csv"])  # withdraws S-002
    assert store.directory_version() == v1 + 2
    store.sync_services([_record(1)], scope_prefix=None, sources=["csv"])  # nothing new
    assert store.directory_version() == v1 + 2
    store.upsert_services([_record(1)], replace_all=True)    # deletes S-002
    assert store.directory_version() == v1 + 3 and store.count_services() == 1
    assert store.delete_all() == 1
    assert store.directory_state() == (v1 + 4, "empty")


def test_failed_write_leaves_the_version(store: Store) -> None:
    store.upsert_services([_record(1)])
    before = store.directory_state()
    with pytest.raises(DataImportError):
        store.upsert_services([_record(2), _record(2)])
    assert store.directory_state() == before


def test_version_20_database_gains_the_directory_state(url: str, tmp_path: Path) -> None:
    """Step 30 on a database written before it: the state row is seeded from the stored
    services, so the fingerprint is the same as a fresh store's with the same content."""
    with Store.open(url) as s:
        s.upsert_services([_record(1), _record(2)])
        fresh = s.data_version()
    path = tmp_path / "sub" / "store.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE directory_state")
        conn.execute("DELETE FROM schema_version WHERE version = 30")
    with Store.open(url) as s:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.directory_state() == (1, fresh)
        s.upsert_services([_record(3)])
        assert s.directory_version() == 2
