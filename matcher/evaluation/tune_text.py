"""``matcher tune-text``: the text-relevance settings on an evaluation set, cross-validated.

Every setting of a small grid (the plain TF-IDF model, and BM25F over ``k1``, ``b``, the
field weights and the normalisation, each with a few values of the text cap) is run on the
full set and on the blanked one (``--sparse``). A setting is chosen on the mean of the two
NDCG@10 figures per family, so one configuration serves both; the report gives the chosen
setting's in-sample figures and the cross-validated ones (each fold of families scored with
the setting chosen without it), beside the configuration in use and TF-IDF.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.evaluation.crossval import CVResult, cross_validate, per_case_grid

__all__ = ["TextTuning", "text_settings", "tune_text"]

#: Field weights tried (name, first sentence, rest, audience words, tags).
FIELD_PRESETS: dict[str, dict[str, float]] = {
    "flat": {"name": 1.0, "first": 1.0, "rest": 1.0, "audience": 1.0, "tags": 1.0},
    "lead": {"name": 2.0, "first": 1.5, "rest": 1.0, "audience": 1.5, "tags": 1.0},
    "name3": {"name": 3.0, "first": 2.0, "rest": 1.0, "audience": 1.0, "tags": 1.0},
}


def _with_text(cfg: MatchConfig, fields: dict[str, float] | None = None, **text) -> MatchConfig:
    t = cfg.text.model_copy(update=text)
    if fields is not None:
        t = t.model_copy(update={"fields": cfg.text.fields.model_copy(update=fields)})
    return cfg.model_copy(update={"text": t})


def text_settings(cfg: MatchConfig, *, caps: tuple[float, ...] = (0.3, 0.4, 0.5),
                  k1s: tuple[float, ...] = (0.8, 1.2, 2.0), bs: tuple[float, ...] = (0.3, 0.75),
                  norms: tuple[str, ...] = ("query", "cosine")) -> dict[str, MatchConfig]:
    """The grid, keyed by a readable name; the configuration in use comes first."""
    out: dict[str, MatchConfig] = {"in use": cfg}
    for cap in caps:
        out[f"tfidf cap={cap}"] = _with_text(cfg, model="tfidf", cap=cap)
    for norm, k1, b, preset, cap in itertools.product(norms, k1s, bs, FIELD_PRESETS, caps):
        out[f"bm25f {norm} k1={k1} b={b} fields={preset} cap={cap}"] = _with_text(
            cfg, FIELD_PRESETS[preset], model="bm25f", norm=norm, k1=k1, b=b, cap=cap)
    return out


@dataclass
class TextTuning:
    """Per-case figures of every setting on the full and blanked sets, and the CV choice."""

    figures: dict[str, dict[Hashable, dict[str, list[float]]]]  # run -> setting -> metric -> cases
    cv: CVResult

    def mean(self, run: str, key: Hashable, metric: str = "ndcg") -> float:
        xs = [x for x in self.figures[run][key][metric] if not math.isnan(x)]
        return float(np.mean(xs)) if xs else math.nan

    def held_out(self, run: str, metric: str = "ndcg") -> float:
        return self.cv.held_out_mean({k: v[metric] for k, v in self.figures[run].items()})

    def format_text(self) -> str:
        runs = ("full", "sparse")
        metrics = (("ndcg", "NDCG@10"), ("recall3", "recall3"), ("violation", "violations"))
        head = f"{'':<52}" + "".join(f"{r + ' ' + m:>19}" for r in runs for _, m in metrics)
        lines = [head]

        def row(label: str, get: Callable[[str, str], float]) -> str:
            return f"{label[:52]:<52}" + "".join(f"{get(r, m):>19.3f}" for r in runs
                                                 for m, _ in metrics)

        tfidf = [k for k in self.figures["full"] if str(k).startswith("tfidf")]
        for label, key in (("in use", "in use"), *((str(k), k) for k in tfidf),
                           (f"best in sample: {self.cv.in_sample_key}", self.cv.in_sample_key)):
            lines.append(row(label, lambda r, m, k=key: self.mean(r, k, m)))
        lines.append(row(f"cross-validated ({len(self.cv.folds)} folds)", self.held_out))
        lines.append(f"best in sample: {self.cv.in_sample_key}")
        lines.append(f"folds choosing it: {self.cv.stable:.0%}; settings tried: "
                     f"{len(self.figures['full'])}; chosen on the mean of the full and blanked "
                     "NDCG@10 per family")
        return "\n".join(lines)


def tune_text(set_dir: str | Path, cfg: MatchConfig, *, k: int | None = None,
              today: dt.date | None = None, settings: dict[str, MatchConfig] | None = None,
              progress: Callable[[str], None] | None = None) -> TextTuning:
    """Run the grid on the full and blanked set and cross-validate the choice over families
    (``k`` folds, or leave-one-out when None)."""
    settings = settings or text_settings(cfg)
    figures: dict[str, dict[Hashable, dict[str, list[float]]]] = {}
    for run in ("full", "sparse"):
        grid = per_case_grid(set_dir, settings, sparse=run == "sparse", today=today,
                             progress=(lambda s, r=run: progress(f"{r} {s}")) if progress else None)
        figures[run] = {key: {"ndcg": [c.ndcg for c in cases],
                              "recall3": [c.recall3 for c in cases],
                              "violation": [c.violation for c in cases]}
                        for key, cases in grid.items()}
    objective = {key: [(a + b) / 2 for a, b in zip(figures["full"][key]["ndcg"],
                                                   figures["sparse"][key]["ndcg"], strict=True)]
                 for key in settings}
    return TextTuning(figures, cross_validate(objective, k))
