"""The ORUK 3.0 feed: every route and filter of the UK profile under /oruk/, and the port of
the dashboard's feed tests (five searches built from sampled services' own fields, paging on
the first, middle and last page, every answer validated against the profile's schemas) run on
the demo directory and on North Lincolnshire's real ORUK v1 feed after import. The schemas and
the real feed are read from ../shared; tests needing them skip, saying why, when absent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.ingest import read_feed, read_service_csv
from matcher.oruk.conformance import SEARCHES, ProfileSchemas, check_feed, getter_for
from matcher.oruk.export import oruk_id, service_to_oruk, taxonomy_id
from matcher.oruk.feed import FeedIndex, FeedQueryError, feed_index, parse_query
from matcher.oruk.routes import get_oruk_records, oruk_router

pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMA_DIR = SHARED / "real-samples" / "oruk-uk-profile-schema"
NORTH_LINCS = SHARED / "real-samples" / "north-lincs-oruk-v1" / "services.json"
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def schemas() -> ProfileSchemas:
    if not (SCHEMA_DIR / "service.json").exists():
        pytest.skip(f"needs the ORUK profile schemas in {SCHEMA_DIR} (../shared beside the repo)")
    return ProfileSchemas(SCHEMA_DIR)


@pytest.fixture(scope="module")
def demo(postcode_index):
    records, report = read_service_csv(DEMO, today=TODAY)
    assert report.rejected == 0
    return records


def _client(records) -> TestClient:
    app = FastAPI()
    app.include_router(oruk_router)
    app.dependency_overrides[get_oruk_records] = lambda: records
    return TestClient(app)


@pytest.fixture(scope="module")
def client(demo):
    with _client(demo) as c:
        yield c


def _all(client, path="/oruk/services", **params) -> list[dict]:
    body = client.get(path, params={**params, "per_page": 500})
    assert body.status_code == 200, body.text
    assert body.json()["total_pages"] <= 1
    return body.json()["contents"]


def _ids(records) -> list[str]:
    return [oruk_id(r.id) for r in records]


# --------------------------------------------------------------------------- routes
def test_root_gives_version_and_openapi_of_the_oruk_routes(client, schemas):
    r = client.get("/oruk/")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    body = r.json()
    assert body["version"] == "3.0" and schemas.errors("root", body) == []
    doc = client.get(body["openapi_url"]).json()
    assert set(doc["paths"]) >= {"/oruk/services", "/oruk/services/{service_id}",
                                 "/oruk/service_at_locations", "/oruk/taxonomies",
                                 "/oruk/taxonomy_terms", "/oruk/taxonomy_terms/{term_id}"}
    names = {p["name"] for p in doc["paths"]["/oruk/services"]["get"]["parameters"]}
    profile = json.loads((SCHEMA_DIR / "openapi.json").read_text("utf-8"))
    wanted = {p["$ref"].rsplit("/", 1)[-1] for path in ("/services", "/service_at_locations")
              for p in profile["paths"][path]["get"]["parameters"]}
    assert wanted <= names, wanted - names


def test_taxonomies_and_terms(client, schemas, demo):
    taxonomies = client.get("/oruk/taxonomies").json()
    assert schemas.errors("/taxonomies", taxonomies) == []
    names = [t["name"] for t in taxonomies["contents"]]
    assert "send-matcher:categories" in names and "send-matcher:needs" in names
    one = client.get(f"/oruk/taxonomies/{taxonomy_id('categories')}").json()
    assert one["name"] == "send-matcher:categories"
    terms = _all(client, "/oruk/taxonomy_terms")
    assert terms and all(schemas.errors("taxonomy_term", t) == [] for t in terms)
    assert len({t["id"] for t in terms}) == len(terms)
    # Every term a service carries is listed, and each listed id can be fetched.
    carried = {a["taxonomy_term_id"] for r in demo for a in service_to_oruk(r)["attributes"]}
    assert carried <= {t["id"] for t in terms}
    short = next(t for t in terms if t["term"] == "short_breaks")
    assert client.get(f"/oruk/taxonomy_terms/{short['id']}").json() == short
    assert client.get("/oruk/taxonomy_terms/nope").status_code == 404
    assert client.get("/oruk/taxonomies/nope").status_code == 404


def test_service_at_locations_list_and_detail(client, schemas, demo):
    body = client.get("/oruk/service_at_locations", params={"per_page": 500}).json()
    assert schemas.errors("/service_at_locations", body) == []
    expected = sum(bool(r.postcode or r.latitude is not None or r.address) for r in demo) + sum(
        "online" in r.delivery for r in demo)
    assert body["total_items"] == expected
    first = body["contents"][0]
    full = client.get(f"/oruk/service_at_locations/{first['id']}").json()
    assert full["id"] == first["id"] and full["service"]["id"] == first["service_id"]
    assert schemas.errors("service_at_location", full) == []
    assert schemas.errors("service", full["service"]) == []
    assert full["location"]["id"] == first["location_id"]
    assert client.get("/oruk/service_at_locations/nope").status_code == 404


# --------------------------------------------------------------------------- filters
def test_ages_overlap_the_range_asked_for(client, demo):
    got = _ids_of(_all(client, minimum_age=5, maximum_age=7))
    lo = [0 if r.min_age is None else r.min_age for r in demo]
    hi = [25 if r.max_age is None else r.max_age for r in demo]
    want = [oruk_id(r.id) for r, a, b in zip(demo, lo, hi, strict=True) if a <= 7 and b >= 5]
    assert got == want and 0 < len(want) < len(demo)
    # A service for 16-25 is not offered to someone of 5 to 7; one for 0-25 is.
    assert not any(r.min_age == 16 and oruk_id(r.id) in got for r in demo)
    assert _ids_of(_all(client, age=6)) == [oruk_id(r.id) for r, a, b in zip(
        demo, lo, hi, strict=True) if a <= 6 <= b]


def _ids_of(items) -> list[str]:
    return [i["id"] for i in items]


def test_day_and_times(client, demo):
    saturday = _ids_of(_all(client, day="SA"))
    assert saturday == [oruk_id(r.id) for r in demo if "weekends" in r.when]
    assert _ids_of(_all(client, day="saturday")) == saturday      # the day's name works too
    monday = _ids_of(_all(client, day="mo"))
    assert monday == [oruk_id(r.id) for r in demo if "weekdays" in r.when]
    assert set(monday) != set(saturday)
    # The directory holds days, not opening hours: no service is known to open at 09:00.
    assert _all(client, day="MO", start_time="09:00") == []


def test_times_are_compared_where_schedules_state_them(demo):
    index = FeedIndex.build(demo[:4])
    index.days[:] = True
    index.opens[:] = np.array([9 * 60, 13 * 60, 17 * 60, np.nan])[:, None]
    index.closes[:] = np.array([12 * 60, 15 * 60, 19 * 60, np.nan])[:, None]
    q = parse_query({"day": "WE", "start_time": "12:30"})
    assert index.services(q).tolist() == [1, 2]
    q = parse_query({"start_time": "08:00", "end_time": "15:00"})
    assert index.services(q).tolist() == [0, 1]
    assert index.services(parse_query({"end_time": "18:00:00"})).tolist() == [0, 1]


def test_taxonomy_term_and_taxonomy(client, demo):
    by_value = _ids_of(_all(client, taxonomy_term_id="short_breaks"))
    assert by_value == [oruk_id(r.id) for r in demo if "short_breaks" in r.categories]
    term = next(a for a in service_to_oruk(next(r for r in demo if "short_breaks" in
                                                 r.categories))["attributes"]
                if a["taxonomy_term"]["term"] == "short_breaks")
    assert _ids_of(_all(client, taxonomy_term_id=term["taxonomy_term_id"])) == by_value
    with_ehcp = _ids_of(_all(client, taxonomy_id=taxonomy_id("ehcp_required")))
    assert with_ehcp == [oruk_id(r.id) for r in demo if r.ehcp_required]
    assert _ids_of(_all(client, taxonomy_id="send-matcher:ehcp_required")) == with_ehcp
    assert _all(client, taxonomy_term_id="no-such-term") == []


def test_search_needs_every_word_to_start_a_word(client, demo):
    import re

    def words(r):
        return re.findall(r"[^\W_]+", f"{r.name} {r.organisation} {r.description}".lower()
                          .replace("'", "").replace("\u2019", ""))

    got = _ids_of(_all(client, search="Swimming LESSONS"))
    want = [oruk_id(r.id) for r in demo if all(any(w.startswith(asked) for w in words(r))
                                               for asked in ("swimming", "lessons"))]
    assert got == want and got
    assert len(_all(client, search="swimming")) > len(got)
    # A word's start finds it; its middle does not.
    assert set(got) <= set(_ids_of(_all(client, search="swim less")))
    assert _all(client, search="wimming") == []
    # Apostrophes and punctuation do not matter.
    assert _ids_of(_all(client, search="childrens")) == _ids_of(
        _all(client, search="children's")) != []
    assert _ids_of(_all(client, search="after-school")) == _ids_of(
        _all(client, search="after school"))


def test_postcode_with_proximity_and_alone(client, demo, postcode_index):
    from matcher.geo.distance import haversine_km

    venue = next(r for r in demo if r.postcode and r.latitude is not None)
    centre = postcode_index.lookup(venue.postcode)
    near = _ids_of(_all(client, postcode=venue.postcode, proximity=1000))
    metres = haversine_km(centre.latitude, centre.longitude,
                          np.array([np.nan if r.latitude is None else r.latitude for r in demo]),
                          np.array([np.nan if r.longitude is None else r.longitude
                                    for r in demo])) * 1000
    assert near == [oruk_id(r.id) for r, m in zip(demo, metres, strict=True) if m <= 1000]
    assert oruk_id(venue.id) in near
    wider = _all(client, postcode=venue.postcode.lower().replace(" ", ""), proximity=5000)
    assert len(wider) > len(near)
    # Postcode alone: the services whose area covers it, or that state no area.
    covered = _ids_of(_all(client, postcode="N7 8JN"))
    assert covered == [oruk_id(r.id) for r in demo if not r.service_area or "national" in
                       r.service_area or "N7" in r.service_area]
    far = _ids_of(_all(client, postcode="LS6 1AA"))
    assert set(far) < set(covered)
    sal = client.get("/oruk/service_at_locations",
                     params={"postcode": venue.postcode, "proximity": 1000, "per_page": 500})
    assert {c["service_id"] for c in sal.json()["contents"]} == set(near)
    assert all(c["location"]["location_type"] != "virtual" for c in sal.json()["contents"])


def test_bad_values_are_a_400_listing_every_problem(client):
    r = client.get("/oruk/services", params={"minimum_age": "ten", "day": "Funday",
                                             "start_time": "25:00", "proximity": "500",
                                             "per_page": "9999"})
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == "*"
    problems = {p["field"]: p["message"] for p in r.json()["detail"]}
    assert set(problems) == {"minimum_age", "day", "start_time", "proximity", "per_page"}
    assert "Funday" in problems["day"] and "HH:MM" in problems["start_time"]
    assert "postcode" in problems["proximity"]
    r = client.get("/oruk/services", params={"minimum_age": 12, "maximum_age": 5})
    assert r.status_code == 400 and "swap" in r.json()["detail"][0]["message"]
    r = client.get("/oruk/services", params={"postcode": "not a postcode", "proximity": 100})
    assert r.status_code == 400 and r.json()["detail"][0]["field"] == "postcode"
    assert client.get("/oruk/taxonomies", params={"page": 0}).status_code == 400
    assert client.get("/oruk/service_at_locations", params={"day": "x"}).status_code == 400


def test_unknown_parameters_are_ignored(client):
    plain = client.get("/oruk/services").json()
    assert client.get("/oruk/services", params={"vocabulary": "esdServiceTypes",
                                                "colour": "blue"}).json() == plain


def test_parse_query_reads_every_profile_parameter():
    q = parse_query({"search": " Youth  Club ", "minimum_age": "4", "maximum_age": "11.5",
                     "taxonomy_term_id": "t", "taxonomy_id": "x", "day": "Tue",
                     "start_time": "09:00:00", "end_time": "17:30", "postcode": "n7 8jn",
                     "proximity": "1500", "page": "2", "per_page": "10", "full": "TRUE"})
    assert (q.search, q.minimum_age, q.maximum_age, q.day, q.start_time, q.end_time) == (
        ("youth", "club"), 4, 11.5, "TU", 540, 1050)
    assert (q.postcode, q.proximity, q.page, q.per_page, q.full) == ("n7 8jn", 1500, 2, 10, True)
    with pytest.raises(FeedQueryError) as caught:
        parse_query({"full": "maybe", "end_time": "noon", "age": "-1",
                     "taxonomy_term_id": "x" * 201})
    assert [p["field"] for p in caught.value.problems] == ["age", "end_time",
                                                           "taxonomy_term_id", "full"]


def test_the_index_is_built_once_per_directory_version(demo):
    assert feed_index(demo) is feed_index(demo)
    assert feed_index(list(demo)) is not feed_index(demo)


# --------------------------------------------------------------------------- conformance
def _locator(postcode_index):
    def locate(postcode: str):
        try:
            loc = postcode_index.lookup(postcode)
        except ValueError:
            return None
        return loc.latitude, loc.longitude
    return locate


def test_feed_tests_pass_on_the_demo_directory(client, schemas, postcode_index):
    report = check_feed(getter_for(client, "http://testserver/oruk"), sample=50, seed=7,
                        schemas=schemas, locate=_locator(postcode_index))
    print("\n" + " | ".join(f"{k}: {v}" for k, v in report.row().items()))
    assert report.problems() == []
    for name in SEARCHES:
        s = report.searches[name]
        assert s.ok and s.tried >= 50 and s.passed == s.tried, (name, s)
    assert report.searches["Time"].note.startswith("day only")
    assert report.paging["/services"] == ["first", "middle", "last"]
    assert report.schema_errors == [] and report.documents_checked > 300   # 737 with seed 7
    assert report.ok


def test_feed_tests_catch_a_feed_that_ignores_a_filter(demo, schemas, monkeypatch):
    real = FeedIndex._service_mask

    def ignore_taxonomy(self, q):
        return real(self, dataclasses.replace(q, taxonomy_term_id=None, taxonomy_id=None))

    monkeypatch.setattr(FeedIndex, "_service_mask", ignore_taxonomy)
    with _client(demo) as c:
        report = check_feed(getter_for(c, "http://testserver/oruk"), sample=5, seed=1,
                            schemas=schemas)
    assert not report.searches["Taxonomy"].ok and not report.searches["Taxonomy"].honoured
    assert report.searches["Text"].ok and not report.ok


def test_feed_tests_catch_wrong_paging_and_schema_errors(demo, schemas, monkeypatch):
    import matcher.oruk.routes as routes

    real = routes.page_of

    def off_by_one(contents, page, size, total):
        out = real(contents, page, size, total)
        if out["contents"] and "status" in out["contents"][0]:
            out["contents"][0] = {**out["contents"][0], "status": "open"}
        return {**out, "last_page": False}

    monkeypatch.setattr(routes, "page_of", off_by_one)
    with _client(demo) as c:
        report = check_feed(getter_for(c, "http://testserver/oruk"), sample=2, seed=1,
                            schemas=schemas)
    assert any("last page" in e for e in report.paging_errors)
    assert any("'open' is not one of" in e for e in report.schema_errors)


@pytest.mark.skipif(not NORTH_LINCS.exists(),
                    reason=f"the real North Lincolnshire sample is not at {NORTH_LINCS} "
                           f"(../shared is absent)")
def test_north_lincolnshire_v1_feed_is_published_as_valid_3_0(schemas, postcode_index):
    raw = json.loads(NORTH_LINCS.read_text(encoding="utf-8"))
    records, report = read_feed(raw, today=dt.date(2026, 12, 7))
    assert report.format == "oruk1" and len(records) >= 700
    for r in records:
        assert schemas.errors("service", service_to_oruk(r)) == [], r.id
    with _client(records) as c:
        feed = check_feed(getter_for(c, "http://testserver/oruk"), sample=50, seed=3,
                          schemas=schemas, locate=_locator(postcode_index))
    print("\n" + " | ".join(f"{k}: {v}" for k, v in feed.row().items()))
    assert feed.schema_errors == [] and feed.paging_errors == []
    assert feed.services == len(records)
    for name in SEARCHES:
        s = feed.searches[name]
        # The v1 feed states no venues: the postcode search cannot run, as on the dashboard.
        assert s.passed == s.tried and s.honoured, (name, s.failures[:3])
        if s.eligible:
            assert s.tried == min(50, s.eligible)
    assert feed.searches["Text"].tried == 50 and feed.searches["Taxonomy"].tried == 50
    assert not feed.searches["Postcode"].ran


def test_ids_are_the_uuid5_they_always_were():
    import uuid

    from matcher.oruk.export import ORUK_NAMESPACE, _uuid

    for parts in (("service", "ISL-001"), ("term", "send-matcher:needs", "autism"),
                  ("x", "é ü ß", "3"), ("",)):
        assert _uuid(*parts) == str(uuid.uuid5(ORUK_NAMESPACE, "/".join(parts)))


def test_an_empty_directory_publishes_empty_pages():
    with _client([]) as c:
        for path in ("/oruk/services", "/oruk/service_at_locations"):
            for params in ({}, {"search": "club", "day": "MO", "taxonomy_id": "x"}):
                body = c.get(path, params=params).json()
                assert (body["total_items"], body["empty"], body["contents"]) == (0, True, [])
        assert c.get("/oruk/taxonomy_terms").json()["total_items"] > 0   # the vocabularies
