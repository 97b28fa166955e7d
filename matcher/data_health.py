"""Data health for the directory team: how complete the Local Offer is, and what to fix first.

:func:`data_health` looks at every active record once and reports

* **per field**, how many records state it in a structured field (``structured``), how many
  had it filled from their own words at import (``from_text``: a fact the reading step
  :mod:`matcher.ingest.reading` *used*), and how many leave it ``unknown``;
* the records with **no age and no needs at all** (the two things matching leans on most);
* the **conflicts**: a record whose words say something certain that its structured field
  contradicts (the structured field wins in matching, so one of the two is wrong);
* the **records to fix first**, scored by how much fixing them would improve matching, each
  with plain-English "what to add" items a provider understands.

:func:`to_csv` writes the records to fix as a CSV to send to providers; :func:`format_text`
prints a summary for the terminal (``matcher data-health``). ``GET /admin/data-health``
serves :meth:`DataHealth.to_dict`.

The score (:data:`WEIGHTS`; the higher, the sooner to fix) adds up, per record:

==========================  ======  =========================================================
what is wrong               points  why
==========================  ======  =========================================================
no age at all                   40  age is a hard rule: a service with no ages is offered to
                                    every family, whatever the child's age
only one age bound              10  half of the hard rule is missing
no needs                        25  the need is the main thing a family searches by
needs not recognised             5  words in the needs column matched nothing we know
each conflict                   15  the listing and the description disagree
no venue location               15  in person (or delivery unknown), but no place on a map:
                                    no travel time can be worked out
delivery unknown                10  families cannot tell whether they must travel
who it is for unknown            5  the audience (children, parents, professionals...)
cost unknown                     5  families filter on free services
no contact details               5  no phone, email or website
last checked over a year ago     5  also when the record gives no date at all
read from the words              2  per field filled from the description: please confirm
==========================  ======  =========================================================

Inactive records (withdrawn or paused in a feed, never suggested) are left out of everything
but the counts of records. This is a pure library module: no FastAPI, no Streamlit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from matcher.services import ServiceRecord

__all__ = [
    "FIELDS",
    "FIELD_LABELS",
    "WEIGHTS",
    "CSV_COLUMNS",
    "STALE_AFTER_DAYS",
    "FieldHealth",
    "Conflict",
    "FixItem",
    "RecordToFix",
    "DataHealth",
    "data_health",
    "to_csv",
    "format_text",
]

#: The fields reported, in the order of the table.
FIELDS: tuple[str, ...] = (
    "categories", "min_age", "max_age", "needs", "audience", "delivery", "location",
    "service_area", "cost", "referral", "when", "accessibility", "languages", "ehcp_required",
    "transitions", "contact", "last_reviewed",
)

#: What each field is, in words for the directory team.
FIELD_LABELS: dict[str, str] = {
    "categories": "Type of service",
    "min_age": "Youngest age",
    "max_age": "Oldest age",
    "needs": "Needs supported",
    "audience": "Who it is for",
    "delivery": "How it is delivered",
    "location": "Place on a map (postcode)",
    "service_area": "Area served",
    "cost": "Cost",
    "referral": "How to get a place (referral)",
    "when": "When it runs",
    "accessibility": "Accessibility",
    "languages": "Languages",
    "ehcp_required": "Needs an EHC plan",
    "transitions": "Moves it helps with",
    "contact": "Phone, email or website",
    "last_reviewed": "Date last checked",
}

#: The reading step's fact fields that fill each reported field (``used`` facts only).
_TEXT_FIELDS: dict[str, frozenset[str]] = {
    # An age range read from the words fills both bounds but marks one fact as used.
    "min_age": frozenset({"min_age", "max_age", "adults_only"}),
    "max_age": frozenset({"min_age", "max_age"}),
    "audience": frozenset({"audience", "for_parents"}),
}

#: Points per problem (see the module docstring for the reasons).
WEIGHTS: dict[str, int] = {
    "no_ages": 40,
    "one_age_bound": 10,
    "no_needs": 25,
    "needs_unrecognised": 5,
    "conflict": 15,
    "no_location": 15,
    "no_delivery": 10,
    "no_audience": 5,
    "no_cost": 5,
    "no_contact": 5,
    "stale": 5,
    "from_text": 2,
}

#: A record last checked longer ago than this (in days) is stale.
STALE_AFTER_DAYS = 365

#: The columns of :func:`to_csv`, in order.
CSV_COLUMNS: tuple[str, ...] = ("id", "name", "organisation", "email", "phone", "url",
                                "priority_score", "what_to_add", "conflicts")

_AGE_FACTS = frozenset({"min_age", "max_age"})

#: Fields the reading step may fill, and how to ask a provider to confirm them.
_CONFIRM: dict[str, str] = {
    "min_age": "the ages the service is for",
    "audience": "who the service is for",
    "needs": "the needs the service supports",
    "delivery": "how the service is delivered",
    "cost": "the cost",
    "referral": "how families get a place",
    "ehcp_required": "whether an EHC plan is needed",
}


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class FieldHealth:
    """How one field is known across the active records."""

    field: str
    label: str
    structured: int
    from_text: int
    unknown: int
    total: int

    def share(self, count: int) -> float:
        """``count`` as a share of the records (0 when there are none), 4 decimals."""
        return round(count / self.total, 4) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": self.label, "structured": self.structured,
                "from_text": self.from_text, "unknown": self.unknown,
                "structured_share": self.share(self.structured),
                "from_text_share": self.share(self.from_text),
                "unknown_share": self.share(self.unknown)}


@dataclass(frozen=True)
class Conflict:
    """A record's words say one thing for sure; its structured field says another."""

    id: str
    name: str
    field: str
    label: str
    structured: str
    text: str
    quote: str
    source: str

    def sentence(self) -> str:
        """The conflict in words, e.g. ``Ages: the listing says 5 to 16; the description
        says 5 to 11 ("children aged 5 to 11")``."""
        where = {"name": "the name", "tags": "the tags",
                 "organisation": "the organisation's description"}.get(self.source,
                                                                        "the description")
        return (f"{self.label}: the listing says {self.structured}; {where} says {self.text} "
                f"(\"{self.quote}\")")

    def request(self) -> str:
        """The conflict as something for a provider to check, e.g. ``Check the ages: your
        listing says 5 to 16 but your description says 5 to 11 ("children aged 5 to 11")``."""
        where = {"name": "your service's name", "tags": "your tags",
                 "organisation": "your organisation's description"}.get(
            self.source, "your description")
        return (f"Check the {self.label.lower()}: your listing says {self.structured} but {where} "
                f"says {self.text} (\"{self.quote}\")")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "field": self.field, "label": self.label,
                "structured": self.structured, "text": self.text, "quote": self.quote,
                "source": self.source}


