"""The filters of the Open Referral UK 3.0 profile over the published directory.

:func:`parse_query` reads the query string of ``/oruk/services`` and
``/oruk/service_at_locations`` into a :class:`FeedQuery`, listing every bad value in plain
English (:class:`FeedQueryError`). :class:`FeedIndex` holds the published facts of every
service as numpy arrays, built once per directory version (:func:`feed_index`), so a filtered
page is a handful of array operations, not a loop over services.

What each filter means (all of them together: a service must pass every one given)

``search``
    every word of it starts a word of the service's name, organisation or description (any
    case; ``swim`` finds "swimming", ``wimming`` does not; apostrophes are dropped, so
    ``childrens`` and ``children's`` are the same word).
``minimum_age`` / ``maximum_age``
    the service's age range overlaps the range asked for: it takes someone of at least one age
    between the two. Ages not stated count as 0 and 25 (the Local Offer's range).
``age``
    (our addition) the service takes someone of this age.
``taxonomy_term_id``
    the service carries that term (its UUID, or its value, e.g. ``short_breaks``).
``taxonomy_id``
    the service carries some term of that taxonomy (its UUID, or its name,
    ``send-matcher:categories``); see ``GET /oruk/taxonomies``.
``day``
    one of the service's schedules runs on that day (``MO`` ... ``SU``, or the day's name).
``start_time`` / ``end_time``
    one schedule (the same one as ``day`` when given) states an opening time at or after
    ``start_time`` and a closing time at or before ``end_time``. A schedule that states no
    times does not pass: it is not known to be open then.
``postcode`` with ``proximity``
    the service's venue is at most ``proximity`` metres from the postcode's centre (offline
    gazetteer, great-circle distance). A service without a venue does not pass.
``postcode`` alone
    the postcode is in the service's area (its postcode district, or ``national``); a service
    that states no area is not filtered out, as the profile says.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from matcher.errors import MatcherError, PostcodeError
from matcher.oruk.export import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    WHEN_DAYS,
    _term,
    _uuid,
    oruk_id,
    service_terms,
    taxonomy_id,
)
from matcher.services import OUR_TAXONOMY, ServiceRecord
from matcher.vocab import Vocabulary, load_vocabulary

__all__ = [
    "DAYS",
    "MAX_PROXIMITY_METRES",
    "FeedQuery",
    "FeedQueryError",
    "FeedUnavailableError",
    "FeedIndex",
    "parse_query",
    "words_of",
    "feed_index",
    "taxonomies",
    "TAXONOMY_FIELDS",
]

#: The days of the week as iCalendar ``byday`` codes, Monday first.
DAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAY_NAMES = {name: code for code, names in zip(DAYS, (
    ("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"),
    ("thursday", "thu", "thur", "thurs"), ("friday", "fri"), ("saturday", "sat"),
    ("sunday", "sun")), strict=True) for name in (code.lower(), *names)}
#: The largest ``proximity`` accepted (metres): 1,000 km covers Great Britain.
MAX_PROXIMITY_METRES = 1_000_000
_MAX_AGE_ASKED = 150
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(?:Z|[+-]00:?00)?")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}

#: Our published taxonomies: ``send-matcher:<field>`` -> (name, description).
TAXONOMY_FIELDS: dict[str, tuple[str, str]] = {
    "categories": ("Service category", "What kind of service it is."),
    "needs": ("SEND needs served", "The special educational needs and disabilities it serves "
                                   "(the matcher's needs list)."),
    "needs_as_written": ("Needs in the provider's words", "The needs exactly as the provider "
                                                          "wrote them."),
    "delivery": ("How it is delivered", "In person, online, by phone or at home."),
    "when": ("When it runs", "Weekdays, evenings, weekends, school holidays, term time."),
    "accessibility": ("Accessibility", "What the venue offers disabled people."),
    "referral": ("How to get a place", "Who can refer, or whether people can just turn up."),
    "transitions": ("Moves between phases it supports", "Starting school, moving school, "
                                                        "preparing for adulthood."),
    "cost": ("Cost", "Free, paid, or free for some families."),
    "ehcp_required": ("EHC plan", "Services open only to children and young people with an "
                                  "education, health and care plan."),
}


class FeedQueryError(MatcherError, ValueError):
    """Bad query values; ``problems`` lists each as ``{"field", "message", "type"}``."""

    def __init__(self, problems: list[dict[str, str]]):
        super().__init__("; ".join(p["message"] for p in problems))
        self.problems = problems


class FeedUnavailableError(MatcherError):
    """The feed cannot answer this query now (the offline postcode data is missing)."""


@dataclass(frozen=True)
class FeedQuery:
    """The profile's filters, parsed (``None``/empty: not asked)."""

    search: tuple[str, ...] = ()
    minimum_age: float | None = None
    maximum_age: float | None = None
    age: float | None = None
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    day: str | None = None           # "MO" ... "SU"
    start_time: int | None = None    # minutes after midnight
    end_time: int | None = None
    postcode: str | None = None
    proximity: float | None = None   # metres
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    full: bool = False


