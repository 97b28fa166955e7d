"""Open Referral UK 3.0 import: the profile's own examples, hand-written fixtures (nested
locations, schedules, cost options, service areas, taxonomy attributes), the report, the
store, the CLI and paging through a live endpoint (httpx MockTransport, no network)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest

from matcher.cli import main
from matcher.errors import DataImportError
from matcher.ingest import (
    FeedReport,
    category_of_term,
    detect_format,
    fetch_feed,
    import_feed,
    read_feed,
    read_oruk,
    run_import,
    service_items,
    sniff_format,
)
from matcher.store import Store

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "oruk" / "pages"
PAGE1, PAGE2 = DATA / "page1.json", DATA / "page2.json"
SHARED = Path(__file__).resolve().parents[2] / "shared"
PROFILE = SHARED / "real-samples" / "oruk-uk-profile-schema"
TODAY = dt.date(2026, 1, 1)
RIVERSIDE = "oruk:aaaaaaaa-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def fixtures(postcode_index):
    """The two hand-written pages, read together (a folder of saved pages)."""
    records, report = read_oruk(DATA, today=TODAY)
    return {r.id: r for r in records}, report


def _profile(name: str) -> Path:
    path = PROFILE / name
    if not path.exists():
        pytest.skip(f"needs the ORUK profile examples in {PROFILE} (../shared beside the repo)")
    return path


# --------------------------------------------------------------------------- the profile's examples
def test_profile_full_example_maps_every_field(postcode_index):
    records, report = read_oruk(_profile("example_service_full.json"), today=TODAY)
    assert report.rows_read == 1 and report.accepted == [
        "oruk:ac148810-d857-441c-9679-408f346de14b"]
    r = records[0]
    assert (r.name, r.organisation) == ("Community Counselling", "Example Organization Inc.")
    assert (r.min_age, r.max_age) == (12, 25)          # 100 clamped to the Local Offer's 25
    assert r.categories == ["health"]                  # guessed from "Counselling Services"
    assert r.when == ["weekdays"]                      # byday TH,FR; 10:00-18:00 is not evening
    assert r.delivery == ["in_person", "online"]       # "in-person or remotely via video"
    assert r.cost == "paid"
    assert r.cost_details == "fees_description; Under 18s and Over 60s: £35 per 1 hour session"
    assert r.accessibility == ["wheelchair"]           # "Wheelchair access is possible..."
    assert r.last_reviewed == dt.date(2005, 1, 1)      # assured_date
    assert (r.url, r.email) == ("http://example.com/counselling", "email@example.com")
    # Its US address ("ABC 1234") and latitude 100 are not GB: left out, with warnings.
    assert (r.postcode, r.latitude, r.longitude) == (None, None, None)
    assert r.address == "MyCity Civic Center, 1-30 Main Street, MyCity"
    columns = {w.column for w in report.warnings}
    assert {"service_at_locations[0].location.addresses",
            "service_at_locations[0].location.latitude", "service_areas",
            "attributes", "categories"} <= columns
    assert report.unmapped_terms["taxonomy: name"] == 1


def test_profile_list_example_is_summary_only(postcode_index):
    records, report = read_oruk(_profile("example_service_list.json"), today=TODAY)
    assert [r.id for r in records] == ["oruk:ac148810-d857-441c-9679-408f346de14b"]
    assert records[0].min_age == 12 and records[0].categories == ["health"]
    assert any("only the summary fields" in w.problem for w in report.warnings)


# --------------------------------------------------------------------------- hand-written fixtures
def test_every_fixture_record_is_accounted_for(fixtures):
    records, report = fixtures
    assert report.rows_read == 12
    # Only a record with no id, no name or a repeated id is rejected; the rest are kept.
    assert len(report.accepted) == 10 and report.rejected == 2
    assert report.rejected_rows == [6, 8]
    assert len(records) + report.rejected == report.rows_read   # nothing vanishes
    reasons = {(p.row, p.column): p.problem for p in report.problems}
    assert reasons[(6, "id")] == "the service has no id"
    assert reasons[(8, "id")] == (f"id {RIVERSIDE} is already used by record 1 of this feed")
    warned = {(w.row, w.column): w.problem for w in report.warnings}
    assert warned[(4, "status")].startswith("the feed marks this service as 'defunct', so it is "
                                            "kept as inactive")
    assert warned[(9, "minimum_age")] == ("the minimum age 12 is above the maximum age 8, so "
                                          "both were left out")
    assert warned[(10, "categories")].startswith("no category could be worked out")
    statuses = {r.status for r in records.values()}
    assert statuses == {"active", "inactive"}
    adults = [r for r in records.values() if r.min_age == 30]
    assert len(adults) == 1 and adults[0].max_age is None     # kept; the engine decides
    assert any(r.categories == ["other"] for r in records.values())


def test_nested_locations_schedules_costs_areas_and_attributes(fixtures):
    records, report = fixtures
    r = records[RIVERSIDE]
    assert r.categories == ["leisure", "short_breaks"]
    assert r.needs_raw == "Autism;ADHD;Long Covid"
    assert r.needs == ["autism", "adhd"] and r.needs_unrecognised == ["Long Covid"]
    assert (r.min_age, r.max_age) == (8, 18)
    # First venue: postcode normalised and found; the feed's own coordinates kept.
    assert (r.postcode, r.latitude, r.longitude) == ("N7 8JN", 51.5503, -0.1137)
    assert r.address == "Riverside Sports Hall, 1 Example Road, London"
    assert r.accessibility == ["wheelchair"]
    # SA,SU -> weekends; WE 18:00 -> weekdays + evenings; "Term time only" -> term_time.
    assert r.when == ["weekdays", "evenings", "weekends", "term_time"]
    assert r.cost == "free_for_some"
    assert r.cost_details == "Under 5s; Per session: £4.5 per session"
    assert r.service_area == ["N7", "N19", "E8"]
    assert r.delivery == ["in_person"]
    assert r.languages == ["English", "Turkish"]
    assert (r.url, r.phone) == ("https://www.riverside-sports.example", "020 7946 0101")
    assert r.last_reviewed == dt.date(2025, 6, 1)
    assert r.source == "oruk"
    row1 = {w.problem for w in report.warnings if w.row == 1}
    assert "taxonomy term(s) not used for matching: Widgets and gadgets" in row1
    assert "needs word(s) not recognised: Long Covid" in row1
    assert "accessibility not understood: Hearing loop" in row1
    assert any(p.startswith("the service has 2 venues") for p in row1)
    assert report.unmapped_terms == {
        "accessibility: Hearing loop": 1, "needs: Long Covid": 1, "taxonomy: Widgets": 1,
        "taxonomy: Widgets and gadgets": 1}


def test_virtual_location_national_area_and_evening_text(fixtures):
    r = fixtures[0]["oruk:aaaaaaaa-0000-4000-8000-000000000002"]
    assert r.delivery == ["online"] and r.service_area == ["national"]
    assert r.when == ["weekdays", "evenings"]         # "Weekday evenings, 7pm to 8.30pm"
    assert (r.cost, r.needs, r.categories) == ("free", ["all_send"], ["support_advice"])
    assert r.postcode is None and r.latitude is None


def test_coordinates_without_postcode_are_kept(fixtures):
    r = fixtures[0]["oruk:aaaaaaaa-0000-4000-8000-000000000003"]
    assert (r.postcode, r.latitude, r.longitude) == (None, 51.5621, -0.0782)
    assert r.delivery == ["in_person"] and r.address == "Clissold Park bandstand"
    assert (r.cost, r.cost_details) == ("free", "Free, no need to book")
    assert (r.min_age, r.max_age) == (5, 25)


def test_missing_description_falls_back_with_a_warning(fixtures, postcode_index):
    records, report = fixtures
    r = records["oruk:aaaaaaaa-0000-4000-8000-000000000005"]
    assert r.description == "Northside Youth Club. Listed under: Youth clubs."
    assert any(w.row == 5 and w.column == "description" for w in report.warnings)
    _, strict = read_oruk(PAGE2, today=TODAY, missing_description="reject")
    assert any(p.row == 1 and p.problem == "the service has no description"
               for p in strict.problems)


def test_unknown_postcode_is_a_warning_and_legacy_fields_are_read(fixtures):
    records, report = fixtures
    lost = records["oruk:aaaaaaaa-0000-4000-8000-000000000009"]
    assert lost.postcode is None and lost.delivery == ["in_person"]
    assert any(w.row == 11 and "ZZ9 9ZZ is not in the Ordnance Survey list" in w.problem
               for w in report.warnings)
    legacy = records["oruk:legacy-10"]
    assert (legacy.min_age, legacy.max_age) == (4, 12)           # eligibilitys
    assert legacy.categories == ["leisure"]                      # service_taxonomys
    assert legacy.needs == ["physical_disability"]
    assert legacy.when == ["weekends"]                           # regular_schedules Saturday
    assert legacy.postcode == "N16 0AS" and legacy.latitude == pytest.approx(51.562063)


def test_report_reads_as_a_feed_report(fixtures):
    _, report = fixtures
    assert isinstance(report, FeedReport)
    d = report.to_dict()
    assert d["format"] == "oruk" and d["accepted"] == 10 and d["rejected"] == 2
    assert d["rejected_rows"] == [6, 8]
    assert d["row_numbering"].startswith("Records are numbered in feed order")
    text = report.format_text()
    assert text.splitlines()[0] == f"{DATA} (oruk): 12 services read, 10 accepted, 2 rejected."
    assert "Terms the matcher could not use" in text


def test_id_prefix_is_configurable(postcode_index):
    records, _ = read_oruk(PAGE1, today=TODAY, id_prefix="hackney")
    assert records[0].id == "hackney:aaaaaaaa-0000-4000-8000-000000000001"
    records, _ = read_oruk(PAGE1, today=TODAY, id_prefix="")
    assert records[0].id == "aaaaaaaa-0000-4000-8000-000000000001"
    with pytest.raises(DataImportError, match="may only use letters"):
        read_oruk(PAGE1, id_prefix="bad prefix")


# --------------------------------------------------------------------------- shapes and formats
def test_shapes_single_list_page_and_list_of_pages():
    page1 = json.loads(PAGE1.read_text(encoding="utf-8"))
    page2 = json.loads(PAGE2.read_text(encoding="utf-8"))
    one = page1["contents"][0]
    assert service_items(one) == [one]
    assert service_items([one, one]) == [one, one]
    assert len(service_items(page1)) == 4
    assert len(service_items([page1, page2])) == 12


def test_detect_and_sniff_formats():
    page1 = json.loads(PAGE1.read_text(encoding="utf-8"))
    assert detect_format(page1) == "oruk"
    assert detect_format({"content": [{"id": 1, "name": "x", "send_needs": [],
                                       "locations": []}]}) == "outpost"
    assert detect_format({"hello": "world"}) is None
    assert sniff_format(PAGE1) == "json" and sniff_format(DATA) == "json"
    assert sniff_format(HERE / "data" / "services_sample.csv") == "csv"
    assert sniff_format("id,name\n1,x\n") == "csv"
    assert sniff_format(b'  [{"id": 1}]') == "json"


def test_unknown_shape_and_bad_json():
    records, report = read_feed({"hello": "world"})
    assert records == [] and report.fatal
    assert report.problems[0].problem.startswith("this JSON is neither an Open Referral UK")
    with pytest.raises(DataImportError, match=r"is not valid JSON \(.* line 1, column"):
        read_feed('{"contents": [')
    with pytest.raises(DataImportError, match="There is no file"):
        read_feed(DATA / "missing.json")


def test_items_that_are_not_objects_are_reported(postcode_index):
    records, report = read_oruk([{"id": "1", "name": "Swim club", "description": "Swimming.",
                                  "attributes": []}, "oops"], today=TODAY)
    assert [r.id for r in records] == ["oruk:1"]
    assert report.rejected_rows == [2]
    assert report.problems[0].problem == "this record is not a JSON object"


def test_a_rejected_record_never_takes_its_id(postcode_index, tmp_path: Path):
    # Record 1 has no name (rejected); records 2 and 3 repeat its id: record 2 is imported
    # (no imported record has the id yet), record 3 is the repeated copy.
    feed = [{"id": "7", "name": "", "description": "Swimming."},
            {"id": "7", "name": "Swim club", "description": "Swimming for all ages."},
            {"id": "7", "name": "Swim club again", "description": "Swimming."},
            {"id": "8", "name": "Drama group", "description": "Acting."}]
    records, report = read_oruk(feed, today=TODAY)
    assert [(r.id, r.name) for r in records] == [("oruk:7", "Swim club"),
                                                 ("oruk:8", "Drama group")]
    assert report.accepted == ["oruk:7", "oruk:8"] and report.rejected_rows == [1, 3]
    reasons = {(p.row, p.column): p.problem for p in report.problems}
    assert reasons[(3, "id")] == "id oruk:7 is already used by record 2 of this feed"
    assert (1, "id") not in reasons and (1, "name") in reasons
    # and the store holds the good copy
    url = f"sqlite:///{tmp_path / 'd.sqlite'}"
    summary = import_feed(feed, fmt="oruk", database_url=url, today=TODAY)
    assert (summary.added, summary.rejected) == (2, 2)
    with Store.open(url) as store:
        assert store.get_service("oruk:7").name == "Swim club"


def test_category_keyword_table():
    table = {
        "Clubs and groups": "leisure", "Primary schools": "education",
        "Family Centres": "support_advice", "Short breaks": "short_breaks",
        "Mental and emotional health": "health", "Adoption and Fostering": "social_care",
        "Travel training": "travel", "Supported internships": "training_employment",
        "Assessment and diagnosis": "assessment", "Preparing for adulthood": "transition",
        "Leisure activites": "leisure",   # misspelt: rapidfuzz against the labels
    }
    assert {t: category_of_term(t) for t in table} == table
    assert category_of_term("Widgets") is None


# --------------------------------------------------------------------------- the store and the CLI
@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'directory.sqlite'}"


def test_import_and_reimport_update_in_place(db_url, postcode_index):
    first = import_feed(PAGE1, database_url=db_url, today=TODAY)
    assert (first.added, first.updated, first.unchanged, first.rejected) == (4, 0, 0, 0)
    again = import_feed(PAGE1, database_url=db_url, today=TODAY)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 4)
    doc = json.loads(PAGE1.read_text(encoding="utf-8"))
    doc["contents"][0]["maximum_age"] = 16
    changed = import_feed(doc, database_url=db_url, today=TODAY)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 3)
    with Store.open(db_url) as store:
        assert store.get_service(RIVERSIDE).max_age == 16
        assert store.count_services() == 4


def test_feeds_and_csv_live_in_one_directory(db_url, postcode_index):
    import_feed(PAGE1, database_url=db_url, today=TODAY)
    import_feed(PAGE1, database_url=db_url, today=TODAY, id_prefix="copy")
    run_import(HERE / "data" / "services_sample.csv", database_url=db_url, today=TODAY)
    with Store.open(db_url) as store:
        ids = {r.id for r in store.list_services()}
    assert RIVERSIDE in ids and "copy:aaaaaaaa-0000-4000-8000-000000000001" in ids
    assert any(":" not in i for i in ids)


def test_strict_and_fatal_imports_write_nothing(db_url, postcode_index):
    with pytest.raises(DataImportError, match="strict mode") as err:
        import_feed(DATA, database_url=db_url, today=TODAY, strict=True)
    assert err.value.report.rejected == 2
    with pytest.raises(DataImportError, match="cannot be imported"):
        import_feed({"hello": "world"}, database_url=db_url)
    with Store.open(db_url) as store:
        assert store.count_services() == 0


def test_run_import_dispatches_by_format(db_url, postcode_index):
    summary = run_import(PAGE1, database_url=db_url, fmt="oruk", today=TODAY)
    assert summary.added == 4 and summary.report.format == "oruk"
    summary = run_import(HERE / "data" / "services_sample.csv", database_url=db_url,
                         fmt="auto", today=TODAY)
    assert summary.report is not None and not isinstance(summary.report, FeedReport)


def test_cli_import_detects_json_and_takes_format(db_url, capsys, postcode_index):
    assert main(["import", str(PAGE1), "--database-url", db_url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["added"], out["rejected"], out["imported"]) == (4, 0, True)
    assert any(w["problem"].startswith("the feed marks this service as 'defunct'")
               for w in out["warnings"])
    assert main(["import", str(PAGE1), "--format", "oruk", "--database-url", db_url]) == 0
    assert "0 added, 0 updated, 4 unchanged, 0 rejected" in capsys.readouterr().out
    assert main(["import", str(DATA), "--strict", "--database-url", db_url]) == 1
    err = capsys.readouterr().err
    assert "Records are numbered in feed order" in err and "strict mode" in err
    assert main(["import", "--database-url", db_url]) == 2
    assert "Give the file to import, or --url" in capsys.readouterr().err


# --------------------------------------------------------------------------- a live endpoint (mocked)
def _mock_feed(pages: list[dict], details: dict[str, dict] | None = None,
               seen: list[str] | None = None) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        path = request.url.path
        if path == "/api/services":
            n = int(request.url.params.get("page", "1"))
            return httpx.Response(200, json=pages[min(n, len(pages)) - 1])
        if details is not None and path.startswith("/api/services/"):
            found = details.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=found) if found else httpx.Response(404)
        return httpx.Response(404, json={"detail": "Not Found"})

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_fetch_pages_until_the_last_page():
    pages = [json.loads(p.read_text(encoding="utf-8")) for p in (PAGE1, PAGE2)]
    seen: list[str] = []
    with _mock_feed(pages, seen=seen) as client:
        items = fetch_feed("https://feed.example/api", client=client, per_page=4)
    assert len(items) == 12
    assert seen == ["https://feed.example/api/services?page=1&per_page=4",
                    "https://feed.example/api/services?page=2&per_page=4"]


def test_fetch_stops_when_the_server_ignores_page():
    page = json.loads(PAGE1.read_text(encoding="utf-8"))
    page = {k: v for k, v in page.items() if k not in ("last_page", "total_pages")}
    seen: list[str] = []
    with _mock_feed([page], seen=seen) as client:
        items = fetch_feed("https://feed.example/api/services", client=client, max_pages=50)
    assert len(items) == 4 and len(seen) == 2


def test_fetch_gets_full_records_for_summary_pages(db_url, postcode_index):
    full = json.loads(PAGE1.read_text(encoding="utf-8"))["contents"]
    summary_page = {"total_items": 4, "total_pages": 1, "page_number": 1, "size": 4,
                    "first_page": True, "last_page": True, "empty": False,
                    "contents": [{k: s[k] for k in ("id", "name", "status") if k in s}
                                 for s in full]}
    with _mock_feed([summary_page], details={s["id"]: s for s in full}) as client:
        result = import_feed(url="https://feed.example/api/services", client=client,
                             database_url=db_url, today=TODAY)
    assert (result.added, result.rejected) == (4, 0)
    assert result.source == "https://feed.example/api/services"
    with Store.open(db_url) as store:
        assert store.get_service(RIVERSIDE).postcode == "N7 8JN"


def test_fetch_errors_are_plain_english():
    with _mock_feed([]) as client, pytest.raises(DataImportError,
                                                 match="answered 404 Not Found"):
        fetch_feed("https://feed.example/other", client=client)
    with pytest.raises(DataImportError, match="is not a web address"):
        fetch_feed("feed.example/api")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client, pytest.raises(
            DataImportError, match="Could not reach"):
        fetch_feed("https://feed.example/api", client=client)


def test_public_surface():
    import matcher.ingest as ingest
    import matcher.ingest.oruk3 as oruk3
    import matcher.ingest.outpost as outpost
    import matcher.oruk.export as export

    for module in (ingest, export, oruk3, outpost):
        assert module.__all__ and all(hasattr(module, name) for name in module.__all__)
    assert {"read_oruk", "read_outpost", "import_feed", "fetch_feed"} <= set(ingest.__all__)
