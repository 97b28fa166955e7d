"""One server over a SQLite store, a fault done to the store while it serves, and what the
server then answers: readiness and every kind of write.

Used by tests/test_store_faults.py, in the test process or (for read-only faults when the tests
run as root, whom file permissions do not stop) in a child process run as an ordinary user:
``python tests/store_faults_scenario.py FOLDER FAULT`` prints the answers as JSON.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

SERVICES_CSV = (
    "id,name,organisation,description,categories,needs,min_age,max_age,postcode,latitude,"
    "longitude,service_area,delivery,cost,cost_details,when,accessibility,languages,referral,"
    "ehcp_required,transitions,url,phone,email,last_reviewed\n"
    'S-001,Splash Club,Leisure Trust,"Quiet swimming for autistic children.",leisure,autism,'
    "5,16,,,,national,in_person,free,,weekends,,,self,no,,,,,2025-06-01\n"
)
NEW_CSV = SERVICES_CSV.replace("S-001,Splash Club", "S-002,Splash Two")

#: The faults this scenario can do.
FAULTS = ("deleted", "read_only_file", "read_only_folder", "schema_behind")


def _answer(r: Any) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        body = None
    return {"status": r.status_code, "json": body, "text": r.text,
            "content_type": r.headers.get("content-type", "")}


def _writes(client: Any, keys: dict[str, str]) -> dict[str, dict[str, Any]]:
    """One request of every kind that writes to the store."""
    admin, worker = {"X-API-Key": keys["ada"]}, {"X-API-Key": keys["kim"]}
    return {
        "POST /plans": _answer(client.post("/plans", headers=worker, json={"label": "AB"})),
        "POST /feedback": _answer(client.post("/feedback", json={
            "service_id": "S-001", "kind": "helpful", "session": "s" * 32})),
        "POST /comments": _answer(client.post("/comments", json={
            "about": "local_offer", "topic": "missing", "who": "parent",
            "words": "There is no quiet swimming session for teenagers near us."})),
        "POST /import": _answer(client.post(
            "/import", headers=admin,
            files={"file": ("new.csv", NEW_CSV.encode(), "text/csv")})),
        "POST /admin/users": _answer(client.post("/admin/users", headers=admin, json={
            "name": "newcomer", "role": "key_worker"})),
    }


def _do_fault(fault: str, folder: Path, db: Path, engine: Any) -> None:
    if fault == "deleted":
        for name in os.listdir(folder):
            os.remove(folder / name)
    elif fault == "read_only_file":
        for path in folder.iterdir():
            path.chmod(0o400)
    elif fault == "read_only_folder":
        folder.chmod(0o500)
    elif fault == "schema_behind":
        from alembic import command

        from matcher.store.schema import alembic_config, head_revision

        head = head_revision()
        with engine.connect() as conn, conn.begin():
            command.downgrade(alembic_config(conn), f"{int(head) - 1:04d}")
    else:
        raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")


def _plans_stored(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM plans").fetchone()[0])


def run(tmp: Path, fault: str) -> dict[str, Any]:
    """Serve a store in ``tmp``, check a write works, do ``fault``, and record the answers."""
    from fastapi.testclient import TestClient

    from matcher.api.app import create_app
    from matcher.api.deps import ApiConfig
    from matcher.coprod.config import CoprodConfig
    from matcher.errors import MatcherError
    from matcher.ingest import run_import
    from matcher.settings import Settings
    from matcher.store.users import add_user

    folder = tmp / "store"
    db = folder / "matcher.sqlite"
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{db}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    app.state.coprod_config = CoprodConfig(anonymous_write_rate="1000/minute",
                                           failed_key_rate="1000/minute")
    store = app.state.resources.store
    run_import(SERVICES_CSV.encode(), store=store, progress=False)
    keys = {name: add_user(store.engine, name, role)
            for name, role in [("ada", "admin"), ("kim", "key_worker")]}
    out: dict[str, Any] = {"modes": {"file": oct(db.stat().st_mode & 0o777),
                                     "folder": oct(folder.stat().st_mode & 0o777)}}
    with TestClient(app) as client:
        out["ready_before"] = _answer(client.get("/health/ready"))
        out["write_before"] = _answer(client.post("/plans", headers={"X-API-Key": keys["kim"]},
                                                  json={"label": "before"}))
        _do_fault(fault, folder, db, store.engine)
        out["ready"] = _answer(client.get("/health/ready"))
        out["writes"] = _writes(client, keys)
        out["health"] = _answer(client.get("/health"))
        # A poorly served search (no service takes 24-year-olds) still gets a JSON answer;
        # counting it as demand (a background write after the answer) is dropped and logged.
        out["match"] = _answer(client.post("/match", json={"age": 24, "needs": ["autism"]}))
    out["file_exists_after"] = db.exists()
    if fault.startswith("read_only"):
        out["plans_stored"] = _plans_stored(db)
        # A new server over the same read-only store refuses to start, saying why.
        try:
            with TestClient(create_app(settings, ApiConfig(refresh_seconds=0))):
                out["restart"] = "started"
        except MatcherError as exc:
            out["restart"] = f"refused: {exc}"
    return out


if __name__ == "__main__":
    result = run(Path(sys.argv[1]), sys.argv[2])
    print("RESULT " + json.dumps(result))
