"""Publishing the directory as Open Referral UK 3.0: every demo service validates against the
profile's service.json, pages against its Page + service_list.json, the router on a tiny app,
and the round trip (export -> import gives the same records and the same match results)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import math
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.ingest import OUR_TAXONOMY, fetch_feed, read_oruk, read_service_csv
from matcher.oruk.export import (
    oruk_id,
    service_list_item,
    service_to_oruk,
    services_page,
)
from matcher.oruk.routes import get_oruk_records, oruk_router
from matcher.services import ServiceRecord, records_to_frame

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")
referencing = pytest.importorskip("referencing", reason="installed with jsonschema")

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SCHEMA_DIR = SHARED / "real-samples" / "oruk-uk-profile-schema"
DEV = SHARED / "eval" / "dev"
TODAY = dt.date.today()   # the demo is reviewed up to "now"; no future dates
_COMPARED = [f.name for f in dataclasses.fields(ServiceRecord) if f.name not in ("id", "source")]


# --------------------------------------------------------------------------- schemas
class Schemas:
    """Validators for the profile's service.json, service_list.json and the paged answer."""

    def __init__(self, folder: Path):
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        def load(name: str) -> dict:
            return json.loads((folder / name).read_text(encoding="utf-8"))

        service, service_list, openapi = (load("service.json"), load("service_list.json"),
                                          load("openapi.json"))
        # The OpenAPI document names both schemas by their published URLs; resolve those
        # $refs to the local copies (the compiled files carry no $schema: they are 2020-12).
        list_schema = openapi["paths"]["/services"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        list_url = list_schema["properties"]["contents"]["items"]["$ref"]
        full_url = openapi["paths"]["/services/{id}"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]["$ref"]
        registry = Registry().with_resources([
            (list_url, Resource.from_contents(service_list, default_specification=DRAFT202012)),
            (full_url, Resource.from_contents(service, default_specification=DRAFT202012)),
        ])
        page = openapi["components"]["schemas"]["Page"]

        def page_schema(item_url: str) -> dict:
            return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [page], "required": [*page["properties"], "contents"],
                    "properties": {"contents": {"type": "array", "items": {"$ref": item_url}}}}

        fc = Draft202012Validator.FORMAT_CHECKER
        self.service = Draft202012Validator(service, format_checker=fc)
        self.list_item = Draft202012Validator(service_list, format_checker=fc)
        self.page = Draft202012Validator(page_schema(list_url), registry=registry,
                                         format_checker=fc)
        self.full_page = Draft202012Validator(page_schema(full_url), registry=registry,
                                              format_checker=fc)

    @staticmethod
    def errors(validator, doc) -> list[str]:
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    if not (SCHEMA_DIR / "service.json").exists():
        pytest.skip(f"needs the ORUK profile schemas in {SCHEMA_DIR} (../shared beside the repo)")
    return Schemas(SCHEMA_DIR)


@pytest.fixture(scope="module")
def demo(postcode_index) -> list[ServiceRecord]:
    records, report = read_service_csv(DEMO, today=TODAY)
    assert report.rejected == 0 and len(records) == 271
    return records


# --------------------------------------------------------------------------- validation
def test_the_validator_catches_bad_documents(schemas, demo):
    """The checks below can fail: ids must be UUIDs, status is required and enumerated."""
    doc = service_to_oruk(demo[0])
    assert Schemas.errors(schemas.service, doc) == []
    broken = {**doc, "id": "ISL-001", "status": "open"}
    errors = Schemas.errors(schemas.service, broken)
    assert any("is not a 'uuid'" in e for e in errors) and any("'open'" in e for e in errors)
    page = services_page(demo[:2], 1, 2, 10)
    page["contents"][1] = {k: v for k, v in page["contents"][1].items() if k != "status"}
    assert any("'status' is a required property" in e
               for e in Schemas.errors(schemas.page, page))
    assert Schemas.errors(schemas.page, {**services_page(demo[:1], 1, 1, 1),
                                         "total_items": "1"})


