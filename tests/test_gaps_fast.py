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
