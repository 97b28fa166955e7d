"""The store's Alembic migrations, on SQLite and on PostgreSQL (when MATCHER_TEST_POSTGRES_URL
is set): from empty, from every schema an older version could have left, a new revision at
start, a failed one, a newer database, concurrent starts, and `matcher db`."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from legacy_store import make_legacy_store
from pg_support import needs_postgres, temp_schema
from sqlalchemy import inspect, text

from matcher.cli import main
from matcher.errors import ConfigError
from matcher.plans import get_plan
from matcher.services import ServiceRecord
from matcher.store import Store, schema
from matcher.store.feedback import feedback_summary
from matcher.store.health import store_problems
from matcher.store.models import metadata
from matcher.store.users import add_user, authenticate, list_users


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'm.sqlite'}"
    else:
        with temp_schema() as pg:
            yield pg


def _differences(store: Store) -> list:
    """What Alembic would change to make the database match the models (nothing, we expect)."""
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, metadata())


def _head() -> int:
    return int(schema.head_revision())


# --------------------------------------------------------------------------- from empty
def test_empty_database_gets_every_table_at_the_head(url: str) -> None:
    with Store.open(url) as s:
        assert s.schema_version() == _head()
        assert _differences(s) == []
        tables = set(inspect(s.engine).get_table_names())
        assert {"services", "api_users", "plans", "feedback", "comments", "comment_contacts",
                "comment_actions", "directory_tasks", "feedback_seen", "demand_cells",
                "alembic_version"} <= tables
        assert "schema_version" not in tables
        assert store_problems(s) == []


def test_reopening_changes_nothing_and_db_upgrade_says_so(url: str,
                                                         capsys: pytest.CaptureFixture) -> None:
    Store.open(url).close()
    assert main(["db", "--database-url", url, "upgrade"]) == 0
    assert "already at revision" in capsys.readouterr().out
    assert main(["db", "--database-url", url, "current"]) == 0
    assert f"at revision {schema.head_revision()}, this program's newest" in \
        capsys.readouterr().out
    with Store.open(url) as s, s.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() \
            == [schema.head_revision()]


# --------------------------------------------------------------------------- from older stores
LEGACY = [
    ((1,), True), ((1, 2), True), ((1, 2, 10), True), ((1, 2, 20), True),
    ((1, 2, 10, 20), True), ((1, 2, 10, 20), False), ((1, 2, 20), False),
]


@pytest.mark.parametrize(("steps", "api_tables"), LEGACY,
                         ids=[f"steps{'-'.join(map(str, s))}{'' if a else '-no-api-tables'}"
                              for s, a in LEGACY])
def test_store_from_before_alembic_is_adopted(url: str, steps: tuple[int, ...],
                                               api_tables: bool,
                                               capsys: pytest.CaptureFixture) -> None:
    make_legacy_store(url, steps, api_tables=api_tables)
    assert main(["db", "--database-url", url, "current"]) == 1   # not at the head yet
    assert f"step {max(steps)}" in capsys.readouterr().out
    assert main(["db", "--database-url", url, "upgrade"]) == 0
    assert f"Upgraded to revision {schema.head_revision()}" in capsys.readouterr().out
    with Store.open(url) as s:
        assert s.schema_version() == _head()
        assert _differences(s) == []
        assert "schema_version" not in inspect(s.engine).get_table_names()
        # The old rows are all there, with what the later steps give an existing row.
        old = s.get_service("S1")
        assert (old.name, old.needs, old.min_age, old.max_age) == (
            "Swim club", ["autism"], 5, 18)
        assert (old.audience, old.status, old.facts) == ([], "active", [])
        assert (old.ratings, old.accreditations, old.outcomes) == ([], [], [])
        assert (old.outside_area, old.used_by_local_families) == (False, False)
        if api_tables:
            assert [u.name for u in list_users(s.engine)] == ["ada"]
            plan = get_plan(s.engine, "ada", "p" * 32)
            assert plan is not None and plan.label == "AB"
            assert feedback_summary(s.engine)["S1"]["helpful"] == 1
        # And it takes writes of every kind.
        new = ServiceRecord(id="S2", name="Sensory room", description="A quiet room.",
                            categories=["leisure"], ratings=[{"body": "Ofsted",
                                                              "rating": "Good",
                                                              "date": "2024-03-12", "url": ""}])
        assert s.upsert_services([new]) == (1, 0, 0)
        assert s.get_service("S2") == new
        key = add_user(s.engine, "kim", "key_worker")
        assert authenticate(s.engine, key).name == "kim"
        assert store_problems(s) == []


def test_older_store_with_an_unknown_step_is_refused_and_left_as_it_was(url: str) -> None:
    make_legacy_store(url, (1, 2, 10, 20))
    engine = Store.open(url, upgrade=False).engine
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version, description, applied_at) "
                          "VALUES (99, 'future', :at)"), {"at": dt.datetime(2030, 1, 1)})
    with pytest.raises(ConfigError, match="newer"):
        Store.open(url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert "schema_version" in tables and "alembic_version" not in tables
        columns = {c["name"] for c in inspect(conn).get_columns("services")}
        assert "ratings" in columns    # step 20's column, untouched
    engine.dispose()


def test_database_at_an_unknown_revision_is_refused(url: str) -> None:
    with Store.open(url) as s, s.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ConfigError, match="9999"):
        Store.open(url)
    with Store.open(url, upgrade=False) as s:
        problems = store_problems(s)
    assert len(problems) == 1 and "newer than this program" in problems[0]


# --------------------------------------------------------------------------- new revisions
def _with_revision(tmp_path: Path, body: str) -> Path:
    """A copy of the migrations plus one revision after the head with ``body`` as upgrade."""
    copy = tmp_path / "migrations"
    shutil.copytree(Path(str(schema._script_location())), copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    nxt = f"{int(head) + 1:04d}"
    (copy / "versions" / f"{nxt}_test.py").write_text(
        '"""A later revision (test)."""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f"revision = {nxt!r}\ndown_revision = {head!r}\nbranch_labels = None\n"
        f"depends_on = None\n\n\ndef upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n")
    return copy


@pytest.fixture
def later_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install a later revision (its upgrade body given) for the test's duration."""

    def install(body: str) -> None:
        copy = _with_revision(tmp_path, body)
        monkeypatch.setattr(schema, "_script_location", lambda: copy)
        schema.head_revision.cache_clear()

    yield install
    monkeypatch.undo()
    schema.head_revision.cache_clear()