def test_profile_example_validates(schemas):
    example = json.loads((SCHEMA_DIR / "example_service_full.json").read_text("utf-8"))
    assert Schemas.errors(schemas.service, example) == []


def test_every_demo_service_validates_against_service_json(schemas, demo):
    failures = {r.id: Schemas.errors(schemas.service, service_to_oruk(r)) for r in demo}
    assert {k: v for k, v in failures.items() if v} == {}


def test_list_items_and_pages_validate(schemas, demo):
    for r in demo:
        assert Schemas.errors(schemas.list_item, service_list_item(r)) == [], r.id
    size = 50
    pages = math.ceil(len(demo) / size)
    for n in range(1, pages + 2):
        chunk = demo[(n - 1) * size:n * size]
        page = services_page(chunk, n, size, len(demo))
        assert Schemas.errors(schemas.page, page) == []
        assert (page["page_number"], page["size"], page["total_pages"]) == (n, len(chunk), pages)
        assert page["first_page"] is (n == 1) and page["last_page"] is (n >= pages)
        assert page["empty"] is (not chunk)
    full = services_page(demo[:5], 1, 5, len(demo), full=True)
    assert Schemas.errors(schemas.full_page, full) == []


def test_ids_are_stable_uuids(demo):
    a, b = service_to_oruk(demo[0]), service_to_oruk(demo[0])
    assert a == b
    assert a["id"] == oruk_id(demo[0].id) != oruk_id(demo[1].id)
    nested = [a["id"]] + [x["id"] for k in ("schedules", "service_areas", "service_at_locations",
                                            "languages", "cost_options", "attributes")
                          for x in a[k]]
    assert len(nested) == len(set(nested))
    imported = dataclasses.replace(demo[0], id="oruk:ac148810-d857-441c-9679-408f346de14b")
    assert service_to_oruk(imported)["id"] == "ac148810-d857-441c-9679-408f346de14b"


def test_native_fields_of_one_service(demo):
    r = next(x for x in demo if x.postcode and "weekdays" in x.when and x.cost == "free")
    doc = service_to_oruk(r)
    loc = doc["service_at_locations"][0]["location"]
    assert loc["location_type"] == "physical"
    assert (loc["latitude"], loc["longitude"]) == (r.latitude, r.longitude)
    assert loc["addresses"][0]["postal_code"] == r.postcode
    weekdays = next(s for s in doc["schedules"] if s["description"] == "Weekdays")
    assert weekdays["byday"] == "MO,TU,WE,TH,FR"
    assert doc["cost_options"][0]["amount"] == 0
    assert [a["name"] for a in doc["service_areas"]] == r.service_area
    ours = {a["taxonomy_term"]["taxonomy"] for a in doc["attributes"]}
    assert f"{OUR_TAXONOMY}:categories" in ours


# --------------------------------------------------------------------------- round trip
def _back(records: list[ServiceRecord], docs: list[dict]) -> list[ServiceRecord]:
    """Import exported docs and give each record its original id again."""
    imported, report = read_oruk(docs, id_prefix="", today=TODAY)
    assert report.rejected == 0 and len(imported) == len(records)
    original = {oruk_id(r.id): r.id for r in records}
    return [dataclasses.replace(r, id=original[r.id]) for r in imported]