@dataclass(frozen=True)
class FixItem:
    """One thing a provider could add or correct, and the points it is worth."""

    reason: str   # a key of WEIGHTS
    points: int
    what_to_add: str

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "points": self.points, "what_to_add": self.what_to_add}


@dataclass(frozen=True)
class RecordToFix:
    """An active record with something to fix; ``score`` is the sum of its items' points."""

    id: str
    name: str
    organisation: str
    email: str
    phone: str
    url: str
    score: int
    items: tuple[FixItem, ...]
    conflicts: tuple[Conflict, ...] = ()

    @property
    def what_to_add(self) -> list[str]:
        return [i.what_to_add for i in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "organisation": self.organisation,
                "email": self.email, "phone": self.phone, "url": self.url, "score": self.score,
                "what_to_add": self.what_to_add, "items": [i.to_dict() for i in self.items],
                "conflicts": [c.to_dict() for c in self.conflicts]}


@dataclass
class DataHealth:
    """The answer of :func:`data_health`."""

    records: int                      # every record given
    active: int                       # the ones looked at
    today: dt.date
    fields: list[FieldHealth] = field(default_factory=list)
    no_age_no_needs: list[dict[str, str]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    to_fix: list[RecordToFix] = field(default_factory=list)

    @property
    def inactive(self) -> int:
        return self.records - self.active

    def field_health(self, name: str) -> FieldHealth:
        """The health of one field, by name."""
        return next(f for f in self.fields if f.field == name)

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """JSON-safe; ``top`` keeps only the first records to fix (``to_fix_total`` says how
        many there are)."""
        shown = self.to_fix if top is None else self.to_fix[:max(top, 0)]
        return {
            "records": self.records, "active": self.active, "inactive": self.inactive,
            "today": self.today.isoformat(),
            "fields": [f.to_dict() for f in self.fields],
            "no_age_no_needs": list(self.no_age_no_needs),
            "conflicts": [c.to_dict() for c in self.conflicts],
            "to_fix_total": len(self.to_fix),
            "to_fix": [r.to_dict() for r in shown],
            "weights": dict(WEIGHTS),
            "stale_after_days": STALE_AFTER_DAYS,
        }


# ------------------------------------------------------------------------------ reading a record
def _has(record: ServiceRecord, name: str) -> bool:
    """Whether the record states ``name`` (a reported field) in any form."""
    if name == "location":
        return record.latitude is not None and record.longitude is not None
    if name == "contact":
        return bool(record.phone.strip() or record.email.strip() or record.url.strip())
    value = getattr(record, name, None)
    if isinstance(value, bool):
        # A yes/no field cannot say "not needed" apart from leaving it blank: only "yes"
        # counts as stated.
        return value
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return bool(value)
    return value is not None


def _used_fields(record: ServiceRecord) -> set[str]:
    """The fact fields of the record's facts that filled a field at import."""
    return {str(f.get("field")) for f in record.facts or []
            if isinstance(f, Mapping) and f.get("used")}


def _state(record: ServiceRecord, name: str, used: set[str]) -> str:
    """``"from_text"``, ``"structured"`` or ``"unknown"`` for one reported field."""
    if used & _TEXT_FIELDS.get(name, frozenset({name})):
        return "from_text"
    return "structured" if _has(record, name) else "unknown"


def _ages(low: Any, high: Any) -> str:
    """An age range in words: ``5 to 16``, ``5 and over``, ``up to 16``, ``not stated``."""
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"{low} and over"
    if high is not None:
        return f"up to {high}"
    return "not stated"


def _value_text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v).replace("_", " ") for v in value)
    return str(value).replace("_", " ")


