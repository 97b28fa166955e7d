"""``matcher evaluate``: the engine and four baselines on an evaluation set (contract section 4)."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.engine.query import prepare_query
from matcher.evaluation.baselines import BASELINES
from matcher.evaluation.metrics import ndcg, recall_at, violation

__all__ = ["SPARSE_COLUMNS", "CaseResult", "EvaluationReport", "blank_columns", "build_matcher_for_csv",
           "evaluate_set", "import_frame", "load_cases"]

#: The structured fields real feeds leave blank (``matcher evaluate --sparse`` blanks them), so
#: that the engine is measured on what the records' own words say.
SPARSE_COLUMNS: tuple[str, ...] = ("needs", "min_age", "max_age", "transitions", "ehcp_required",
                                   "accessibility", "languages", "referral")


@dataclass
class CaseResult:
    case_id: str
    ranked: list[str]
    ndcg: float
    recall3: float
    violation: float


@dataclass
class EvaluationReport:
    engine: list[CaseResult]
    baselines: dict[str, list[CaseResult]] = field(default_factory=dict)

    @staticmethod
    def summary(rows: list[CaseResult]) -> dict[str, float]:
        def mean(xs: list[float]) -> float:
            xs = [x for x in xs if not math.isnan(x)]
            return round(float(np.mean(xs)), 4) if xs else math.nan

        return {"ndcg@10": mean([r.ndcg for r in rows]),
                "recall3@10": mean([r.recall3 for r in rows]),
                "violation_rate": mean([r.violation for r in rows])}

    def to_dict(self) -> dict:
        return {"engine": self.summary(self.engine),
                "baselines": {k: self.summary(v) for k, v in self.baselines.items()}}

    def format_text(self) -> str:
        lines = [f"{'ranker':<18} {'NDCG@10':>8} {'recall3@10':>11} {'violations':>11}"]
        for name, rows in [("engine", self.engine), *self.baselines.items()]:
            s = self.summary(rows)
            lines.append(f"{name:<18} {s['ndcg@10']:>8.3f} {s['recall3@10']:>11.3f} "
                         f"{s['violation_rate']:>11.3f}")
        return "\n".join(lines)


def load_cases(path: str | Path) -> list[dict]:
    """Read a cases.jsonl file (one JSON object a line; blank lines ignored)."""
    out = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path} line {i} is not valid JSON: {exc.msg}") from None
    return out


def import_frame(csv_path: str | Path, *, sparse: bool = False) -> pd.DataFrame:
    """Import a services CSV into a temporary SQLite store and return its services frame;
    ``sparse`` blanks :data:`SPARSE_COLUMNS` first."""
    from matcher.ingest import run_import
    from matcher.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        if sparse:
            blanked = Path(tmp) / "services_sparse.csv"
            blank_columns(csv_path, blanked)
            csv_path = blanked
        store = Store.open(f"sqlite:///{Path(tmp) / 'eval.sqlite'}")
        try:
            run_import(csv_path, store=store)
            return store.services_frame()
        finally:
            store.close()


def build_matcher_for_csv(csv_path: str | Path, models_dir: str | Path | None = None) -> Matcher:
    """Import a services CSV into a temporary SQLite store and build a matcher on it."""
    return Matcher.from_frame(import_frame(csv_path), models_dir=models_dir)


def blank_columns(csv_path: str | Path, out_path: str | Path,
                  columns: tuple[str, ...] = SPARSE_COLUMNS) -> None:
    """Copy a services CSV with the given columns emptied (header names matched as the
    importer matches them: case and surrounding spaces ignored); comment lines kept."""
    import csv

    text = Path(csv_path).read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    comments = []
    while lines and lines[0].startswith("#"):
        comments.append(lines.pop(0))
    rows = list(csv.reader(lines))
    header = [h.strip().lower() for h in rows[0]]
    blank = [i for i, h in enumerate(header) if h in columns]
    with Path(out_path).open("w", encoding="utf-8", newline="") as fh:
        fh.writelines(comments)
        writer = csv.writer(fh)
        writer.writerow(rows[0])
        for row in rows[1:]:
            writer.writerow([("" if i in blank else cell) for i, cell in enumerate(row)])


def _case_result(case: dict, ranked: list[str]) -> CaseResult:
    rel = case.get("relevant", {})
    return CaseResult(case["id"], ranked, ndcg(ranked, rel), recall_at(ranked, rel, 3),
                      violation(ranked, case.get("must_not", [])))


def evaluate_set(set_dir: str | Path, *, baselines: bool = True,
                 matcher: Matcher | None = None, today: dt.date | None = None,
                 free_text_only: bool = False, sparse: bool = False) -> EvaluationReport:
    """Run every case through the engine (and the baselines) and score the top 10.

    ``today`` fixes the date records' freshness is judged on, for figures that do not drift.
    ``free_text_only`` drops each family's list of needs and keeps their own words (``about``),
    as for a family who only writes; cases with no ``about`` are then left out.
    ``sparse`` blanks the structured fields real feeds leave empty (:data:`SPARSE_COLUMNS`)
    before the import, so every service is known only by its own words.
    """
    set_dir = Path(set_dir)
    cases = load_cases(set_dir / "cases.jsonl")
    if matcher is None and sparse:
        matcher = Matcher.from_frame(import_frame(set_dir / "services.csv", sparse=True))
    matcher = matcher or build_matcher_for_csv(set_dir / "services.csv")
    report = EvaluationReport(engine=[])
    for case in cases:
        if free_text_only:
            if not str(case["profile"].get("about") or "").strip():
                continue
            case = {**case, "profile": {**case["profile"], "needs": []}}
        # Who is asking is part of each case (contract section 4) and a question the product asks.
        who = case["profile"].get("who", case.get("who"))
        profile = Profile.model_validate({**case["profile"], "limit": 10, "who": who})
        outcome = matcher.match(profile, today=today)
        report.engine.append(_case_result(case, [r.service_id for r in outcome.results]))
        if baselines:
            query = prepare_query(profile, matcher.vocab, matcher.gazetteer, matcher.cfg)
            for name, fn in BASELINES.items():
                ranked = fn(matcher.table, query, matcher.cfg, 10)
                report.baselines.setdefault(name, []).append(_case_result(case, ranked))
    return report