def _problem(name: str, message: str, kind: str = "value_error") -> dict[str, str]:
    return {"field": name, "message": message, "type": kind}


def _number(params: Mapping[str, str], name: str, problems: list, *, low: float, high: float,
            whole: bool = False) -> float | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
        if not math.isfinite(value) or (whole and value != int(value)):
            raise ValueError
    except ValueError:
        what = "a whole number" if whole else "a number"
        problems.append(_problem(name, f"{name} must be {what}, like {int(low) + 1}; "
                                       f"'{raw[:40]}' is not.", "type_error"))
        return None
    if not low <= value <= high:
        problems.append(_problem(name, f"{name} must be between {low:g} and {high:g}; "
                                       f"{value:g} is not.", "range_error"))
        return None
    return int(value) if whole else value


def _time(params: Mapping[str, str], name: str, problems: list) -> int | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    m = _TIME.fullmatch(raw.strip())
    if not m:
        problems.append(_problem(name, f"{name} must be a time of day written HH:MM, like "
                                       f"09:30 or 17:00; '{raw[:40]}' is not.", "type_error"))
        return None
    return int(m.group(1)) * 60 + int(m.group(2))


def _text(params: Mapping[str, str], name: str, problems: list, limit: int = 200) -> str | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    if len(raw) > limit:
        problems.append(_problem(name, f"{name} must be at most {limit} characters long.",
                                 "too_long"))
        return None
    return raw.strip()


def parse_query(params: Mapping[str, str]) -> FeedQuery:
    """Read the profile's query parameters (strings, as sent); names it does not know are
    ignored. Raises :class:`FeedQueryError` listing every bad value."""
    problems: list[dict[str, str]] = []
    page = _number(params, "page", problems, low=1, high=1_000_000, whole=True)
    per_page = _number(params, "per_page", problems, low=1, high=MAX_PER_PAGE, whole=True)
    lo = _number(params, "minimum_age", problems, low=0, high=_MAX_AGE_ASKED)
    hi = _number(params, "maximum_age", problems, low=0, high=_MAX_AGE_ASKED)
    if lo is not None and hi is not None and lo > hi:
        problems.append(_problem("minimum_age", f"minimum_age ({lo:g}) is more than "
                                                f"maximum_age ({hi:g}): swap them."))
    age = _number(params, "age", problems, low=0, high=_MAX_AGE_ASKED)
    search = _text(params, "search", problems)
    day = _text(params, "day", problems, 20)
    if day is not None:
        code = _DAY_NAMES.get(day.lower())
        if code is None:
            problems.append(_problem("day", f"day must be a day of the week, as MO, TU, WE, "
                                            f"TH, FR, SA, SU or its name (Monday); '{day}' "
                                            f"is not."))
        day = code
    start, end = _time(params, "start_time", problems), _time(params, "end_time", problems)
    if start is not None and end is not None and start > end:
        problems.append(_problem("start_time", "start_time is later than end_time: give the "
                                               "earlier time as start_time."))
    term = _text(params, "taxonomy_term_id", problems)
    taxonomy = _text(params, "taxonomy_id", problems)
    postcode = _text(params, "postcode", problems, 16)
    proximity = _number(params, "proximity", problems, low=1, high=MAX_PROXIMITY_METRES)
    if proximity is not None and postcode is None:
        problems.append(_problem("proximity", "proximity needs a postcode to measure from: add "
                                              "postcode=..., e.g. postcode=N7 8JN."))
    full = False
    raw_full = params.get("full")
    if raw_full is not None and raw_full.strip():
        if raw_full.strip().lower() in _TRUE:
            full = True
        elif raw_full.strip().lower() not in _FALSE:
            problems.append(_problem("full", f"full must be true or false; '{raw_full[:40]}' "
                                             f"is not.", "type_error"))
    if problems:
        raise FeedQueryError(problems)
    return FeedQuery(
        search=tuple(search.lower().split()) if search else (),
        minimum_age=lo, maximum_age=hi, age=age,
        taxonomy_term_id=term, taxonomy_id=taxonomy,
        day=day, start_time=start, end_time=end, postcode=postcode, proximity=proximity,
        page=int(page or 1), per_page=int(per_page or DEFAULT_PER_PAGE), full=full,
    )


