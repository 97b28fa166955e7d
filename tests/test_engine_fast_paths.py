"""The engine's fast paths give exactly what the plain way gives.

Each precomputed lookup (prepared venue trigonometry, district -> rows index, integer id ranks
and kind codes, cost flags) and each batched step (shared terms for all results, explanations
for all results) is checked against a slow, readable reference on the same data.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from engine_support import explicit_config, property_directory
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.components import LABELS, MatchInputs, score_all
from matcher.engine.config import MatchConfig
from matcher.engine.explain import explain_row, explain_rows
from matcher.engine.features import text_fields
from matcher.engine.pipeline import Matcher
from matcher.engine.rank import _earlier_same, rank
from matcher.engine.text import FieldedTextIndex, analyse
from matcher.geo.distance import SpherePoints, haversine_km, haversine_km_from
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture(scope="module")
def directory(postcode_index, vocab) -> Matcher:
    return Matcher.from_frame(records_to_frame(property_directory(postcode_index, vocab)),
                              gazetteer=postcode_index, cfg=explicit_config())


# --- distance ---------------------------------------------------------------------------------

def test_prepared_points_give_bit_identical_distances():
    rng = np.random.default_rng(11)
    lat, lon = rng.uniform(49.9, 58.7, 2000), rng.uniform(-6.4, 1.8, 2000)
    lat[::7] = np.nan  # services without a venue
    points = SpherePoints.from_degrees(lat, lon)
    for origin in [(51.5007, -0.1246), (55.9486, -3.1999), (-33.86, 151.21)]:
        fast = haversine_km_from(*origin, points)
        plain = haversine_km(*origin, lat, lon)
        np.testing.assert_array_equal(fast, plain)  # exact, NaN where NaN
        assert np.isnan(fast[::7]).all()


def test_haversine_matches_the_textbook_formula_with_numpy_radians():
    # The rewrite multiplies by pi/180 instead of calling np.radians: the same operation.
    rng = np.random.default_rng(3)
    lat1, lat2 = rng.uniform(-90, 90, (2, 500))
    lon1, lon2 = rng.uniform(-180, 180, (2, 500))
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (np.sin((p2 - p1) / 2.0) ** 2
         + np.cos(p1) * np.cos(p2) * np.sin((np.radians(lon2) - np.radians(lon1)) / 2.0) ** 2)
    textbook = 2.0 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    np.testing.assert_array_equal(haversine_km(lat1, lon1, lat2, lon2), textbook)


def test_prepared_points_need_matching_shapes():
    with pytest.raises(ValueError, match="same shape"):
        SpherePoints.from_degrees([51.5, 52.0], [-0.1])


def test_table_points_are_the_venues(directory):
    t = directory.table
    np.testing.assert_array_equal(t.points.lat_rad, np.radians(t.lat))
    np.testing.assert_array_equal(t.points.cos_lat, np.cos(np.radians(t.lat)))
    assert len(t.points) == t.n


# --- derived table lookups --------------------------------------------------------------------

def test_area_rows_index_matches_the_area_matrix(directory):
    t = directory.table
    assert t.area_rows, "the property directory has services with stated areas"
    dense = t.dense_area_matrix()
    for d, rows in t.area_rows.items():
        col = t.area_districts.index(d)
        np.testing.assert_array_equal(rows, np.flatnonzero(dense[:, col]))
    assert set(t.area_rows) == {d for i, d in enumerate(t.area_districts)
                                if dense[:, i].any()}
    for row in range(t.n):
        np.testing.assert_array_equal(t.area_columns(row), np.flatnonzero(dense[row]))


@pytest.mark.parametrize("district", ["N7", "N19", "EC1V", "EC1", "N1", "LS6", "ZZ9"])
def test_area_rule_matches_a_per_service_check(directory, district):
    from matcher.engine.eligibility import _area_ok

    t = directory.table
    records = t.records
    expected = []
    for rec in records:  # the straightforward way, one service at a time
        area = {a.upper() for a in rec["service_area"] or []}
        ok = (not area or "NATIONAL" in area or district in area
              or (district[-1].isalpha() and district[:-1] in area))
        expected.append(ok)
    np.testing.assert_array_equal(_area_ok(t, district), np.array(expected))


def test_id_rank_sorts_like_the_ids_and_kind_code_compares_like_the_kinds(directory):
    t = directory.table
    assert [t.ids[i] for i in np.argsort(t.id_rank, kind="stable")] == sorted(t.ids.tolist())
    same_code = t.kind_code[:, None] == t.kind_code[None, :]
    same_kind = np.array([[a == b for b in t.kind] for a in t.kind])
    np.testing.assert_array_equal(same_code, same_kind)


def test_cost_flags(directory):
    t = directory.table
    np.testing.assert_array_equal(t.cost_stated, np.array([c != "" for c in t.cost]))
    np.testing.assert_array_equal(t.cost_free, np.array([c == "free" for c in t.cost]))
    np.testing.assert_array_equal(t.cost_free_for_some,
                                  np.array([c == "free_for_some" for c in t.cost]))
    assert t.cost_free.any() and (t.cost_stated & ~t.cost_free).any()


# --- rank -------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=80))
def test_earlier_same_is_a_cumcount(codes):
    codes = np.array(codes)
    slow = [int(np.sum(codes[:i] == c)) for i, c in enumerate(codes)]
    assert _earlier_same(codes).tolist() == slow


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 400), limit=st.integers(1, 30))
def test_rank_on_integer_codes_equals_rank_on_strings(seed, n, limit):
    rng = np.random.default_rng(seed)
    cfg: MatchConfig = explicit_config()
    cfg = cfg.model_copy(update={"rank": cfg.rank.model_copy(update={"pool": 50})})
    score = rng.choice([0.1, 0.25, 0.5, 0.5, 0.75, 0.9], n) + rng.choice([0.0, 1e-9], n)
    eligible = rng.random(n) < 0.8
    ids = np.array([f"S{rng.integers(0, 10 * n):05d}" for _ in range(n)], dtype=object)
    kind = np.array([f"cat{rng.integers(0, 4)}|org{rng.integers(0, 3)}" for _ in range(n)],
                    dtype=object)
    id_rank = np.unique(ids, return_inverse=True)[1].ravel()
    kind_code = np.unique(kind.astype(str), return_inverse=True)[1].ravel()
    rows_s, adj_s = rank(score, eligible, ids, kind, limit, cfg)
    rows_i, adj_i = rank(score, eligible, id_rank, kind_code, limit, cfg)
    np.testing.assert_array_equal(rows_s, rows_i)
    np.testing.assert_array_equal(adj_s, adj_i)


# --- text -------------------------------------------------------------------------------------

def _slow_shared_terms(index: FieldedTextIndex, text: str, row: int, n: int = 3) -> list[str]:
    """Shared terms the readable way: a dense product, best first, first stored on ties, kept
    only if the family wrote the term and the record's own words hold it."""
    q = index.query(text).vector.toarray().ravel()
    m, names = index._model_matrix()
    said = {str(index.feature_names_[j]) for j in index.own_[row].indices}
    wrote = set(analyse(text))
    start, end = m.indptr[row], m.indptr[row + 1]
    entries = [(float(m.data[i]) * q[m.indices[i]], k, str(names[m.indices[i]]))
               for k, i in enumerate(range(start, end))]
    out: list[str] = []
    for _prod, _k, term in sorted((e for e in entries if e[0] > 0), key=lambda e: (-e[0], e[1])):
        words = term.split()
        if term not in said or term not in wrote:
            continue
        if len(set(words)) < len(words) or any(term in t or t in term for t in out):
            continue
        out.append(term)
        if len(out) == n:
            break
    return out


