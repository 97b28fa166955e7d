"""``matcher bench``: runs end to end on a small size and reports every figure (no timing
assertions), and its synthetic directories use real English postcodes with new ids."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from matcher.bench import (
    bench_profiles,
    default_source,
    load_base_records,
    reference_match,
    sample_england_postcodes,
    synthetic_directory,
)
from matcher.cli import main
from matcher.errors import MatcherError

SIZE_KEYS = {"size", "build_s", "queries", "p50_ms", "p95_ms", "mean_results", "match_peak_mib",
             "table_mib", "rss_growth_mib", "reference_p50_ms", "reference_queries", "ratio"}


@pytest.fixture(scope="module")
def base():
    try:
        default_source()
    except MatcherError as exc:
        pytest.skip(str(exc))
    records, _ = load_base_records()
    return records


def test_bench_json_at_size_200(base, postcode_index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["bench", "--json", "--sizes", "200", "--queries", "3"])
    assert code == 0
    report = json.loads(out.getvalue())
    assert {"source", "base_rows", "queries", "warmup", "seed", "memory", "reference",
            "sizes"} <= set(report)
    assert report["queries"] == 3 and report["base_rows"] == len(base)
    assert set(report["memory"]) == {"match_peak_mib", "table_mib", "rss_growth_mib"}
    (size,) = report["sizes"]
    assert set(size) == SIZE_KEYS
    assert size["size"] == 200 and size["queries"] == 3
    assert size["reference_queries"] >= 1  # small sizes are compared with the reference
    for key in SIZE_KEYS - {"size", "queries", "reference_queries"}:
        assert isinstance(size[key], float | int) and size[key] >= 0, key
    assert size["p95_ms"] >= size["p50_ms"]


def test_bench_text_table(base, postcode_index):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["bench", "--sizes", "50", "--queries", "2"]) == 0
    lines = out.getvalue().splitlines()
    assert lines[1].split()[:4] == ["services", "build", "s", "p50"]
    assert lines[2].split()[0] == "50"


def test_bad_sizes_are_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["bench", "--sizes", "ten"])
    assert info.value.code == 2
    assert "1000,10000,100000" in capsys.readouterr().err


def test_sampled_postcodes_are_real_english_and_distinct(postcode_index):
    rng = np.random.default_rng(3)
    postcodes, lat, lon = sample_england_postcodes(postcode_index, 300, rng)
    assert len(set(postcodes)) == 300
    for pc, la, lo in zip(postcodes[:20], lat[:20], lon[:20], strict=True):
        loc = postcode_index.lookup(pc)
        assert (loc.postcode, loc.latitude, loc.longitude) == (pc, la, lo)
    assert np.all((lat > 49.8) & (lat < 55.9)) and np.all((lon > -6.5) & (lon < 1.8))
    assert not any(pc.startswith(("EH", "CF", "G1", "AB")) for pc in postcodes)


def test_synthetic_directory_copies_rows_with_new_ids(base, postcode_index):
    rng = np.random.default_rng(5)
    size = len(base) + 7
    records = synthetic_directory(base, size, postcode_index, rng)
    assert len(records) == size
    assert len({r.id for r in records}) == size
    assert not {r.id for r in records} & {r.id for r in base}
    for i, rec in enumerate(records):
        src = base[i % len(base)]
        assert (rec.name, rec.needs, rec.min_age, rec.categories) == (
            src.name, src.needs, src.min_age, src.categories)
        assert (rec.latitude is None) == (src.latitude is None)
        if src.service_area and "national" not in src.service_area:
            assert len(rec.service_area) == 1
    profiles = bench_profiles(records, 10, rng)
    assert len(profiles) == 10 and all(0 <= p["age"] <= 25 for p in profiles)


def test_reference_applies_age_area_and_ehcp(postcode_index):
    rows = [
        {"id": "young", "min_age": 0, "max_age": 5, "area": set(), "ehcp": False,
         "lat": 51.55, "lon": -0.12},
        {"id": "ec1", "min_age": None, "max_age": None, "area": {"EC1"}, "ehcp": False,
         "lat": 51.53, "lon": -0.10},
        {"id": "ehcp", "min_age": None, "max_age": None, "area": set(), "ehcp": True,
         "lat": 51.55, "lon": -0.12},
        {"id": "far", "min_age": None, "max_age": None, "area": {"NATIONAL"}, "ehcp": False,
         "lat": 53.8, "lon": -1.58},
        {"id": "online", "min_age": None, "max_age": None, "area": set(), "ehcp": False,
         "lat": None, "lon": None},
    ]
    assert reference_match(rows, {"age": 10, "postcode": "EC1V 4PA"}, postcode_index) == [
        "ec1", "far", "online"]
    assert reference_match(rows, {"age": 10, "postcode": "N7 8JN", "has_ehcp": True},
                           postcode_index) == ["ehcp", "far", "online"]
