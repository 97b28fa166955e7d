"""The gap analysis gives exactly what it gave before its near-miss search and service-area
lookups moved to sparse arrays (``tests/gaps_before.py``), on the demo data and on synthetic
directories of demo rows spread over real postcodes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from matcher.gaps import analyse_gaps, areas_in_districts, load_gaps_config, parse_gaps_config
from matcher.gaps.bench import DEMO_BOROUGH_DISTRICTS, demo_services, synthetic_directory
from matcher.geo.postcodes import get_postcode_index
from tests import gaps_before


def _dense(services):
    m = services.area_matrix
    return replace(services, area_matrix=m.toarray().astype(bool) if sp.issparse(m) else m)


def _centroids(services, index):
    out = {}
    for d in services.area_districts:
        lat, lon, found = index.lookup_many([d])
        if found[0]:
            out[d] = (float(lat[0]), float(lon[0]))
    return out


def _same(areas, services, centroids, **kw):
    new = analyse_gaps(areas, services, district_centroids=centroids, **kw)
    old = gaps_before.analyse_gaps(areas, _dense(services), district_centroids=centroids, **kw)
    pd.testing.assert_frame_equal(new.cells, old.cells)
    pd.testing.assert_frame_equal(new.near_misses.reset_index(drop=True),
                                  old.near_misses.reset_index(drop=True))
    assert new.notes == old.notes
    return new


@pytest.fixture(scope="module")
def index():
    return get_postcode_index()


@pytest.fixture(scope="module")
def demo():
    return demo_services()


@pytest.mark.parametrize("level", ["sector", "district"])
def test_demo_borough_same_as_before(demo, index, level):
    areas = areas_in_districts(index, list(DEMO_BOROUGH_DISTRICTS), level)
    report = _same(areas, demo, _centroids(demo, index))
    assert (report.cells["status"] == "gap").sum() > 0 and len(report.near_misses) > 0


@pytest.mark.parametrize("changes", [
    {"serves": ["stated", "broader", "area", "all_send"]},
    {"remote_unstated_area": "everywhere", "near_miss_limit": 2},
    {"remote_unstated_area": "nowhere", "near_area_km": 8.0, "near_age_years": 3},
])
def test_demo_borough_same_as_before_under_other_settings(demo, index, changes):
    cfg = parse_gaps_config({**load_gaps_config().model_dump(), **changes})
    areas = areas_in_districts(index, list(DEMO_BOROUGH_DISTRICTS), "sector")
    _same(areas, demo, _centroids(demo, index), gaps=cfg, by="need")
    _same(areas, demo, _centroids(demo, index), gaps=cfg, by="area", minutes=30, mode="car")


@pytest.mark.parametrize(("seed", "changes"), [
    (1, {}), (2, {"near_age_years": 3, "near_area_km": 6.0, "near_miss_limit": 8})])
def test_synthetic_directory_same_as_before(demo, index, seed, changes):
    """Demo rows copied onto random real postcodes near London, each listing its own district:
    many remote services listed for districts near each other, many near misses of each kind."""
    rng = np.random.default_rng(seed)
    areas = areas_in_districts(index, ["N1", "N7", "E8", "SE1", "SW9", "W2", "NW1", "E1"],
                               "sector")
    services = synthetic_directory(demo, 12_000, index, seed)
    # Keep the copies that landed within about 30 km of central London, so the areas have
    # services of every kind near them.
    near = np.flatnonzero((np.abs(services.lat - 51.51) < 0.3) & (np.abs(services.lon + 0.1) < 0.45)
                          | np.isnan(services.lat))
    services = services.take(rng.permutation(near))
    cfg = parse_gaps_config({**load_gaps_config().model_dump(), **changes})
    report = _same(areas, services, _centroids(services, index), gaps=cfg)
    crit = set(report.near_misses["criterion"])
    assert {"time", "age", "area"} <= crit


# --------------------------------------------------------------------------- the store path
def _from_table(records):
    """The arrays as the matcher's table gives them (every record's words read afresh)."""
    from matcher.gaps.supply import GapServices
    from matcher.services import records_to_frame

    active = [r for r in records if r.status != "inactive"]
    return GapServices.from_frame(records_to_frame(active))


def _assert_same_services(a, b):
    assert a.ids.tolist() == b.ids.tolist()
    assert a.names.tolist() == b.names.tolist()
    for name in ("min_age", "max_age", "lat", "lon"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("remote", "national", "area_unstated", "ehcp_required", "serves",
                 "serves_area", "categories", "excluded"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.area_districts == b.area_districts and a.need_ids == b.need_ids
    assert a.category_ids == b.category_ids
    np.testing.assert_array_equal(_dense(a).area_matrix, _dense(b).area_matrix)
    for level in a.level_needs:
        np.testing.assert_array_equal(a.level_needs[level], b.level_needs[level], err_msg=level)
        np.testing.assert_array_equal(a.level_areas[level], b.level_areas[level], err_msg=level)


def _store_with(tmp_path, records):
    from matcher.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'gaps.sqlite'}")
    store.upsert_services(records)
    return store


def test_store_reader_gives_the_tables_arrays_on_the_demo_data(tmp_path, index):
    from matcher.bench import load_base_records
    from matcher.gaps.store_read import read_gap_services

    records, _ = load_base_records()
    store = _store_with(tmp_path, records)
    try:
        first = read_gap_services(store)            # reads every record's words, stores them
        assert store.count_readings(_key()) == len(records)
        again = read_gap_services(store)            # from the stored readings
    finally:
        store.close()
    expected = _from_table(sorted(records, key=lambda r: r.id))
    _assert_same_services(first, expected)
    _assert_same_services(again, expected)
    areas = areas_in_districts(index, list(DEMO_BOROUGH_DISTRICTS), "sector")
    centroids = _centroids(expected, index)
    new = analyse_gaps(areas, again, district_centroids=centroids)
    old = gaps_before.analyse_gaps(areas, _dense(expected), district_centroids=centroids)
    pd.testing.assert_frame_equal(new.cells, old.cells)
    pd.testing.assert_frame_equal(new.near_misses, old.near_misses)


def _key():
    from matcher.allowed import vocabulary_in_use
    from matcher.engine.features import reading_key

    return reading_key(vocabulary_in_use())


def test_store_reader_on_a_synthetic_store_leaves_withdrawn_services_out(tmp_path, index):
    from dataclasses import replace as replace_record

    from matcher.bench import load_base_records
    from matcher.bench import synthetic_directory as synthetic_records
    from matcher.gaps.store_read import read_gap_services

    base, _ = load_base_records()
    records = synthetic_records(base, 2_000, index, np.random.default_rng(7))
    # A few withdrawn by their feed; a few with words that rule a need out or name a threshold.
    records = [replace_record(r, status="inactive") if i % 97 == 0 else r
               for i, r in enumerate(records)]
    store = _store_with(tmp_path, records)
    try:
        got = read_gap_services(store, remember_readings=False)
        assert store.count_readings(_key()) == 0
    finally:
        store.close()
    expected = _from_table(sorted(records, key=lambda r: r.id))
    assert got.n == sum(r.status != "inactive" for r in records) < len(records)
    _assert_same_services(got, expected)
    assert got.excluded.any() and got.level_needs["text"].any() and got.remote.any()


def test_cli_on_a_store_counts_what_the_table_counts(tmp_path, index, capsys):
    import json as json_module

    from matcher.bench import load_base_records
    from matcher.cli import main

    records, _ = load_base_records()
    _store_with(tmp_path, records).close()
    out = tmp_path / "g.csv"
    code = main(["gaps", "--database-url", f"sqlite:///{tmp_path / 'gaps.sqlite'}",
                 "--districts", ",".join(DEMO_BOROUGH_DISTRICTS), "--out", str(out), "--json"])
    assert code == 0
    body = json_module.loads(capsys.readouterr().out)
    expected = _from_table(sorted(records, key=lambda r: r.id))
    areas = areas_in_districts(index, list(DEMO_BOROUGH_DISTRICTS), "sector")
    old = gaps_before.analyse_gaps(areas, _dense(expected),
                                   district_centroids=_centroids(expected, index))
    assert body["gaps"] == int((old.cells["status"] == "gap").sum()) > 0
    assert body["near_misses"] == len(old.near_misses)


def _old_summary_frame(report):
    """The published cells with the near-miss column made as before (a groupby joining each
    cell's texts)."""
    from matcher.gaps.report import _near_texts, output_frame

    out = output_frame(report)
    nm = report.near_misses
    text = _near_texts(report)
    key = [nm["area"].astype(str), nm["need"].astype(str), nm["band"].astype(str)]
    summary = text.groupby(key, sort=False).agg("; ".join)
    idx = pd.MultiIndex.from_arrays([out["area"].astype(str), out["need"].astype(str),
                                     out["band"].astype(str)])
    out["near_miss_services"] = summary.reindex(idx).fillna("").to_numpy()
    return out


@pytest.mark.parametrize("with_demand", [False, True])
def test_published_cells_same_as_before(demo, index, tmp_path, with_demand):
    from matcher.gaps.report import attach_demand, output_frame, read_demand, write_outputs

    areas = areas_in_districts(index, list(DEMO_BOROUGH_DISTRICTS), "sector")
    report = analyse_gaps(areas, demo, district_centroids=_centroids(demo, index))
    if with_demand:
        gaps = report.gaps().head(40)
        path = tmp_path / "demand.csv"
        pd.DataFrame({"area": gaps["area"].astype(str), "need": gaps["need"].astype(str),
                      "band": gaps["band"].astype(str),
                      "children": np.arange(len(gaps)) * 3}).to_csv(path, index=False)
        report = attach_demand(report, read_demand(path, report))
    new = output_frame(report)
    pd.testing.assert_frame_equal(new, _old_summary_frame(report))
    assert (new["near_miss_services"] != "").sum() > 10
    written = write_outputs(report, tmp_path / "g.csv")
    if len(written) == 3:  # with pyarrow: the Parquet file holds the same texts
        back = pd.read_parquet(written[2])
        assert back["area"].tolist() == new["area"].astype(str).tolist()
        assert back["band"].tolist() == new["band"].astype(str).tolist()


def test_store_bench_times_the_cli_and_the_api_on_the_same_store():
    """The benchmark imports into a fresh store, then the CLI (before and after the readings
    are stored) and GET /gaps count the same gaps: the store path and the server's table agree."""
    from matcher.gaps.bench_store import run_store_bench

    result = run_store_bench(400, great_britain=False)
    assert [r["cold"] for r in result.cli] == [True, False]
    first, again = result.cli
    assert first["gaps"] == again["gaps"] > 0 and first["cells"] == again["cells"]
    assert first["near_misses"] == again["near_misses"]
    assert [r["request"] for r in result.api] == [1, 2]
    assert all(r["gaps"] == first["gaps"] and r["cells"] == first["cells"] for r in result.api)
    assert result.api_ready_s > 0 and result.api_peak_rss_mib >= result.api_rss_ready_mib > 0
    assert "GET /gaps, council" in result.format_text()


def test_all_areas_on_the_cli_and_the_api(tmp_path, index):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from matcher.api.security import get_current_user
    from matcher.cli import build_parser
    from matcher.gaps.api import gaps_router, get_gap_services
    from matcher.store.users import ApiUser

    args = build_parser().parse_args(["gaps", "--all-areas", "--out", "x.csv"])
    assert args.all_areas and args.districts is None
    with pytest.raises(SystemExit):   # one way of giving the areas only
        build_parser().parse_args(["gaps", "--all-areas", "--districts", "N7", "--out", "x"])
    services = demo_services()
    app = FastAPI()
    app.include_router(gaps_router)
    app.dependency_overrides[get_current_user] = lambda: ApiUser(name="c", role="commissioner")
    app.dependency_overrides[get_gap_services] = lambda: services
    body = TestClient(app).get("/gaps", params={"all_areas": "true", "level": "district",
                                                "need": "autism", "band": "primary",
                                                "status": "gap,thin,ok", "limit": 1000}).json()
    from matcher.gaps import area_centroids
    from matcher.gaps.areas import district_centroids

    areas = area_centroids(index, "district")
    assert body["areas"] == len(areas) > 2_000 and body["cells"] == body["areas"]
    direct = analyse_gaps(areas, services, needs=["autism"], bands=["primary"],
                          district_centroids=district_centroids(index, services.area_districts))
    status = direct.cells["status"].value_counts()
    assert (body["gaps"], body["thin"]) == (status.get("gap", 0), status.get("thin", 0))
    assert body["total"] == body["cells"]
    shown = {r["area"]: r["services"] for r in body["results"]}
    expected = dict(zip(direct.cells["area"].astype(str), direct.cells["services"], strict=True))
    assert len(shown) == 1000 and all(shown[a] == expected[a] for a in shown)


def test_store_reader_on_postgresql(index):
    """The same arrays from a PostgreSQL store (JSONB columns the driver decodes itself)."""
    from pg_support import PG_URL, temp_schema

    if not PG_URL:
        pytest.skip("PostgreSQL tests need MATCHER_TEST_POSTGRES_URL; start a local server and "
                    "set it with: eval \"$(.ci/postgres)\"")
    from matcher.bench import load_base_records
    from matcher.gaps.store_read import read_gap_services
    from matcher.store import Store

    records, _ = load_base_records()
    with temp_schema() as url, Store.open(url) as store:
        store.upsert_services(records)
        first = read_gap_services(store)
        assert store.count_readings(_key()) == len(records)
        again = read_gap_services(store)
    expected = _from_table(sorted(records, key=lambda r: r.id))
    _assert_same_services(first, expected)
    _assert_same_services(again, expected)
