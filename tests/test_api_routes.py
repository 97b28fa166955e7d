"""The HTTP API, route by route: status codes, exact messages, roles, limits and privacy."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from csv_support import HEADER
from fastapi.testclient import TestClient
from sqlalchemy import update

from matcher.api import create_app
from matcher.api.deps import EMPTY_DIRECTORY, ApiConfig
from matcher.api.security import UNAUTHORISED
from matcher.ingest import run_import
from matcher.plans import default_retention
from matcher.settings import Settings
from matcher.store.plans import PlanRow
from matcher.store.users import add_user

#: A small synthetic directory (fictional services at real postcodes).
SERVICES_CSV = HEADER + "\n".join([
    'S-001,Saturday Sensory Swim,Hackney Leisure,"Quiet, sensory-friendly swimming for autistic '
    'children.",leisure,autism,5,16,E5 0RF,,,in_person,free,,weekends,sensory_friendly,,self,no,,'
    ',,,2025-06-01',
    'S-002,ADHD Parent Course,Focus Charity,"Online course for parents of children with ADHD.",'
    'support_advice,ADHD,4,18,,,national,online,free,,evenings,,,self,no,,,,,2025-05-01',
    'S-003,Hearing Support Clinic,NHS Trust,"Audiology and hearing support.",health,hearing '
    'impairment,0,25,E9 6FH,,,in_person,free,,weekdays,,,gp,no,,,,,2025-04-01',
    'S-004,Oak Special School,Oak Trust,"Special school for autistic young people.",education,'
    'autism,11,19,N7 8JN,,,in_person,free,,term_time,,,ehcp,yes,,,,,2025-03-01',
    'S-005,Friday Youth Club,Youth Service,"A youth club open to all young people with SEND.",'
    'leisure,all SEND,11,25,E5 9DQ,,,in_person,free,,evenings,wheelchair,,self,no,,,,,2025-02-01',
    'S-006,Little Steps Toddler Group,Children\'s Centre,"Play group for toddlers with '
    'developmental delay.",short_breaks,global developmental delay,0,4,E5 0RF,,,in_person,free,,'
    'weekdays,,,self,no,into_early_years,,,,2025-01-01',
    'S-007,Moving Up Programme,Transition Team,"Help with the move to secondary school for '
    'autistic children and children with ADHD.",transition,autism;ADHD,10,12,,,national,online,'
    'free,,weekdays,,,self,no,primary_to_secondary,,,,2025-06-15',
    'S-008,Dyslexia Assessment,Read Well,"Private dyslexia assessment.",assessment,dyslexia,6,'
    '16,N7 8JN,,,in_person,paid,,weekdays,,,self,no,,,,,2025-06-20',
]) + "\n"

ALL_IDS = [f"S-00{i}" for i in range(1, 9)]


def _make_app(tmp: Path, **config) -> tuple:
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'api.sqlite'}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0, **config))
    return app, app.state.resources.store


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index) -> Iterator[SimpleNamespace]:
    """One app over the synthetic directory, with a user of every role (two key workers)."""
    tmp = tmp_path_factory.mktemp("api")
    app, store = _make_app(tmp)
    run_import(SERVICES_CSV, store=store, progress=False)
    keys = {name: add_user(store.engine, name, role) for name, role in [
        ("ada", "admin"), ("cora", "commissioner"), ("kim", "key_worker"), ("kai", "key_worker")]}
    with TestClient(app) as client:
        yield SimpleNamespace(app=app, client=client, store=store, keys=keys, tmp=tmp)


def _auth(api: SimpleNamespace, who: str) -> dict[str, str]:
    return {"X-API-Key": api.keys[who]}


# --------------------------------------------------------------------------- /match
def test_match_answers_contract_shape_in_rank_order(api):
    r = api.client.post("/match", json={"age": 10, "needs": ["autism"], "postcode": "E5 9DQ"})
    assert r.status_code == 200
    body = r.json()
    ids = [x["service_id"] for x in body["results"]]
    assert set(ids) <= set(ALL_IDS) and ids
    for item in body["results"]:
        assert {"service_id", "name", "score", "reasons"} <= item.keys()
        assert item["reasons"] and all(isinstance(s, str) for s in item["reasons"])
        assert item["explanation"] is None
    scores = [x["score"] for x in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert body["not_suggested"] is None
    # Age 10: the toddler group (0-4) and the EHCP-only school (no EHCP) are never suggested.
    assert "S-006" not in ids and "S-004" not in ids
    assert body["data_version"] == api.store.data_version()


def test_match_unknown_needs_words_are_returned_not_errors(api):
    r = api.client.post("/match", json={"age": 10, "needs": ["autisim", "qwertyuiop"]})
    assert r.status_code == 200
    body = r.json()
    assert body["unrecognised_needs"] == ["qwertyuiop"]
    assert [(n["words"], n["need"], n["from"]) for n in body["understood_needs"]] == [
        ("autisim", "autism", "needs")]


@pytest.mark.parametrize("explain", ["brief", "full"])
def test_match_says_what_the_familys_words_were_read_as(api, caplog, explain):
    caplog.set_level(logging.DEBUG)
    r = api.client.post("/match", json={
        "age": 9, "needs": ["autism"], "explain": explain,
        "about": "hates loud noise, meltdowns after school, we have money worries"})
    assert r.status_code == 200
    understood = r.json()["understood"]
    assert {"words": "hates loud noise", "as": "Sensory processing difficulties",
            "kind": "need", "id": "sensory_processing"} in understood
    assert {"words": "money worries", "as": "help with money and benefits", "kind": "ask",
            "id": "support_advice"} in understood
    assert [(u["words"], u["kind"]) for u in understood if u["id"] == "education"] == [
        ("after school", "situation")]
    assert {"words": "autism", "as": "Autism", "kind": "need", "id": "autism"} in understood
    # The older list is still there, unchanged in shape.
    assert ("autism", "autism", "needs") in [(n["words"], n["need"], n["from"])
                                             for n in r.json()["understood_needs"]]
    logged = "\n".join(rec.getMessage() for rec in caplog.records).lower()
    assert "loud noise" not in logged and "money" not in logged and "sensory" not in logged


def test_match_limit_caps_results(api):
    r = api.client.post("/match", json={"age": 12, "limit": 2})
    assert r.status_code == 200
    assert len(r.json()["results"]) == 2


def test_match_full_explanation_adds_up_and_lists_not_suggested(api):
    r = api.client.post("/match", json={"age": 10, "needs": ["autism"], "postcode": "N7 8JN",
                                        "explain": "full"})
    assert r.status_code == 200
    body = r.json()
    for item in body["results"]:
        expl = item["explanation"]
        total = expl["base"] + sum(c["points"] for c in expl["contributions"])
        assert total == pytest.approx(expl["total"], abs=1e-6)
        assert item["score"] == pytest.approx(expl["total"], abs=1e-6)
    left_out = {x["service_id"]: x for x in body["not_suggested"]}
    assert "S-004" in left_out and "S-006" in left_out
    assert all(x["reasons"] for x in left_out.values())
    returned = {x["service_id"] for x in body["results"]}
    assert not returned & left_out.keys()


def test_match_same_ranking_as_library(api):
    from matcher.engine.pipeline import Matcher

    matcher = Matcher.from_frame(api.store.services_frame())
    profile = {"age": 11, "needs": ["ADHD", "autism"], "postcode": "E5 0RF",
               "transition": "primary_to_secondary", "limit": 8}
    expected = matcher.match(profile).to_dict()["results"]
    got = api.client.post("/match", json=profile).json()["results"]
    assert [x["service_id"] for x in got] == [x["service_id"] for x in expected]
    assert [x["score"] for x in got] == pytest.approx([x["score"] for x in expected])


_WHOLE = '{} must be a whole number written without quotes, for example 7 (not true, false or "7")'


@pytest.mark.parametrize(("body", "expected"), [
    ({"age": 26}, [{"field": "age", "message": "age must be between 0 and 25",
                    "type": "less_than_equal"}]),
    ({"age": -1}, [{"field": "age", "message": "age must be between 0 and 25",
                    "type": "greater_than_equal"}]),
    ({}, [{"field": "age", "message": "age is required", "type": "missing"}]),
    # Strict types: a boolean, a string or a fraction is never read as an age.
    *[({"age": bad}, [{"field": "age", "message": _WHOLE.format("age"), "type": "int_type"}])
      for bad in ("ten", True, False, "7", 7.5, None)],
    ({"age": 10, "limit": "5"}, [{"field": "limit", "message": _WHOLE.format("limit"),
                                  "type": "int_type"}]),
    ({"age": 10, "travel": {"max_minutes": True}},
     [{"field": "travel.max_minutes",
       "message": "travel.max_minutes must be a number written without quotes, for example 30",
       "type": "float_type"}]),
    ({"age": 10, "preferences": {"free_only": "yes"}},
     [{"field": "preferences.free_only",
       "message": "preferences.free_only must be true or false, without quotes",
       "type": "bool_type"}]),
    ({"age": 10, "limit": 51}, [{"field": "limit", "message": "limit must be between 1 and 50",
                                 "type": "less_than_equal"}]),
    ({"age": 10, "travel": {"max_minutes": 0}},
     [{"field": "travel.max_minutes",
       "message": "travel.max_minutes must be more than 0 and at most 240",
       "type": "greater_than"}]),
    ({"age": 10, "travel": {"mode": "boat"}},
     [{"field": "travel.mode",
       "message": "travel.mode must be one of 'walk', 'public_transport', 'car', "
                  "'travel_assistance' or 'online_only'", "type": "literal_error"}]),
    ({"age": 10, "needs": "autism"},
     [{"field": "needs", "message": 'needs must be a list, e.g. ["..."]', "type": "list_type"}]),
    ({"age": 10, "needs": ["autism", 7]},
     [{"field": "needs[1]", "message": "needs[1] must be text (a string in double quotes)",
       "type": "string_type"}]),
    ({"age": 10, "nickname": "Sam"},
     [{"field": "nickname",
       "message": "nickname is not a field we accept: remove it or check its spelling",
       "type": "extra_forbidden"}]),
    ({"age": 10, "explain": "everything"},
     [{"field": "explain", "message": "explain must be one of 'brief' or 'full'",
       "type": "literal_error"}]),
    *[({"age": 10, "has_ehcp": bad},
       [{"field": "has_ehcp", "message": "has_ehcp must be true or false, without quotes",
         "type": "bool_type"}]) for bad in ("perhaps", "true", 1)],
])
def test_match_validation_errors_name_the_field_in_plain_english(api, body, expected):
    r = api.client.post("/match", json=body)
    assert r.status_code == 422
    assert r.json() == {"detail": expected}


def test_match_reports_every_problem_at_once(api):
    r = api.client.post("/match", json={"age": 99, "limit": 0, "travel": {"mode": "boat"}})
    assert r.status_code == 422
    assert [p["field"] for p in r.json()["detail"]] == ["age", "travel.mode", "limit"]


def test_match_bad_json_and_missing_body(api):
    r = api.client.post("/match", content=b"{not json",
                        headers={"content-type": "application/json"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "body" and problem["type"] == "json_invalid"
    assert problem["message"].startswith("body is not valid JSON")
    r = api.client.post("/match")
    assert r.status_code == 422
    assert r.json() == {"detail": [{"field": "body", "message": "a JSON body is required",
                                    "type": "missing"}]}
    r = api.client.post("/match", json=[1, 2])
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "body"


def test_match_malformed_postcode_is_422_naming_the_field(api):
    r = api.client.post("/match", json={"age": 10, "postcode": "hello"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "postcode"
    assert problem["type"] == "postcode_format"
    assert problem["message"] == ("postcode: 'hello' is not a postcode. A UK postcode looks "
                                  "like N7 8JN.")


def test_match_unknown_postcode_is_422_with_suggestions(api):
    r = api.client.post("/match", json={"age": 10, "postcode": "N7 8ZZ"})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "postcode" and problem["type"] == "postcode_not_found"
    assert problem["message"].startswith("postcode: 'N7 8ZZ' is not a current postcode.")
    assert problem["suggestions"] and all(s.startswith("N7 8") for s in problem["suggestions"])


def test_match_body_over_64_kb_is_413(api):
    r = api.client.post("/match", json={"age": 10, "about": "x" * (70 * 1024)})
    assert r.status_code == 413
    assert r.json() == {"detail": "The request body is too large: at most 64 KB of JSON is "
                                  "accepted. Send less text (for example in 'about')."}


def test_match_chunked_body_over_limit_is_413(api):
    def chunks():
        yield b'{"age": 10, "about": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}'

    r = api.client.post("/match", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["detail"].startswith("The request body is too large")


def test_match_logs_nothing_of_the_profile(api, caplog):
    """Every logger at DEBUG (ours, uvicorn's, FastAPI's, SQLAlchemy's): no profile value
    appears in any record of a /match call, whether it succeeds or is refused."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "fastapi", "starlette",
                 "matcher", "matcher.api", "sqlalchemy"):
        caplog.set_level(logging.DEBUG, logger=name)
    profile = {"age": 9, "needs": ["autism", "zebracrossingfear"],
               "about": "Quetzalcoatl loves trains", "postcode": "N16 0JL",
               "preferences": {"language": "Klingon"}, "explain": "full"}
    api.app.state.resources.cache.invalidate()
    assert api.client.post("/match", json=profile).status_code == 200
    assert api.client.post("/match", json=dict(profile, age=99)).status_code == 422
    assert api.client.post("/match", json=dict(profile, postcode="E8 3PB")).status_code == 422
    assert api.client.post("/match", json=dict(profile, postcode="nonsense")).status_code == 422
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "POST /match -> 200" in logged  # the capture works: our request log is there
    assert "POST /match -> 422" in logged
    for value in ["N16 0JL", "N160JL", "N16", "zebracrossingfear", "Quetzalcoatl", "trains",
                  "Klingon", "E8 3PB", "nonsense"]:
        leaks = [line for line in logged.splitlines() if value.lower() in line.lower()]
        assert not leaks, (value, leaks)


