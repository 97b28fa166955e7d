"""Never confirm a lost write: with the store deleted, read-only or at an older schema while the
server runs, GET /health/ready fails and every write answers 503 JSON, never 201 and never
plain text; nothing is silently recreated, and a new start refuses such a store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pg_support import needs_postgres, temp_schema
from sqlalchemy import text
from store_faults_scenario import run

from matcher.api.errors import STORE_UNAVAILABLE
from matcher.store import schema

REPO = Path(__file__).resolve().parents[1]


def _check_refused(result: dict) -> None:
    """Readiness fails with a reason, and every write answers 503 with the JSON detail."""
    assert result["ready_before"]["status"] == 200
    assert result["ready_before"]["json"]["status"] == "ready"
    assert result["write_before"]["status"] == 201
    ready = result["ready"]
    assert ready["status"] == 503, ready
    assert ready["json"]["status"] == "unavailable" and ready["json"]["problems"]
    assert ready["json"]["detail"]
    for name, answer in result["writes"].items():
        assert answer["status"] == 503, (name, answer)
        assert answer["content_type"].startswith("application/json"), (name, answer)
        assert answer["json"] == {"detail": STORE_UNAVAILABLE}, (name, answer)
    # Reads may still be answered from what the server holds, or refused: JSON either way.
    match = result["match"]
    assert match["status"] in (200, 503) and match["json"] is not None, match


def test_sqlite_file_deleted_while_serving(tmp_path: Path) -> None:
    result = run(tmp_path, "deleted")
    assert result["modes"] == {"file": "0o600", "folder": "0o700"}   # created private
    _check_refused(result)
    assert "is gone" in result["ready"]["json"]["detail"]
    # No empty store was created in its place (the file stays gone).
    assert result["file_exists_after"] is False


def _drop_permission_override() -> None:
    """In the child, before it runs Python: take CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out
    of its bounding set, so even root is held to file permissions (a 0400 file is read-only)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):   # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:   # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _run_read_only(tmp_path: Path, fault: str) -> dict:
    """Run the scenario where file permissions apply: in this process when not root, else in
    a child process that root's permission override was taken from."""
    if os.geteuid() != 0:
        return run(tmp_path, fault)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"}
    try:
        proc = subprocess.run(
            [sys.executable, str(REPO / "tests" / "store_faults_scenario.py"), str(tmp_path),
             fault], env=env, cwd=tmp_path, preexec_fn=_drop_permission_override,
            capture_output=True, text=True, timeout=600, check=False)
    except subprocess.SubprocessError as exc:
        pytest.skip(f"cannot run a child without root's permission override here: {exc}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.mark.parametrize("fault", ["read_only_file", "read_only_folder"])
def test_store_read_only_while_serving(tmp_path: Path, fault: str) -> None:
    result = _run_read_only(tmp_path, fault)
    assert result["modes"] == {"file": "0o600", "folder": "0o700"}
    _check_refused(result)
    assert "read-only" in result["ready"]["json"]["detail"]
    # Only the plan written before the fault is in the store.
    assert result["plans_stored"] == 1
    assert result["restart"].startswith("refused: The store is not ready")
    assert "read-only" in result["restart"]


def _migrations_with_one_more_revision(tmp_path: Path) -> Path:
    """A copy of the store's migrations plus a revision after the head (a new table)."""
    copy = tmp_path / "migrations"
    shutil.copytree(Path(str(schema._script_location())), copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    nxt = f"{int(head) + 1:04d}"
    (copy / "versions" / f"{nxt}_probe.py").write_text(
        '"""A table added by a later version."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f"revision = {nxt!r}\ndown_revision = {head!r}\nbranch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        "    op.create_table('probe', sa.Column('id', sa.Integer, primary_key=True))\n\n\n"
        "def downgrade():\n    op.drop_table('probe')\n")
    return copy


def test_schema_behind_while_serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server started at the newest revision; the store is then taken back one revision
    (a backup restored, an older version's `db` command): readiness and writes refuse it."""
    copy = _migrations_with_one_more_revision(tmp_path)
    monkeypatch.setattr(schema, "_script_location", lambda: copy)
    schema.head_revision.cache_clear()
    try:
        result = run(tmp_path, "schema_behind")
    finally:
        monkeypatch.undo()
        schema.head_revision.cache_clear()
    _check_refused(result)
    assert "matcher db upgrade" in result["ready"]["json"]["detail"]
    assert result["file_exists_after"] is True


@needs_postgres
def test_postgres_read_only_is_not_ready_and_refuses_writes(tmp_path: Path) -> None:
    """A PostgreSQL session that may not write (a standby, default_transaction_read_only):
    readiness names it, and a write raises the error the API answers with 503."""
    from sqlalchemy.engine import make_url

    from matcher.errors import StoreUnavailableError
    from matcher.plans import PlanContent, create_plan
    from matcher.store import Store
    from matcher.store.health import store_problems

    with temp_schema() as url:
        Store.open(url).close()
        parsed = make_url(url)
        options = f"{parsed.query['options']} -cdefault_transaction_read_only=on"
        read_only = parsed.update_query_dict({"options": options})
        with Store.open(read_only.render_as_string(hide_password=False), upgrade=False) as s:
            problems = store_problems(s)
            assert len(problems) == 1 and "read-only" in problems[0]
            with pytest.raises(StoreUnavailableError):
                create_plan(s.engine, "kim", PlanContent(label="AB"))
        # A server over it does not start, and says why.
        from fastapi.testclient import TestClient

        from matcher.api.app import create_app
        from matcher.settings import Settings

        settings = Settings(database_url=read_only.render_as_string(hide_password=False),
                            data_dir=tmp_path, demo_data_path=tmp_path / "absent.csv")
        with pytest.raises(StoreUnavailableError, match="read-only"), \
                TestClient(create_app(settings)):
            pass
        with Store.open(url) as s, s.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM plans")).scalar() == 0


# --------------------------------------------------------------------------- at the store
def test_a_replaced_sqlite_file_takes_no_write(tmp_path: Path) -> None:
    """The file moved aside and another put in its place (a restore by `mv`): the server's
    store is not the file at that path any more, so no write goes to either."""
    from matcher.errors import StoreUnavailableError
    from matcher.plans import PlanContent, create_plan, list_plans
    from matcher.store import Store
    from matcher.store.health import store_problems

    path = tmp_path / "s.sqlite"
    other = tmp_path / "other.sqlite"
    Store.open(f"sqlite:///{other}").close()
    with Store.open(f"sqlite:///{path}") as s:
        create_plan(s.engine, "kim", PlanContent(label="before"))
        os.replace(other, path)
        assert "was replaced" in store_problems(s)[0]
        with pytest.raises(StoreUnavailableError, match="replaced"):
            create_plan(s.engine, "kim", PlanContent(label="after"))
    with Store.open(f"sqlite:///{path}") as s:
        assert "after" not in {p.label for p in list_plans(s.engine, "kim")}


def test_a_file_deleted_during_the_commit_is_not_confirmed(tmp_path: Path) -> None:
    """The file is deleted while a write commits: the commit lands in the deleted file, and the
    write raises instead of returning as if it were kept."""
    from sqlalchemy import event

    from matcher.errors import StoreUnavailableError
    from matcher.plans import PlanContent, create_plan
    from matcher.store import Store

    path = tmp_path / "s.sqlite"
    with Store.open(f"sqlite:///{path}") as s:
        create_plan(s.engine, "kim", PlanContent(label="kept"))

        @event.listens_for(s.engine, "commit")
        def delete_the_file(conn) -> None:
            for name in os.listdir(tmp_path):
                os.remove(tmp_path / name)

        with pytest.raises(StoreUnavailableError, match="not kept"):
            create_plan(s.engine, "kim", PlanContent(label="lost"))
    assert not path.exists()
