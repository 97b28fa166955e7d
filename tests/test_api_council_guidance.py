"""``GET /council``, the guidance links of ``POST /match``, the quality fields of
``GET /services/{id}``, and a bad council file stopping the API's start."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.errors import ConfigError
from matcher.ingest import run_import
from matcher.settings import Settings

CSV = (
    "id,name,description,categories,min_age,max_age,postcode,rating_body,rating,rating_date,"
    "outcomes,outcomes_year,outside_area,used_by_local_families\n"
    "S-1,Hill School,Special school for autistic pupils.,education,11,16,N7 8JN,Ofsted,Good,"
    "2024-03-12,All 9 leavers went on to college.,2025,yes,yes\n"
    "S-2,Autism Club,A club for autistic children.,leisure,5,16,N7 8JN,,,,,,,\n"
)


def _settings(tmp: Path, **extra) -> Settings:
    return Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'api.sqlite'}",
                    demo_data_path=tmp / "absent.csv", **extra)


@pytest.fixture(scope="module")
def client(tmp_path_factory, postcode_index):
    tmp = tmp_path_factory.mktemp("council")
    app = create_app(_settings(tmp), ApiConfig(refresh_seconds=0))
    run_import(CSV, store=app.state.resources.store, progress=False)
    with TestClient(app) as c:
        yield c


def test_council_route_serves_the_checked_file(client):
    r = client.get("/council")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Islington" and "N7" in body["districts"]
    assert {"send_team", "complaints", "sendiass", "mediation"} <= body.keys()
    assert body["sendiass"]["phone"]


def test_a_bad_council_file_stops_the_start(tmp_path):
    bad = tmp_path / "council.toml"
    bad.write_text('name = "Somewhere"\ndistricts = ["N7"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="full_name is missing"):
        create_app(_settings(tmp_path, council_path=bad), ApiConfig(refresh_seconds=0))


@pytest.mark.parametrize("about", [
    "The council refused to assess him last term",
    "we are waiting for the EHC needs assessment decision",
    "school applied for an EHCP in September",
])
def test_a_family_that_mentions_an_assessment_gets_the_ehc_guidance_link(client, about):
    r = client.post("/match", json={"age": 12, "needs": ["autism"], "about": about})
    assert r.status_code == 200
    pages = [g["page"] for g in r.json()["guidance"]]
    assert pages[0] == "ehc_assessment"
    assert r.json()["results"]                     # the services are still suggested


def test_no_guidance_link_without_a_reason(client):
    r = client.post("/match", json={"age": 12, "needs": ["autism"], "about": "loves swimming"})
    assert r.json()["guidance"] == []


def test_service_detail_carries_ratings_outcomes_and_area(client):
    body = client.get("/services/S-1").json()
    assert body["ratings"] == [{"body": "Ofsted", "rating": "Good", "date": "2024-03-12",
                                "url": ""}]
    assert body["outcomes"] == [{"text": "All 9 leavers went on to college.", "year": 2025}]
    assert (body["outside_area"], body["used_by_local_families"]) == (True, True)
    plain = client.get("/services/S-2").json()
    assert (plain["ratings"], plain["outside_area"]) == ([], False)
