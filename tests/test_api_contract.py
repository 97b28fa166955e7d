"""Contract test: every case of ../shared/eval/dev through POST /match ranks exactly as the
library does (contract sections 2-3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.settings import Settings


@pytest.fixture(scope="module")
def dev_set(shared_dir: Path) -> Path:
    path = shared_dir / "eval" / "dev"
    if not (path / "services.csv").is_file() or not (path / "cases.jsonl").is_file():
        pytest.skip(f"needs the development evaluation set {path} (services.csv, cases.jsonl)")
    return path


@pytest.fixture(scope="module")
def dev_api(dev_set: Path, tmp_path_factory: pytest.TempPathFactory,
            postcode_index) -> Iterator[SimpleNamespace]:
    from matcher.evaluation.runner import build_matcher_for_csv
    from matcher.ingest import run_import

    tmp = tmp_path_factory.mktemp("api-contract")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'dev.sqlite'}",
                        demo_data_path=tmp / "absent.csv")
    app = create_app(settings, ApiConfig(refresh_seconds=60))
    summary = run_import(dev_set / "services.csv", store=app.state.resources.store,
                         progress=False)
    assert summary.rejected == 0
    library = build_matcher_for_csv(dev_set / "services.csv")
    cases = [json.loads(line) for line in
             (dev_set / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, library=library, cases=cases)


def test_every_dev_case_ranks_as_the_library(dev_api):
    assert len(dev_api.cases) >= 10
    for case in dev_api.cases:
        r = dev_api.client.post("/match", json=case["profile"])
        assert r.status_code == 200, (case["id"], r.text)
        got = r.json()["results"]
        expected = dev_api.library.match(case["profile"]).to_dict()["results"]
        assert [x["service_id"] for x in got] == [x["service_id"] for x in expected], case["id"]
        assert [x["score"] for x in got] == pytest.approx([x["score"] for x in expected])
        assert [x["reasons"] for x in got] == [x["reasons"] for x in expected]
        assert len(got) <= case["profile"].get("limit", 10)
        for item in got:
            assert isinstance(item["service_id"], str) and isinstance(item["name"], str)
            assert isinstance(item["score"], float) and item["reasons"]
