"""The normalised service record shared by the importer, the store and the engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields

import pandas as pd

__all__ = ["LIST_FIELDS", "OUR_TAXONOMY", "ServiceRecord", "record_from_dict", "records_to_frame"]

#: Taxonomy prefix of the ORUK attributes that carry our own closed-vocabulary values
#: (written by :mod:`matcher.oruk.export`, read back by :mod:`matcher.ingest.oruk3`).
OUR_TAXONOMY = "send-matcher"


@dataclass
class ServiceRecord:
    """One Local Offer service after validation and normalisation (docs/design.md)."""

    id: str
    name: str
    description: str
    categories: list[str]
    organisation: str = ""
    needs_raw: str = ""
    needs: list[str] = field(default_factory=list)
    needs_unrecognised: list[str] = field(default_factory=list)
    min_age: int | None = None
    max_age: int | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    service_area: list[str] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)
    cost: str | None = None
    cost_details: str = ""
    when: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    referral: list[str] = field(default_factory=list)
    ehcp_required: bool = False
    transitions: list[str] = field(default_factory=list)
    url: str = ""
    phone: str = ""
    email: str = ""
    last_reviewed: dt.date | None = None
    source: str = "csv"
    # Who the service is for as a user (data/vocabulary.yaml ``audience``), from feed tags.
    audience: list[str] = field(default_factory=list)
    # "active", or "inactive": kept (a feed withdrew or paused it) but never suggested.
    status: str = "active"
    # What the reading step (matcher.understand) found in the record's own words: one dict
    # per fact (field, value, quote, source, confidence, used: whether it filled a field the
    # record left blank). Structured fields win; a disagreement is kept as a fact too.
    facts: list[dict] = field(default_factory=list)
    # What the Local Offer says beside the service itself (matcher.quality): inspection or
    # regulator ratings ({body, rating, date, url}), accreditations, outcomes in the provider's
    # words ({text, year}), and whether it lies outside the council's area and is used by the
    # council's families. Shown to families; never used to score or filter.
    ratings: list[dict] = field(default_factory=list)
    accreditations: list[str] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    outside_area: bool = False
    used_by_local_families: bool = False

    def to_dict(self) -> dict:
        """Plain dict; dates as ISO strings (JSON-safe)."""
        d = asdict(self)
        d["last_reviewed"] = self.last_reviewed.isoformat() if self.last_reviewed else None
        return d


LIST_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(ServiceRecord) if str(f.type).startswith("list")
)


def record_from_dict(d: dict) -> ServiceRecord:
    """Inverse of :meth:`ServiceRecord.to_dict` (ignores unknown keys)."""
    names = {f.name for f in fields(ServiceRecord)}
    kw = {k: v for k, v in d.items() if k in names}
    lr = kw.get("last_reviewed")
    if isinstance(lr, str) and lr:
        kw["last_reviewed"] = dt.date.fromisoformat(lr)
    for name in LIST_FIELDS:
        kw[name] = list(kw.get(name) or [])
    return ServiceRecord(**kw)


def records_to_frame(records: Iterable[ServiceRecord]) -> pd.DataFrame:
    """One row per service, one column per field, in the given order.

    List fields stay Python lists (object columns); ages become nullable floats (NaN when
    not stated) so the engine can compare them as arrays.
    """
    records = list(records)
    # Column by column from the attributes (not dataclasses.asdict, which deep-copies every
    # list of every record): the frame's lists are the records' own, read-only by convention.
    columns: dict[str, list] = {f.name: [getattr(r, f.name) for r in records]
                                for f in fields(ServiceRecord)}
    columns["last_reviewed"] = [d.isoformat() if d else None for d in columns["last_reviewed"]]
    frame = pd.DataFrame(columns)
    for col in ("min_age", "max_age", "latitude", "longitude"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in ("ehcp_required", "outside_area", "used_by_local_families"):
        frame[col] = frame[col].astype(bool)
    return frame
