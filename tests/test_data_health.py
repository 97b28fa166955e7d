"""Data health for the directory team: the library on hand-made records, ``matcher
data-health`` on a temporary store, and ``GET /admin/data-health`` (admin only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from csv_support import HEADER
from fastapi.testclient import TestClient

from matcher.data_health import (
    CSV_COLUMNS,
    FIELDS,
    WEIGHTS,
    DataHealth,
    data_health,
    format_text,
    to_csv,
)
from matcher.services import ServiceRecord

TODAY = dt.date(2026, 11, 1)


def _fact(field: str, value, quote: str, *, used: bool = False, conflict: bool = False,
          confidence: str = "certain", source: str = "description") -> dict:
    out = {"field": field, "value": value, "quote": quote, "source": source,
           "confidence": confidence, "used": used}
    if conflict:
        out["conflict"] = True
    return out


def _record(sid: str, name: str, **kw) -> ServiceRecord:
    """A complete record (nothing to fix) unless ``kw`` blanks or changes something."""
    base = dict(id=sid, name=name, description=f"{name}.", categories=["leisure"],
                organisation="Test Org", needs=["autism"], min_age=5, max_age=16,
                postcode="N7 8JN", latitude=51.55, longitude=-0.113, delivery=["in_person"],
                cost="free", audience=["children_young_people"], phone="020 7946 0001",
                email=f"{sid.lower()}@example.org", last_reviewed=dt.date(2026, 6, 1))
    base.update(kw)
    return ServiceRecord(**base)


#: Six active records and one inactive one, each showing one thing.
RECORDS = [
    _record("R-FULL", "Complete Club"),
    # Ages and audience filled from the words at import; no needs.
    _record("R-TEXT", "Teen Group", min_age=13, max_age=19, needs=[],
            description="A group for young people aged 13-19.",
            facts=[_fact("min_age", 13, "young people aged 13-19", used=True),
                   _fact("max_age", 19, "young people aged 13-19"),
                   _fact("audience", "children_young_people", "for young people", used=True),
                   _fact("needs", ["autism"], "autism", confidence="likely")]),
    # Nothing at all: no ages, needs, delivery, place, audience, cost, contact or date.
    _record("R-EMPTY", "Mystery Drop-in", organisation="Unknown Org", needs=[], min_age=None,
            max_age=None, postcode=None, latitude=None, longitude=None, delivery=[],
            cost=None, audience=[], phone="", email="", last_reviewed=None,
            needs_unrecognised=["wobbly"]),
    # The listing says 5 to 16; the words say 5 to 11 for sure.
    _record("R-CONFLICT", "Swim Club",
            description="Swimming for children aged 5 to 11.",
            facts=[_fact("min_age", 5, "children aged 5 to 11", conflict=True),
                   _fact("max_age", 11, "children aged 5 to 11")]),
    # Last checked over a year ago.
    _record("R-STALE", "Old Club", last_reviewed=dt.date(2024, 3, 3)),
    # Online: no place on a map is needed; only the youngest age is given.
    _record("R-ONLINE", "Online Chat", delivery=["online"], postcode=None, latitude=None,
            longitude=None, max_age=None),
    # Withdrawn from the feed: left out of everything but the counts.
    _record("R-GONE", "Closed Club", status="inactive", needs=[], min_age=None, max_age=None),
]


@pytest.fixture(scope="module")
def health() -> DataHealth:
    return data_health(RECORDS, today=TODAY)


# ------------------------------------------------------------------------------ library
def test_counts_per_field_split_structured_from_text_and_unknown(health):
    assert (health.records, health.active, health.inactive) == (7, 6, 1)
    assert [f.field for f in health.fields] == list(FIELDS)
    for f in health.fields:
        assert f.structured + f.from_text + f.unknown == 6, f.field
    ages = health.field_health("min_age")
    assert (ages.structured, ages.from_text, ages.unknown) == (4, 1, 1)
    top = health.field_health("max_age")  # R-ONLINE gives no oldest age
    assert (top.structured, top.from_text, top.unknown) == (3, 1, 2)
    needs = health.field_health("needs")  # a likely needs fact is not used: unknown
    assert (needs.structured, needs.from_text, needs.unknown) == (4, 0, 2)
    audience = health.field_health("audience")
    assert (audience.structured, audience.from_text, audience.unknown) == (4, 1, 1)
    place = health.field_health("location")
    assert (place.structured, place.unknown) == (4, 2)
    d = ages.to_dict()
    assert d["structured_share"] == round(4 / 6, 4) and d["from_text_share"] == round(1 / 6, 4)


def test_records_with_no_age_and_no_needs_leave_out_inactive_ones(health):
    assert health.no_age_no_needs == [{"id": "R-EMPTY", "name": "Mystery Drop-in",
                                       "organisation": "Unknown Org"}]


def test_a_conflict_gives_both_age_ranges_and_the_quote(health):
    (c,) = health.conflicts
    assert (c.id, c.name, c.field, c.structured, c.text, c.quote) == (
        "R-CONFLICT", "Swim Club", "ages", "5 to 16", "5 to 11", "children aged 5 to 11")
    assert c.sentence() == ('Ages: the listing says 5 to 16; the description says 5 to 11 '
                            '("children aged 5 to 11")')


def test_records_to_fix_are_ordered_by_a_transparent_score(health):
    order = [(r.id, r.score) for r in health.to_fix]
    assert [sid for sid, _ in order] == ["R-EMPTY", "R-TEXT", "R-CONFLICT", "R-ONLINE",
                                         "R-STALE"]
    w = WEIGHTS
    scores = dict(order)
    assert scores["R-EMPTY"] == (w["no_ages"] + w["no_needs"] + w["no_location"]
                                 + w["no_delivery"] + w["no_audience"] + w["no_cost"]
                                 + w["no_contact"] + w["stale"])
    assert scores["R-TEXT"] == w["no_needs"] + 2 * w["from_text"]
    assert scores["R-CONFLICT"] == w["conflict"]
    assert scores["R-ONLINE"] == w["one_age_bound"]
    assert scores["R-STALE"] == w["stale"]
    for r in health.to_fix:
        assert r.score == sum(i.points for i in r.items)
    # Complete and inactive records have nothing to fix here.
    assert {"R-FULL", "R-GONE"}.isdisjoint(scores)


def test_what_to_add_is_in_a_providers_words(health):
    empty = health.to_fix[0]
    assert empty.what_to_add[:2] == [
        "Say which ages the service is for (for example 5 to 11, or 0 to 25)",
        "Say which needs or conditions the service supports, for example autism, ADHD or "
        "hearing impairment (we did not recognise: wobbly)"]
    assert "Add the venue's postcode (or say the service has no venue)" in empty.what_to_add
    conflict = next(r for r in health.to_fix if r.id == "R-CONFLICT")
    assert conflict.what_to_add == ['Check the ages: your listing says 5 to 16 but your '
                                    'description says 5 to 11 ("children aged 5 to 11")']
    stale = next(r for r in health.to_fix if r.id == "R-STALE")
    assert stale.what_to_add == ["Check all the details are still right (last checked "
                                 "3 March 2024)"]
    online = next(r for r in health.to_fix if r.id == "R-ONLINE")
    assert online.what_to_add == ["Say the oldest age the service is for (you give 5 and over)"]
    text = next(r for r in health.to_fix if r.id == "R-TEXT")
    assert "Confirm the ages the service is for: we read it from your description" in \
        text.what_to_add


def test_a_postcode_not_found_on_a_map_is_named():
    (r,) = data_health([_record("R-PC", "Lost", latitude=None, longitude=None,
                                postcode="ZZ9 9ZZ")], today=TODAY).to_fix
    assert r.what_to_add == ["Check the venue's postcode: we could not find ZZ9 9ZZ on a map"]


def test_csv_has_one_row_per_record_to_fix_and_is_safe_in_a_spreadsheet(health):
    rows = list(csv.reader(io.StringIO(to_csv(health))))
    assert tuple(rows[0]) == CSV_COLUMNS == (
        "id", "name", "organisation", "email", "phone", "url", "priority_score",
        "what_to_add", "conflicts")
    assert [r[0] for r in rows[1:]] == [r.id for r in health.to_fix]
    conflict = next(r for r in rows if r[0] == "R-CONFLICT")
    assert conflict[6] == str(WEIGHTS["conflict"])
    assert conflict[7].startswith("1. Check the ages: your listing says 5 to 16")
    assert conflict[8] == ('Ages: the listing says 5 to 16; the description says 5 to 11 '
                           '("children aged 5 to 11")')
    assert len(list(csv.reader(io.StringIO(to_csv(health, top=2))))) == 3
    risky = data_health([_record("R-X", "=HYPERLINK(1)", max_age=None)], today=TODAY)
    assert list(csv.reader(io.StringIO(to_csv(risky))))[1][1] == "'=HYPERLINK(1)"


def test_text_and_json_summaries(health):
    text = format_text(health, top=2)
    assert text.startswith("Data health on 2026-11-01: 6 active records (1 inactive left out).")
    assert "1 record(s) give no age and no needs at all." in text
    assert "5 record(s) to fix; the first 2" in text
    assert "R-STALE" not in text.split("to fix;")[1]
    d = health.to_dict(top=1)
    assert d["to_fix_total"] == 5 and [r["id"] for r in d["to_fix"]] == ["R-EMPTY"]
    assert d["weights"] == WEIGHTS and json.loads(json.dumps(d)) == d
    assert format_text(data_health([], today=TODAY)).endswith("import a Local Offer first.")


# ------------------------------------------------------------------------------ CLI
CSV_TEXT = HEADER + "\n".join([
    'C-1,Swim Club,Org A,"Swimming for children aged 5 to 11.",leisure,autism,5,16,N7 8JN,,,'
    'in_person,free,,weekends,,,self,no,,,,a@example.org,2026-06-01',
    'C-2,Teen Group,Org B,"A group for young people aged 13-19.",leisure,,,,,,,,,,,,,,no,,,,,',
    'C-3,Mystery,Org C,"We help.",support_advice,,,,,,,,,,,,,,no,,,,,',
]) + "\n"


@pytest.fixture
def store_url(tmp_path: Path, postcode_index) -> str:
    from matcher.cli import main

    source = tmp_path / "services.csv"
    source.write_text(CSV_TEXT, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'health.sqlite'}"
    assert main(["import", str(source), "--database-url", url]) == 0
    return url


def test_cli_prints_json_and_writes_the_csv(store_url, tmp_path, capsys):
    from matcher.cli import main

    capsys.readouterr()
    out = tmp_path / "to_fix.csv"
    code = main(["data-health", "--database-url", store_url, "--json", "--csv", str(out),
                 "--top", "1", "--today", "2026-11-01"])
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert body["active"] == 3 and body["today"] == "2026-11-01"
    assert body["to_fix_total"] == 3 and [r["id"] for r in body["to_fix"]] == ["C-3"]
    assert body["no_age_no_needs"] == [{"id": "C-3", "name": "Mystery", "organisation": "Org C"}]
    ages = next(f for f in body["fields"] if f["field"] == "min_age")
    # C-1's words ("aged 5 to 11") narrow its listing's 5 to 16: its ages are the words'
    # (read from text), and the conflict still shows what the listing said.
    assert (ages["structured"], ages["from_text"], ages["unknown"]) == (0, 2, 1)
    (conflict,) = body["conflicts"]
    assert (conflict["id"], conflict["structured"], conflict["text"]) == ("C-1", "5 to 16",
                                                                          "5 to 11")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r[0] for r in rows[1:]] == ["C-3", "C-2", "C-1"]


def test_cli_prints_a_summary_and_refuses_bad_options(store_url, capsys):
    from matcher.cli import main

    capsys.readouterr()
    assert main(["data-health", "--database-url", store_url, "--top", "2"]) == 0
    text = capsys.readouterr().out
    assert "3 active records" in text and "the first 2" in text
    assert "Say which ages the service is for" in text
    for bad in (["--top", "0"], ["--today", "1 Nov"]):
        with pytest.raises(SystemExit) as exc:
            main(["data-health", "--database-url", store_url, *bad])
        assert exc.value.code == 2


# ------------------------------------------------------------------------------ API
@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index):
    from matcher.api import create_app
    from matcher.api.deps import ApiConfig
    from matcher.ingest import run_import
    from matcher.settings import Settings
    from matcher.store.users import add_user

    tmp = tmp_path_factory.mktemp("data-health-api")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'api.sqlite'}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))
    store = app.state.resources.store
    run_import(CSV_TEXT, store=store, progress=False)
    keys = {role: add_user(store.engine, role, role)
            for role in ("admin", "commissioner", "key_worker")}
    with TestClient(app) as client:
        yield client, keys


def test_api_serves_the_data_health_to_admins(api):
    client, keys = api
    r = client.get("/admin/data-health", headers={"X-API-Key": keys["admin"]},
                   params={"limit": 2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active"] == 3 and body["to_fix_total"] == 3 and len(body["to_fix"]) == 2
    assert body["to_fix"][0]["id"] == "C-3" and body["to_fix"][0]["what_to_add"]
    assert [f["field"] for f in body["fields"]] == list(FIELDS)
    assert body["conflicts"][0]["quote"] == "children aged 5 to 11"


@pytest.mark.parametrize("path", ["/admin/data-health", "/admin/data-health.csv"])
def test_api_data_health_is_for_admins_only(api, path):
    from matcher.api.security import UNAUTHORISED

    client, keys = api
    r = client.get(path)
    assert r.status_code == 401 and r.json()["detail"] == UNAUTHORISED
    for role in ("commissioner", "key_worker"):
        r = client.get(path, headers={"X-API-Key": keys[role]})
        assert r.status_code == 403
        assert r.json()["detail"] == "This needs the admin role."


def test_api_csv_for_providers(api):
    client, keys = api
    r = client.get("/admin/data-health.csv", headers={"X-API-Key": keys["admin"]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "data-health.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert tuple(rows[0]) == CSV_COLUMNS and [row[0] for row in rows[1:]] == ["C-3", "C-2",
                                                                              "C-1"]


def test_api_routes_have_stable_operation_ids(api):
    client, _ = api
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/admin/data-health"]["get"]["operationId"] == "data_health"
    assert paths["/admin/data-health.csv"]["get"]["operationId"] == "data_health_csv"


def test_a_listing_narrowed_by_the_words_still_shows_the_listings_ages():
    # At import, words stating ages inside the listing's broader band are believed; the
    # directory team still sees what the listing said, to correct it at the source.
    from matcher.ingest.reading import apply_reading

    record = apply_reading(_record("R-NARROW", "Art Club", min_age=4, max_age=16,
                                   description="An art club for children aged 7 to 10."))
    assert (record.min_age, record.max_age) == (7, 10)
    (c,) = data_health([record], today=TODAY).conflicts
    assert (c.structured, c.text, c.quote) == ("4 to 16", "7 to 10", "children aged 7 to 10")