@pytest.mark.parametrize("text", ["autism club for autistic teenagers", "deaf swimming",
                                  "speech and language therapy", "zzqx", ""])
def test_shared_terms_many_matches_a_row_by_row_reference(directory, text):
    index = directory.table.text_index
    rows = list(range(directory.table.n))
    many = index.shared_terms_many(text, rows)
    assert many == [_slow_shared_terms(index, text, r) for r in rows]
    assert many == [index.shared_terms(text, r) for r in rows]
    if text == "autism club for autistic teenagers":
        assert any(many), "some service shares a term with the text"


@pytest.mark.parametrize("text", ["autism club for autistic teenagers", "deaf swimming"])
def test_shared_terms_many_matches_the_reference_with_the_tfidf_model(directory, text):
    tfidf = directory.table.text_index
    tfidf = FieldedTextIndex(**{**tfidf.get_params(), "model": "tfidf"})
    tf = text_fields(directory.table.frame, directory.vocab, directory.cfg)
    tfidf.fit(tf.fields, tf.own, tf.whole)
    rows = list(range(directory.table.n))
    many = tfidf.shared_terms_many(text, rows)
    assert many == [_slow_shared_terms(tfidf, text, r) for r in rows]
    assert any(many)


def test_shared_terms_many_of_no_rows(directory):
    assert directory.table.text_index.shared_terms_many("autism", []) == []


# --- explain ----------------------------------------------------------------------------------

def test_explain_rows_equals_explain_row_one_at_a_time(directory):
    """Batched explanations are the same objects, field for field, as one-row ones."""
    from matcher.engine.profile import Profile

    m = directory
    profile = Profile.model_validate({
        "age": 10, "needs": ["autism", "anxiety"], "about": "he hates noise, swimming?",
        "postcode": "N7 8JN", "transition": "primary_to_secondary",
        "preferences": {"categories": ["leisure"], "language": "Turkish"}, "limit": 10})
    outcome = m.match(profile, today=TODAY)
    assert len(outcome.results) >= 3

    # Rebuild the pipeline's inputs to call explain_row and explain_rows directly.
    from matcher.engine import pipeline as pl

    q = pl.prepare_query(profile, m.vocab, m.gazetteer, m.cfg)
    levels = pl.need_levels(m.table, q, m.vocab, m.cfg)
    elig = pl.check_eligibility(m.table, q, levels, m.cfg)
    scored = score_all(MatchInputs(m.table, q, m.cfg, levels, TODAY))
    combined = pl.combine(scored, m.cfg)
    rows, adjusted = rank(combined.score, elig.eligible, m.table.id_rank, m.table.kind_code,
                          10, m.cfg)
    variety = (adjusted - combined.score[rows]).tolist()
    batch = explain_rows(rows, variety, m.table, q, scored, levels, combined, elig, m.vocab,
                         m.cfg, TODAY, LABELS)
    single = [explain_row(int(r), m.table, q, scored, levels, combined, elig, v, m.vocab,
                          m.cfg, TODAY, LABELS) for r, v in zip(rows, variety, strict=True)]
    assert batch == single
    assert [r.service_id for r in outcome.results] == [str(m.table.ids[r]) for r in rows]
    assert [r.reasons for r in outcome.results] == [reasons for _, reasons in batch]
    for expl, _ in batch:
        assert math.isclose(expl.total, sum(c.points for c in expl.contributions))
