"""Demand, suppression and the files a commissioner gets from a gap analysis.

Counts of children under ``suppress_below`` (10 by default, domain brief section 6) never leave
this module as numbers: they are written ``"<10"``. Totals add up only the cells that are
shown, so a total minus the shown cells never reveals a suppressed one. Counts of *services*
are shown exactly: they describe a public directory, not people, and "gap" (0) and "thin" (1)
are defined on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from matcher.allowed import vocabulary_in_use
from matcher.errors import DataImportError, PostcodeFormatError
from matcher.gaps.analysis import GapReport
from matcher.geo.postcodes import normalise_postcode
from matcher.vocab import AREA_PREFIX, Vocabulary

__all__ = [
    "DEMAND_COLUMNS",
    "attach_demand",
    "output_frame",
    "read_demand",
    "summarise",
    "suppress",
    "write_outputs",
]

#: Columns of a demand file: small area, need, band, number of children and young people.
DEMAND_COLUMNS = ("area", "need", "band", "children")


def suppress(values: pd.Series | np.ndarray, below: int = 10) -> pd.Series:
    """Counts as text for publication: ``"<10"`` under ``below``, ``""`` when unknown.

    >>> suppress(pd.Series([0, 9, 10, None])).tolist()
    ['<10', '<10', '10', '']
    """
    s = pd.Series(values, dtype="Float64")
    out = pd.Series([""] * len(s), index=s.index, dtype=object)
    known = s.notna().to_numpy(dtype=bool)
    small = known & (s.fillna(0).to_numpy(dtype=float) < below)
    out[small] = f"<{below}"
    big = known & ~small
    out[big] = s[big].astype("Int64").astype(str).to_numpy()
    return out


def read_demand(path: str | Path, report: GapReport, vocab: Vocabulary | None = None
                ) -> pd.DataFrame:
    """Read a demand CSV (``area,need,band,children``) and check it against the analysis.

    ``area`` is a sector ("N7 8") or district ("N7") at the analysis's level, in any spacing
    or case; ``need`` a canonical need id, an ``area:x`` id or words the vocabulary knows
    ("ASD"); ``band`` a band name of the config. Rows for the same cell are added up. Every
    problem is listed at once in one :class:`~matcher.errors.DataImportError`.
    """
    vocab = vocab or vocabulary_in_use()
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataImportError(f"Could not read the demand file {path}: {exc}. Give a CSV with "
                              "the columns area,need,band,children.") from None
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in DEMAND_COLUMNS if c not in raw.columns]
    if missing:
        raise DataImportError(f"The demand file {path} has no column(s) {', '.join(missing)}. "
                              "Its header must be: area,need,band,children.")
    needs = set(report.cells["need"].astype(str).unique())
    bands = set(report.cells["band"].astype(str).unique())
    areas = set(report.cells["area"].astype(str).unique())
    problems: list[str] = []
    rows = []
    for i, r in enumerate(raw.itertuples(index=False), start=2):
        area, need, band, children = (str(getattr(r, c)).strip() for c in DEMAND_COLUMNS)
        try:
            area_n = normalise_postcode(area)
        except PostcodeFormatError:
            problems.append(f"row {i}, area '{area}': not a postcode sector or district")
            continue
        need_n = need if need in needs else None
        if need_n is None:
            found = vocab.normalise(need).needs
            need_n = next((n for n in found if n in needs), None)
            if need_n is None and found and AREA_PREFIX + found[0] in needs:
                need_n = AREA_PREFIX + found[0]
        if need_n is None:
            problems.append(f"row {i}, need '{need}': not one of the needs analysed")
        if band not in bands:
            problems.append(f"row {i}, band '{band}': use one of {', '.join(sorted(bands))}")
        try:
            n = int(children)
            if n < 0:
                raise ValueError
        except ValueError:
            problems.append(f"row {i}, children '{children}': give a whole number of 0 or more")
            continue
        if need_n is None or band not in bands:
            continue
        if area_n not in areas:
            continue  # outside the analysed areas: not an error, the file may cover more
        rows.append((area_n, need_n, band, n))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20
                                 else [])
        raise DataImportError(f"The demand file {path} has {len(problems)} problem(s):\n"
                              + "\n".join(f"  - {p}" for p in shown)
                              + "\nFix these rows and run again.")
    frame = pd.DataFrame(rows, columns=list(DEMAND_COLUMNS))
    return frame.groupby(["area", "need", "band"], as_index=False)["children"].sum()


def attach_demand(report: GapReport, demand: pd.DataFrame) -> GapReport:
    """Add ``children`` (unsuppressed, for ranking only) and ``priority`` to the cells.

    Gaps are ranked by the children in them, most first (``priority`` 1). Gaps with fewer
    than ``suppress_below`` children get no priority number and come after the ranked ones,
    so their order does not reveal their size.
    """
    below = report.config.suppress_below
    cells = report.cells.drop(columns=[c for c in ("children", "priority")
                                       if c in report.cells.columns])
    keys = ["area", "need", "band"]
    d = demand.copy()
    for k in keys:
        d[k] = d[k].astype(str)
    left = cells[keys].astype(str)
    merged = left.merge(d, on=keys, how="left")
    cells["children"] = merged["children"].to_numpy(dtype=float)
    is_gap = (cells["status"] == "gap").to_numpy()
    ranked = is_gap & (np.nan_to_num(cells["children"].to_numpy(), nan=-1) >= below)
    order = cells.loc[ranked, "children"].rank(method="min", ascending=False)
    cells["priority"] = pd.Series(pd.NA, index=cells.index, dtype="Int64")
    cells.loc[ranked, "priority"] = order.astype("Int64")
    report.cells = cells
    return report


def _near_texts(report: GapReport) -> pd.Series:
    """One text per near miss: "ISL-012 Farm Club (age 11-19)"."""
    nm = report.near_misses
    ages = (nm["min_age"].astype("Int64").astype(str).replace("<NA>", "?") + "-"
            + nm["max_age"].astype("Int64").astype(str).replace("<NA>", "?"))
    why = np.where(nm["criterion"] == "time",
                   nm["minutes"].round(0).astype("Int64").astype(str) + " min, limit "
                   + nm["limit"].round(0).astype("Int64").astype(str),
                   np.where(nm["criterion"] == "age", "ages " + ages,
                            "just outside its service area"))
    return nm["service_id"].astype(str) + " " + nm["service_name"].astype(str) + " (" + why + ")"


def _codes(values: pd.Series, categories: pd.Index | None = None) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of ``values`` (-1 where not among ``categories``) and the categories."""
    if categories is None:
        cat = values.astype("category") if not isinstance(values.dtype, pd.CategoricalDtype) \
            else values
        return np.asarray(cat.cat.codes, dtype=np.int64), pd.Index(cat.cat.categories)
    found = pd.Categorical(values.astype(str), categories=categories.astype(str))
    return np.asarray(found.codes, dtype=np.int64), categories