def _differences(a: list[ServiceRecord], b: list[ServiceRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x, y in zip(a, b, strict=True):
        assert x.id == y.id
        for name in _COMPARED:
            if _value(x, name) != _value(y, name):
                out[name] = out.get(name, 0) + 1
    return out


def _value(record: ServiceRecord, name: str):
    # A fact the reading step used to fill a field comes back as that field, stated: the
    # facts themselves (field, value, quote, source, confidence) must survive unchanged. (Where
    # the words narrowed a listing's ages, the export states the narrowed ages, so the
    # conflict with the old listing is not there to come back.)
    if name == "facts":
        return [{k: v for k, v in f.items() if k not in ("used", "conflict", "listing")}
                for f in record.facts]
    return getattr(record, name)


def test_round_trip_gives_back_the_same_records(demo):
    back = _back(demo, [service_to_oruk(r) for r in demo])
    assert [r.id for r in back] == [r.id for r in demo]
    assert _differences(demo, back) == {}
    assert {r.source for r in back} == {"oruk"}


def test_native_fields_alone_keep_location_age_cost_and_times(demo):
    """Without our send-matcher attributes (a consumer that drops them), the native ORUK
    fields still carry ages, venue, areas, languages, contact details, cost and times."""
    docs = [service_to_oruk(r) for r in demo]
    for d in docs:
        d["attributes"] = []
    imported, report = read_oruk(docs, id_prefix="", today=TODAY)
    by_id = {r.id: r for r in imported}
    kept = [(r, by_id[oruk_id(r.id)]) for r in demo if oruk_id(r.id) in by_id]
    assert len(kept) >= 0.95 * len(demo)           # the rest: no category guessable
    for a, b in kept:
        assert (a.min_age, a.max_age, a.postcode, a.latitude, a.longitude, a.address) == (
            b.min_age, b.max_age, b.postcode, b.latitude, b.longitude, b.address), a.id
        assert (a.service_area, a.languages, a.url, a.email, a.phone, a.last_reviewed) == (
            b.service_area, b.languages, b.url, b.email, b.phone, b.last_reviewed), a.id
        assert (a.cost, a.cost_details) == (b.cost, b.cost_details), a.id
        assert set(a.when) == set(b.when), a.id
        assert set(b.delivery) <= set(a.delivery), a.id
        if a.postcode:
            assert "in_person" not in a.delivery or "in_person" in b.delivery, a.id
        assert "online" not in a.delivery or "online" in b.delivery, a.id
        if a.postcode:
            assert a.accessibility == b.accessibility, a.id


def _case_profiles() -> list[dict]:
    path = DEV / "cases.jsonl"
    if not path.exists():
        pytest.skip(f"needs the dev evaluation cases {path} (../shared beside the repo)")
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    return [{**c["profile"], "limit": 20} for c in cases]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["demo", "dev"])
def test_round_trip_gives_the_same_match_results(which, demo):
    from matcher.engine.pipeline import Matcher

    profiles = _case_profiles()
    if which == "demo":
        records = demo
    else:
        records, report = read_service_csv(DEV / "services.csv", today=TODAY)
        assert report.rejected == 0
    back = _back(records, [service_to_oruk(r) for r in records])
    before = Matcher.from_frame(records_to_frame(records))
    after = Matcher.from_frame(records_to_frame(back))
    assert len(profiles) == 30
    for profile in profiles:
        a = before.match(profile, today=TODAY)
        b = after.match(profile, today=TODAY)
        assert [r.service_id for r in a.results] == [r.service_id for r in b.results]
        assert [r.score for r in a.results] == pytest.approx([r.score for r in b.results],
                                                            abs=1e-9)
        # Where a record's words narrowed its listing's ages at import, the export states the
        # narrowed ages: the same ages come back, stated, so the reason no longer quotes them.
        narrowed = {r.id for r in records if any(f.get("listing") for f in r.facts)}
        assert [_unquoted(r.reasons) if r.service_id in narrowed else r.reasons
                for r in a.results] == [r.reasons for r in b.results]


def _unquoted(reasons: list[str]) -> list[str]:
    return [re.sub(r" \(it says '[^']*'\)", "", x) if x.startswith("For ages") else x
            for x in reasons]


# --------------------------------------------------------------------------- the router
@pytest.fixture(scope="module")
def client(demo):
    app = FastAPI()
    app.include_router(oruk_router)
    app.dependency_overrides[get_oruk_records] = lambda: demo
    with TestClient(app) as c:
        yield c


def test_list_endpoint_pages(client, schemas, demo):
    r = client.get("/oruk/services")
    assert r.status_code == 200
    body = r.json()
    assert Schemas.errors(schemas.page, body) == []
    assert (body["total_items"], body["total_pages"], body["size"]) == (271, 6, 50)
    assert body["contents"][0]["id"] == oruk_id(demo[0].id)
    last = client.get("/oruk/services", params={"page": 6}).json()
    assert (last["size"], last["last_page"], last["first_page"]) == (21, True, False)
    past = client.get("/oruk/services", params={"page": 7}).json()
    assert past["empty"] is True and past["contents"] == []
    for bad in ({"per_page": 0}, {"per_page": 501}, {"page": "two"}):
        answer = client.get("/oruk/services", params=bad)
        assert answer.status_code == 400
        assert answer.json()["detail"][0]["field"] == next(iter(bad))


def test_list_endpoint_filters_and_full(client, schemas, demo):
    body = client.get("/oruk/services", params={"search": "swimming", "per_page": 500}).json()
    assert 0 < body["total_items"] < 271
    assert all("swimming" in (c["name"] + c["description"]).lower() for c in body["contents"])
    body = client.get("/oruk/services", params={"age": 3, "per_page": 500}).json()
    expected = [oruk_id(r.id) for r in demo if (r.min_age or 0) <= 3 <= (
        25 if r.max_age is None else r.max_age)]
    assert [c["id"] for c in body["contents"]] == expected
    # minimum_age/maximum_age: the service's ages overlap the range asked for.
    body = client.get("/oruk/services", params={"minimum_age": 16, "per_page": 500}).json()
    assert body["contents"] and all(c.get("maximum_age", 25) >= 16 for c in body["contents"])
    assert body["total_items"] == sum((25 if r.max_age is None else r.max_age) >= 16
                                      for r in demo)
    body = client.get("/oruk/services", params={"taxonomy_term_id": "short_breaks",
                                                "per_page": 500}).json()
    assert body["total_items"] == sum("short_breaks" in r.categories for r in demo)
    full = client.get("/oruk/services", params={"full": True, "per_page": 3}).json()
    assert Schemas.errors(schemas.full_page, full) == []
    term_id = full["contents"][0]["attributes"][0]["taxonomy_term_id"]
    by_term = client.get("/oruk/services", params={"taxonomy_term_id": term_id}).json()
    assert by_term["total_items"] >= 1


def test_detail_endpoint(client, schemas, demo):
    uid = oruk_id(demo[0].id)
    r = client.get(f"/oruk/services/{uid}")
    assert r.status_code == 200 and r.json() == service_to_oruk(demo[0])
    assert Schemas.errors(schemas.service, r.json()) == []
    assert client.get(f"/oruk/services/{demo[0].id}").json()["id"] == uid
    missing = client.get("/oruk/services/nope")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No service with id 'nope'."})


def test_default_dependency_reads_the_apps_directory(demo):
    app = FastAPI()
    app.include_router(oruk_router)
    directory = SimpleNamespace(records=demo[:3])
    app.state.resources = SimpleNamespace(cache=SimpleNamespace(get=lambda: directory))
    with TestClient(app) as c:
        assert c.get("/oruk/services").json()["total_items"] == 3


def test_our_own_endpoint_imports_back_over_http(client, demo):
    """`matcher import --url` against our own /oruk: summary pages, then each full record."""
    items = fetch_feed("http://testserver/oruk", client=client, per_page=100)
    assert len(items) == 271 and all("attributes" in i for i in items)
    back = _back(demo, items)
    assert _differences(demo, back) == {}


def test_page_arguments_are_checked():
    with pytest.raises(ValueError):
        services_page([], 0, 10, 0)
    empty = services_page([], 1, 10, 0)
    assert (empty["total_pages"], empty["empty"], empty["last_page"]) == (0, True, True)
    assert copy.deepcopy(empty) == empty
