"""``matcher serve``, ``matcher run``, ``matcher users`` and ``matcher plans purge``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from csv_support import HEADER
from fastapi.testclient import TestClient
from sqlalchemy import update

from matcher.cli import main
from matcher.settings import get_settings
from matcher.store import Store
from matcher.store.plans import PlanRow

DEMO = HEADER + (
    'D-1,Demo Swim,Leisure,"Swimming for autistic children.",leisure,autism,5,16,E5 0RF,,,'
    'in_person,free,,weekends,,,self,no,,,,,2025-06-01\n'
    'D-2,Demo Bad Row,Leisure,"Ages wrong.",leisure,autism,15,5,,,,online,free,,,,,self,no,,,,,\n'
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings pointing at a fresh SQLite file and a demo CSV in ``tmp_path``."""
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MATCHER_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("MATCHER_DEMO_DATA", str(tmp_path / "demo.csv"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace uvicorn.run; the list receives each call's arguments."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_users_add_prints_a_working_key_once(env, capsys):
    assert main(["users", "add", "kim", "--role", "key_worker"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Created key_worker 'kim'.")
    key = out[1]
    assert key.startswith("mk_")
    with Store.open(get_settings().database_url) as store:
        from matcher.store.users import ApiUserRow

        with store.engine.connect() as conn:
            stored = conn.execute(ApiUserRow.__table__.select()).mappings().one()
    assert key not in stored.values() and stored["key_hash"] != key  # only the hash is kept

    from matcher.api import create_app

    with TestClient(create_app()) as client:
        assert client.get("/plans", headers={"X-API-Key": key}).status_code == 200

    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("kim\tkey_worker\t") and key not in listed


def test_users_errors(env, capsys):
    assert main(["users", "add", "kim", "--role", "admin"]) == 0
    capsys.readouterr()
    assert main(["users", "add", "kim", "--role", "admin"]) == 2
    assert capsys.readouterr().err.strip() == (
        "There is already a user called 'kim'. Choose another name, or remove the old one "
        "with: matcher users remove kim")
    assert main(["users", "remove", "nobody"]) == 1
    assert capsys.readouterr().err.strip() == (
        "There is no user called 'nobody'. See them with: matcher users list")
    assert main(["users", "remove", "kim"]) == 0
    assert capsys.readouterr().out.strip() == "Removed 'kim'; their API key no longer works."
    with pytest.raises(SystemExit):
        main(["users", "add", "x", "--role", "superuser"])


def test_plans_purge(env, capsys):
    from matcher.plans import PlanContent, create_plan

    with Store.open(get_settings().database_url) as store:
        keep = create_plan(store.engine, "kim", PlanContent(label="A1"))
        old = create_plan(store.engine, "kim", PlanContent(label="B2"))
        with store.engine.begin() as conn:
            conn.execute(update(PlanRow.__table__).where(PlanRow.id == old.id)
                         .values(retain_until=dt.date.today() - dt.timedelta(days=1)))
    assert main(["plans", "purge"]) == 0
    assert capsys.readouterr().out.strip() == "Deleted 1 plan(s) past their retention date."
    with Store.open(get_settings().database_url) as store, store.engine.connect() as conn:
        assert [r.id for r in conn.execute(PlanRow.__table__.select())] == [keep.id]


def test_run_without_demo_data_says_so(env, capsys, served):
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "is empty and the demo Local Offer" in err and str(env / "demo.csv") in err
    assert "missing" in err and "matcher import PATH" in err
    assert served == []


def test_run_imports_the_demo_then_serves(env, capsys, served, postcode_index):
    (env / "demo.csv").write_text(DEMO, encoding="utf-8")
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert f"Loaded the demo Local Offer {env / 'demo.csv'}: 1 services (1 rows rejected)" in out
    from matcher.api.logs import log_config

    assert served == [{"app": "matcher.api.app:create_app", "factory": True,
                       "host": "127.0.0.1", "port": 8000, "workers": 1, "log_level": "info",
                       "log_config": log_config("json", "info"), "access_log": False,
                       "proxy_headers": False, "server_header": False,
                       "timeout_worker_healthcheck": 60}]
    # A second run finds the data and does not import again.
    assert main(["run"]) == 0
    assert "already holds 1 services" in capsys.readouterr().out


def test_serve_passes_options_to_uvicorn(env, served):
    assert main(["serve", "--host", "0.0.0.0", "--port", "9001", "--workers", "3"]) == 0
    (call,) = served
    assert (call["app"], call["factory"], call["host"], call["port"], call["workers"]) == (
        "matcher.api.app:create_app", True, "0.0.0.0", 9001, 3)