# --------------------------------------------------------------------------- the index
_WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    """The words of a text as search compares them: lower case, apostrophes dropped."""
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


def _districts(area: str) -> str:
    return area.strip().upper().replace(" ", "")


@dataclass
class FeedIndex:
    """The published facts of every service as arrays (one position per record, in the
    directory's order) and of every service_at_location (``sal_*``)."""

    records: Sequence[ServiceRecord]
    ids: list[str]
    min_age: np.ndarray
    max_age: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    days: np.ndarray                      # (n, 7) bool: a schedule runs that day
    opens: np.ndarray                     # (n, 7) float minutes; NaN: no time stated
    closes: np.ndarray
    words: np.ndarray                     # every distinct word of the texts, sorted
    word_services: sparse.csr_matrix      # (words, services): the word is in its text
    term_positions: dict[str, np.ndarray]
    taxonomy_positions: dict[str, np.ndarray]
    has_area: np.ndarray
    national: np.ndarray
    area_positions: dict[str, np.ndarray]
    sal_service: np.ndarray               # service position of each service_at_location
    sal_kind: list[str]                   # "venue" or "online"
    sal_ids: list[str]
    sal_latitude: np.ndarray
    sal_longitude: np.ndarray
    terms: list[dict[str, Any]] = field(default_factory=list)
    by_id: dict[str, int] = field(default_factory=dict)
    sal_by_id: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, records: Sequence[ServiceRecord], vocab: Vocabulary | None = None
              ) -> FeedIndex:
        vocab = vocab or load_vocabulary()
        n = len(records)
        ids = [oruk_id(r.id) for r in records]

        def floats(values: list[Any]) -> np.ndarray:
            return np.array([np.nan if v is None else float(v) for v in values], dtype=float)

        min_age = floats([r.min_age for r in records])
        max_age = floats([r.max_age for r in records])
        lat = floats([r.latitude for r in records])
        lon = floats([r.longitude for r in records])
        days = np.zeros((n, 7), dtype=bool)
        for value, codes in WHEN_DAYS.items():
            has = np.array([value in r.when for r in records], dtype=bool)
            for code in codes:
                days[:, DAYS.index(code)] |= has
        # The store keeps days, not opening hours: every published schedule states no times.
        opens = np.full((n, 7), np.nan)
        closes = np.full((n, 7), np.nan)
        word_ids: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for i, r in enumerate(records):
            for w in set(words_of(f"{r.name}\n{r.organisation}\n{r.description}")):
                rows.append(word_ids.setdefault(w, len(word_ids)))
                cols.append(i)
        order = sorted(word_ids, key=str)
        rank = np.empty(len(order), dtype=np.int64)
        rank[[word_ids[w] for w in order]] = np.arange(len(order))
        word_services = sparse.csr_matrix(
            (np.ones(len(rows), dtype=bool), (rank[np.asarray(rows, dtype=np.int64)],
                                             np.asarray(cols, dtype=np.int64))),
            shape=(len(order), n)) if rows else sparse.csr_matrix((0, n), dtype=bool)
        term_rows: dict[str, list[int]] = {}
        tax_rows: dict[str, list[int]] = {}
        terms: dict[str, dict[str, Any]] = {}
        for i, r in enumerate(records):
            for t in service_terms(r, vocab):
                for key in (t["id"], t["term"], f"{t['taxonomy']}:{t['term']}"):
                    rows = term_rows.setdefault(key, [])
                    if not rows or rows[-1] != i:
                        rows.append(i)
                for key in (t["taxonomy_id"], t["taxonomy"]):
                    rows = tax_rows.setdefault(key, [])
                    if not rows or rows[-1] != i:
                        rows.append(i)
                terms.setdefault(t["id"], t)
        area_rows: dict[str, list[int]] = {}
        for i, r in enumerate(records):
            for a in r.service_area:
                area_rows.setdefault(_districts(a), []).append(i)
        national = np.zeros(n, dtype=bool)
        national[area_rows.get("NATIONAL", [])] = True
        sal_service: list[int] = []
        sal_kind: list[str] = []
        for i, r in enumerate(records):
            if r.postcode or r.latitude is not None or r.address:
                sal_service.append(i)
                sal_kind.append("venue")
            if "online" in r.delivery:
                sal_service.append(i)
                sal_kind.append("online")
        sal = np.array(sal_service, dtype=np.int64)
        venue = np.array([k == "venue" for k in sal_kind], dtype=bool)
        index = cls(
            records=records, ids=ids, min_age=min_age, max_age=max_age, latitude=lat,
            longitude=lon, days=days, opens=opens, closes=closes,
            words=np.array(order, dtype=str), word_services=word_services,
            term_positions={k: np.array(v, dtype=np.int64) for k, v in term_rows.items()},
            taxonomy_positions={k: np.array(v, dtype=np.int64) for k, v in tax_rows.items()},
            has_area=np.array([bool(r.service_area) for r in records], dtype=bool),
            national=national,
            area_positions={k: np.array(v, dtype=np.int64) for k, v in area_rows.items()},
            sal_service=sal, sal_kind=sal_kind,
            sal_ids=[_uuid(ids[i], "service_at_location", k)
                     for i, k in zip(sal_service, sal_kind, strict=True)],
            sal_latitude=np.where(venue, lat[sal] if n else np.empty(0), np.nan),
            sal_longitude=np.where(venue, lon[sal] if n else np.empty(0), np.nan),
            terms=list(terms.values()),
        )
        index.by_id = {**{r.id: i for i, r in enumerate(records)},
                       **{sid: i for i, sid in enumerate(ids)}}
        index.sal_by_id = {sid: j for j, sid in enumerate(index.sal_ids)}
        return index

    def __len__(self) -> int:
        return len(self.ids)

    # -- filters ------------------------------------------------------------------------
    def _service_mask(self, q: FeedQuery) -> np.ndarray:
        n = len(self)
        mask = np.ones(n, dtype=bool)
        lo = np.where(np.isnan(self.min_age), 0.0, self.min_age)
        hi = np.where(np.isnan(self.max_age), 25.0, self.max_age)
        if q.minimum_age is not None:
            mask &= hi >= q.minimum_age
        if q.maximum_age is not None:
            mask &= lo <= q.maximum_age
        if q.age is not None:
            mask &= (lo <= q.age) & (q.age <= hi)
        for key, table in ((q.taxonomy_term_id, self.term_positions),
                           (q.taxonomy_id, self.taxonomy_positions)):
            if key is not None:
                keep = np.zeros(n, dtype=bool)
                keep[table.get(key, table.get(key.lower(), np.empty(0, dtype=np.int64)))] = True
                mask &= keep
        if q.day is not None or q.start_time is not None or q.end_time is not None:
            cols = [DAYS.index(q.day)] if q.day is not None else list(range(7))
            ok = self.days[:, cols].copy()
            if q.start_time is not None:
                with np.errstate(invalid="ignore"):
                    ok &= self.opens[:, cols] >= q.start_time
            if q.end_time is not None:
                with np.errstate(invalid="ignore"):
                    ok &= self.closes[:, cols] <= q.end_time
            mask &= ok.any(axis=1)
        for word in (w for asked in q.search for w in words_of(asked)):
            lo = int(np.searchsorted(self.words, word, side="left"))
            hi = int(np.searchsorted(self.words, word + "\U0010ffff", side="left"))
            keep = np.zeros(n, dtype=bool)
            keep[self.word_services[lo:hi].indices] = True
            mask &= keep
        if q.postcode is not None and q.proximity is None:
            district = _locate(q.postcode)[2]
            covered = self.national | ~self.has_area
            covered[self.area_positions.get(district, np.empty(0, dtype=np.int64))] = True
            mask &= covered
        return mask

    def services(self, q: FeedQuery) -> np.ndarray:
        """Positions of the services passing every filter, in the directory's order."""
        mask = self._service_mask(q)
        if q.postcode is not None and q.proximity is not None:
            mask &= self._near(q, self.latitude, self.longitude)
        return np.flatnonzero(mask)

    def service_at_locations(self, q: FeedQuery) -> np.ndarray:
        """Positions (into ``sal_*``) of the service_at_locations whose service passes the
        filters and, with ``proximity``, whose location is near enough."""
        keep = self._service_mask(q)[self.sal_service]
        if q.postcode is not None and q.proximity is not None:
            keep &= self._near(q, self.sal_latitude, self.sal_longitude)
        return np.flatnonzero(keep)

    @staticmethod
    def _near(q: FeedQuery, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        from matcher.geo.distance import haversine_km

        plat, plon, _ = _locate(q.postcode or "")
        with np.errstate(invalid="ignore"):
            return haversine_km(plat, plon, lat, lon) * 1000.0 <= (q.proximity or 0)


def _locate(postcode: str) -> tuple[float, float, str]:
    """Latitude, longitude and district of a postcode, sector or district (offline)."""
    from matcher.geo.postcodes import get_postcode_index, postcode_district

    try:
        loc = get_postcode_index().lookup(postcode)
    except PostcodeError as exc:
        raise FeedQueryError([_problem("postcode", f"postcode: {exc}")]) from exc
    except MatcherError as exc:
        raise FeedUnavailableError(str(exc)) from exc
    return loc.latitude, loc.longitude, postcode_district(loc.postcode)


_CACHE: dict[int, tuple[Sequence[ServiceRecord], FeedIndex]] = {}
_CACHE_LOCK = threading.Lock()


def feed_index(records: Sequence[ServiceRecord], vocab: Vocabulary | None = None) -> FeedIndex:
    """The index of this very list of records, built on first use and kept while the list is
    (a directory version's records are one list, never changed in place)."""
    key = id(records)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is records:
        return hit[1]
    index = FeedIndex.build(records, vocab)
    with _CACHE_LOCK:
        if len(_CACHE) >= 4:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (records, index)
    return index


# --------------------------------------------------------------------------- taxonomies
def taxonomies() -> list[dict[str, Any]]:
    """Our published taxonomies (``GET /oruk/taxonomies``), in a fixed order."""
    return [{"id": taxonomy_id(f), "name": f"{OUR_TAXONOMY}:{f}",
             "description": f"{name}: {description}", "version": "1"}
            for f, (name, description) in TAXONOMY_FIELDS.items()]


def vocabulary_terms(index: FeedIndex, vocab: Vocabulary | None = None
                     ) -> list[dict[str, Any]]:
    """Every term of our taxonomies (``GET /oruk/taxonomy_terms``): each value of the closed
    vocabularies and needs list, then the needs as written that the directory's services use.
    """
    vocab = vocab or load_vocabulary()
    closed = (("categories", vocab.categories), ("delivery", vocab.delivery),
              ("when", vocab.when), ("accessibility", vocab.accessibility),
              ("referral", vocab.referral), ("transitions", vocab.transitions),
              ("cost", vocab.cost))
    out: list[dict[str, Any]] = []
    for f, labels in closed:
        out += [_term(f, value, label, TAXONOMY_FIELDS[f][0]) for value, label in labels.items()]
    out += [_term("needs", n, vocab.label_of(n), TAXONOMY_FIELDS["needs"][0])
            for n in vocab.needs]
    out.append(_term("ehcp_required", "yes", "Only with an EHC plan", "EHC plan"))
    seen = {t["id"] for t in out}
    out += [t for t in index.terms if t["id"] not in seen]
    return out