# --------------------------------------------------------------------------- /services
def test_services_lists_all_in_id_order(api):
    r = api.client.get("/services")
    assert r.status_code == 200
    body = r.json()
    assert (body["total"], body["page"], body["size"]) == (8, 1, 20)
    assert [s["id"] for s in body["items"]] == ALL_IDS


@pytest.mark.parametrize(("query", "ids"), [
    ("category=leisure", ["S-001", "S-005"]),
    ("need=autisim", ["S-001", "S-004", "S-005", "S-007"]),  # misspelt; all SEND counts
    ("need=ADHD&age=15", ["S-002", "S-005"]),
    ("age=3", ["S-003", "S-006"]),
    ("q=SWIMMING", ["S-001"]),
    ("q=secondary school", ["S-007"]),
    ("category=education&age=10", []),
])
def test_services_filters(api, query, ids):
    r = api.client.get(f"/services?{query}")
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == ids
    assert r.json()["total"] == len(ids)


def test_services_paging(api):
    r = api.client.get("/services?size=3&page=3")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 8 and [s["id"] for s in body["items"]] == ["S-007", "S-008"]
    assert api.client.get("/services?size=3&page=4").json()["items"] == []


@pytest.mark.parametrize(("query", "problem"), [
    ("size=101", {"field": "size", "message": "size must be between 1 and 100",
                  "type": "less_than_equal"}),
    ("page=0", {"field": "page", "message": "page must be between 1 and 100000",
                "type": "greater_than_equal"}),
    ("age=26", {"field": "age", "message": "age must be between 0 and 25",
                "type": "less_than_equal"}),
    ("need=qwertyuiop", {"field": "need", "message": "need is not a need we recognise: try "
                         "another word, or see GET /vocabularies for the needs we know",
                         "type": "value_error"}),
])
def test_services_bad_parameters(api, query, problem):
    r = api.client.get(f"/services?{query}")
    assert r.status_code == 422
    assert r.json() == {"detail": [problem]}


