"""haversine_km: against a slow readable reference, geopy's geodesic, and known places."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from geopy.distance import geodesic

import matcher.geo.distance as distance_module
from matcher.geo.distance import EARTH_RADIUS_KM, haversine_km

# Well-known places (WGS84 degrees).
BIG_BEN = (51.5007, -0.1246)
EDINBURGH_CASTLE = (55.9486, -3.1999)
CARDIFF_CASTLE = (51.4822, -3.1812)
MANCHESTER_PICCADILLY = (53.4774, -2.2309)


def slow_haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Textbook haversine, one pair at a time, with the math module."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, a)))


def gb_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(50.0, 58.6, n), rng.uniform(-5.7, 1.7, n)


def test_radius_is_the_mean_earth_radius():
    assert EARTH_RADIUS_KM == 6371.0088


def test_matches_slow_reference_worldwide():
    rng = np.random.default_rng(20240611)
    lat1, lat2 = rng.uniform(-90, 90, (2, 500))
    lon1, lon2 = rng.uniform(-180, 180, (2, 500))
    fast = haversine_km(lat1, lon1, lat2, lon2)
    slow = [slow_haversine(*p) for p in zip(lat1, lon1, lat2, lon2, strict=True)]
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-9)


def test_agrees_with_geodesic_within_half_a_percent_across_gb():
    rng = np.random.default_rng(7)
    lat1, lon1 = gb_points(rng, 400)
    lat2, lon2 = gb_points(rng, 400)
    ours = haversine_km(lat1, lon1, lat2, lon2)
    reference = np.array([
        geodesic((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)
    ])
    assert np.all(reference > 0)
    np.testing.assert_allclose(ours, reference, rtol=0.005)


def test_short_distances_agree_with_geodesic():
    # A few hundred metres to a few km, the scale of a walk to a service.
    rng = np.random.default_rng(3)
    lat1, lon1 = gb_points(rng, 200)
    lat2 = lat1 + rng.uniform(-0.03, 0.03, 200)
    lon2 = lon1 + rng.uniform(-0.05, 0.05, 200)
    ours = haversine_km(lat1, lon1, lat2, lon2)
    reference = np.array([
        geodesic((a, b), (c, d)).km for a, b, c, d in zip(lat1, lon1, lat2, lon2, strict=True)
    ])
    np.testing.assert_allclose(ours, reference, rtol=0.005)


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [  # straight-line distances as usually quoted, to the nearest km
        (BIG_BEN, EDINBURGH_CASTLE, 534),
        (BIG_BEN, CARDIFF_CASTLE, 212),
        (BIG_BEN, MANCHESTER_PICCADILLY, 262),
    ],
)
def test_known_places(a, b, km):
    assert float(haversine_km(*a, *b)) == pytest.approx(km, abs=1.0)
    assert float(haversine_km(*b, *a)) == float(haversine_km(*a, *b))  # symmetric


def test_same_point_is_zero():
    assert float(haversine_km(*BIG_BEN, *BIG_BEN)) == 0.0


def test_quarter_of_the_equator():
    assert float(haversine_km(0, 0, 0, 90)) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)


def test_antipodes_do_not_give_nan():
    assert float(haversine_km(10, 20, -10, -160)) == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_scalars_give_a_zero_dimensional_array():
    out = haversine_km(*BIG_BEN, *CARDIFF_CASTLE)
    assert isinstance(out, np.ndarray)
    assert out.shape == ()
    assert out.dtype == np.float64


def test_one_origin_against_many():
    lats = [EDINBURGH_CASTLE[0], CARDIFF_CASTLE[0], BIG_BEN[0]]
    lons = [EDINBURGH_CASTLE[1], CARDIFF_CASTLE[1], BIG_BEN[1]]
    out = haversine_km(BIG_BEN[0], BIG_BEN[1], lats, lons)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, [534.2, 211.6, 0.0], atol=0.1)


def test_broadcasts_to_a_matrix():
    rng = np.random.default_rng(1)
    lat1, lon1 = gb_points(rng, 4)
    lat2, lon2 = gb_points(rng, 5)
    out = haversine_km(lat1[:, None], lon1[:, None], lat2, lon2)
    assert out.shape == (4, 5)
    for i in range(4):
        for j in range(5):
            assert out[i, j] == pytest.approx(slow_haversine(lat1[i], lon1[i], lat2[j], lon2[j]))


def test_nan_stays_nan_where_a_location_is_unknown():
    out = haversine_km(BIG_BEN[0], BIG_BEN[1], [np.nan, CARDIFF_CASTLE[0]],
                       [np.nan, CARDIFF_CASTLE[1]])
    assert np.isnan(out[0])
    assert out[1] == pytest.approx(211.6, abs=0.1)


def test_docstring_examples_run():
    result = doctest.testmod(distance_module)
    assert result.attempted >= 2
    assert result.failed == 0