def _listing_ages(record: ServiceRecord, facts: Sequence[Mapping[str, Any]]) -> str:
    """The ages the listing's fields give, in words: as the record holds them, or as they
    were before the record's words narrowed them at import (a fact's ``listing``)."""
    listing = next((f["listing"] for f in facts if isinstance(f.get("listing"), Mapping)), None)
    if listing is not None:
        return _ages(listing.get("min_age"), listing.get("max_age"))
    return _ages(record.min_age, record.max_age)


def _conflicts(record: ServiceRecord) -> list[Conflict]:
    """The record's conflicts: ages as one range (the words' range against the listing's),
    any other field as its value against the fact's."""
    facts = [f for f in record.facts or [] if isinstance(f, Mapping)]
    found: list[Conflict] = []
    ages_done = False
    for fact in facts:
        if not fact.get("conflict"):
            continue
        name = str(fact.get("field") or "")
        if name in _AGE_FACTS:
            if ages_done:
                continue
            ages_done = True
            certain = [f for f in facts if f.get("field") in _AGE_FACTS
                       and f.get("confidence") == "certain" and isinstance(f.get("value"), int)]
            lows = [f["value"] for f in certain if f["field"] == "min_age"]
            highs = [f["value"] for f in certain if f["field"] == "max_age"]
            quotes = list(dict.fromkeys(str(f.get("quote") or "") for f in certain))
            found.append(Conflict(
                id=record.id, name=record.name, field="ages", label="Ages",
                structured=_listing_ages(record, facts),
                text=_ages(min(lows) if lows else None, max(highs) if highs else None),
                quote=" ... ".join(q for q in quotes if q) or str(fact.get("quote") or ""),
                source=str(fact.get("source") or "description")))
            continue
        found.append(Conflict(
            id=record.id, name=record.name, field=name,
            label=FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
            structured=_value_text(getattr(record, name, None)),
            text=_value_text(fact.get("value")), quote=str(fact.get("quote") or ""),
            source=str(fact.get("source") or "description")))
    return found


