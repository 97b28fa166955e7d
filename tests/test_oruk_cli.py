"""``matcher oruk-check`` (the feed tests against a feed's URL) and ``matcher bench oruk``: they
run and report; the figures themselves are measured in README, not asserted here."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.cli import main
from matcher.ingest import read_service_csv
from matcher.oruk.bench import FILTERS, run_oruk_bench
from matcher.oruk.feed import FeedIndex
from matcher.oruk.routes import get_oruk_records, oruk_router

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO.parent / "shared" / "real-samples" / "oruk-uk-profile-schema"

pytest.importorskip("jsonschema", reason="jsonschema is a dev dependency")


@pytest.fixture(scope="module")
def demo(postcode_index):
    records, _ = read_service_csv(REPO / "data" / "demo" / "islington_local_offer.csv",
                                  today=dt.date.today())
    return records


def _serve(monkeypatch, records) -> None:
    app = FastAPI()
    app.include_router(oruk_router)
    app.dependency_overrides[get_oruk_records] = lambda: records
    monkeypatch.setattr(httpx, "Client", lambda **kw: TestClient(app))


def test_oruk_check_passes_our_feed_and_fails_a_broken_one(demo, monkeypatch, capsys):
    if not (SCHEMA_DIR / "service.json").exists():
        pytest.skip(f"needs the ORUK profile schemas in {SCHEMA_DIR} (../shared beside the repo)")
    _serve(monkeypatch, demo)
    code = main(["oruk-check", "http://testserver/oruk", "--sample", "3", "--schemas",
                 str(SCHEMA_DIR), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["ok"] and out["problems"] == []
    assert out["row"]["Text"] == "pass 3/3" and out["row"]["Schema errors"].startswith("0 in")

    real = FeedIndex.services

    def lose_half(self, q):               # a feed whose searches lose every other service
        hits = real(self, q)
        return hits[hits % 2 == 0] if len(hits) < len(self) else hits

    monkeypatch.setattr(FeedIndex, "services", lose_half)
    code = main(["oruk-check", "http://testserver/oruk", "--sample", "3", "--schemas",
                 str(SCHEMA_DIR)])
    text = capsys.readouterr().out
    assert code == 1 and "FAIL" in text and "search failed. When tested using" in text


def test_oruk_check_says_when_the_schema_folder_is_wrong(tmp_path, capsys):
    assert main(["oruk-check", "http://testserver/oruk", "--schemas", str(tmp_path)]) == 2
    assert "service.json" in capsys.readouterr().err


def test_bench_times_every_filter(postcode_index):
    result = run_oruk_bench(300, 3, seed=1)
    assert set(result.p50_ms) == set(FILTERS) == set(result.request_p50_ms)
    assert result.matches_median["none"] == 300
    assert result.matches_median["postcode"] >= 1      # a venue's own postcode finds it
    assert all(0 < result.p50_ms[f] <= result.p95_ms[f] for f in FILTERS)


def test_bench_command_prints_json(postcode_index, capsys):
    assert main(["bench", "oruk", "--size", "200", "--queries", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == 200 and set(out["p50_ms"]) == set(FILTERS)
