"""Quality ratchet: the engine must not fall below the figures in data/quality_floor.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from matcher.evaluation.runner import evaluate_set

FLOOR = Path(__file__).resolve().parents[1] / "data" / "quality_floor.json"


@pytest.fixture(scope="module")
def dev_report(shared_dir):
    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").exists():
        pytest.skip("../shared/eval/dev is not present; the quality floor cannot be checked")
    floor = json.loads(FLOOR.read_text(encoding="utf-8"))
    return floor, evaluate_set(set_dir, today=dt.date.fromisoformat(floor["today"]))


def test_engine_stays_above_the_floor(dev_report):
    floor, report = dev_report
    engine = report.to_dict()["engine"]
    assert engine["ndcg@10"] >= floor["ndcg@10"]
    assert engine["recall3@10"] >= floor["recall3@10"]
    assert engine["violation_rate"] <= floor["violation_rate"]


def test_engine_beats_every_baseline(dev_report):
    _, report = dev_report
    summary = report.to_dict()
    for name, figures in summary["baselines"].items():
        assert summary["engine"]["ndcg@10"] >= figures["ndcg@10"] + 0.12, name


def test_families_who_only_write_do_as_well_as_the_floor_says(shared_dir):
    """Every dev family again with its needs list dropped, keeping only its own words."""
    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").exists():
        pytest.skip("../shared/eval/dev is not present; the free-text floor cannot be checked")
    floor = json.loads(FLOOR.read_text(encoding="utf-8"))
    report = evaluate_set(set_dir, baselines=False, free_text_only=True,
                          today=dt.date.fromisoformat(floor["today"]))
    with_words = [c for c in map(json.loads, (set_dir / "cases.jsonl").read_text(
        encoding="utf-8").splitlines()) if str(c["profile"].get("about") or "").strip()]
    assert len(report.engine) == len(with_words) > 0
    engine = report.to_dict()["engine"]
    want = floor["free_text_only"]
    assert engine["ndcg@10"] >= want["ndcg@10"]
    assert engine["recall3@10"] >= want["recall3@10"]
    assert engine["violation_rate"] <= want["violation_rate"]


def test_records_known_only_by_their_words_stay_above_the_sparse_floor(shared_dir):
    """The services' structured fields blanked as real feeds leave them (--sparse): the
    engine stays above its floor and ahead of TF-IDF alone by the margin the floor records."""
    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").exists():
        pytest.skip("../shared/eval/dev is not present; the sparse floor cannot be checked")
    floor = json.loads(FLOOR.read_text(encoding="utf-8"))
    want = floor["sparse"]
    summary = evaluate_set(set_dir, sparse=True,
                           today=dt.date.fromisoformat(floor["today"])).to_dict()
    engine = summary["engine"]
    assert engine["ndcg@10"] >= want["ndcg@10"]
    assert engine["recall3@10"] >= want["recall3@10"]
    assert engine["violation_rate"] <= want["violation_rate"]
    tfidf = summary["baselines"]["tfidf_only"]["ndcg@10"]
    assert engine["ndcg@10"] >= tfidf + want["margin_over_tfidf"]