def test_a_new_revision_is_applied_once_at_start(url: str, later_revision) -> None:
    Store.open(url).close()
    head = _head()
    later_revision("    op.create_index('ix_services_postcode', 'services', ['postcode'])\n"
                   "    op.execute(\"UPDATE services SET name = name || '+'\")")
    with Store.open(url) as s:
        s.upsert_services([ServiceRecord(id="S1", name="Club", description="A club.",
                                         categories=["leisure"])])
    with Store.open(url) as s:     # a second start: nothing run again (the index exists)
        assert s.schema_version() == head + 1
        assert "ix_services_postcode" in {i["name"] for i in
                                          inspect(s.engine).get_indexes("services")}
        assert s.get_service("S1").name == "Club"
        assert store_problems(s) == []


def test_a_failing_revision_changes_nothing(url: str, later_revision) -> None:
    Store.open(url).close()
    later_revision("    op.add_column('services', sa.Column('extra', sa.Text()))\n"
                   "    raise RuntimeError('migration broke half-way')")
    with pytest.raises(RuntimeError, match="half-way"):
        Store.open(url)
    with Store.open(url, upgrade=False) as s:
        assert s.schema_version() == int(schema.head_revision()) - 1
        assert "extra" not in {c["name"] for c in inspect(s.engine).get_columns("services")}
        # The server would not be ready, and says what to do.
        problems = store_problems(s)
        assert len(problems) == 1 and "matcher db upgrade" in problems[0]


def test_several_processes_starting_at_once(url: str) -> None:
    """Workers' first starts create the schema at the same moment: one does it, none fails."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            with Store.open(url) as s:
                assert s.schema_version() == _head()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    with Store.open(url) as s:
        assert _differences(s) == []


# --------------------------------------------------------------------------- the scripts
def test_revisions_ship_in_the_package_as_one_numbered_line() -> None:
    """The revisions are package files (so an installed wheel has them), numbered 0021,
    0022... each revising the one before, with one head."""
    folder = resources.files("matcher.store.migrations")
    assert folder.joinpath("env.py").is_file()
    assert folder.joinpath("script.py.mako").is_file()
    scripts = ScriptDirectory(str(folder))
    chain = list(reversed(list(scripts.walk_revisions())))
    assert [r.revision for r in chain][0] == "0021" and chain[0].down_revision is None
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.down_revision == before.revision
        assert int(after.revision) == int(before.revision) + 1
    assert scripts.get_heads() == [chain[-1].revision] == [schema.head_revision()]
    files = {p.name for p in Path(str(folder / "versions")).glob("*.py")} - {"__init__.py"}
    assert len(files) == len(chain)
