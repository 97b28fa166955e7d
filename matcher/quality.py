"""What a service record says beside "what it is": quality, outcomes, and where it lies.

The statutory Local Offer is more than a directory. The SEND Regulations 2014 (reg.53 and
Schedule 2) ask it to say how good provision is and what happens to those who use it, and to
list the provision the council expects its children and young people to use **outside** its
area (Schedule 2 para 2; Children and Families Act 2014 s.30(2)). A record therefore carries:

``ratings``
    inspection or regulator judgements, each ``{"body", "rating", "date", "url"}`` (for example
    Ofsted or CQC), with the date of the judgement so it is never shown without it;
``accreditations``
    the provider's accreditations, in its own words (ORUK ``accreditations``);
``outcomes``
    outcomes or destinations in the provider's own words, each ``{"text", "year"}``;
``outside_area``
    the service lies outside the council's area;
``used_by_local_families``
    the council expects its families to use it (an out-of-area school or service named in its
    Local Offer).

None of these is used to score, rank or filter a service: a rating informs a family, it never
hides their only option (``tests/test_quality_fields.py`` checks it). This module parses the
template's cells, writes and reads the ORUK form, and words the sentences people read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "QUALITY_COLUMNS",
    "RATING_BODIES",
    "area_note",
    "clean_outcome",
    "clean_rating",
    "outcome_text",
    "parse_quality_cells",
    "rating_text",
]

#: The template columns this module reads, in the contract's order (appended after
#: ``last_reviewed``; nothing before them is renamed or moved).
QUALITY_COLUMNS: tuple[str, ...] = (
    "rating_body", "rating", "rating_date", "rating_url", "accreditations", "outcomes",
    "outcomes_year", "outside_area", "used_by_local_families",
)
#: Regulators' names as people write them -> how they are shown.
RATING_BODIES: dict[str, str] = {
    "ofsted": "Ofsted",
    "cqc": "CQC",
    "care quality commission": "CQC",
    "isi": "ISI",
    "independent schools inspectorate": "ISI",
}
_YES = {"yes", "y", "true", "t", "1"}
_NO = {"no", "n", "false", "f", "0"}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_URL = re.compile(r"(?i)^https?://[^\s/?#]+\.[a-z]{2,}(:\d+)?([/?#]\S*)?$")
_EARLIEST_YEAR = 1990

#: ``(column, value, problem, fix)``: one thing wrong with a cell.
CellProblem = tuple[str, str, str, str]


def _body(text: str) -> str:
    key = " ".join(text.lower().split())
    return RATING_BODIES.get(key, " ".join(text.split()))


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";")] if cell.strip() else []


def _date(cell: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    m = _ISO_DATE.fullmatch(cell.strip())
    if m is None:
        return None, "is not a date in the form YYYY-MM-DD"
    try:
        date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None, "is not a real calendar date"
    if date > today:
        return None, f"{date.isoformat()} is in the future"
    return date, None


def clean_rating(raw: Mapping[str, Any]) -> dict[str, str]:
    """A rating as stored: ``body``, ``rating``, ``date`` (ISO or ``""``), ``url``, all text."""
    return {"body": _body(str(raw.get("body") or "")),
            "rating": " ".join(str(raw.get("rating") or "").split()),
            "date": str(raw.get("date") or "")[:10],
            "url": str(raw.get("url") or "").strip()}


def clean_outcome(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An outcome as stored: ``text`` (the provider's words) and ``year`` (int or ``None``)."""
    year = raw.get("year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        year = None
    return {"text": " ".join(str(raw.get("text") or "").split()), "year": year}


def _yes_no(column: str, cell: str, problems: list[CellProblem], fix: str) -> bool:
    text = cell.strip().lower()
    if text in _YES:
        return True
    if text and text not in _NO:
        problems.append((column, cell, f"{column} must be yes or no", fix))
    return False


def parse_quality_cells(cells: Mapping[str, str], today: dt.date
                        ) -> tuple[dict[str, Any], list[CellProblem]]:
    """The record fields of the template's quality and area columns, and what is wrong.

    ``rating_body``, ``rating``, ``rating_date`` and ``rating_url`` may each hold several
    values separated by ``;``, taken in step (the first body with the first rating...).

    >>> fields, problems = parse_quality_cells(
    ...     {"rating_body": "ofsted", "rating": "Good", "rating_date": "2024-03-12",
    ...      "outside_area": "yes"}, dt.date(2026, 1, 1))
    >>> fields["ratings"], fields["outside_area"], problems
    ([{'body': 'Ofsted', 'rating': 'Good', 'date': '2024-03-12', 'url': ''}], True, [])
    """
    problems: list[CellProblem] = []
    cell = {c: str(cells.get(c) or "") for c in QUALITY_COLUMNS}
    bodies, grades = _split(cell["rating_body"]), _split(cell["rating"])
    dates, urls = _split(cell["rating_date"]), _split(cell["rating_url"])
    ratings: list[dict[str, str]] = []
    count = max(len(bodies), len(grades))
    if len(bodies) != len(grades):
        problems.append((
            "rating" if len(bodies) > len(grades) else "rating_body",
            cell["rating"] if len(bodies) > len(grades) else cell["rating_body"],
            f"{len(bodies)} inspection bod{'y' if len(bodies) == 1 else 'ies'} but "
            f"{len(grades)} rating{'' if len(grades) == 1 else 's'}",
            "Give each rating the body that gave it, in the same order: e.g. rating_body "
            "'Ofsted' and rating 'Good' (several: 'Ofsted;CQC' and 'Good;Outstanding')."))
    for column, values in (("rating_date", dates), ("rating_url", urls)):
        if values and len(values) != count and len(bodies) == len(grades):
            problems.append((column, cell[column],
                             f"{len(values)} value(s) in {column} for {count} rating(s)",
                             f"Give one {column} per rating, in the same order, separated "
                             "by ';' (leave a part empty when it is not known)."))
    for i in range(min(len(bodies), len(grades))):
        date_cell = dates[i] if i < len(dates) else ""
        url_cell = urls[i] if i < len(urls) else ""
        if not bodies[i] or not grades[i]:
            problems.append(("rating", f"{bodies[i]} / {grades[i]}",
                             "a rating needs both the body that gave it and the judgement",
                             "Fill both parts, e.g. 'Ofsted' and 'Good', or leave both blank."))
            continue
        date_text = ""
        if date_cell:
            date, why = _date(date_cell, today)
            if why:
                problems.append(("rating_date", date_cell, f"rating_date {why}",
                                 "Give the date of the inspection or judgement as YYYY-MM-DD, "
                                 "e.g. 2024-03-12 (today or earlier)."))
            date_text = date.isoformat() if date else ""
        if url_cell and not _URL.fullmatch(url_cell):
            problems.append(("rating_url", url_cell, "rating_url is not a full web address",
                             "Link the published report, starting https://, or leave it "
                             "blank."))
            url_cell = ""
        ratings.append(clean_rating({"body": bodies[i], "rating": grades[i],
                                     "date": date_text, "url": url_cell}))
    if ratings and not dates:
        problems.append(("rating_date", "", "a rating is given without its date",
                         "Add rating_date (YYYY-MM-DD): a rating is only shown with the date "
                         "it was given, so families can judge how current it is."))

    outcomes: list[dict[str, Any]] = []
    text, year_cell = " ".join(cell["outcomes"].split()), cell["outcomes_year"].strip()
    year: int | None = None
    if year_cell:
        if re.fullmatch(r"\d{4}", year_cell) and _EARLIEST_YEAR <= int(year_cell) <= today.year:
            year = int(year_cell)
        else:
            problems.append(("outcomes_year", year_cell,
                             "outcomes_year must be a year such as 2025",
                             f"Give the year the outcomes describe ({_EARLIEST_YEAR} to "
                             f"{today.year})."))
    if text:
        if not year_cell:
            problems.append(("outcomes_year", "", "outcomes are given without their year",
                             "Add outcomes_year (e.g. 2025): families need to know which "
                             "year's leavers or users the outcomes describe."))
        outcomes.append({"text": text, "year": year})
    elif year_cell:
        problems.append(("outcomes", "", "outcomes_year is given but outcomes is blank",
                         "Write the outcomes or destinations in the provider's words, or "
                         "leave outcomes_year blank."))

    outside = _yes_no("outside_area", cell["outside_area"], problems,
                      "Write yes when the service lies outside the council's area, no (or "
                      "leave blank) otherwise.")
    used = _yes_no("used_by_local_families", cell["used_by_local_families"], problems,
                   "Write yes when the council expects its families to use this service, no "
                   "(or leave blank) otherwise.")
    fields = {
        "ratings": ratings,
        "accreditations": list(dict.fromkeys(a for a in _split(cell["accreditations"]) if a)),
        "outcomes": outcomes,
        "outside_area": outside,
        "used_by_local_families": used,
    }
    return fields, problems


# --------------------------------------------------------------------------- words for people
def _long_date(iso: str) -> str:
    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return ""
    return f"{d.day} {d:%B %Y}"


def rating_text(rating: Mapping[str, Any]) -> str:
    """One rating as a sentence, always with its source and date.

    >>> rating_text({"body": "Ofsted", "rating": "Good", "date": "2024-03-12", "url": ""})
    'Ofsted: Good (12 March 2024)'
    >>> rating_text({"body": "CQC", "rating": "Requires improvement", "date": ""})
    'CQC: Requires improvement (date not given)'
    """
    r = clean_rating(rating)
    when = _long_date(r["date"]) or "date not given"
    return f"{r['body']}: {r['rating']} ({when})"


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """One outcome with its year, in the provider's words.

    >>> outcome_text({"text": "9 of 11 leavers went on to college.", "year": 2025})
    "In the provider's words (2025): 9 of 11 leavers went on to college."
    """
    o = clean_outcome(outcome)
    year = o["year"] if o["year"] else "year not given"
    return f"In the provider's words ({year}): {o['text']}"


def area_note(outside_area: bool, used_by_local_families: bool, council: str) -> str | None:
    """The out-of-area note a card shows, or ``None`` for a service inside the area.

    >>> area_note(True, True, "Islington")
    'Outside Islington: used by Islington families'
    >>> area_note(True, False, "Islington")
    'Outside Islington'
    >>> area_note(False, True, "Islington") is None
    True
    """
    if not outside_area:
        return None
    return f"Outside {council}: used by {council} families" if used_by_local_families \
        else f"Outside {council}"


# --------------------------------------------------------------------------- ORUK form
def oruk_terms(record: Any, term: Callable[[str, str, str, str], dict[str, Any]]
               ) -> list[dict[str, Any]]:
    """The ``send-matcher:<field>`` taxonomy terms that carry these fields in an ORUK export.

    ``term(field, value, name, field_label)`` makes one term (:mod:`matcher.oruk.export`).
    A rating or outcome travels whole as compact JSON in the term's ``term``; its ``name`` is
    the sentence people read.
    """
    out = []
    for r in record.ratings:
        out.append(term("ratings", json.dumps(clean_rating(r), sort_keys=True,
                                              separators=(",", ":")),
                        rating_text(r), "Inspection or regulator rating"))
    for o in record.outcomes:
        out.append(term("outcomes", json.dumps(clean_outcome(o), sort_keys=True,
                                               separators=(",", ":")),
                        outcome_text(o), "Outcomes and destinations"))
    if record.outside_area:
        out.append(term("outside_area", "yes", "Outside the council's area", "Where it is"))
    if record.used_by_local_families:
        out.append(term("used_by_local_families", "yes",
                        "The council expects its families to use it", "Who uses it"))
    return out


#: The fields of our taxonomy this module reads back from an ORUK feed.
OUR_QUALITY_FIELDS = ("ratings", "outcomes", "outside_area", "used_by_local_families")


def from_oruk(ours: Mapping[str, Sequence[str]], accreditations: Any) -> dict[str, Any]:
    """Record fields from our ORUK attributes (``ours``: field -> term values) and the native
    ``accreditations`` text (ORUK 3.0 and v1: free text; ``;`` or line breaks separate
    several)."""
    ratings, outcomes = [], []
    for value in ours.get("ratings", ()):
        try:
            raw = json.loads(value)
        except ValueError:
            continue
        if isinstance(raw, dict) and raw.get("body") and raw.get("rating"):
            ratings.append(clean_rating(raw))
    for value in ours.get("outcomes", ()):
        try:
            raw = json.loads(value)
        except ValueError:
            continue
        if isinstance(raw, dict) and raw.get("text"):
            outcomes.append(clean_outcome(raw))
    text = accreditations if isinstance(accreditations, str) else ""
    accredited = [" ".join(a.split()) for a in re.split(r"[;\n]", text)]
    return {
        "ratings": ratings,
        "outcomes": outcomes,
        "accreditations": list(dict.fromkeys(a for a in accredited if a)),
        "outside_area": "yes" in ours.get("outside_area", ()),
        "used_by_local_families": "yes" in ours.get("used_by_local_families", ()),
    }
