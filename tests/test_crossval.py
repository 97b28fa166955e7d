"""Cross-validation of tuned settings over family cases (matcher.evaluation.crossval)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from matcher.evaluation.crossval import cross_validate, folds_of


def test_leave_one_out_has_one_case_per_fold():
    assert folds_of(5) == [[0], [1], [2], [3], [4]]
    assert folds_of(3, k=10) == [[0], [1], [2]]


@pytest.mark.parametrize("n, k", [(30, 5), (31, 4), (7, 2)])
def test_k_folds_hold_out_every_case_once(n, k):
    folds = folds_of(n, k, seed=3)
    assert len(folds) == k
    flat = sorted(i for f in folds for i in f)
    assert flat == list(range(n))
    sizes = [len(f) for f in folds]
    assert max(sizes) - min(sizes) <= 1
    assert folds_of(n, k, seed=3) == folds  # the same seed, the same folds


@pytest.mark.parametrize("n, k, match", [(1, None, "at least 2 cases"), (5, 1, "at least 2 folds")])
def test_too_few_cases_or_folds_is_refused(n, k, match):
    with pytest.raises(ValueError, match=match):
        folds_of(n, k)


def test_a_setting_that_wins_by_luck_on_one_case_loses_out_of_sample():
    # "lucky" is best in sample only because of one case; held out, that case goes to "steady".
    per_case = {"steady": [0.6, 0.6, 0.6, 0.6], "lucky": [0.5, 0.5, 0.5, 1.0]}
    r = cross_validate(per_case)
    assert r.in_sample_key == "lucky" and r.in_sample == pytest.approx(0.625)
    assert r.chosen == ["lucky", "lucky", "lucky", "steady"]
    assert r.held_out == pytest.approx([0.5, 0.5, 0.5, 0.6])
    assert r.cv == pytest.approx(0.525) and r.cv < r.in_sample
    assert r.stable == pytest.approx(0.75)


def test_a_setting_better_everywhere_keeps_its_figure():
    per_case = {"a": [0.1, 0.2, 0.3, 0.4, 0.5], "b": [0.2, 0.3, 0.4, 0.5, 0.6]}
    r = cross_validate(per_case, k=2)
    assert r.in_sample_key == "b" and r.chosen == ["b", "b"]
    assert r.cv == pytest.approx(r.in_sample) == pytest.approx(0.4)


def test_ties_go_to_the_setting_listed_first():
    r = cross_validate({"current": [0.5, 0.7, 0.9], "new": [0.5, 0.7, 0.9]})
    assert r.in_sample_key == "current" and set(r.chosen) == {"current"}


def test_nan_cases_are_left_out_of_the_means():
    r = cross_validate({"a": [1.0, math.nan, 0.0], "b": [0.4, 0.4, 0.4]})
    assert r.in_sample_key == "a" and r.in_sample == pytest.approx(0.5)
    assert not math.isnan(r.cv)


def test_lower_is_better_for_a_rate_of_violations():
    r = cross_validate({"a": [1, 0, 1], "b": [0, 0, 0]}, higher_is_better=False)
    assert r.in_sample_key == "b" and r.cv == 0.0


def test_another_figure_follows_the_same_choices():
    ndcg = {"a": [0.9, 0.1, 0.9], "b": [0.5, 0.5, 0.5]}
    violations = {"a": [1.0, 1.0, 1.0], "b": [0.0, 0.0, 0.0]}
    r = cross_validate(ndcg)
    expected = np.mean([violations[key][f[0]] for key, f in zip(r.chosen, r.folds, strict=True)])
    assert r.held_out_mean(violations) == pytest.approx(expected)


def test_settings_of_unequal_length_are_refused():
    with pytest.raises(ValueError, match="every setting needs a figure for every case"):
        cross_validate({"a": [0.1, 0.2], "b": [0.1]})


def test_the_text_tuning_runs_on_the_dev_set(shared_dir):
    from matcher.engine.config import load_config
    from matcher.evaluation.tune_text import text_settings, tune_text

    set_dir = shared_dir / "eval" / "dev"
    if not (set_dir / "cases.jsonl").exists():
        pytest.skip("../shared/eval/dev is not present; the text tuning cannot be run")
    cfg = load_config()
    settings = text_settings(cfg, caps=(0.4,), k1s=(1.2,), bs=(0.3,), norms=("cosine",))
    settings = dict(list(settings.items())[:3])  # in use, TF-IDF, one BM25F setting
    tuning = tune_text(set_dir, cfg, k=5, today=dt.date(2026, 11, 22), settings=settings)
    assert set(tuning.figures) == {"full", "sparse"}
    assert tuning.cv.in_sample_key in settings and len(tuning.cv.folds) == 5
    for run in ("full", "sparse"):
        assert 0 < tuning.held_out(run) <= 1
        assert 0 < tuning.mean(run, "in use") <= 1
    text = tuning.format_text()
    assert "cross-validated (5 folds)" in text and "best in sample" in text


def test_tune_text_command_says_what_is_wrong_with_its_input(tmp_path, capsys):
    from matcher.cli import main

    assert main(["tune-text", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "has no services.csv or cases.jsonl" in err and "evaluation set" in err
    (tmp_path / "services.csv").write_text("id\n", encoding="utf-8")
    (tmp_path / "cases.jsonl").write_text("", encoding="utf-8")
    assert main(["tune-text", str(tmp_path), "--folds", "1"]) == 2
    assert "--folds must be 2 or more" in capsys.readouterr().err