def _in_person(record: ServiceRecord) -> bool:
    """Delivered at a venue, or delivery not stated (so it may be)."""
    return not record.delivery or "in_person" in record.delivery


def _items(record: ServiceRecord, used: set[str], conflicts: Sequence[Conflict],
           today: dt.date) -> list[FixItem]:
    """What the provider could add or correct, most valuable first."""
    w = WEIGHTS
    items: list[FixItem] = []
    low, high = record.min_age, record.max_age
    if low is None and high is None:
        items.append(FixItem("no_ages", w["no_ages"],
                             "Say which ages the service is for (for example 5 to 11, or 0 to 25)"))
    elif low is None:
        items.append(FixItem("one_age_bound", w["one_age_bound"],
                             f"Say the youngest age the service is for (you give up to {high})"))
    elif high is None:
        items.append(FixItem("one_age_bound", w["one_age_bound"],
                             f"Say the oldest age the service is for (you give {low} and over)"))
    unrecognised = "; ".join(record.needs_unrecognised)
    if not record.needs:
        extra = f" (we did not recognise: {unrecognised})" if unrecognised else ""
        items.append(FixItem("no_needs", w["no_needs"],
                             "Say which needs or conditions the service supports, for example "
                             f"autism, ADHD or hearing impairment{extra}"))
    elif unrecognised:
        items.append(FixItem("needs_unrecognised", w["needs_unrecognised"],
                             f"Check the needs we did not recognise: {unrecognised}"))
    for c in conflicts:
        items.append(FixItem("conflict", w["conflict"], c.request()))
    if _in_person(record) and not _has(record, "location"):
        if record.postcode:
            text = (f"Check the venue's postcode: we could not find {record.postcode} on a map")
        else:
            text = "Add the venue's postcode (or say the service has no venue)"
        items.append(FixItem("no_location", w["no_location"], text))
    if not record.delivery:
        items.append(FixItem("no_delivery", w["no_delivery"],
                             "Say how the service is delivered: in person, online, by phone or "
                             "home visits"))
    if not record.audience:
        items.append(FixItem("no_audience", w["no_audience"],
                             "Say who the service is for: children and young people, parents "
                             "and carers, whole families or professionals"))
    if not record.cost:
        items.append(FixItem("no_cost", w["no_cost"],
                             "Say whether the service is free, and if not what it costs"))
    if not _has(record, "contact"):
        items.append(FixItem("no_contact", w["no_contact"],
                             "Add a phone number, email address or website families can use"))
    checked = record.last_reviewed
    if checked is None:
        items.append(FixItem("stale", w["stale"],
                             "Check all the details are still right and tell us the date you "
                             "checked them"))
    elif (today - checked).days > STALE_AFTER_DAYS:
        items.append(FixItem("stale", w["stale"],
                             "Check all the details are still right (last checked "
                             f"{checked.day} {checked:%B %Y})"))
    for name, what in _CONFIRM.items():
        if _state(record, name, used) == "from_text":
            items.append(FixItem("from_text", w["from_text"],
                                 f"Confirm {what}: we read it from your description"))
    return items


