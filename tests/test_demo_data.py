"""The fictional demo Local Offer loads cleanly through the same importer families' data uses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from matcher.ingest import read_service_csv
from matcher.vocab import CONTRACT_VALUES

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "islington_local_offer.csv"


@pytest.fixture(scope="module")
def demo(postcode_index):
    records, report = read_service_csv(DEMO)
    return records, report


def test_every_row_is_accepted(demo):
    records, report = demo
    assert report.problems == []
    assert len(records) >= 250


def test_file_says_it_is_fictional():
    head = DEMO.read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("#") and "FICTIONAL" in head.upper()


def test_every_postcode_resolves(demo):
    records, _ = demo
    with_postcode = [r for r in records if r.postcode]
    assert len(with_postcode) > 150
    assert all(r.latitude is not None and r.longitude is not None for r in with_postcode)
    # Islington and its neighbours: roughly 51.50-51.60 N, 0.20 W-0.02 W (Barnet college aside).
    inner = [r for r in with_postcode if 51.50 < r.latitude < 51.60 and -0.20 < r.longitude < -0.02]
    assert len(inner) >= 0.95 * len(with_postcode)


def test_every_category_is_present(demo):
    records, _ = demo
    seen = {c for r in records for c in r.categories}
    assert seen == set(CONTRACT_VALUES["categories"])


def test_it_has_the_hard_cases_real_data_has(demo):
    records, _ = demo
    assert sum(not r.needs_raw for r in records) >= 10            # needs only in the description
    assert sum("all_send" in r.needs for r in records) >= 10
    assert sum(r.ehcp_required for r in records) >= 10
    assert sum(not r.postcode for r in records) >= 20               # online, phone, home visits
    year_ago = dt.date(2025, 11, 22)
    assert sum(1 for r in records if r.last_reviewed and r.last_reviewed < year_ago) >= 20
