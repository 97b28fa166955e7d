"""Operations: JSON logs with request ids and nothing personal, Prometheus metrics, security
headers on every answer, ``Cache-Control: no-store`` on private ones, strict profile types."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from csv_support import TWO_SERVICES_CSV
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.api.logs import JsonFormatter, RequestIdFilter, log_config, new_request_id
from matcher.api.middleware import API_CSP, is_private
from matcher.ingest import run_import
from matcher.settings import Settings
from matcher.store.users import add_user

PROFILE = {"age": 9, "needs": ["autism", "wobblyteethfear"], "about": "Ottoline hates loud halls",
           "postcode": "E5 0RF", "preferences": {"language": "Esperanto"}}
PERSONAL = ["E5 0RF", "E50RF", "E5 0", "wobblyteethfear", "Ottoline", "loud halls", "Esperanto"]


def _app(tmp: Path, metrics: bool = True):
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'ops.sqlite'}",
                        demo_data_path=tmp / "absent.csv", metrics=metrics)
    return create_app(settings, ApiConfig(refresh_seconds=0))


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index) -> Iterator[SimpleNamespace]:
    tmp = tmp_path_factory.mktemp("ops")
    app = _app(tmp)
    store = app.state.resources.store
    csv = tmp / "services.csv"
    csv.write_text(TWO_SERVICES_CSV, encoding="utf-8")
    run_import(csv, store=store, progress=False)
    key = add_user(store.engine, "kim", "key_worker")
    with TestClient(app) as client:
        yield SimpleNamespace(app=app, client=client, key=key)


# --------------------------------------------------------------------------- logs
_LOGGERS = ("matcher", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy")


@pytest.fixture
def served_logs() -> Iterator[io.StringIO]:
    """The logging set up as `matcher serve` sets it (JSON, level debug), into a buffer;
    the loggers are put back as they were afterwards."""
    saved = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).level,
                    logging.getLogger(name).propagate) for name in _LOGGERS}
    buffer = io.StringIO()
    logging.config.dictConfig(log_config("json", "debug", stream=buffer))
    yield buffer
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def test_logs_are_json_with_the_request_id_and_nothing_personal(api, served_logs):
    api.app.state.resources.cache.invalidate()
    ok = api.client.post("/match", json=dict(PROFILE, explain="full"))
    assert ok.status_code == 200 and ok.json()["results"]
    refused = api.client.post("/match", json=dict(PROFILE, age=True))
    assert refused.status_code == 422
    saved = api.client.post("/plans", headers={"X-API-Key": api.key},
                            json={"label": "OT-1", "profile": PROFILE})
    assert saved.status_code == 201
    text = served_logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]   # every line is one JSON object
    requests = [line for line in lines if line.get("event") == "request"]
    # One request line per call, carrying the id the answer also carries.
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/match", 200), ("POST", "/match", 422), ("POST", "/plans", 201)]
    for r, answer in zip(requests, (ok, refused, saved), strict=True):
        assert r["request_id"] == answer.headers["X-Request-ID"]
        assert r["level"] == "info" and r["logger"] == "matcher.api"
        assert isinstance(r["duration_ms"], float)
    # Lines written while the match ran (the matcher's build, debug lines) carry its id too.
    during = [line for line in lines if line["request_id"] == ok.headers["X-Request-ID"]]
    assert len(during) > 1
    for value in PERSONAL:
        assert value.lower() not in text.lower(), value


def test_no_profile_in_any_record_even_with_every_logger_at_debug(api, caplog):
    """Belt and braces: every record of every logger, our configuration or not."""
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "fastapi", "starlette",
                 "matcher", "matcher.api"):
        caplog.set_level(logging.DEBUG, logger=name)
    api.app.state.resources.cache.invalidate()
    assert api.client.post("/match", json=dict(PROFILE, explain="full")).status_code == 200
    assert api.client.post("/match", json=dict(PROFILE, age="9")).status_code == 422
    formatter, add_id = JsonFormatter(), RequestIdFilter()
    text = ""
    for record in caplog.records:
        add_id.filter(record)
        text += formatter.format(record) + f" {record.args!r}\n"
    assert '"event": "request"' in text   # the capture works
    for value in PERSONAL:
        assert value.lower() not in text.lower(), value


def test_request_ids_are_new_unless_a_safe_one_is_sent(api):
    a = api.client.get("/health").headers["X-Request-ID"]
    b = api.client.get("/health").headers["X-Request-ID"]
    assert a != b and len(a) == 32
    assert api.client.get("/health", headers={"X-Request-ID": "lb-123.4"}).headers[
        "X-Request-ID"] == "lb-123.4"
    sneaky = api.client.get("/health", headers={"X-Request-ID": "x\" injected=1"})
    assert sneaky.headers["X-Request-ID"] != "x\" injected=1"
    assert new_request_id("a" * 65) != "a" * 65


def test_log_config_formats_every_logger_the_same_way(served_logs):
    config = log_config("json", "info")
    assert config["loggers"]["uvicorn.access"]["handlers"] == []  # our request log replaces it
    assert config["loggers"]["sqlalchemy"]["level"] == "WARNING"  # never statement parameters
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT INTO plans ...")
    [line] = [json.loads(x) for x in served_logs.getvalue().splitlines()]
    assert (line["message"], line["level"], line["logger"], line["request_id"]) == (
        "Started server process", "info", "uvicorn.error", None)


# --------------------------------------------------------------------------- metrics
def _sample(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_matches_and_time_requests(api):
    before = api.client.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    matches = _sample(before.text, "matcher_matches_total", outcome="results")
    timed = _sample(before.text, "matcher_http_request_duration_seconds_count",
                    method="POST", route="/match")
    for _ in range(3):
        assert api.client.post("/match", json={"age": 9, "needs": ["autism"]}).status_code == 200
    after = api.client.get("/metrics").text
    assert _sample(after, "matcher_matches_total", outcome="results") == matches + 3
    assert _sample(after, "matcher_http_request_duration_seconds_count",
                   method="POST", route="/match") == timed + 3
    assert _sample(after, "matcher_http_requests_total", method="POST", route="/match",
                   status="200") >= 3
    assert _sample(after, "matcher_index_services") == 2
    assert "matcher_index_version" in after
    # Route templates only: no concrete path (a postcode, a plan id) ever becomes a label.
    api.client.get("/postcodes/E5 0RF")
    assert "E5 0RF" not in api.client.get("/metrics").text
    assert 'route="/postcodes/{postcode}"' in api.client.get("/metrics").text


def test_index_version_gauge_takes_a_counter():
    from prometheus_client import REGISTRY

    from matcher.api.metrics import set_index_version

    set_index_version(41, services=7)
    assert REGISTRY.get_sample_value("matcher_index_version") == 41
    set_index_version("3f2a9c", services=8)   # a fingerprint leaves the version as it was
    assert REGISTRY.get_sample_value("matcher_index_version") == 41
    assert REGISTRY.get_sample_value("matcher_index_services") == 8
    set_index_version("42")
    assert REGISTRY.get_sample_value("matcher_index_version") == 42


def test_metrics_can_be_switched_off(tmp_path, postcode_index):
    with TestClient(_app(tmp_path, metrics=False)) as client:
        assert client.get("/metrics").status_code == 404


# --------------------------------------------------------------------------- headers
@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/health", None), ("GET", "/services", None), ("GET", "/services/S-404", None),
    ("POST", "/match", {"age": 9}), ("POST", "/match", {"age": "9"}), ("GET", "/nowhere", None),
    ("GET", "/openapi.json", None), ("GET", "/plans", None),
])
def test_security_headers_on_every_answer(api, method, path, body):
    r = api.client.request(method, path, json=body)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == API_CSP
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_security_headers_on_an_unexpected_error(tmp_path, postcode_index):
    from matcher.api.deps import get_matcher

    app = _app(tmp_path)

    def broken():
        raise RuntimeError("boom")

    app.dependency_overrides[get_matcher] = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/match", json={"age": 9})
    assert r.status_code == 500
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Request-ID"]


def test_docs_page_gets_a_policy_that_lets_it_load(api):
    r = api.client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp


def test_plans_and_personal_answers_are_never_stored(api):
    auth = {"X-API-Key": api.key}
    saved = api.client.post("/plans", headers=auth, json={"label": "OT-2", "profile": PROFILE})
    assert saved.status_code == 201
    plan_id = saved.json()["id"]
    for r in (saved, api.client.get("/plans", headers=auth),
              api.client.get(f"/plans/{plan_id}", headers=auth),
              api.client.post("/match", json=PROFILE),
              api.client.get("/postcodes/E5 0RF")):
        assert r.headers["Cache-Control"] == "no-store", r.request.url
    # The public directory may be cached.
    assert "no-store" not in api.client.get("/services").headers.get("Cache-Control", "")


@pytest.mark.parametrize(("method", "path", "key", "private"), [
    ("GET", "/services", False, False), ("GET", "/vocabularies", False, False),
    ("GET", "/services", True, True), ("POST", "/feedback", False, True),
    ("GET", "/plans", False, True), ("GET", "/plans/abc", False, True),
    ("GET", "/postcodes/N7", False, True), ("GET", "/admin/data-health.csv", False, True),
    ("GET", "/plansomething", False, False),
])
def test_which_answers_are_private(method, path, key, private):
    assert is_private(method, path, key) is private


# --------------------------------------------------------------------------- strict profile
@pytest.mark.parametrize("age", [True, False, "7", "seven", 7.5, None, [7]])
def test_age_must_be_a_json_whole_number(api, age):
    r = api.client.post("/match", json={"age": age})
    assert r.status_code == 422
    [problem] = r.json()["detail"]
    assert problem["field"] == "age"
    assert problem["message"].startswith("age must be a whole number")
    assert "without quotes" in problem["message"]


def test_a_plan_refuses_a_boolean_age_too(api):
    r = api.client.post("/plans", headers={"X-API-Key": api.key},
                        json={"label": "OT-3", "profile": {"age": True}})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "profile.age"
    assert api.client.post("/match", json={"age": 7}).status_code == 200