# ------------------------------------------------------------------------------ the report
def data_health(records: Iterable[ServiceRecord], *, today: dt.date | None = None) -> DataHealth:
    """The data health of a directory (see the module docstring)."""
    today = today or dt.date.today()
    every = list(records)
    active = [r for r in every if (r.status or "active") == "active"]
    counts = {name: {"structured": 0, "from_text": 0, "unknown": 0} for name in FIELDS}
    no_age_no_needs: list[dict[str, str]] = []
    conflicts: list[Conflict] = []
    to_fix: list[RecordToFix] = []
    for record in active:
        used = _used_fields(record)
        for name in FIELDS:
            counts[name][_state(record, name, used)] += 1
        if record.min_age is None and record.max_age is None and not record.needs:
            no_age_no_needs.append({"id": record.id, "name": record.name,
                                    "organisation": record.organisation})
        found = _conflicts(record)
        conflicts.extend(found)
        items = _items(record, used, found, today)
        if items:
            to_fix.append(RecordToFix(
                id=record.id, name=record.name, organisation=record.organisation,
                email=record.email, phone=record.phone, url=record.url,
                score=sum(i.points for i in items), items=tuple(items), conflicts=tuple(found)))
    to_fix.sort(key=lambda r: (-r.score, r.name.casefold(), r.id))
    fields = [FieldHealth(name, FIELD_LABELS[name], total=len(active), **counts[name])
              for name in FIELDS]
    return DataHealth(records=len(every), active=len(active), today=today, fields=fields,
                      no_age_no_needs=no_age_no_needs, conflicts=conflicts, to_fix=to_fix)


# ------------------------------------------------------------------------------ outputs
def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(health: DataHealth, top: int | None = None) -> str:
    """One row per record to fix (most valuable first; ``top`` keeps the first ones), with
    the columns of :data:`CSV_COLUMNS`; the items of ``what_to_add`` and ``conflicts`` are
    numbered and separated by new lines inside their cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = health.to_fix if top is None else health.to_fix[:max(top, 0)]
    for r in rows:
        writer.writerow([_cell(v) for v in (
            r.id, r.name, r.organisation, r.email, r.phone, r.url, r.score,
            "\n".join(f"{i}. {t}" for i, t in enumerate(r.what_to_add, 1)),
            "\n".join(c.sentence() for c in r.conflicts))])
    return out.getvalue()


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


def format_text(health: DataHealth, top: int = 10) -> str:
    """A summary for the terminal: the field table, the records with no age and no needs,
    the conflicts and the ``top`` records to fix."""
    lines = [f"Data health on {health.today.isoformat()}: {health.active} active records"
             + (f" ({health.inactive} inactive left out)" if health.inactive else "") + "."]
    if not health.active:
        lines.append("There is nothing to check: import a Local Offer first.")
        return "\n".join(lines)
    width = max(len(f.label) for f in health.fields)
    lines += ["", f"{'Field':<{width}}  {'structured':>16}  {'read from text':>16}  "
                  f"{'unknown':>16}"]
    for f in health.fields:
        lines.append(f"{f.label:<{width}}  "
                     + "  ".join(f"{n:>9,} {_pct(f.share(n)):>6}"
                                 for n in (f.structured, f.from_text, f.unknown)))
    lines += ["", f"{len(health.no_age_no_needs)} record(s) give no age and no needs at all."]
    for r in health.no_age_no_needs[:top]:
        lines.append(f"  {r['id']}  {r['name']}")
    if len(health.no_age_no_needs) > top:
        lines.append(f"  ... and {len(health.no_age_no_needs) - top} more")
    lines += ["", f"{len(health.conflicts)} conflict(s) between a record's words and its "
                  "fields."]
    for c in health.conflicts[:top]:
        lines.append(f"  {c.id}  {c.name}: {c.sentence()}")
    if len(health.conflicts) > top:
        lines.append(f"  ... and {len(health.conflicts) - top} more")
    lines += ["", f"{len(health.to_fix)} record(s) to fix; the first {min(top, len(health.to_fix))}"
                  " (score: the higher, the more fixing it helps matching):"]
    for r in health.to_fix[:top]:
        lines.append(f"  {r.score:>3}  {r.id}  {r.name}" + (f" ({r.organisation})"
                                                            if r.organisation else ""))
        lines += [f"         - {t}" for t in r.what_to_add]
    return "\n".join(lines)
