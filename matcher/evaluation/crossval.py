"""Cross-validation of tuned settings over an evaluation set's family cases.

A setting (a weight, a parameter) is chosen where the figure is best, and the figure at the
chosen setting flatters it: it was picked by looking at every case. :func:`cross_validate`
says how much: each fold of cases is held out in turn, the setting is chosen on the other
cases only, and the held-out cases are scored with that choice. The mean over the held-out
scores is the figure to expect on families the tuning did not see; it is reported beside
the in-sample figure.

The settings do not learn from the cases, so each setting's per-case figures are computed
once (:func:`per_case_grid`) and the folds only choose among them.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.engine.pipeline import Matcher
from matcher.evaluation.runner import CaseResult, evaluate_set, import_frame

__all__ = ["CVResult", "cross_validate", "folds_of", "per_case_grid"]


@dataclass
class CVResult:
    """What :func:`cross_validate` found.

    ``in_sample_key`` is the setting best over all cases and ``in_sample`` its mean figure;
    ``cv`` is the mean held-out figure when each fold's setting is chosen without it;
    ``chosen`` is the setting each fold chose (in fold order) and ``held_out`` each case's
    held-out figure (in case order).
    """

    in_sample_key: Hashable
    in_sample: float
    cv: float
    chosen: list[Hashable]
    held_out: list[float]
    folds: list[list[int]] = field(default_factory=list)

    def held_out_mean(self, per_case: Mapping[Hashable, Sequence[float]]) -> float:
        """Another figure's mean over held-out cases, each fold taking the setting it chose
        (e.g. recall or violations when the choice was made on NDCG)."""
        values = [math.nan] * len(next(iter(per_case.values())))
        for key, fold in zip(self.chosen, self.folds, strict=True):
            for i in fold:
                values[i] = float(per_case[key][i])
        return _mean(values)

    @property
    def stable(self) -> float:
        """Share of folds that chose the in-sample setting."""
        return sum(c == self.in_sample_key for c in self.chosen) / len(self.chosen)


def folds_of(n: int, k: int | None = None, seed: int = 0) -> list[list[int]]:
    """Indices 0..n-1 split into ``k`` folds of near-equal size (shuffled with ``seed``), or
    one case per fold when ``k`` is None or at least ``n`` (leave-one-out).

    >>> folds_of(4)
    [[0], [1], [2], [3]]
    >>> sorted(len(f) for f in folds_of(10, 3))
    [3, 3, 4]
    """
    if n < 2:
        raise ValueError(f"cross-validation needs at least 2 cases, got {n}")
    if k is None or k >= n:
        return [[i] for i in range(n)]
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {k}")
    order = np.random.default_rng(seed).permutation(n)
    return [sorted(int(i) for i in part) for part in np.array_split(order, k)]


def _mean(xs: Sequence[float]) -> float:
    xs = [x for x in xs if not math.isnan(x)]
    return float(np.mean(xs)) if xs else math.nan


def cross_validate(per_case: Mapping[Hashable, Sequence[float]], k: int | None = None,
                   seed: int = 0, *, higher_is_better: bool = True) -> CVResult:
    """Choose among settings on all cases (in sample) and fold by fold (cross-validated).

    ``per_case`` maps each setting to its figure on every case, in the same case order
    (NaN for a case the figure does not apply to; it is left out of means). ``k`` folds, or
    leave-one-out when ``k`` is None. Ties go to the setting listed first, so list the
    current setting first.

    >>> r = cross_validate({"a": [1.0, 0.0, 1.0, 0.0], "b": [0.0, 1.0, 0.9, 1.0]})
    >>> r.in_sample_key, round(r.in_sample, 3), round(r.cv, 3)
    ('b', 0.725, 0.225)
    """
    keys = list(per_case)
    if not keys:
        raise ValueError("cross-validation needs at least one setting")
    if len({len(per_case[key]) for key in keys}) != 1:
        raise ValueError("every setting needs a figure for every case, in the same order")
    table = np.array([[float(x) for x in per_case[key]] for key in keys], dtype=np.float64)
    sign = 1.0 if higher_is_better else -1.0

    def best(cols: np.ndarray) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # an all-NaN row: handled below
            means = np.nanmean(table[:, cols], axis=1)
        means = np.where(np.isnan(means), -np.inf, sign * means)
        return int(np.argmax(means))   # first of equals

    n = table.shape[1]
    folds = folds_of(n, k, seed)
    held_out = [math.nan] * n
    chosen: list[Hashable] = []
    for fold in folds:
        held = set(fold)
        train = np.array([i for i in range(n) if i not in held], dtype=np.intp)
        pick = best(train)
        chosen.append(keys[pick])
        for i in fold:
            held_out[i] = float(table[pick, i])
    top = best(np.arange(n))
    return CVResult(keys[top], _mean(table[top].tolist()), _mean(held_out), chosen, held_out,
                    folds)


def per_case_grid(set_dir: str | Path, settings: Mapping[Hashable, MatchConfig], *,
                  sparse: bool = False, today: dt.date | None = None,
                  progress: Callable[[str], None] | None = None
                  ) -> dict[Hashable, list[CaseResult]]:
    """Each setting's per-case results on an evaluation set (engine only).

    The services are imported once (blanked first with ``sparse``, as ``matcher evaluate
    --sparse`` does) and a matcher is built for each setting's configuration.
    """
    set_dir = Path(set_dir)
    frame = import_frame(set_dir / "services.csv", sparse=sparse)
    out: dict[Hashable, list[CaseResult]] = {}
    built: dict[str, Matcher] = {}
    for i, (key, cfg) in enumerate(settings.items(), start=1):
        if progress:
            progress(f"{i}/{len(settings)} {key}")
        # Settings that differ only in the text cap (read at match time) share one build.
        same = cfg.model_copy(update={"text": cfg.text.model_copy(update={"cap": 1.0})})
        sig = same.model_dump_json()
        if sig not in built:
            built[sig] = Matcher.from_frame(frame, cfg=cfg)
        base = built[sig]
        matcher = Matcher(base.table, base.vocab, base.gazetteer, cfg)
        out[key] = evaluate_set(set_dir, baselines=False, matcher=matcher, today=today).engine
    return out