def _near_summary_column(report: GapReport, cells: pd.DataFrame) -> np.ndarray:
    """Per row of ``cells``: its near misses as "ISL-012 Farm Club (age 11-19); ...", in the
    order they are listed ("" for none)."""
    nm = report.near_misses
    if nm.empty or cells.empty:
        return np.full(len(cells), "", dtype=object)
    keys = ("area", "need", "band")
    cell_codes, near_codes, sizes = [], [], []
    for name in keys:
        c, cats = _codes(cells[name])
        n, _ = _codes(nm[name], cats)
        cell_codes.append(c)
        near_codes.append(n)
        sizes.append(max(len(cats), 1))

    def flat(codes: list[np.ndarray]) -> np.ndarray:
        return (codes[0] * sizes[1] + codes[1]) * sizes[2] + codes[2]

    known = (near_codes[0] >= 0) & (near_codes[1] >= 0) & (near_codes[2] >= 0)
    text = _near_texts(report).to_numpy(object)[known]
    code = flat([c[known] for c in near_codes])
    order = np.argsort(code, kind="stable")    # each cell's near misses in their listed order
    code, text = code[order], text[order]
    if len(code) == 0:
        return np.full(len(cells), "", dtype=object)
    first = np.r_[True, code[1:] != code[:-1]]
    pieces = np.where(first, text, ("; " + pd.Series(text, dtype=object)).to_numpy(object))
    starts = np.flatnonzero(first)
    joined = np.add.reduceat(pieces.astype(object), starts)
    unique = code[starts]
    want = flat(cell_codes)
    pos = np.minimum(np.searchsorted(unique, want), len(unique) - 1)
    hit = (unique[pos] == want) & (cell_codes[0] >= 0) & (cell_codes[1] >= 0) \
        & (cell_codes[2] >= 0)
    return np.where(hit, joined[pos], "").astype(object)


