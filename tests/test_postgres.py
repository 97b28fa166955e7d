"""The store and the HTTP API on PostgreSQL (skipped unless MATCHER_TEST_POSTGRES_URL is set).

Start a throwaway server with ``eval "$(.ci/postgres)"`` (it prints the variable). Every test
works in its own PostgreSQL schema (``search_path`` set through the URL), dropped afterwards,
so the tests can share one database and never see each other's rows.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pg_support import PG_URL, needs_postgres, temp_schema
from serve_support import descendants, free_port, serving_pid
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import make_url

import matcher.store.directory as store_mod
from matcher.errors import ConfigError
from matcher.ingest import run_import
from matcher.services import ServiceRecord
from matcher.settings import Settings
from matcher.store import Store
from matcher.store.schema import head_revision

pytestmark = needs_postgres

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"
DEV_SERVICES = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev" / "services.csv"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temp_schema() as url:
        yield url


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    s = Store.open(pg_url)
    yield s
    s.close()


def _record(i: int, **changes: object) -> ServiceRecord:
    base = ServiceRecord(
        id=f"S-{i:03d}", name=f"Service {i}", organisation="Org",
        description="A description, with a comma and a pound sign: £2. Ünïcödé too.",
        categories=["leisure", "health"], needs_raw="autism; ADHD", needs=["autism", "adhd"],
        needs_unrecognised=["wibble"], min_age=3, max_age=11, postcode="E9 6FH",
        latitude=51.546884, longitude=-0.043952, address="1 Road, London",
        service_area=["E5", "E9"], delivery=["in_person"], cost="free_for_some",
        cost_details="£2", when=["weekends"], accessibility=["wheelchair"],
        languages=["English", "Turkish"], referral=["self"], ehcp_required=True,
        transitions=["primary_to_secondary"], url="https://x.example", phone="020 7946 0000",
        email="a@x.example", last_reviewed=dt.date(2024, 5, 1),
    )
    return dataclasses.replace(base, **changes)


def _csv_rows(path: Path) -> list[list[str]]:
    """The file's rows from the header on (comment lines above it dropped)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [r for r in csv.reader(f) if not (r and r[0].startswith("#"))]


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------- schema
def test_open_creates_schema_in_postgres(store: Store) -> None:
    assert store.engine.dialect.name == "postgresql"
    assert {"services", "alembic_version"} <= set(inspect(store.engine).get_table_names())
    assert store.schema_version() == int(head_revision())
    assert store.count_services() == 0 and store.data_version() == "empty"
    column_types = {c["name"]: type(c["type"]).__name__
                    for c in inspect(store.engine).get_columns("services")}
    assert column_types["needs"] == "JSONB" and column_types["last_reviewed"] == "DATE"


def test_unreachable_server_is_a_config_error() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = make_url(PG_URL).set(host="127.0.0.1", port=port)
    with pytest.raises(ConfigError, match="Cannot open the database") as info:
        Store.open(url.render_as_string(hide_password=False))
    if url.password:
        assert url.password not in str(info.value)


def test_workers_opening_a_fresh_database_together(pg_url: str) -> None:
    """Several processes' first requests create the schema at the same moment: none fails."""
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        try:
            start.wait()
            with Store.open(pg_url) as s:
                assert s.schema_version() > 0
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with Store.open(pg_url) as s, s.engine.connect() as conn:
        assert s.schema_version() == int(head_revision())
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert {"api_users", "feedback", "plans"} <= set(inspect(conn).get_table_names())


# --------------------------------------------------------------------------- data
def test_round_trip_every_field(store: Store) -> None:
    rec = _record(1)
    bare = _record(2, min_age=None, postcode=None, latitude=None, longitude=None,
                   last_reviewed=None, cost=None, needs=[], service_area=[])
    store.upsert_services([rec, bare])
    assert store.get_service("S-001") == rec
    assert store.get_service("S-002") == bare
    assert store.get_service("nope") is None


