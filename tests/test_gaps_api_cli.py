"""``GET /gaps`` on a tiny app, the ``matcher gaps`` command, and the demo benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from csv_support import HEADER
from fastapi import FastAPI
from fastapi.testclient import TestClient

from matcher.api.security import forbidden_message, get_current_user
from matcher.cli import main
from matcher.gaps import GapServices
from matcher.gaps.api import NO_AREA, gaps_access, gaps_router, get_gap_services
from matcher.services import ServiceRecord, records_to_frame
from matcher.store.users import ApiUser

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"

CSV = HEADER + "\n".join([
    "G-1,Autism Play Club,Club,A play club.,leisure,autism,5,10,N7 8JN,,,in_person,free,,,,,,"
    "no,,,,,2025-06-01",
    "G-2,Teen Club,Club,A youth club.,leisure,autism,11,18,N7 8JN,,,in_person,free,,,,,,"
    "no,,,,,2025-06-01",
]) + "\n"


@pytest.fixture(scope="module")
def services(postcode_index) -> GapServices:
    loc = postcode_index.lookup("N7 8JN")
    record = ServiceRecord(id="G-1", name="Autism Play Club", description="A play club.",
                           categories=["leisure"], needs=["autism"], min_age=5, max_age=10,
                           latitude=loc.latitude, longitude=loc.longitude,
                           delivery=["in_person"])
    return GapServices.from_frame(records_to_frame([record]))


def _app(services: GapServices, role: str | None = "commissioner") -> TestClient:
    app = FastAPI()
    app.include_router(gaps_router)
    app.dependency_overrides[get_gap_services] = lambda: services
    if role is not None:
        app.dependency_overrides[get_current_user] = lambda: ApiUser(name="c", role=role)
    return TestClient(app)


def test_gaps_route_lists_gaps_with_near_misses(services):
    client = _app(services)
    r = client.get("/gaps", params={"districts": "N7", "need": "autism",
                                    "band": "primary,secondary"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["level"] == "sector" and body["mode"] == "public_transport"
    assert body["cells"] == body["areas"] * 2
    # Primary: G-1 reaches every N7 sector (thin); secondary: none (gap), G-1 a year too young.
    assert body["gaps"] == body["areas"] and body["thin"] == body["areas"]
    first = body["results"][0]
    assert first["status"] == "gap" and first["band"] == "secondary"
    assert first["near_misses"] == [{"service_id": "G-1", "name": "Autism Play Club",
                                     "criterion": "age", "minutes": first["near_misses"][0][
                                         "minutes"], "min_age": 5, "max_age": 10}]
    assert {c["status"] for c in body["results"]} == {"gap", "thin"}


def test_gaps_route_filters_and_pages(services):
    client = _app(services)
    r = client.get("/gaps", params={"districts": "N7", "need": "autism", "status": "gap",
                                    "limit": 2, "offset": 1})
    body = r.json()
    assert r.status_code == 200
    assert len(body["results"]) == 2
    assert all(c["status"] == "gap" for c in body["results"])
    assert body["total"] == body["gaps"]


def test_gaps_route_needs_the_commissioner_role(services):
    r = _app(services, role="key_worker").get("/gaps", params={"districts": "N7"})
    assert r.status_code == 403
    assert r.json()["detail"] == forbidden_message(("commissioner", "admin"))
    assert _app(services, role="admin").get(
        "/gaps", params={"districts": "N7", "need": "autism"}).status_code == 200


def test_gaps_access_can_be_overridden(services):
    app = FastAPI()
    app.include_router(gaps_router)
    app.dependency_overrides[get_gap_services] = lambda: services
    app.dependency_overrides[gaps_access] = lambda: ApiUser(name="t", role="tester")
    r = TestClient(app).get("/gaps", params={"districts": "N7", "need": "autism"})
    assert r.status_code == 200


def test_gaps_route_explains_bad_input(services):
    client = _app(services)
    r = client.get("/gaps")
    assert r.status_code == 422
    assert r.json()["detail"][0]["message"] == f"districts: {NO_AREA}"
    r = client.get("/gaps", params={"districts": "ZZ99"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "districts"
    r = client.get("/gaps", params={"districts": "N7", "need": "unicorns"})
    assert r.status_code == 422
    assert "Unknown need" in r.json()["detail"][0]["message"]
    r = client.get("/gaps", params={"districts": "N7", "status": "bad"})
    assert r.status_code == 422


def test_cli_gaps_writes_files_and_ranks_by_demand(tmp_path, postcode_index, capsys):
    services = tmp_path / "services.csv"
    services.write_text(CSV, encoding="utf-8")
    demand = tmp_path / "demand.csv"
    demand.write_text("area,need,band,children\nN7 8,autism,post16,14\nN7 9,ASD,post16,4\n"
                      "N7 6,autism,early_years,30\n", encoding="utf-8")
    out = tmp_path / "gaps.csv"
    code = main(["gaps", "--districts", "N7", "--services", str(services), "--need", "autism",
                 "--demand", str(demand), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "gaps" in printed and str(out) in printed
    cells = pd.read_csv(out, dtype=str, keep_default_na=False)
    near = pd.read_csv(tmp_path / "gaps_near_misses.csv")
    # Early years: nobody serves 0-4 (G-1 starts at 5): the 30 children rank first.
    assert cells.iloc[0][["area", "band", "status", "children", "priority"]].tolist() == [
        "N7 6", "early_years", "gap", "30", "1"]
    assert cells.loc[(cells["area"] == "N7 9") & (cells["band"] == "post16"),
                     "children"].tolist() == ["<10"]
    assert set(cells["status"]) <= {"gap", "thin", "ok"}
    assert "G-1" in set(near["service_id"])


def test_cli_gaps_json_and_bad_district(tmp_path, postcode_index, capsys):
    services = tmp_path / "services.csv"
    services.write_text(CSV, encoding="utf-8")
    code = main(["gaps", "--around", "N7 8JN", "--radius-km", "1", "--level", "district",
                 "--services", str(services), "--out", str(tmp_path / "g.csv"), "--json"])
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    assert body["level"] == "district" and body["services"] == 2
    code = main(["gaps", "--districts", "ZZ99", "--services", str(services),
                 "--out", str(tmp_path / "g.csv")])
    assert code == 2
    assert "ZZ99" in capsys.readouterr().err


def test_cli_gaps_refuses_a_bad_demand_file(tmp_path, postcode_index, capsys):
    services = tmp_path / "services.csv"
    services.write_text(CSV, encoding="utf-8")
    demand = tmp_path / "demand.csv"
    demand.write_text("area,need,band,children\nN7 8,unicorns,primary,-3\n", encoding="utf-8")
    code = main(["gaps", "--districts", "N7", "--services", str(services), "--demand",
                 str(demand), "--out", str(tmp_path / "g.csv")])
    assert code == 2
    err = capsys.readouterr().err
    assert "row 2, need 'unicorns'" in err and "children '-3'" in err


@pytest.mark.skipif(not DEMO.is_file(), reason="needs the demo data data/demo/")
def test_demo_bench_scenario_counts_every_cell(postcode_index):
    from matcher.gaps.bench import run_scenario

    result = run_scenario("demo", repeats=1)
    assert result.areas > 40  # the demo borough's sectors
    assert result.cells == result.areas * result.needs * result.bands
    # every need of the vocabulary in use, every age band of the gaps configuration
    from matcher.allowed import vocabulary_in_use
    from matcher.gaps.config import load_gaps_config

    assert result.needs == len(vocabulary_in_use().needs) > 40
    assert result.bands == len(load_gaps_config().bands) == 5
    assert result.peak_rss_mb >= result.rss_before_mb > 0


def test_empty_directory_is_a_503():
    from types import SimpleNamespace

    from matcher.api.deps import EMPTY_DIRECTORY, get_directory

    app = FastAPI()
    app.include_router(gaps_router)
    app.dependency_overrides[get_current_user] = lambda: ApiUser(name="c", role="commissioner")
    app.dependency_overrides[get_directory] = lambda: SimpleNamespace(
        version="empty", records=[], matcher=None)
    r = TestClient(app).get("/gaps", params={"districts": "N7"})
    assert r.status_code == 503
    assert r.json()["detail"] == EMPTY_DIRECTORY


def test_public_surface_is_explicit():
    import importlib

    for name in ("matcher.gaps", "matcher.gaps.analysis", "matcher.gaps.areas",
                 "matcher.gaps.config", "matcher.gaps.supply", "matcher.gaps.report",
                 "matcher.gaps.api", "matcher.gaps.cli", "matcher.gaps.bench",
                 "matcher.gaps.bench_store", "matcher.gaps.store_read"):
        module = importlib.import_module(name)
        assert module.__all__, name
        for attr in module.__all__:
            assert hasattr(module, attr), f"{name}.{attr}"


def test_gaps_router_in_the_real_app_with_api_keys(tmp_path, postcode_index):
    from matcher.api import create_app
    from matcher.api.deps import ApiConfig
    from matcher.api.security import API_KEY_HEADER, UNAUTHORISED
    from matcher.ingest import run_import
    from matcher.settings import Settings
    from matcher.store.users import add_user

    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'g.sqlite'}",
                        demo_data_path=tmp_path / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=0))  # GET /gaps is part of the app
    store = app.state.resources.store
    run_import(CSV, store=store, progress=False)
    commissioner = add_user(store.engine, "cora", "commissioner")
    worker = add_user(store.engine, "kim", "key_worker")
    with TestClient(app) as client:
        params = {"districts": "N7", "need": "autism", "band": "primary"}
        assert client.get("/gaps", params=params).json()["detail"] == UNAUTHORISED
        r = client.get("/gaps", params=params, headers={API_KEY_HEADER: worker})
        assert r.status_code == 403
        r = client.get("/gaps", params=params, headers={API_KEY_HEADER: commissioner})
        assert r.status_code == 200, r.text
        assert r.json()["thin"] == r.json()["areas"]  # G-1 alone serves primary autism in N7


def test_bench_gaps_is_reachable_as_a_bench_target():
    from matcher.cli import build_parser

    parser = build_parser()
    nested = parser.parse_args(["bench", "gaps", "--scenario", "demo"])
    alias = parser.parse_args(["bench-gaps", "--scenario", "demo"])
    engine = parser.parse_args(["bench", "--sizes", "1000"])
    assert nested.func is alias.func and nested.scenario == "demo"
    assert engine.func.__name__ == "_cmd_bench" and engine.sizes == [1000]
