"""Co-production over HTTP: comments, moderation, "You said, we did", the annual export,
feedback that counts once and reaches the directory team, rate limits, demand for
commissioners."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from csv_support import HEADER
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.api.ratelimit import TOO_MANY
from matcher.coprod.config import CoprodConfig
from matcher.coprod.tables import CommentRow, ContactRow, DemandCellRow
from matcher.ingest import run_import
from matcher.settings import Settings
from matcher.store.users import add_user

#: Fictional services at real postcodes.
SERVICES_CSV = HEADER + "\n".join([
    'S-001,Saturday Sensory Swim,Leisure Trust,"Quiet swimming for autistic children.",leisure,'
    'autism,5,16,E5 0RF,,,in_person,free,,weekends,sensory_friendly,,self,no,,,,,2025-06-01',
    'S-003,Hearing Support Clinic,NHS Trust,"Audiology and hearing support.",health,hearing '
    'impairment,0,25,E9 6FH,,,in_person,free,,weekdays,,,gp,no,,,,,2025-04-01',
    'S-006,Little Steps Toddler Group,Children\'s Centre,"Play group for toddlers with '
    'developmental delay.",short_breaks,global developmental delay,0,4,E5 0RF,,,in_person,free,,'
    'weekdays,,,self,no,into_early_years,,,,2025-01-01',
]) + "\n"


def _app(tmp: Path, config: CoprodConfig | None = None):
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'api.sqlite'}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    app.state.coprod_config = config or CoprodConfig(anonymous_write_rate="1000/minute",
                                                     failed_key_rate="1000/minute")
    store = app.state.resources.store
    run_import(SERVICES_CSV, store=store, progress=False)
    return app, store


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index) -> Iterator[SimpleNamespace]:
    tmp = tmp_path_factory.mktemp("coprod")
    app, store = _app(tmp)
    keys = {name: add_user(store.engine, name, role) for name, role in [
        ("eve", "editor"), ("ada", "admin"), ("cora", "commissioner"), ("kim", "key_worker")]}
    with TestClient(app) as client:
        yield SimpleNamespace(app=app, client=client, store=store, keys=keys)


def _as(api, who: str) -> dict[str, str]:
    return {"X-API-Key": api.keys[who]}


MISSING = ("My daughter Amelia Jones is 14 and autistic. There is no quiet swimming session "
           "for teenagers anywhere near us. Call me on 07700 900123.")


def test_comment_redacted_answered_acted_on_and_published(api):
    r = api.client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "who": "parent", "words": MISSING,
                                           "contact": "parent@example.org"})
    assert r.status_code == 201 and r.json()["received"] is True
    # Not public until moderated.
    assert api.client.get("/you-said-we-did").json()["comments"] == []
    queue = api.client.get("/comments", headers=_as(api, "eve")).json()["comments"]
    mine = [c for c in queue if c["words"] == MISSING]
    assert len(mine) == 1 and mine[0]["contact"] == "parent@example.org"
    cid = mine[0]["id"]
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"), json={
        "theme": "Leisure and activities", "remove": ["Amelia Jones"],
        "response": "We have asked the leisure centre to add a quiet teen session."})
    assert r.status_code == 200
    assert r.json()["published_words"] == (
        "My daughter [removed] is 14 and autistic. There is no quiet swimming session for "
        "teenagers anywhere near us. Call me on [removed].")
    r = api.client.post(f"/comments/{cid}/actions", headers=_as(api, "eve"), json={
        "description": "Quiet teen swim added on Saturdays", "status": "done",
        "service_ids": ["S-001"]})
    assert r.status_code == 201
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"),
                         json={"decision": "publish"})
    assert r.status_code == 200 and r.json()["status"] == "published"
    public = api.client.get("/you-said-we-did").json()["comments"]
    assert len(public) == 1
    shown = public[0]
    assert "Amelia" not in shown["comment"] and "07700" not in shown["comment"]
    assert shown["response"].startswith("We have asked")
    assert shown["actions"][0]["status"] == "done"
    assert shown["actions"][0]["service_ids"] == ["S-001"]
    assert "contact" not in shown and "words" not in shown
    # Filters: by theme and period.
    assert api.client.get("/you-said-we-did", params={"theme": "Travel and transport"}
                          ).json()["comments"] == []
    assert api.client.get("/you-said-we-did", params={"until": "2020-01-01"}
                          ).json()["comments"] == []
    # The annual export holds it.
    r = api.client.get("/you-said-we-did/annual.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["comment"] for row in rows] == [shown["comment"]]
    assert "Quiet teen swim added on Saturdays (done)" in rows[0]["actions"]
    # The original words are gone from the store once published.
    with api.store.engine.connect() as conn:
        words = conn.execute(select(CommentRow.words).where(CommentRow.id == cid)).scalar()
    assert words == ""


def test_publishing_needs_a_theme_and_a_response(api):
    api.client.post("/comments", json={"about": "local_offer", "topic": "content",
                                       "words": "The page on short breaks is hard to follow."})
    cid = api.client.get("/comments", headers=_as(api, "eve")).json()["comments"][-1]["id"]
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"), json={"decision": "publish"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["message"] == "Choose a theme before publishing."
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"),
                         json={"theme": "Not a theme"})
    assert r.status_code == 422 and "is not a theme" in r.json()["detail"][0]["message"]
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"),
                         json={"theme": "Website and accessibility", "decision": "publish"})
    assert r.json()["detail"][0]["message"] == "Write the council's response before publishing."
    r = api.client.post(f"/comments/{cid}/actions", headers=_as(api, "eve"),
                        json={"description": "Rewrite the page", "status": "not_possible"})
    assert r.status_code == 422 and "reason" in r.json()["detail"][0]["message"]
    r = api.client.patch(f"/comments/{cid}", headers=_as(api, "eve"),
                         json={"decision": "not_publish"})
    assert r.json()["status"] == "not_published" and r.json()["words"] == ""


def test_staff_routes_need_the_editor_or_admin_role(api):
    assert api.client.get("/comments").status_code == 401
    r = api.client.get("/comments", headers=_as(api, "kim"))
    assert r.status_code == 403
    assert r.json() == {"detail": "This needs the editor or admin role."}
    assert api.client.get("/comments", headers=_as(api, "ada")).status_code == 200
    assert api.client.get("/directory-tasks", headers=_as(api, "cora")).status_code == 403
    assert api.client.get("/demand", headers=_as(api, "eve")).status_code == 403


def test_bad_comments_get_plain_errors(api):
    r = api.client.post("/comments", json={"about": "service", "topic": "missing",
                                           "service_id": "S-001", "words": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "topic"
    r = api.client.post("/comments", json={"about": "service", "topic": "wrong",
                                           "service_id": "NOPE", "words": "x"})
    assert r.status_code == 404 and r.json() == {"detail": "No service with id 'NOPE'."}
    r = api.client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "words": "a" * 2001})
    assert r.status_code == 422
    assert r.json()["detail"][0]["message"].startswith("words: write at most 2000 characters")
    r = api.client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "words": "  "})
    assert r.json()["detail"][0]["message"] == "words: tell us in a few words what you mean"
    r = api.client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "words": "x", "postcode": "N7 8JN"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "postcode"


def test_honeypot_is_answered_but_nothing_is_stored(api):
    before = len(api.client.get("/comments", params={"status": "all"},
                                headers=_as(api, "eve")).json()["comments"])
    r = api.client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "words": "cheap pills", "website": "http://spam"})
    assert r.status_code == 201 and r.json()["received"] is True
    after = len(api.client.get("/comments", params={"status": "all"},
                               headers=_as(api, "eve")).json()["comments"])
    assert after == before


def test_comment_tables_hold_no_profile_and_contacts_are_apart(api):
    columns = {c["name"] for c in inspect(api.store.engine).get_columns("comments")}
    for field in ("age", "needs", "postcode", "about_child", "profile", "ip", "name", "email"):
        assert field not in columns
    assert {c["name"] for c in inspect(api.store.engine).get_columns("comment_contacts")} == {
        "comment_id", "address", "delete_after"}


def test_contact_addresses_are_deleted_after_their_day(tmp_path, postcode_index):
    import datetime as dt

    from matcher.coprod import comments as cm

    app, store = _app(tmp_path)
    cm.add_comment(store.engine, about="local_offer", topic="missing", words="x",
                   contact="a@example.org", contact_days=30, today=dt.date(2026, 1, 1))
    assert cm.purge_contacts(store.engine, today=dt.date(2026, 1, 31)) == 0
    assert cm.purge_contacts(store.engine, today=dt.date(2026, 2, 1)) == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(ContactRow)).first() is None
        assert conn.execute(select(CommentRow.words)).scalar() == "x"
    store.close()


# --------------------------------------------------------------------------- feedback
def test_feedback_counts_once_per_session_and_reaches_the_directory_team(api):
    session = "sess-aaaaaaaa"
    first = api.client.post("/feedback", json={"service_id": "S-003", "kind": "out_of_date",
                                               "session": session})
    again = api.client.post("/feedback", json={"service_id": "S-003", "kind": "out_of_date",
                                               "session": session})
    other = api.client.post("/feedback", json={"service_id": "S-003", "kind": "out_of_date",
                                               "session": "sess-bbbbbbbb"})
    assert [first.json()["counted"], again.json()["counted"], other.json()["counted"]] == [
        True, False, True]
    counts = {x["service_id"]: x for x in api.client.get(
        "/feedback/summary", headers=_as(api, "cora")).json()["services"]}
    assert counts["S-003"]["out_of_date"] == 2
    check = api.client.get("/services/S-003/check").json()
    assert check["check_pending"] is True and check["open_reports"] == 2
    assert check["last_checked"] == "2025-04-01"
    # A comment saying a service is wrong is a task too, with what was said.
    api.client.post("/comments", json={"about": "service", "service_id": "S-003",
                                       "topic": "wrong", "words": "The phone number has changed"})
    tasks = api.client.get("/directory-tasks", headers=_as(api, "eve")).json()["tasks"]
    mine = {t["kind"]: t for t in tasks if t["service_id"] == "S-003"}
    assert mine["out_of_date"]["reports"] == 2 and mine["out_of_date"]["name"]
    assert mine["wrong"]["said"] == "The phone number has changed"
    for task in mine.values():
        r = api.client.post(f"/directory-tasks/{task['id']}/done", headers=_as(api, "eve"),
                            json={"note": "Rang them"})
        assert r.status_code == 204
    check = api.client.get("/services/S-003/check").json()
    assert check["check_pending"] is False and check["last_checked"] > "2025-04-01"


def test_feedback_without_a_session_counts_once_per_connection(api):
    for _ in range(5):
        api.client.post("/feedback", json={"service_id": "S-006", "kind": "helpful"})
    counts = {x["service_id"]: x for x in api.client.get(
        "/feedback/summary", headers=_as(api, "cora")).json()["services"]}
    assert counts["S-006"]["helpful"] == 1


# --------------------------------------------------------------------------- rate limits
def test_anonymous_writes_are_rate_limited_then_served_again(tmp_path, postcode_index):
    app, store = _app(tmp_path, CoprodConfig(anonymous_write_rate="3 per 5 seconds"))
    with TestClient(app) as client:
        def send(i: int):
            return client.post("/feedback", json={"service_id": "S-001", "kind": "helpful",
                                                  "session": f"session-{i:04d}"})

        assert [send(i).status_code for i in range(3)] == [201, 201, 201]
        r = send(3)
        assert r.status_code == 429 and r.json() == {"detail": TOO_MANY}
        assert int(r.headers["retry-after"]) >= 1
        c = client.post("/comments", json={"about": "local_offer", "topic": "missing",
                                           "words": "x"})
        assert c.status_code == 429
        time.sleep(int(r.headers["retry-after"]) + 0.1)
        assert send(4).status_code == 201
    store.close()


def test_failed_api_keys_are_rate_limited(tmp_path, postcode_index):
    app, store = _app(tmp_path, CoprodConfig(failed_key_rate="3 per 5 seconds"))
    good = add_user(store.engine, "eve", "editor")
    with TestClient(app) as client:
        bad = {"X-API-Key": "mk_00000000_guess"}
        assert [client.get("/comments", headers=bad).status_code for _ in range(3)] == [
            401, 401, 401]
        r = client.get("/comments", headers=bad)
        assert r.status_code == 429 and "retry-after" in r.headers
        # The client is held back even with a good key until the window has passed.
        assert client.get("/comments", headers={"X-API-Key": good}).status_code == 429
        time.sleep(int(r.headers["retry-after"]) + 0.1)
        assert client.get("/comments", headers={"X-API-Key": good}).status_code == 200
    store.close()


# --------------------------------------------------------------------------- demand
def test_poor_searches_become_demand_cells_and_nothing_else(tmp_path, postcode_index):
    app, store = _app(tmp_path, CoprodConfig(demand_threshold=1.0, demand_min_count=5,
                                             anonymous_write_rate="1000/minute"))
    cora = add_user(store.engine, "cora", "commissioner")
    about = "He hates loud places and his name is Sam Smith"
    with TestClient(app) as client:
        for _ in range(7):
            r = client.post("/match", json={"age": 9, "needs": ["autism"], "about": about,
                                            "postcode": "N7 8JN"})
            assert r.status_code == 200
        client.post("/match", json={"age": 17, "needs": ["hearing impairment"],
                                    "postcode": "E5 0RF"})
        answer = client.get("/demand", headers={"X-API-Key": cora}).json()
    with store.engine.connect() as conn:
        stored = [tuple(r) for r in conn.execute(select(DemandCellRow.__table__))]
    assert {c["name"] for c in inspect(store.engine).get_columns("demand_cells")} == {
        "need", "band", "district", "month", "count"}
    # "hates loud places" in the family's words is read as a sensory need: a cell of its own.
    assert {(need, band, district, count) for need, band, district, _m, count in stored} == {
        ("autism", "primary", "N7", 7), ("sensory_processing", "primary", "N7", 7),
        ("hearing_impairment", "post16", "E5", 1)}
    assert all("N7 8JN" not in str(r) and "Sam" not in str(r) for r in stored)
    # 7 is shown rounded to 5; the cell of 1 is never shown.
    assert sorted((c["need"], c["band"], c["district"], c["searches"])
                  for c in answer["cells"]) == [
        ("autism", "primary", "N7", 5), ("sensory_processing", "primary", "N7", 5)]
    assert answer["cells"][0]["need_label"]
    store.close()


# --------------------------------------------------------------------------- store
def test_fresh_and_older_stores_get_the_coproduction_tables(tmp_path):
    from legacy_store import make_legacy_store

    from matcher.coprod.tables import COPROD_TABLES
    from matcher.store import Store
    from matcher.store.schema import head_revision

    names = {t.name for t in COPROD_TABLES}
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with Store.open(url) as s:
        assert names <= set(inspect(s.engine).get_table_names())
        assert s.schema_version() == int(head_revision())
    # A store from before co-production (step 10 not applied) gains the tables when opened.
    old = f"sqlite:///{tmp_path / 'old.sqlite'}"
    make_legacy_store(old, (1, 2, 20))
    with Store.open(old) as s:
        assert names <= set(inspect(s.engine).get_table_names())
        assert s.schema_version() == int(head_revision())


def test_demo_comments_and_demand_are_loaded_with_the_demo(tmp_path, postcode_index):
    import datetime as dt
    import io as _io

    from matcher.api.serve import ensure_demo_data
    from matcher.coprod import comments as cm
    from matcher.coprod.demand import demand_cells
    from matcher.settings import REPO_ROOT
    from matcher.store import Store

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'd.sqlite'}",
                        demo_data_path=REPO_ROOT / "data" / "demo" / "islington_local_offer.csv")
    out = _io.StringIO()
    assert ensure_demo_data(settings, out=out, err=out)
    assert "fictional comments" in out.getvalue()
    with Store.open(settings.database_url) as store:
        published = cm.published_comments(store.engine)
        assert len(published) >= 4 and all(c["comment"].startswith("(Demo)") for c in published)
        assert any(a["status"] == "not_possible" and a["reason"] for c in published
                   for a in c["actions"])
        queue = cm.comment_queue(store.engine)
        assert queue and all(c["words"].startswith("(Demo)") for c in queue)
        cells = demand_cells(store.engine, min_count=5, round_to=5)
        assert cells and all(c["searches"] >= 5 for c in cells)
        # The thin cells of the demo (under 5) are held back.
        assert len(cells) < 8
        year = cm.annual_rows(store.engine, since=dt.date.today() - dt.timedelta(days=365),
                              until=dt.date.today())
        assert len(year) == len(published)


def test_on_first_run_the_commissioner_sees_gaps_thin_cells_and_demand(tmp_path, postcode_index):
    """The README's main command loads the demo: a commissioner's first look at the council's
    own districts (GET /council) shows gaps, thin cells and demand."""
    import io as _io

    from matcher.api.serve import ensure_demo_data
    from matcher.settings import REPO_ROOT

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'd.sqlite'}",
                        demo_data_path=REPO_ROOT / "data" / "demo" / "islington_local_offer.csv")
    assert ensure_demo_data(settings, out=_io.StringIO(), err=_io.StringIO())
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    key = add_user(app.state.resources.store.engine, "cora", "commissioner")
    with TestClient(app) as client:
        districts = client.get("/council").json()["districts"]
        gaps = client.get("/gaps", params={"districts": ",".join(districts), "limit": 1000},
                          headers={"X-API-Key": key})
        assert gaps.status_code == 200, gaps.text
        body = gaps.json()
        assert body["gaps"] >= 1 and body["thin"] >= 1
        statuses = {r["status"] for r in body["results"]}
        assert {"gap", "thin"} <= statuses
        demand = client.get("/demand", headers={"X-API-Key": key})
        assert demand.status_code == 200, demand.text
        assert demand.json()["cells"] and demand.json()["missing_by_theme"]
    app.state.resources.close()


def test_the_annual_export_takes_any_valid_date(tmp_path, postcode_index):
    """The first day there is, and a year back from it, are dates like any other."""
    from matcher.coprod.comments import ANNUAL_COLUMNS

    app, store = _app(tmp_path, CoprodConfig())
    with TestClient(app) as client:
        for query in ("until=0001-01-01", "until=0001-12-31", "since=0001-01-01&until=9999-12-31"):
            r = client.get(f"/you-said-we-did/annual.csv?{query}")
            assert r.status_code == 200, (query, r.text)
            assert r.text.splitlines()[0] == ",".join(ANNUAL_COLUMNS)
    store.close()