def output_frame(report: GapReport) -> pd.DataFrame:
    """The cells as published: children suppressed, near misses summarised in one column."""
    cells = report.cells
    out = cells.drop(columns=[c for c in ("children",) if c in cells.columns]).copy()
    if "children" in cells.columns:
        out["children"] = suppress(cells["children"], report.config.suppress_below).to_numpy()
        out = out.sort_values(["priority", "status", "area", "need", "band"],
                              ascending=[True, False, True, True, True],
                              na_position="last", kind="stable")
    out["near_miss_services"] = _near_summary_column(report, out)
    return out.reset_index(drop=True)


def summarise(report: GapReport) -> pd.DataFrame:
    """Per need and band: areas analysed, gaps, thin cells and (with demand) children in gaps.

    ``children_in_gaps`` adds up only gap cells of at least ``suppress_below`` children and is
    itself suppressed under that number; ``suppressed_gap_cells`` says how many were left out.
    """
    c = report.cells
    below = report.config.suppress_below
    g = c.assign(gap=c["status"] == "gap", thin=c["status"] == "thin")
    agg = {"areas": ("area", "size"), "gaps": ("gap", "sum"), "thin": ("thin", "sum")}
    if "children" in c.columns:
        kids = g["children"].where(g["gap"] & (g["children"] >= below))
        g = g.assign(_kids=kids, _supp=g["gap"] & g["children"].notna() & (g["children"] < below))
        agg.update({"children_in_gaps": ("_kids", "sum"),
                    "suppressed_gap_cells": ("_supp", "sum")})
    out = g.groupby(["need", "band"], observed=True, sort=False).agg(**agg).reset_index()
    if "children_in_gaps" in out.columns:
        out["children_in_gaps"] = suppress(out["children_in_gaps"].where(out["gaps"] > 0),
                                           below).to_numpy()
    return out.sort_values(["gaps", "thin"], ascending=False, kind="stable").reset_index(drop=True)


def write_outputs(report: GapReport, out: str | Path) -> list[Path]:
    """Write the cells (CSV, plus Parquet when pyarrow is installed) and the near misses.

    ``out`` is the CSV path (``gaps.csv``); near misses go to ``gaps_near_misses.csv`` beside
    it and Parquet to ``gaps.parquet``. Returns the paths written.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = output_frame(report)
    frame.to_csv(out, index=False)
    written = [out]
    near = out.with_name(f"{out.stem}_near_misses.csv")
    report.near_misses.to_csv(near, index=False)
    written.append(near)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return written
    pq = out.with_suffix(".parquet")
    frame.assign(**{c: _as_text(frame[c]) for c in frame.columns
                    if isinstance(frame[c].dtype, pd.CategoricalDtype)}).to_parquet(pq, index=False)
    written.append(pq)
    return written


def _as_text(values: pd.Series) -> np.ndarray:
    """A categorical column as ``astype(str)`` gives it ("nan" for a missing value), made by
    taking from its categories' texts."""
    texts = np.append(np.asarray(values.cat.categories.astype(str), dtype=object), "nan")
    return texts[np.asarray(values.cat.codes)]