def test_upsert_counts_and_replace_all(store: Store) -> None:
    records = [_record(i) for i in range(1, 6)]
    assert store.upsert_services(records) == (5, 0, 0)
    assert store.upsert_services(records) == (0, 0, 5)
    records[2] = _record(3, name="Renamed")
    assert store.upsert_services(records + [_record(9)]) == (1, 1, 4)
    assert store.get_service("S-003").name == "Renamed"
    assert store.upsert_services([_record(1), _record(9)], replace_all=True) == (0, 0, 2)
    assert [r.id for r in store.list_services()] == ["S-001", "S-009"]
    assert store.delete_all() == 2 and store.count_services() == 0


def test_order_and_data_version_do_not_depend_on_collation(store: Store, tmp_path: Path) -> None:
    """A PostgreSQL database in a language collation (ICU "en") sorts 'a' before 'B'; the
    directory's order and fingerprint must still be the same as on SQLite."""
    with store.engine.begin() as conn:
        conn.execute(text('ALTER TABLE services ALTER COLUMN id TYPE varchar(200) '
                          'COLLATE "en-x-icu"'))
    ids = ["a-1", "B-2", "_c", "Z-9", "b-3"]
    records = [_record(0, id=i, name=i) for i in ids]
    store.upsert_services(records)
    assert [r.id for r in store.list_services()] == sorted(ids)
    with Store.open(f"sqlite:///{tmp_path / 'same.sqlite'}") as lite:
        lite.upsert_services(records)
        assert [r.id for r in lite.list_services()] == sorted(ids)
        assert store.data_version() == lite.data_version()


@pytest.mark.parametrize("source", [DEMO, DEV_SERVICES], ids=["demo", "dev"])
def test_import_then_unchanged_then_one_updated(source: Path, store: Store, tmp_path: Path,
                                                postcode_index) -> None:
    if not source.is_file():
        pytest.skip(f"needs {source} (the shared dev set lives in ../shared beside the repo)")
    first = run_import(source, store=store, progress=False)
    assert first.added == first.accepted > 100 and first.updated == 0
    n = first.accepted
    second = run_import(source, store=store, progress=False)
    assert (second.added, second.updated, second.unchanged) == (0, 0, n)
    rows = _csv_rows(source)
    header = rows[0]
    rows[7][header.index("name")] += " (renamed)"
    changed = tmp_path / "changed.csv"
    changed.write_text(_csv_text(rows), encoding="utf-8")
    third = run_import(changed, store=store, progress=False)
    assert (third.added, third.updated, third.unchanged) == (0, 1, n - 1)
    assert store.count_services() == n
    assert store.get_service(rows[7][0]).name.endswith("(renamed)")
    # The same file gives the same directory, and fingerprint, as on SQLite.
    with Store.open(f"sqlite:///{tmp_path / 'same.sqlite'}") as lite:
        run_import(changed, store=lite, progress=False)
        assert store.list_services() == lite.list_services()
        assert store.data_version() == lite.data_version()