def test_services_bad_category_names_the_field(api):
    r = api.client.get("/services?category=sports")
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "category"


def test_service_detail_and_404(api):
    r = api.client.get("/services/S-003")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "S-003" and body["needs"] == ["hearing_impairment"]
    assert body["postcode"] == "E9 6FH" and body["last_reviewed"] == "2025-04-01"
    r = api.client.get("/services/NOPE-1")
    assert r.status_code == 404
    assert r.json() == {"detail": "No service with id 'NOPE-1'."}


# --------------------------------------------------------------------------- /postcodes
@pytest.mark.parametrize(("text", "postcode", "kind", "district"), [
    ("N7 8JN", "N7 8JN", "postcode", "N7"),
    ("n78jn", "N7 8JN", "postcode", "N7"),
    ("N7", "N7", "district", "N7"),
])
def test_postcode_lookup(api, text, postcode, kind, district):
    r = api.client.get(f"/postcodes/{text}")
    assert r.status_code == 200
    body = r.json()
    assert (body["postcode"], body["kind"], body["district"]) == (postcode, kind, district)
    assert 51.5 < body["latitude"] < 51.6 and -0.2 < body["longitude"] < 0.0


def test_postcode_malformed_is_422_and_unknown_is_404(api):
    r = api.client.get("/postcodes/hello")
    assert r.status_code == 422
    assert r.json() == {"detail": [{
        "field": "postcode", "type": "postcode_format",
        "message": "postcode: 'hello' is not a postcode. A UK postcode looks like N7 8JN."}]}
    r = api.client.get("/postcodes/ZZ99 9ZZ")
    assert r.status_code == 404
    assert r.json() == {"detail": "'ZZ99 9ZZ' is not a current postcode. Check it on a letter "
                                  "or bill.", "suggestions": []}


