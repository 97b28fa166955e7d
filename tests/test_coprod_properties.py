"""Property tests of co-production's privacy rules: no demand cell under the minimum is ever
shown, nothing of a search but its cell is stored, and one session's feedback counts once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from csv_support import TWO_SERVICES_CSV as CSV
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from matcher.api import create_app
from matcher.api.deps import ApiConfig
from matcher.coprod.config import CoprodConfig
from matcher.coprod.demand import NO_DISTRICT, NO_NEED, add_demand, demand_cells, shown_count
from matcher.coprod.feedback import record_feedback
from matcher.coprod.tables import DemandCellRow, FeedbackSeenRow
from matcher.ingest import run_import
from matcher.settings import Settings
from matcher.store import Store
from matcher.store.feedback import FeedbackRow, feedback_summary

PROPS = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    tmp = tmp_path_factory.mktemp("coprod-props")
    with Store.open(f"sqlite:///{tmp / 'p.sqlite'}") as s:
        yield s


def _clear(store: Store, *tables) -> None:
    with store.engine.begin() as conn:
        for t in tables:
            conn.execute(delete(t))


cells = st.lists(st.tuples(st.sampled_from(["autism", "adhd", "hearing_impairment"]),
                           st.sampled_from(["primary", "secondary"]),
                           st.sampled_from(["N7", "N1", "E5"]),
                           st.sampled_from(["2026-01", "2026-02", "2026-03"]),
                           st.integers(1, 12)), max_size=25)


@PROPS
@given(cells=cells, min_count=st.integers(1, 10), round_to=st.integers(1, 10),
       by=st.lists(st.sampled_from(["need", "band", "district", "month"]), min_size=1,
                   max_size=4, unique=True))
def test_no_demand_cell_under_the_minimum_is_ever_shown(store, cells, min_count, round_to, by):
    _clear(store, DemandCellRow.__table__)
    for need, band, district, month, n in cells:
        add_demand(store.engine, [(need, band, district, month)], n)
    shown = demand_cells(store.engine, min_count=min_count, round_to=round_to, by=by)
    true_sums: dict[tuple, int] = {}
    for need, band, district, month, n in cells:
        row = {"need": need, "band": band, "district": district, "month": month}
        key = tuple(row[b] for b in by)
        true_sums[key] = true_sums.get(key, 0) + n
    for cell in shown:
        assert cell["searches"] >= min_count
        key = tuple(cell[b] for b in by)
        assert true_sums[key] >= min_count           # never a small cell, even rounded up
        assert cell["searches"] == shown_count(true_sums[key], min_count, round_to)
        assert cell["searches"] % round_to == 0 or cell["searches"] == min_count
    assert len(shown) == sum(1 for v in true_sums.values() if v >= min_count)


@given(count=st.integers(0, 10_000), min_count=st.integers(1, 50), round_to=st.integers(1, 50))
def test_shown_count_is_never_below_the_minimum(count, min_count, round_to):
    shown = shown_count(count, min_count, round_to)
    assert (shown is None) == (count < min_count)
    if shown is not None:
        assert shown >= min_count and abs(shown - count) <= max(round_to, min_count)


# --------------------------------------------------------------------------- searches
@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, postcode_index):
    tmp = tmp_path_factory.mktemp("coprod-props-api")
    app = create_app(Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'a.sqlite'}",
                              demo_data_path=tmp / "absent.csv"), ApiConfig(refresh_seconds=60))
    # Every search counts as poorly served, so every one is recorded.
    app.state.coprod_config = CoprodConfig(demand_threshold=1.0, demand_rate="100000/minute")
    store = app.state.resources.store
    run_import(CSV, store=store, progress=False)
    with TestClient(app) as client:
        yield client, store, app.state.resources.vocabulary


words = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs", "P"]),
                min_size=12, max_size=60).filter(lambda s: len(s.strip()) >= 12)
postcodes = st.sampled_from(["N7 8JN", "E5 0RF", "n1 9gu", "N7", "E9 6FH", None])


@PROPS
@given(age=st.integers(0, 25), about=words, postcode=postcodes,
       needs=st.lists(st.sampled_from(["autism", "ADHD", "deaf", "anxious", "dyslexia",
                                       "wobbly knees"]), max_size=4))
def test_nothing_of_a_search_but_its_cell_is_stored(api, age, about, postcode, needs):
    client, store, vocab = api
    _clear(store, DemandCellRow.__table__)
    body = {"age": age, "about": about, "needs": needs}
    if postcode:
        body["postcode"] = postcode
    assert client.post("/match", json=body).status_code == 200
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(DemandCellRow.__table__)).mappings()]
    assert rows, "a poorly served search adds to at least one cell"
    for row in rows:
        assert set(row) == {"need", "band", "district", "month", "count"}
        assert row["need"] in vocab.needs or row["need"] == NO_NEED
        assert row["district"] == NO_DISTRICT or re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?",
                                                               row["district"])
        assert re.fullmatch(r"\d{4}-\d{2}", row["month"])
        stored = " ".join(str(v) for v in row.values())
        assert about.strip() not in stored
        if postcode and len(postcode) > 3:
            assert postcode.upper() not in stored


# --------------------------------------------------------------------------- feedback
presses = st.lists(st.tuples(st.sampled_from(["s1-aaaaaaaa", "s2-bbbbbbbb", "s3-cccccccc"]),
                             st.sampled_from(["S-001", "S-002"]),
                             st.sampled_from(["helpful", "not_helpful", "out_of_date"])),
                   max_size=30)


@PROPS
@given(presses=presses)
def test_repeated_feedback_from_one_session_counts_once(store, presses):
    _clear(store, FeedbackSeenRow.__table__, FeedbackRow.__table__)
    now = dt.datetime(2026, 5, 1, 10, 30, tzinfo=dt.UTC)
    first: dict[tuple[str, str], str] = {}
    for session, service, kind in presses:
        counted, _ = record_feedback(store.engine, service, kind, session, now=now)
        assert counted == ((session, service) not in first)
        first.setdefault((session, service), kind)
    summary = feedback_summary(store.engine)
    for service in ("S-001", "S-002"):
        expected = {k: 0 for k in ("helpful", "not_helpful", "out_of_date")}
        for (_, svc), kind in first.items():
            if svc == service:
                expected[kind] += 1
        assert summary.get(service, expected) == expected
