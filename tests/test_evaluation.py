"""matcher.evaluation: metrics against hand-computed values, baselines' basic behaviour, the
report summary, and ``matcher evaluate`` on the shared development set."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from engine_support import TODAY, property_directory
from geopy.distance import geodesic

from matcher.cli import main
from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.engine.query import prepare_query
from matcher.evaluation.baselines import BASELINES, nearest_first, quick_rules
from matcher.evaluation.metrics import hit_rate, ndcg, recall_at, violation
from matcher.evaluation.runner import CaseResult, EvaluationReport, load_cases
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary

BASELINE_NAMES = {"nearest_first", "directory_search", "tfidf_only", "quick_rules"}
METRIC_KEYS = {"ndcg@10", "recall3@10", "violation_rate"}

# -- metrics -------------------------------------------------------------------------------


def test_ndcg_hand_computed():
    # Gains 2^g - 1: b=7, c=3, d=1. Ranked a, b, c: DCG = 0/1 + 7/log2(3) + 3/log2(4).
    # Ideal b, c, d: IDCG = 7/1 + 3/log2(3) + 1/log2(4).
    got = ndcg(["a", "b", "c"], {"b": 3, "c": 2, "d": 1})
    expected = (7 / math.log2(3) + 3 / 2) / (7 + 3 / math.log2(3) + 1 / 2)
    assert got == pytest.approx(expected, abs=1e-12)
    assert got == pytest.approx(0.62990, abs=1e-5)


def test_ndcg_edges():
    assert ndcg(["b", "c", "d"], {"b": 3, "c": 2, "d": 1}) == pytest.approx(1.0)
    assert ndcg([], {"b": 3}) == 0.0
    assert math.isnan(ndcg(["a"], {}))
    assert math.isnan(ndcg(["a"], {"a": 0}))
    ranked = [f"x{i}" for i in range(10)] + ["b"]
    assert ndcg(ranked, {"b": 3}) == 0.0  # 11th place is outside the top 10
    assert ndcg(ranked, {"b": 3}, n=11) == pytest.approx(1 / math.log2(12))


def test_recall_of_grade_3_services():
    relevant = {"a": 3, "b": 3, "c": 3, "d": 2}
    assert recall_at(["a", "x", "b"], relevant) == pytest.approx(2 / 3)
    assert recall_at(["a", "x", "b"], relevant, n=1) == pytest.approx(1 / 3)
    assert recall_at(["d"], relevant) == 0.0
    assert recall_at(["d"], relevant, grade=2) == 1.0
    assert math.isnan(recall_at(["a"], {"a": 2}))


def test_violation():
    assert violation(["a", "b"], ["b"]) == 1.0
    assert violation(["a", "b"], ["z"]) == 0.0
    assert violation(["a", "b"], ["b"], n=1) == 0.0
    assert violation([], []) == 0.0


def test_hit_rate():
    assert hit_rate(["x", "y", "a"], {"a": 1}) == 1.0
    assert hit_rate(["x", "y", "a"], {"a": 1}, n=2) == 0.0
    assert math.isnan(hit_rate(["a"], {}))


def test_summary_ignores_nan_and_rounds():
    rows = [CaseResult("c1", [], 0.5, math.nan, 0.0),
            CaseResult("c2", [], 1.0, 1.0, 1.0),
            CaseResult("c3", [], math.nan, 0.0, 0.0)]
    assert EvaluationReport.summary(rows) == {"ndcg@10": 0.75, "recall3@10": 0.5,
                                              "violation_rate": 0.3333}
    empty = EvaluationReport.summary([CaseResult("c", [], math.nan, math.nan, 0.0)])
    assert math.isnan(empty["ndcg@10"]) and empty["violation_rate"] == 0.0


def test_report_text_lists_engine_and_baselines():
    row = CaseResult("c1", ["a"], 1.0, 1.0, 0.0)
    report = EvaluationReport(engine=[row], baselines={"nearest_first": [row]})
    lines = report.format_text().splitlines()
    assert lines[0].split() == ["ranker", "NDCG@10", "recall3@10", "violations"]
    assert lines[1].split() == ["engine", "1.000", "1.000", "0.000"]
    assert lines[2].split()[0] == "nearest_first"
    assert report.to_dict()["baselines"]["nearest_first"]["ndcg@10"] == 1.0


def test_load_cases_skips_blank_lines_and_names_a_bad_line(tmp_path: Path):
    path = tmp_path / "cases.jsonl"
    path.write_text('{"id": "a"}\n\n{"id": "b"}\n', encoding="utf-8")
    assert [c["id"] for c in load_cases(path)] == ["a", "b"]
    path.write_text('{"id": "a"}\n{"id": \n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        load_cases(path)


# -- baselines -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matcher(postcode_index) -> Matcher:
    records = property_directory(postcode_index, load_vocabulary())
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index)


def _query(m: Matcher, **profile):
    return prepare_query(Profile.model_validate(profile), m.vocab, m.gazetteer, m.cfg)


@pytest.mark.parametrize("name", sorted(BASELINE_NAMES))
def test_every_baseline_respects_age_and_limit(matcher, name):
    assert set(BASELINES) == BASELINE_NAMES
    q = _query(matcher, age=10, needs=["autism"], postcode="N7 8JN")
    t = matcher.table
    ranked = BASELINES[name](t, q, matcher.cfg, 5)
    assert len(ranked) <= 5 and len(set(ranked)) == len(ranked)
    for sid in ranked:
        i = int(np.flatnonzero(t.ids == sid)[0])
        assert np.isnan(t.min_age[i]) or t.min_age[i] <= 10
        assert np.isnan(t.max_age[i]) or t.max_age[i] >= 10


def test_nearest_first_orders_by_distance_with_no_venue_last(matcher):
    t = matcher.table
    q = _query(matcher, age=10, postcode="N7 8JN")
    ranked = nearest_first(t, q, matcher.cfg, 50)
    rows = [int(np.flatnonzero(t.ids == sid)[0]) for sid in ranked]
    with_venue = [i for i in rows if not np.isnan(t.lat[i])]
    assert rows[:len(with_venue)] == with_venue  # services with no venue come last
    km = [geodesic((q.lat, q.lon), (t.lat[i], t.lon[i])).km for i in with_venue]
    assert all(a <= b * 1.005 + 1e-9 for a, b in itertools.pairwise(km))
    assert ranked[0] == "P17"  # Grove Primary, N5 1XL: 0.4 km


def test_quick_rules_applies_area_and_ehcp(matcher):
    ranked = quick_rules(matcher.table, _query(matcher, age=12, postcode="N7 8JN",
                                               about="youth club"), matcher.cfg, 50)
    assert "P05" not in ranked  # EHCP only
    assert "P22" not in ranked  # EC1V only
    assert "P21" not in ranked  # EC1 only


# -- matcher evaluate on the shared development set ----------------------------------------


@pytest.fixture(scope="module")
def dev_summary(shared_dir) -> dict:
    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").is_file() or not (set_dir / "services.csv").is_file():
        pytest.skip(f"the development evaluation set {set_dir} is absent")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["evaluate", str(set_dir), "--json", "--today", TODAY.isoformat()])
    assert code == 0
    return json.loads(out.getvalue())


def test_evaluate_json_has_engine_and_four_baselines(dev_summary):
    assert set(dev_summary) >= {"engine", "baselines"}
    assert set(dev_summary["baselines"]) == BASELINE_NAMES
    for figures in [dev_summary["engine"], *dev_summary["baselines"].values()]:
        assert set(figures) >= METRIC_KEYS
        for key in METRIC_KEYS:
            assert 0.0 <= figures[key] <= 1.0


def test_engine_beats_every_baseline_on_ndcg(dev_summary):
    engine = dev_summary["engine"]["ndcg@10"]
    for name, figures in dev_summary["baselines"].items():
        assert engine > figures["ndcg@10"], name