# --------------------------------------------------------------------------- vocabularies
def test_vocabularies(api):
    r = api.client.get("/vocabularies")
    assert r.status_code == 200
    body = r.json()
    assert list(body["categories"]) == [
        "education", "health", "social_care", "short_breaks", "leisure", "support_advice",
        "training_employment", "travel", "transition", "assessment", "other"]
    autism = next(n for n in body["needs"] if n["id"] == "autism")
    assert autism["label"] == "Autism" and "ci" in autism["areas"] and "ASD" in autism["synonyms"]
    assert set(body["areas"]) == {"ci", "cl", "semh", "sp"}
    assert "primary_to_secondary" in body["transitions"]


def test_needs_normalise(api):
    r = api.client.post("/needs/normalise", json={"words": ["autisim", "ADHD", "qwertyuiop"]})
    assert r.status_code == 200
    body = r.json()
    assert body["needs"] == ["autism", "adhd"]
    assert body["unrecognised"] == ["qwertyuiop"]
    first = body["matches"][0]
    assert (first["text"], first["need"], first["label"]) == ("autisim", "autism", "Autism")
    r = api.client.post("/needs/normalise", json={"words": []})
    assert r.status_code == 422
    assert r.json() == {"detail": [{"field": "words", "message": "words must have at least 1 item",
                                    "type": "too_short"}]}


