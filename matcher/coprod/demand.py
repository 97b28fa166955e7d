"""Unmet demand: counts of poorly served searches, and nothing else about them.

When a search's best result scores below :attr:`CoprodConfig.demand_threshold` (or it finds
nothing), :func:`record_demand` adds one to each cell ``need x age band x postcode district x
month`` the search falls in (one per need it understood, at most :data:`MAX_NEEDS`). The cell
is all that is kept: no profile, no free text, no full postcode, no time finer than the month.

:func:`demand_cells` is the only way to read them: cells under ``min_count`` are left out and
the others rounded to a multiple of ``round_to`` (never below ``min_count``), so no small
count is ever shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from matcher.coprod.tables import DemandCellRow
from matcher.errors import PostcodeError
from matcher.geo.postcodes import postcode_district
from matcher.store.base import write_transaction

__all__ = ["MAX_NEEDS", "NO_NEED", "NO_DISTRICT", "band_for_age", "district_of",
           "demand_keys", "record_demand", "add_demand", "demand_cells", "shown_count"]

#: At most this many needs of one search are counted.
MAX_NEEDS = 5
#: The need of a search that named none the vocabulary knows.
NO_NEED = "not_stated"
#: The district of a search without a postcode.
NO_DISTRICT = "unknown"


def band_for_age(age: int, bands: Mapping[str, object]) -> str:
    """The name of the first age band (``min_age``..``max_age``) that holds ``age``."""
    for name, band in bands.items():
        if band.min_age <= age <= band.max_age:  # type: ignore[attr-defined]
            return name
    return "other"


def district_of(postcode: str | None) -> str:
    """The postcode district ("N7" for "n7 8jn"), or :data:`NO_DISTRICT`."""
    if not postcode or not postcode.strip():
        return NO_DISTRICT
    try:
        return postcode_district(postcode)
    except PostcodeError:
        return NO_DISTRICT


def demand_keys(needs: Iterable[str], age: int, postcode: str | None, bands: Mapping[str, object],
                today: dt.date | None = None) -> list[tuple[str, str, str, str]]:
    """The cells one poorly served search adds to: ``(need, band, district, month)``."""
    month = (today or dt.datetime.now(dt.UTC).date()).strftime("%Y-%m")
    band, district = band_for_age(int(age), bands), district_of(postcode)
    chosen: list[str] = []
    for need in needs:
        if need and need not in chosen:
            chosen.append(str(need)[:64])
        if len(chosen) == MAX_NEEDS:
            break
    return [(need, band, district, month) for need in (chosen or [NO_NEED])]


def add_demand(engine: Engine, keys: Sequence[tuple[str, str, str, str]], n: int = 1) -> None:
    """Add ``n`` to each cell (created at ``n`` when new), in one transaction."""
    if not keys:
        return
    t = DemandCellRow.__table__
    with write_transaction(engine) as conn:
        dialect = conn.dialect.name
        for need, band, district, month in keys:
            cell = {"need": need, "band": band, "district": district, "month": month}
            if dialect in ("sqlite", "postgresql"):
                ins = (sqlite.insert(t) if dialect == "sqlite" else postgresql.insert(t)).values(
                    **cell, count=n)
                conn.execute(ins.on_conflict_do_update(
                    index_elements=["need", "band", "district", "month"],
                    set_={"count": t.c.count + n}))
                continue
            done = conn.execute(update(t).where(*(t.c[k] == v for k, v in cell.items()))
                                .values(count=t.c.count + n))
            if not done.rowcount:
                conn.execute(t.insert().values(**cell, count=n))


def record_demand(engine: Engine, *, best_score: float | None, threshold: float,
                  needs: Iterable[str], age: int, postcode: str | None,
                  bands: Mapping[str, object], today: dt.date | None = None) -> bool:
    """Count one search when it was poorly served (no result, or the best scored under
    ``threshold``). True when it was counted."""
    if best_score is not None and best_score >= threshold:
        return False
    add_demand(engine, demand_keys(needs, age, postcode, bands, today))
    return True


def shown_count(count: int, min_count: int, round_to: int) -> int | None:
    """What may be shown of a cell's count: ``None`` under ``min_count``, else the count
    rounded to the nearest multiple of ``round_to`` and never below ``min_count``."""
    if count < min_count:
        return None
    rounded = int((count + round_to / 2) // round_to) * round_to
    return max(rounded, min_count)


def demand_cells(engine: Engine, *, min_count: int, round_to: int,
                 since_month: str | None = None, until_month: str | None = None,
                 by: Sequence[str] = ("need", "band", "district")) -> list[dict]:
    """Demand summed over the months ``since_month``..``until_month`` (``YYYY-MM``, inclusive)
    per the columns in ``by``; cells under ``min_count`` are left out and the rest rounded
    (:func:`shown_count`). Largest first."""
    allowed = ("need", "band", "district", "month")
    bad = [b for b in by if b not in allowed]
    if bad or not by:
        raise ValueError(f"by must be some of {', '.join(allowed)}")
    t = DemandCellRow.__table__
    q = select(*(t.c[b] for b in by), t.c.count)
    if since_month:
        q = q.where(t.c.month >= since_month)
    if until_month:
        q = q.where(t.c.month <= until_month)
    sums: dict[tuple, int] = {}
    with engine.connect() as conn:
        for row in conn.execute(q):
            key = tuple(row[:-1])
            sums[key] = sums.get(key, 0) + int(row[-1])
    out = []
    for key, count in sums.items():
        shown = shown_count(count, min_count, round_to)
        if shown is not None:
            out.append({**dict(zip(by, key, strict=True)), "searches": shown})
    out.sort(key=lambda c: (-c["searches"], *(c[b] for b in by)))
    return out