def test_failure_half_way_leaves_store_as_it_was(store: Store,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store.upsert_services([_record(i) for i in range(1, 4)])
    before, version = store.list_services(), store.data_version()
    monkeypatch.setattr(store_mod, "WRITE_BATCH", 2)
    inserts: list[str] = []

    def fail_on_second_insert(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SERVICES"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise RuntimeError("disk on fire")

    event.listen(store.engine, "before_cursor_execute", fail_on_second_insert)
    try:
        new = [_record(1, name="changed")] + [_record(i) for i in range(10, 16)]
        with pytest.raises(RuntimeError, match="disk on fire"):
            store.upsert_services(new)
    finally:
        event.remove(store.engine, "before_cursor_execute", fail_on_second_insert)
    assert len(inserts) == 2  # the first batch really was sent before the failure
    assert store.list_services() == before and store.data_version() == version


_KILL_SCRIPT = """
import sys, time
from sqlalchemy import event
import matcher.store.directory as store_mod
from matcher.services import ServiceRecord
from matcher.store import Store

store_mod.WRITE_BATCH = 2
store = Store.open(sys.argv[1])
seen = []

@event.listens_for(store.engine, "before_cursor_execute")
def pause(conn, cursor, statement, params, context, executemany):
    if statement.lstrip().upper().startswith("INSERT INTO SERVICES"):
        seen.append(1)
        if len(seen) == 2:  # one batch written, transaction open: wait to be killed
            sys.stderr.write("INSIDE-TRANSACTION\\n")
            sys.stderr.flush()
            time.sleep(120)

store.upsert_services([ServiceRecord(id=f"K-{i}", name="Killed", description="never stored",
                                     categories=["leisure"]) for i in range(10)])
"""


def test_killed_import_leaves_previous_directory(store: Store, pg_url: str) -> None:
    store.upsert_services([_record(1), _record(2)])
    before, version = store.list_services(), store.data_version()
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, pg_url], cwd=REPO,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        lines = [line]
        while line and "INSIDE-TRANSACTION" not in line:
            line = proc.stderr.readline()
            lines.append(line)
        assert "INSIDE-TRANSACTION" in line, "".join(lines)[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    # The server notices the dropped connection and rolls its transaction back.
    assert store.list_services() == before and store.data_version() == version
    assert store.upsert_services([_record(3)]) == (1, 0, 0)


def test_two_imports_at_once_queue_instead_of_failing(store: Store, pg_url: str) -> None:
    """Like SQLite's BEGIN IMMEDIATE: two writers of the same new ids wait for each other."""
    records = [_record(i) for i in range(1, 200)]
    results: list[tuple[int, int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(s: Store) -> None:
        try:
            start.wait()
            results.append(s.upsert_services(records))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with Store.open(pg_url) as other:
        threads = [threading.Thread(target=write, args=(s,)) for s in (store, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    assert sorted(results) == [(0, 0, 199), (199, 0, 0)]


# --------------------------------------------------------------------------- the HTTP API
PLAN = {"label": "KW-2025-014", "profile": {"age": 10, "needs": ["autism"], "postcode": "N7"},
        "services": [], "next_steps": [{"action": "Call the SENCO", "due": "2030-10-01"}]}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index) -> Iterator[SimpleNamespace]:
    """One app on a PostgreSQL schema holding the demo Local Offer, with users of each role."""
    from fastapi.testclient import TestClient

    from matcher.api import create_app
    from matcher.api.deps import ApiConfig
    from matcher.store.users import add_user

    tmp = tmp_path_factory.mktemp("pg-api")
    with temp_schema() as url:
        settings = Settings(data_dir=tmp, database_url=url, demo_data_path=tmp / "absent.csv")
        app = create_app(settings, ApiConfig(refresh_seconds=0))
        store = app.state.resources.store
        keys = {name: add_user(store.engine, name, role) for name, role in [
            ("ada", "admin"), ("cora", "commissioner"), ("kim", "key_worker"),
            ("kai", "key_worker")]}
        with TestClient(app) as client:
            r = client.post("/import", headers={"X-API-Key": keys["ada"]},
                            files={"file": ("offer.csv", DEMO.read_bytes(), "text/csv")})
            assert r.status_code == 200, r.text
            yield SimpleNamespace(client=client, store=store, keys=keys, imported=r.json())
        store.close()


def _auth(api: SimpleNamespace, who: str) -> dict[str, str]:
    return {"X-API-Key": api.keys[who]}


def test_api_import_as_admin_only(api) -> None:
    body = api.imported
    assert body["added"] == body["accepted"] == body["services"] == api.store.count_services()
    assert body["services"] > 200 and body["data_version"] == api.store.data_version()
    for who, status in (("kim", 403), ("cora", 403)):
        r = api.client.post("/import", headers=_auth(api, who),
                            files={"file": ("x.csv", DEMO.read_bytes(), "text/csv")})
        assert r.status_code == status
    r = api.client.post("/import", headers=_auth(api, "ada"),
                        files={"file": ("again.csv", DEMO.read_bytes(), "text/csv")})
    assert r.status_code == 200
    assert (r.json()["added"], r.json()["unchanged"]) == (0, body["services"])


def test_api_match_on_postgres(api) -> None:
    r = api.client.post("/match", json={"age": 9, "needs": ["autism"], "postcode": "N7 8JN"})
    assert r.status_code == 200
    body = r.json()
    assert body["results"] and body["data_version"] == api.store.data_version()
    scores = [x["score"] for x in body["results"]]
    assert scores == sorted(scores, reverse=True)
    for item in body["results"]:
        rec = api.store.get_service(item["service_id"])
        assert rec is not None and item["name"] == rec.name
        assert rec.min_age is None or rec.min_age <= 9


def test_api_services_list_and_detail(api) -> None:
    r = api.client.get("/services?size=100&page=1")
    assert r.status_code == 200
    body = r.json()
    ids = [s["id"] for s in body["items"]]
    assert body["total"] == api.store.count_services() and ids == sorted(ids)
    first = api.store.list_services()[0]
    r = api.client.get(f"/services/{first.id}")
    assert r.status_code == 200 and r.json()["name"] == first.name
    assert api.client.get("/services/NOPE-1").status_code == 404


def test_api_feedback_on_postgres(api) -> None:
    sid = api.store.list_services()[0].id
    # Three browser sessions (one session's feedback on a service counts once).
    for i, kind in enumerate(("helpful", "helpful", "out_of_date")):
        r = api.client.post("/feedback", json={"service_id": sid, "kind": kind,
                                               "session": f"pg-session-{i}"})
        assert r.status_code == 201
    at = dt.datetime.fromisoformat(r.json()["recorded_at"])
    assert (at.minute, at.second, at.microsecond) == (0, 0, 0) and at.utcoffset() is not None
    assert api.client.get("/feedback/summary", headers=_auth(api, "kim")).status_code == 403
    r = api.client.get("/feedback/summary", headers=_auth(api, "cora"))
    assert r.status_code == 200
    rows = {x["service_id"]: x for x in r.json()["services"]}
    assert (rows[sid]["helpful"], rows[sid]["out_of_date"], rows[sid]["not_helpful"]) == (2, 1, 0)


def test_api_plans_crud_and_isolation(api) -> None:
    kim, kai = _auth(api, "kim"), _auth(api, "kai")
    sid = api.store.list_services()[0].id
    r = api.client.post("/plans", json=dict(PLAN, services=[{"service_id": sid}]), headers=kim)
    assert r.status_code == 201
    plan = r.json()
    pid = plan["id"]
    assert plan["owner"] == "kim" and plan["services"] == [
        {"service_id": sid, "note": "", "reasons": []}]
    assert api.client.get(f"/plans/{pid}", headers=kim).json() == plan
    assert [p["id"] for p in api.client.get("/plans", headers=kim).json()["plans"]] == [pid]
    # kai sees nothing of kim's plan and cannot change or delete it.
    assert api.client.get("/plans", headers=kai).json()["plans"] == []
    assert api.client.get(f"/plans/{pid}", headers=kai).status_code == 404
    assert api.client.put(f"/plans/{pid}", json=PLAN, headers=kai).status_code == 404
    assert api.client.delete(f"/plans/{pid}", headers=kai).status_code == 404
    changed = dict(PLAN, next_steps=[{"action": "Call the SENCO", "due": "2030-10-01",
                                      "done": True}])
    r = api.client.put(f"/plans/{pid}", json=changed, headers=kim)
    assert r.status_code == 200 and r.json()["next_steps"][0]["done"] is True
    assert (dt.datetime.fromisoformat(r.json()["updated_at"])
            > dt.datetime.fromisoformat(plan["updated_at"]))
    assert api.client.delete(f"/plans/{pid}", headers=kim).status_code == 204
    assert api.client.get(f"/plans/{pid}", headers=kim).status_code == 404


def test_api_health_and_version(api) -> None:
    r = api.client.get("/health")
    assert r.json() == {"status": "ok", "services": api.store.count_services(), "detail": None}
    r = api.client.get("/version")
    assert r.json()["data"] == api.store.data_version()
    assert r.json()["schema_version"] == int(head_revision())


# --------------------------------------------------------------------------- two workers
def _ask_every_worker(port: int, server_pid: int, method: str, path: str, body: dict | None,
                      deadline: float, accept=None,
                      headers: dict | None = None) -> dict[int, tuple[int, dict]]:
    """Ask on new connections until each of the two workers has answered (with an answer
    ``accept(status, body)`` takes, when given); {pid: answer}."""
    answers: dict[int, tuple[int, dict]] = {}
    while len(answers) < 2 and time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, body=payload,
                         headers={"Content-Type": "application/json", **(headers or {})})
            resp = conn.getresponse()
            data = json.loads(resp.read() or b"{}")
            pid = serving_pid(conn.sock, port, descendants(server_pid))
            if pid is not None and pid not in answers and (
                    accept is None or accept(resp.status, data)):
                answers[pid] = (resp.status, data)
        except (ConnectionError, OSError):
            time.sleep(0.2)
        finally:
            conn.close()
    return answers


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(),
                    reason="telling the two workers apart reads Linux's /proc")
def test_two_workers_share_one_store(pg_url: str, tmp_path: Path, postcode_index) -> None:
    """`matcher serve --workers 2` on PostgreSQL: an import through one worker is seen by both
    within a bound, and a plan saved through either worker is read through the other."""
    import httpx

    from matcher.api.deps import ApiConfig
    from matcher.store.users import add_user

    with Store.open(pg_url) as s:
        admin_key = add_user(s.engine, "ada", "admin")
        worker_key = add_user(s.engine, "kim", "key_worker")
    port = free_port()
    env = {**os.environ, "MATCHER_DATABASE_URL": pg_url, "MATCHER_DATA_DIR": str(tmp_path),
           "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from matcher.cli import main; sys.exit(main())",
         "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
         "--log-level", "warning"],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        # Both workers start with the empty directory.
        before = _ask_every_worker(port, server.pid, "GET", "/services", None,
                                   time.monotonic() + 90)
        assert len(before) == 2, f"only {len(before)} worker(s) answered"
        assert [a for a in before.values()] == [(200, {"total": 0, "page": 1, "size": 20,
                                                        "items": []})] * 2
        with httpx.Client(base_url=base, timeout=60) as client:
            r = client.post("/import", headers={"X-API-Key": admin_key},
                            files={"file": ("offer.csv", DEMO.read_bytes(), "text/csv")})
        assert r.status_code == 200, r.text
        total, version = r.json()["services"], r.json()["data_version"]
        # Within the refresh interval plus the time of one build in the background, every
        # worker serves the new data (until then the other one answers from the old one).
        after = _ask_every_worker(port, server.pid, "POST", "/match",
                                  {"age": 9, "needs": ["autism"], "postcode": "N7 8JN"},
                                  time.monotonic() + ApiConfig().refresh_seconds + 60,
                                  accept=lambda status, body: body.get("data_version") == version)
        assert len(after) == 2, "a worker did not serve the imported data within the bound"
        for status, body in after.values():
            assert status == 200 and body["data_version"] == version and body["results"]
        listed = _ask_every_worker(port, server.pid, "GET", "/services", None,
                                   time.monotonic() + 60)
        assert [b["total"] for _, b in listed.values()] == [total, total]
        # One plan saved through each worker; each is read back through both.
        key = {"X-API-Key": worker_key}
        saved = _ask_every_worker(port, server.pid, "POST", "/plans", {"label": "AB"},
                                  time.monotonic() + 60, headers=key)
        assert len(saved) == 2 and all(status == 201 for status, _ in saved.values())
        for _status, plan in saved.values():
            read = _ask_every_worker(port, server.pid, "GET", f"/plans/{plan['id']}", None,
                                     time.monotonic() + 60, headers=key)
            assert len(read) == 2
            assert all(got == (200, plan) for got in read.values()), read
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log = server.stderr.read() if server.stderr else ""
        if server.stderr:
            server.stderr.close()
    assert "Traceback" not in log, log[-3000:]