# --------------------------------------------------------------------------- feedback
def test_feedback_is_stored_without_personal_data(api):
    r = api.client.post("/feedback", json={"service_id": "S-001", "kind": "out_of_date"})
    assert r.status_code == 201
    body = r.json()
    assert (body["service_id"], body["kind"]) == ("S-001", "out_of_date")
    at = dt.datetime.fromisoformat(body["recorded_at"])
    assert (at.minute, at.second, at.microsecond) == (0, 0, 0)
    r = api.client.post("/feedback", json={"service_id": "S-001", "kind": "helpful",
                                           "comment": "My son Tom loved it"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "comment"
    r = api.client.post("/feedback", json={"service_id": "S-001", "kind": "great"})
    assert r.status_code == 422
    assert r.json()["detail"] == [{
        "field": "kind", "message": "kind must be one of 'helpful', 'not_helpful' or "
                                    "'out_of_date'", "type": "literal_error"}]
    r = api.client.post("/feedback", json={"service_id": "NOPE", "kind": "helpful"})
    assert r.status_code == 404
    assert r.json() == {"detail": "No service with id 'NOPE'."}


def test_feedback_summary_needs_commissioner(api):
    api.client.post("/feedback", json={"service_id": "S-002", "kind": "helpful",
                                       "session": "session-one"})
    api.client.post("/feedback", json={"service_id": "S-002", "kind": "helpful",
                                       "session": "session-two"})
    r = api.client.get("/feedback/summary")
    assert r.status_code == 401
    assert r.json() == {"detail": UNAUTHORISED}
    r = api.client.get("/feedback/summary", headers=_auth(api, "kim"))
    assert r.status_code == 403
    assert r.json() == {"detail": "This needs the commissioner or admin role."}
    r = api.client.get("/feedback/summary", headers=_auth(api, "cora"))
    assert r.status_code == 200
    rows = {x["service_id"]: x for x in r.json()["services"]}
    assert rows["S-002"]["helpful"] >= 2 and rows["S-002"]["out_of_date"] == 0


# --------------------------------------------------------------------------- auth
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": ""}, {"X-API-Key": "nonsense"},
                                     {"X-API-Key": "mk_00000000_wrong"}])
def test_missing_or_unknown_key_is_401(api, headers):
    r = api.client.get("/plans", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"detail": "Missing or unknown API key."}
    assert r.headers["www-authenticate"] == "X-API-Key"


def test_tampered_key_is_401(api):
    key = api.keys["kim"]
    r = api.client.get("/plans", headers={"X-API-Key": key[:-1] + ("A" if key[-1] != "A" else "B")})
    assert r.status_code == 401


def test_wrong_role_is_403(api):
    r = api.client.get("/plans", headers=_auth(api, "ada"))
    assert r.status_code == 403
    assert r.json() == {"detail": "This needs the key_worker role."}
    r = api.client.post("/import", headers=_auth(api, "kim"),
                        files={"file": ("x.csv", b"id\n", "text/csv")})
    assert r.status_code == 403
    assert r.json() == {"detail": "This needs the admin role."}


# --------------------------------------------------------------------------- plans
PLAN = {"label": "KW-2025-014", "profile": {"age": 10, "needs": ["autism"], "postcode": "N7"},
        "transition": "primary_to_secondary",
        "services": [{"service_id": "S-007", "note": "Ask about the summer sessions"}],
        "next_steps": [{"action": "Call the SENCO", "due": "2030-10-01"}]}


def test_plans_crud_and_ownership(api):
    kim, kai = _auth(api, "kim"), _auth(api, "kai")
    r = api.client.post("/plans", json=PLAN, headers=kim)
    assert r.status_code == 201
    plan = r.json()
    pid = plan["id"]
    assert plan["owner"] == "kim" and plan["label"] == "KW-2025-014"
    assert plan["retain_until"] == default_retention(dt.date.today()).isoformat()
    assert plan["next_steps"] == [{"action": "Call the SENCO", "due": "2030-10-01", "owner": "",
                                   "done": False}]
    assert plan["profile"]["needs"] == ["autism"]

    assert api.client.get(f"/plans/{pid}", headers=kim).json() == plan
    assert pid in [p["id"] for p in api.client.get("/plans", headers=kim).json()["plans"]]

    # Another key worker cannot see, change or delete it: 404, exactly as if it did not exist.
    missing = {"detail": f"No plan with id '{pid}'."}
    assert pid not in [p["id"] for p in api.client.get("/plans", headers=kai).json()["plans"]]
    for method in ("get", "delete"):
        r = getattr(api.client, method)(f"/plans/{pid}", headers=kai)
        assert (r.status_code, r.json()) == (404, missing)
    r = api.client.put(f"/plans/{pid}", json=PLAN, headers=kai)
    assert (r.status_code, r.json()) == (404, missing)

    changed = dict(PLAN, next_steps=[{"action": "Call the SENCO", "due": "2030-10-01",
                                      "done": True}])
    r = api.client.put(f"/plans/{pid}", json=changed, headers=kim)
    assert r.status_code == 200
    assert r.json()["next_steps"][0]["done"] is True
    assert r.json()["retain_until"] == plan["retain_until"]

    r = api.client.delete(f"/plans/{pid}", headers=kim)
    assert r.status_code == 204 and r.content == b""
    r = api.client.get(f"/plans/{pid}", headers=kim)
    assert (r.status_code, r.json()) == (404, missing)


def test_plan_validation(api):
    kim = _auth(api, "kim")
    too_late = (default_retention(dt.date.today()) + dt.timedelta(days=1)).isoformat()
    r = api.client.post("/plans", json=dict(PLAN, retain_until=too_late), headers=kim)
    assert r.status_code == 422
    latest = default_retention(dt.date.today()).isoformat()
    assert r.json() == {"detail": [{
        "field": "retain_until", "type": "value_error",
        "message": f"retain_until must be at most 12 months from today (on or before {latest})"}]}
    r = api.client.post("/plans", json=dict(PLAN, label="jo.bloggs@example.org"), headers=kim)
    assert r.status_code == 422
    assert r.json()["detail"][0]["message"] == (
        "label must not contain an e-mail address: use initials or your case reference")
    r = api.client.post("/plans", json=dict(PLAN, profile={"age": 30}), headers=kim)
    assert r.status_code == 422
    assert r.json()["detail"] == [{"field": "profile.age",
                                   "message": "profile.age must be between 0 and 25",
                                   "type": "less_than_equal"}]


def test_plan_keeps_step_owners_the_move_its_year_and_why_each_service_was_chosen(api):
    kim = _auth(api, "kim")
    body = dict(PLAN, move="post16_move", move_year=2031,
                services=[{"service_id": "S1", "note": "visit in May",
                           "reasons": ["For ages 16 to 25", "  "]}],
                next_steps=[{"action": "Book a college visit", "due": "2031-01-10",
                             "owner": "SENCo"}])
    r = api.client.post("/plans", json=body, headers=kim)
    assert r.status_code == 201, r.text
    plan = api.client.get(f"/plans/{r.json()['id']}", headers=kim).json()
    assert (plan["move"], plan["move_year"]) == ("post16_move", 2031)
    assert plan["services"] == [{"service_id": "S1", "note": "visit in May",
                                 "reasons": ["For ages 16 to 25"]}]
    assert plan["next_steps"][0]["owner"] == "SENCo"
    r = api.client.post("/plans", json=dict(PLAN, move_year=1999), headers=kim)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "move_year"
    r = api.client.post("/plans", json=dict(PLAN, next_steps=[
        {"action": "x", "owner": "o" * 101}]), headers=kim)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "next_steps[0].owner"


def test_expired_plans_are_purged_on_access(api):
    kim = _auth(api, "kim")
    pid = api.client.post("/plans", json=PLAN, headers=kim).json()["id"]
    with api.store.engine.begin() as conn:
        conn.execute(update(PlanRow.__table__).where(PlanRow.id == pid)
                     .values(retain_until=dt.date.today() - dt.timedelta(days=1)))
    r = api.client.get("/plans", headers=kim)
    assert pid not in [p["id"] for p in r.json()["plans"]]
    with api.store.engine.connect() as conn:
        assert conn.execute(PlanRow.__table__.select().where(PlanRow.id == pid)).first() is None


# --------------------------------------------------------------------------- meta
def test_health_and_version(api):
    r = api.client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "services": 8, "detail": None}
    r = api.client.get("/version")
    assert r.status_code == 200
    body = r.json()
    from matcher import __version__

    assert body["code"] == __version__
    assert body["data"] == api.store.data_version()
    assert len(body["config"]) == 12 and body["schema_version"] >= 1


def test_text_index_saved_under_models(api):
    api.client.post("/match", json={"age": 10})
    assert (api.tmp / "models" / "text_index.joblib").is_file()


def test_openapi_has_stable_operation_ids_and_examples(api):
    schema = api.client.get("/openapi.json").json()
    ids = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert {"match", "list_services", "get_service", "lookup_postcode", "list_vocabularies",
            "normalise_needs", "send_feedback", "feedback_summary", "import_services",
            "import_feed", "create_plan", "list_plans", "get_plan", "replace_plan",
            "delete_plan", "health", "ready",
            "version", "list_gaps", "oruk_list_services", "oruk_get_service", "data_health",
            "data_health_csv", "oruk_about", "oruk_list_service_at_locations",
            "oruk_get_service_at_location", "oruk_list_taxonomies", "oruk_get_taxonomy",
            "oruk_list_taxonomy_terms", "oruk_get_taxonomy_term", "get_council",
            "send_comment", "you_said_we_did", "you_said_we_did_annual_csv",
            "service_check", "comment_queue", "get_comment", "moderate_comment", "add_action",
            "update_action", "directory_tasks", "close_directory_task", "demand",
            "list_users", "create_user", "remove_user"} == ids
    match = schema["paths"]["/match"]["post"]
    assert "422" in match["responses"] and "413" in match["responses"]
    assert schema["components"]["schemas"]["MatchRequest"]["examples"][0]["age"] == 10
    assert schema["components"]["securitySchemes"]["APIKey"]["name"] == "X-API-Key"


def test_the_app_publishes_its_directory_as_oruk_3(api):
    root = api.client.get("/oruk/").json()
    assert root["version"] == "3.0"
    oruk_paths = api.client.get(root["openapi_url"]).json()["paths"]
    assert "/oruk/taxonomy_terms" in oruk_paths and "/match" not in oruk_paths
    page = api.client.get("/oruk/services", params={"day": "MO", "per_page": 2})
    assert page.status_code == 200 and page.headers["access-control-allow-origin"] == "*"
    assert page.json()["size"] <= 2
    assert api.client.get("/oruk/services", params={"day": "Funday"}).status_code == 400


# --------------------------------------------------------------------------- import
@pytest.fixture
def fresh(tmp_path: Path, postcode_index) -> Iterator[SimpleNamespace]:
    """An empty directory with an admin, for tests that change the data."""
    app, store = _make_app(tmp_path, max_upload_bytes=64 * 1024)
    key = add_user(store.engine, "ada", "admin")
    with TestClient(app) as client:
        yield SimpleNamespace(app=app, client=client, store=store, headers={"X-API-Key": key})


def test_empty_directory_match_is_503(fresh):
    r = fresh.client.post("/match", json={"age": 10})
    assert r.status_code == 503
    assert r.json() == {"detail": EMPTY_DIRECTORY}
    assert fresh.client.get("/services").json()["total"] == 0


def test_import_then_match_uses_the_new_data(fresh):
    before = fresh.client.get("/version").json()["data"]
    assert before == "empty"
    r = fresh.client.post("/import", headers=fresh.headers,
                          files={"file": ("offer.csv", SERVICES_CSV.encode(), "text/csv")})
    assert r.status_code == 200
    body = r.json()
    assert (body["source"], body["rows_read"], body["added"], body["rejected"]) == (
        "offer.csv", 8, 8, 0)
    assert body["services"] == 8 and body["data_version"] == fresh.store.data_version()
    r = fresh.client.post("/match", json={"age": 10, "needs": ["hearing impairment"]})
    assert r.status_code == 200 and r.json()["data_version"] == body["data_version"]
    assert r.json()["results"][0]["service_id"] == "S-003"

    # A second import with one new service: the matcher is rebuilt for the new version.
    extra = HEADER + ('S-009,Hearing Club,Deaf Youth,"Club for deaf children.",leisure,hearing '
                      'impairment,8,14,E9 6FH,,,in_person,free,,weekends,bsl,,self,no,,,,,'
                      '2025-06-01\n')
    r = fresh.client.post("/import", headers=fresh.headers,
                          files={"file": ("more.csv", extra.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["added"] == 1 and r.json()["services"] == 9
    r = fresh.client.post("/match", json={"age": 10, "needs": ["hearing impairment"],
                                          "postcode": "E9 6FH"})
    assert "S-009" in [x["service_id"] for x in r.json()["results"]]
    assert r.json()["data_version"] != body["data_version"]


def test_import_reports_bad_rows(fresh):
    bad = HEADER + ('B-1,Bad Ages,Org,"Desc",leisure,autism,12,40,,,,online,free,,,,,,no,,,,,\n'
                    'B-2,Good,Org,"Desc",leisure,autism,5,12,,,,online,free,,,,,,no,,,,,\n')
    r = fresh.client.post("/import", headers=fresh.headers,
                          files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    (problem,) = body["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (2, "max_age", "40")
    assert problem["problem"] and problem["fix"]
    r = fresh.client.post("/import?strict=true", headers=fresh.headers,
                          files={"file": ("bad.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("1 row(s) of bad.csv have problems, so nothing was imported")
    assert body["report"]["source"] == "bad.csv" and body["report"]["rejected_rows"] == [2]


def test_import_unusable_file_is_422(fresh):
    r = fresh.client.post("/import", headers=fresh.headers,
                          files={"file": ("x.csv", b"name,description\nA,B\n", "text/csv")})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"].startswith("x.csv cannot be imported: the required column 'id' is "
                                     "missing from the header")
    assert body["report"]["fatal"] is True
    r = fresh.client.post("/import", headers=fresh.headers)
    assert r.status_code == 422
    assert r.json() == {"detail": [{"field": "file", "message": "file is required",
                                    "type": "missing"}]}


def test_import_too_large_is_413(fresh):
    big = HEADER.encode() + b"x" * (70 * 1024)
    r = fresh.client.post("/import", headers=fresh.headers,
                          files={"file": ("big.csv", big, "text/csv")})
    assert r.status_code == 413
    assert r.json() == {"detail": "The request body is too large: a CSV upload may be at most "
                                  "64 KB. Split the file, or import it with `matcher import "
                                  "PATH` on the server."}
    assert fresh.store.count_services() == 0


def test_import_by_feed_address_reads_only_that_feed(fresh):
    """The admin gives a feed's address; the server reads its pages (and nothing else) and
    answers with the same report as a file import."""
    from feed_server import serve_feed

    with serve_feed("page1", "page2") as feed:
        r = fresh.client.post("/import/feed", headers=fresh.headers, json={"url": feed.url})
        asked = list(feed.asked)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == feed.url and body["rows_read"] == 12
    assert body["added"] == body["accepted"] > 0 and body["rejected"] > 0
    assert body["services"] == fresh.store.count_services() == body["accepted"]
    assert all(p["problem"] and p["fix"] for p in body["problems"])
    assert asked == ["/api/services?page=1&per_page=100", "/api/services?page=2&per_page=100"]
    # Strict: nothing imported, the report says why.
    with serve_feed("page2") as feed:
        r = fresh.client.post("/import/feed", headers=fresh.headers,
                              json={"url": feed.url, "strict": True})
    assert r.status_code == 422
    assert "nothing was imported (strict mode)" in r.json()["detail"]
    assert r.json()["report"]["source"] == feed.url and r.json()["report"]["rejected"] > 0
    assert fresh.store.count_services() == body["accepted"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/services",
                                 "directory.example.org/api/services", "https://"])
def test_import_by_feed_address_refuses_what_is_not_a_web_address(fresh, url):
    r = fresh.client.post("/import/feed", headers=fresh.headers, json={"url": url})
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["field"] == "url" and "is not a web address" in problem["message"]
    assert "https://" in problem["message"]


def test_import_by_feed_address_says_when_the_feed_cannot_be_read(fresh):
    from feed_server import serve_feed

    with serve_feed() as feed:  # only /api/services is served: anything else is a 404
        url = feed.url.replace("/api/services", "/elsewhere/services")
        r = fresh.client.post("/import/feed", headers=fresh.headers, json={"url": url})
    assert r.status_code == 422
    assert "answered 404" in r.json()["detail"] and r.json()["report"] is None
    r = fresh.client.post("/import/feed", json={"url": "https://example.org/api/services"})
    assert r.status_code == 401
    assert fresh.store.count_services() == 0


def test_import_needs_a_key(fresh):
    r = fresh.client.post("/import", files={"file": ("x.csv", b"id\n", "text/csv")})
    assert r.status_code == 401
    assert r.json() == {"detail": "Missing or unknown API key."}
