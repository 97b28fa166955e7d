"""Open Referral UK (ORUK 3.0) JSON -> validated :class:`ServiceRecord` s + an import report.

Directory feeds published to the Open Referral UK standard (and the Outpost API, see
:mod:`matcher.oruk.outpost`) become the same records and the same report as a Local Offer CSV
(:mod:`matcher.importer`), so several feeds and files can live in one directory.

What is read
    One service object, a JSON array of services, a saved page of ``/services`` with its paging
    wrapper (``contents``; Outpost's ``content``), a JSON array of such pages, or a folder of
    saved page files (read in name order). :func:`fetch_feed` pages through a live endpoint
    with httpx (network only when asked for).

How an ORUK service maps onto a record
    ``minimum_age``/``maximum_age`` (or ORUK 2 ``eligibilitys``) -> ages, whole years, the top
    clamped to 25; ``service_at_locations[].location`` -> the venue: ``postal_code`` of its
    address checked in the offline gazetteer, the location's own latitude/longitude kept (also
    when there is no postcode); taxonomy terms of ``attributes`` (ORUK 2
    ``service_taxonomys``) -> categories through a keyword table and rapidfuzz, and SEND needs
    -> canonical needs through the vocabulary; ``schedules`` -> ``when``; ``cost_options`` and
    ``fees`` -> cost; ``service_areas`` -> postcode districts or ``national``; ``languages``;
    location ``accessibility``; ``attending_type`` and virtual locations -> delivery;
    ``assured_date`` (else ``last_modified``) -> ``last_reviewed``.

    Attributes whose taxonomy is ``send-matcher:<field>`` (written by
    :mod:`matcher.oruk.export`) carry our closed-vocabulary values exactly; a service that has
    any of them takes those fields from them, which makes export -> import lossless.

Identifiers
    A record's id is the feed's id with a prefix (``oruk:<id>``; Outpost ``outpost:<id>``;
    ``id_prefix`` changes it, ``""`` drops it), so feeds do not collide and a re-import updates
    the same records in place.

What is rejected (a *problem*, listed with its record number)
    No id, a repeated id, no name, a status other than ``active``, a service only for people
    over 25, a minimum age above the maximum, no category that can be worked out, and (with
    ``missing_description="reject"``) no description. Everything else that is wrong in a feed
    is a *warning*: the bad value is left out and the service still imported, because a feed
    is not ours to fix. By default a service without a description gets one made from its name
    and taxonomy terms, with a warning (``missing_description="fallback"``).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from rapidfuzz import fuzz, process, utils

from matcher.errors import DataImportError, PostcodeError
from matcher.importer import (
    MAX_ID_LENGTH,
    ROW_CONVENTION,
    ImportReport,
    ImportSummary,
    Problem,
    import_records,
)
from matcher.services import ServiceRecord
from matcher.vocab import ALL_SEND, CONTRACT_VALUES, load_vocabulary

if TYPE_CHECKING:
    import httpx

    from matcher.store import Store

__all__ = [
    "DEFAULT_ORUK_PREFIX",
    "FEED_FORMATS",
    "FEED_ROW_CONVENTION",
    "OUR_TAXONOMY",
    "FeedReport",
    "category_of_term",
    "detect_format",
    "fetch_feed",
    "import_feed",
    "load_feed",
    "read_feed",
    "read_oruk",
    "service_items",
    "sniff_format",
]

#: Id prefix of services imported from an ORUK feed: ``oruk:<feed id>``.
DEFAULT_ORUK_PREFIX = "oruk"
#: Feed formats :func:`read_feed` understands.
FEED_FORMATS: tuple[str, ...] = ("oruk", "outpost")
#: Taxonomy prefix of the attributes that carry our own closed-vocabulary values.
OUR_TAXONOMY = "send-matcher"
#: How records are numbered in a feed's report (the CSV's spreadsheet rows do not apply).
FEED_ROW_CONVENTION = (
    "Records are numbered in feed order: the first service of the file (or of the first page) "
    "is record 1."
)
#: Feed and gazetteer coordinates further apart than this (km) mean the feed's are wrong.
MAX_COORDINATE_DISAGREEMENT_KM = 5.0
#: Pages fetched at most by :func:`fetch_feed` unless told otherwise.
MAX_PAGES = 1_000
#: Services asked for per page by :func:`fetch_feed`.
PER_PAGE = 100
#: Seconds to wait for one HTTP answer.
HTTP_TIMEOUT = 30.0
#: A session starting at or after this time (minutes after midnight) is an evening session...
EVENING_STARTS = 17 * 60
#: ...and so is one still running after this time.
EVENING_RUNS_PAST = 19 * 60
#: The ages the Local Offer covers.
MIN_AGE, MAX_AGE = 0, 25
#: rapidfuzz score (0-100) above which a taxonomy term is read as a category label.
CATEGORY_FUZZY_CUTOFF = 90.0

_USER_AGENT = "send-matcher/0.1 (Open Referral UK import)"
_GB_LAT = (49.0, 61.0)
_GB_LON = (-9.0, 2.0)
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_EMAIL = re.compile(r"^[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[A-Za-z]{2,}$")
_URL = re.compile(r"(?i)^(https?://)?([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?::\d+)?)"
                  r"([/?#]\S*)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_NATIONAL = re.compile(r"^(national(ly)?|nationwide|england|england[- ]wide|uk|uk[- ]wide|"
                       r"united kingdom|great britain|gb|anywhere in (england|the uk))$", re.I)
_NEEDS_TAXONOMY = re.compile(
    r"\b(send|sen|needs?|disabilit\w*|conditions?|impairments?|suitabilit\w*)\b", re.I)
_PARTIAL = re.compile(r"\b(partial(ly)?|limited|some)\b", re.I)

# Category keyword rules, tried in this order; the first that matches a term wins.
_CATEGORY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (cat, re.compile(rx, re.I)) for cat, rx in (
        ("short_breaks", r"\bshort[ -]?breaks?\b|\brespite\b"),
        ("assessment", r"\bassessments?\b|\bdiagnos\w*"),
        ("transition", r"\btransitions?\b|\bpreparing for adulthood\b|\bmoving on\b"),
        ("travel", r"\btravel\b|\btransport\w*"),
        ("training_employment", r"\bemploy\w*|\bjobs?\b|\bcareers?\b|\bapprenticeships?\b|"
                                r"\binternships?\b|\bwork experience\b|\btraining\b|"
                                r"\btraining and work\b|\bvolunteering\b|"
                                r"\badult and community learning\b"),
        ("social_care", r"\bsocial care\b|\bsocial work\w*|\badoption\b|\bfostering\b|"
                        r"\blooked after\b|\bchildren'?s services\b"),
        ("health", r"\bhealth\w*|\bnhs\b|\btherap\w*|\bclinics?\b|\bmedical\b|\bcounselling\b|"
                   r"\bhospitals?\b|\bnursing\b|\bwellbeing\b|\bpregnan\w*|\bmaternity\b|"
                   r"\bmidwi\w*|\baddictions?\b|\bpostnatal\b|\bprenatal\b|\bcamhs\b|"
                   r"\bpaediatric\w*"),
        ("education", r"\beducation\w*|\bschools?\b|\bnurser\w*|\bpre[ -]?schools?\b|"
                      r"\bchildcare\w*|\bchildminders?\b|\bcreches?\b|\bearly years\b|"
                      r"\btuition\b|\btutor\w*|\bcolleges?\b|\bsixth forms?\b|\bpost[ -]?16\b|"
                      r"\blearning\b|\bacadem\w*|\barps?\b|\bprus?\b|\bpupils?\b|"
                      r"\bfunded providers\b|\b30 hours\b|\bnanny\b|\benglish\b|\bmaths\b|"
                      r"\bsciences?\b|\blanguages\b|\bexams?\b"),
        ("support_advice", r"\badvice\b|\bsupport\b|\binformation\b|\bfamily cent(re|er)s?\b|"
                           r"\bparenting\b|\bparents?\b|\bmoney\b|\bbenefits\b|"
                           r"\ballowances\b|\bhousing\b|\bhomelessness\b|\bcouncil services\b|"
                           r"\bsend services\b|\bbereavement\b|\bseparation\b|\bdivorce\b|"
                           r"\bcarers?\b|\brefugees?\b|\bhelplines?\b|\bbefriending\b|"
                           r"\bmentoring\b|\bdomestic (violence|abuse)\b|\boffending\b|"
                           r"\bstaying safe\b|\bsendiass\b|\badvocacy\b"),
        ("leisure", r"\bthings to do\b|\bactivit\w*|\bclubs?\b|\bgroups?\b|\bsports?\b|"
                    r"\bleisure\b|\bplay\w*|\bparks?\b|\bdance\b|\bdrama\b|\bmusic\b|\barts?\b|"
                    r"\bcrafts?\b|\bswimming\b|\bholiday\w*|\battractions?\b|\bmuseums?\b|"
                    r"\blibrar\w*|\boutdoor\w*|\bdays out\b|\bfitness\b|\bscouts?\b|"
                    r"\bguides\b|\bbrownies\b|\bcadets\b|\byouth\b|\bgam(es|ing)\b|"
                    r"\bfootball\b|\brugby\b|\btennis\b|\bbadminton\b|\bbasketball\b|"
                    r"\bnetball\b|\bmartial arts\b|\bgymnastics\b|\byoga\b|\bathletics\b|"
                    r"\bfarms?\b|\bwoodlands?\b|\bnational trust\b|\brailway\w*|\bevents?\b|"
                    r"\bcinemas?\b|\btheatres?\b|\bcamps?\b|\bcommunity cent(re|er)s?\b"),
    )
)

_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_DAY_NAMES = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH",
              "friday": "FR", "saturday": "SA", "sunday": "SU",
              "mon": "MO", "tue": "TU", "tues": "TU", "wed": "WE", "thu": "TH", "thur": "TH",
              "thurs": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
_WHEN_TEXT: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (value, re.compile(rx, re.I)) for value, rx in (
        ("term_time", r"\bterm[- ]time\b"),
        ("school_holidays", r"\bschool holidays?\b|\bhalf[- ]terms?\b|\bholiday (club|scheme|"
                            r"activit\w*|programme)s?\b|\bsummer holidays?\b"),
        ("weekends", r"\bweekends?\b|\bsaturdays?\b|\bsundays?\b"),
        ("evenings", r"\bevenings?\b"),
        ("weekdays", r"\bweekdays?\b|\bmonday to friday\b|\bmon(day)?\s*-\s*fri(day)?\b"),
    )
)
_WHEN_NEGATED = re.compile(r"\b(not|no|closed|except|excluding)\b", re.I)
_DELIVERY_TEXT: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (value, re.compile(rx, re.I)) for value, rx in (
        ("in_person", r"\bin[- ]person\b|\bface[- ]to[- ]face\b|\bdrop[- ]in\b|\bvenue\b"),
        ("online", r"\bonline\b|\bremote(ly)?\b|\bvideo\b|\bvirtual(ly)?\b|\bzoom\b|\bteams\b|"
                   r"\bwebsite\b|\bweb chat\b"),
        ("phone", r"\b(tele)?phone\b|\bhelpline\b|\bby phone\b|\bcall us\b"),
        ("home_visit", r"\bhome[- ]visits?\b|\bat home\b|\bin your home\b|\boutreach\b"),
    )
)
_FREE_FOR_SOME = re.compile(
    r"\bfree (for|to) (some|under|over|those|children|families|eligible|carers|residents)\b|"
    r"\bconcessions?\b|\breduced\b|\bdiscount\w*|\bsubsidi[sz]ed\b|\bbursar\w*|"
    r"\bfunded places?\b|\bmeans[- ]tested\b|\bfree for some\b", re.I)
_FREE = re.compile(r"\bfree\b|\bno charge\b|\bno cost\b", re.I)
_PAID = re.compile(r"£\s*\d|\bpaid\b|\bcharges?\b|\bfees?\b|\bcosts? (is|are|of)\b|\bper (hour|"
                   r"session|week|day|term|month|year)\b|\bpay\b", re.I)
#: Cost options that say no more than the cost itself: not repeated in ``cost_details``.
_BARE_OPTIONS = frozenset({"free", "paid", "free for some", "free for some families"})
_LANGUAGE_CODES = {
    "en": "English", "eng": "English", "cy": "Welsh", "cym": "Welsh", "wel": "Welsh",
    "tr": "Turkish", "tur": "Turkish", "so": "Somali", "som": "Somali", "bn": "Bengali",
    "ben": "Bengali", "ur": "Urdu", "urd": "Urdu", "pl": "Polish", "pol": "Polish",
    "ar": "Arabic", "ara": "Arabic", "pa": "Punjabi", "pan": "Punjabi", "gu": "Gujarati",
    "guj": "Gujarati", "fr": "French", "fra": "French", "fre": "French", "es": "Spanish",
    "spa": "Spanish", "pt": "Portuguese", "por": "Portuguese", "ro": "Romanian",
    "ron": "Romanian", "rum": "Romanian", "yi": "Yiddish", "yid": "Yiddish", "sgn-gb": "BSL",
    "bfi": "BSL", "zh": "Chinese", "zho": "Chinese", "chi": "Chinese",
}
_OUR_FIELDS = ("categories", "needs", "needs_as_written", "delivery", "when", "accessibility",
               "referral", "transitions", "cost", "ehcp_required")


# --------------------------------------------------------------------------- the report
@dataclass
class FeedReport(ImportReport):
    """The CSV importer's :class:`~matcher.importer.ImportReport`, for a JSON feed.

    ``row`` in every problem is the record's position in the feed (1 = the first service) and
    ``column`` the field, as a JSON path (``service_at_locations[0].location``). Adds the
    feed's ``format`` and ``unmapped_terms``: every taxonomy term, need or accessibility word
    the matcher could not use, with how many services carry it.
    """

    header_row: int = 0
    format: str = "oruk"
    unmapped_terms: dict[str, int] = field(default_factory=dict)

    def note_unmapped(self, kind: str, words: Iterable[str]) -> None:
        """Count terms of one kind ("taxonomy", "needs", "accessibility"...) not used."""
        for word in words:
            key = f"{kind}: {word}"
            self.unmapped_terms[key] = self.unmapped_terms.get(key, 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: the CSV report's keys plus ``format`` and ``unmapped_terms``."""
        d = super().to_dict()
        d["row_numbering"] = FEED_ROW_CONVENTION
        d["format"] = self.format
        d["unmapped_terms"] = dict(sorted(self.unmapped_terms.items()))
        return d

    def format_text(self) -> str:
        """Counts, the tables of problems and warnings, then the terms not used."""
        body = super().format_text().replace(ROW_CONVENTION, FEED_ROW_CONVENTION)
        head, _, rest = body.partition("\n")
        head = (f"{self.source} ({self.format}): {self.rows_read} services read, "
                f"{len(self.accepted)} accepted, {self.rejected} rejected.")
        lines = [head + ("\n" + rest if rest else "")]
        if self.unmapped_terms:
            terms = ", ".join(f"{k} ({n})" for k, n in sorted(self.unmapped_terms.items()))
            lines += ["", "Terms the matcher could not use (kept in this report; the services "
                          f"were still imported): {terms}."]
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading JSON
def load_feed(source: Any) -> tuple[Any, str]:
    """Parse a feed: ``(JSON value, source name)``.

    ``source`` is a parsed JSON value (dict or list), JSON text (a ``str`` starting with ``{``
    or ``[``), the bytes of a file, a file path, or a folder path (every ``*.json`` in it, in
    name order, becomes one element of a list: saved pages). Raises
    :class:`~matcher.errors.DataImportError` for a missing file or text that is not JSON.
    """
    if isinstance(source, dict | list):
        return source, "<data>"
    if isinstance(source, bytes):
        return _parse_json(_decode(source, "<bytes>"), "<bytes>"), "<bytes>"
    if isinstance(source, str) and source.lstrip("\ufeff \t\r\n")[:1] in ("{", "["):
        return _parse_json(source.lstrip("\ufeff"), "<text>"), "<text>"
    path = Path(source)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise DataImportError(f"The folder {path} has no .json files. Give a folder of "
                                  "saved feed pages, or the path of one JSON file.")
        return [_parse_json(_read(f), str(f)) for f in files], str(path)
    return _parse_json(_read(path), str(path)), str(path)


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataImportError(f"There is no file {path}. Check the path and try again.") from exc
    except OSError as exc:
        raise DataImportError(f"Cannot read {path}: {exc.strerror}. Check that the file exists "
                              "and you may read it.") from exc
    return _decode(data, str(path))


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataImportError(f"{source} is not UTF-8 text. JSON feeds must be UTF-8: save or "
                              "download it again as UTF-8.") from exc


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataImportError(
            f"{source} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). "
            "Save the feed's answer exactly as it was sent, or check the file was not cut "
            "short.") from exc


def service_items(doc: Any) -> list[Any]:
    """The service objects of a feed document, in order, paging wrappers removed.

    A page (``contents``, or Outpost's ``content``), a list of pages, a list of services or
    one service. Anything else in a list is returned as it is, to be reported.
    """
    if isinstance(doc, dict):
        for key in ("contents", "content"):
            if isinstance(doc.get(key), list):
                return list(doc[key])
        return [doc]
    if isinstance(doc, list):
        out: list[Any] = []
        for element in doc:
            if isinstance(element, dict) and any(
                    isinstance(element.get(k), list) for k in ("contents", "content")):
                out.extend(service_items(element))
            else:
                out.append(element)
        return out
    return [doc]


_ORUK_KEYS = frozenset({"service_at_locations", "organization", "minimum_age", "maximum_age",
                        "status", "schedules", "service_areas", "last_modified", "assured_date",
                        "attributes", "service_taxonomys", "eligibilitys", "fees",
                        "accreditations", "funding", "total_items", "contents", "page_number"})
_OUTPOST_KEYS = frozenset({"locations", "organisation", "min_age", "max_age", "send_needs",
                           "suitabilities", "taxonomies", "updated_at", "target_directories",
                           "local_offer", "needs_referral", "age_band_all", "links", "free",
                           "visible_from", "visible_to", "totalElements", "content",
                           "totalPages"})


def detect_format(doc: Any) -> str | None:
    """``"oruk"``, ``"outpost"``, or ``None`` when the JSON has the shape of neither.

    Counts the keys typical of each (ORUK's ``service_at_locations``, ``organization``,
    ``minimum_age``...; Outpost's ``locations``, ``organisation``, ``send_needs``...) over
    the paging wrapper and the first services.
    """
    keys: Counter[str] = Counter()
    wrappers = doc if isinstance(doc, list) else [doc]
    for w in wrappers[:3]:
        if isinstance(w, dict):
            keys.update(w.keys())
    for item in service_items(doc)[:20]:
        if isinstance(item, dict):
            keys.update(item.keys())
    oruk = sum(n for k, n in keys.items() if k in _ORUK_KEYS)
    outpost = sum(n for k, n in keys.items() if k in _OUTPOST_KEYS)
    if oruk == outpost == 0:
        return None
    return "oruk" if oruk >= outpost else "outpost"


def sniff_format(source: Any) -> str:
    """``"csv"`` unless ``source`` is JSON (parsed, text, bytes, a ``.json`` file or a folder).

    Only looks at the first non-blank character of text; does not parse.
    """
    if isinstance(source, dict | list):
        return "json"
    if isinstance(source, bytes):
        head = source[:64].decode("utf-8", "ignore")
    elif isinstance(source, str) and ("\n" in source or source.lstrip()[:1] in ("{", "[")):
        head = source[:64]
    else:
        path = Path(source)
        if path.is_dir() or path.suffix.lower() == ".json":
            return "json"
        try:
            with path.open("rb") as fh:
                head = fh.read(64).decode("utf-8", "ignore")
        except OSError:
            return "csv"   # the CSV reader gives the plain-English error
    return "json" if head.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "csv"


# --------------------------------------------------------------------------- mapping helpers
def category_of_term(term: str) -> str | None:
    """The contract category a taxonomy term means, or ``None``.

    Keyword rules first (``"Sports and fitness"`` -> ``leisure``, ``"Primary schools"`` ->
    ``education``, ``"Family Centres"`` -> ``support_advice``), then a rapidfuzz match
    against the categories' own labels ("Short breaks and respite") for close spellings.

    >>> category_of_term("Clubs and groups"), category_of_term("Short breaks")
    ('leisure', 'short_breaks')
    """
    return _category_of(term.replace("_", " ").strip())


@functools.lru_cache(maxsize=4096)
def _category_of(text: str) -> str | None:
    if not text:
        return None
    for category, rx in _CATEGORY_RULES:
        if rx.search(text):
            return category
    vocab = load_vocabulary()
    labels = {**{v.replace("_", " "): v for v in vocab.categories},
              **{label: v for v, label in vocab.categories.items()}}
    hit = process.extractOne(text, list(labels), scorer=fuzz.token_set_ratio,
                             processor=utils.default_process, score_cutoff=CATEGORY_FUZZY_CUTOFF)
    return None if hit is None else labels[hit[0]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def _minutes(value: Any) -> int | None:
    m = re.match(r"^\s*(\d{1,2}):(\d{2})", _text(value))
    if m is None:
        return None
    return int(m.group(1)) * 60 + int(m.group(2))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        out = float(str(value).strip())
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _in_gb(lat: float | None, lon: float | None) -> bool:
    return (lat is not None and lon is not None and _GB_LAT[0] <= lat <= _GB_LAT[1]
            and _GB_LON[0] <= lon <= _GB_LON[1])


@dataclass
class Term:
    """One taxonomy term attached to a service."""

    text: str        # what people read ("Clubs and groups")
    value: str       # the term's code, else its text
    taxonomy: str    # the taxonomy's name ("send-matcher:when", "SEND needs", ...)
    column: str      # JSON path, for the report


@dataclass
class Schedule:
    """What a feed says about when a service runs."""

    days: set[str] = field(default_factory=set)      # "MO".."SU"
    opens: int | None = None                          # minutes after midnight
    closes: int | None = None
    texts: list[str] = field(default_factory=list)    # descriptions, notes


@dataclass
class Place:
    """One location of a service, before its postcode is checked."""

    column: str
    postcode: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    virtual: bool = False
    postal: bool = False      # an address to write to, not a venue to attend
    accessibility: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """A feed record mapped onto :class:`ServiceRecord` fields, waiting for its location."""

    row: int
    kwargs: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    ours: dict[str, list[str]] = field(default_factory=dict)
    postcode: str | None = None

    def problem(self, column: str, value: Any, problem: str, fix: str) -> None:
        """Record an error: the service will not be imported."""
        self.problems.append(Problem(self.row, column, _short(value), problem, fix))

    def warn(self, column: str, value: Any, problem: str, fix: str) -> None:
        """Record a warning: the service is still imported."""
        self.warnings.append(Problem(self.row, column, _short(value), problem, fix))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


class FeedMapper:
    """Per-feed state and the mapping rules shared by the ORUK and Outpost readers."""

    def __init__(self, report: FeedReport, *, id_prefix: str, today: dt.date,
                 missing_description: str = "fallback"):
        if missing_description not in ("fallback", "reject"):
            raise DataImportError("missing_description must be 'fallback' (make one up and warn) or 'reject'.")
        if id_prefix and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", id_prefix):
            raise DataImportError(f"The id prefix '{id_prefix}' may only use letters, digits, "
                                  "'-', '_' and '.', e.g. 'oruk' or 'bucks'.")
        self.report = report
        self.id_prefix = id_prefix
        self.today = today
        self.missing_description = missing_description
        self.vocab = load_vocabulary()
        self.seen_ids: dict[str, int] = {}
        self._normalised: dict[str, tuple[list[str], list[str], bool]] = {}
        self._access_labels = {self._key(label): value
                               for value, label in self.vocab.accessibility.items()}

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()

    # -- identity ---------------------------------------------------------------------------
    def service_id(self, d: Draft, raw: Any, column: str = "id") -> str:
        """The prefixed id (``oruk:123``); a problem when missing, too long or repeated."""
        text = _text(raw)
        if not text:
            d.problem(column, "", "the service has no id",
                      "The feed must give every service an id: ask its publisher to fix it.")
            return ""
        if self.id_prefix and not text.startswith(self.id_prefix + ":"):
            text = f"{self.id_prefix}:{text}"
        if len(text) > MAX_ID_LENGTH:
            d.problem(column, text, f"the id is longer than {MAX_ID_LENGTH} characters",
                      "Import it with a shorter id prefix, or ask the publisher for shorter "
                      "ids.")
            return text
        if text in self.seen_ids:
            d.problem(column, text, f"id {text} is already used by record "
                                    f"{self.seen_ids[text]} of this feed",
                      "The feed repeats a service: only the first copy was imported. Ask the "
                      "publisher to remove the duplicate.")
        else:
            self.seen_ids[text] = d.row
        return text

    def name(self, d: Draft, raw: Any, column: str = "name") -> str:
        """The service's name; a problem when blank."""
        text = _text(raw)
        if not text:
            d.problem(column, "", "the service has no name",
                      "The feed must name every service: ask its publisher to fix it.")
        return text

    def description(self, d: Draft, raw: Any, name: str, terms: Sequence[str],
                    column: str = "description") -> str:
        """The description; without one, a made-up one (warning) or a problem."""
        text = _text(raw)
        if text:
            return text
        if self.missing_description == "reject":
            d.problem(column, "", "the service has no description",
                      "Families and the matcher read the description: ask the publisher to "
                      "add one, or import with missing_description='fallback'.")
            return ""
        listed = "; ".join(dict.fromkeys(t for t in terms if t))
        text = f"{name}." + (f" Listed under: {listed}." if listed else "")
        d.warn(column, "", "the service has no description, so one was made from its name "
                           "and taxonomy terms",
               "Ask the publisher to add a description in the provider's words; matching on "
               "this service's text is weak until then.")
        return text

    def status(self, d: Draft, raw: Any, column: str = "status") -> None:
        """Only active services are imported (a blank status counts as active)."""
        text = _text(raw).lower()
        if text and text != "active":
            d.problem(column, raw, f"the feed marks this service as '{text}'",
                      "Nothing to fix here: services that are not active are left out. It "
                      "will be imported when the feed marks it active again.")

    # -- ages and dates ---------------------------------------------------------------------
    def ages(self, d: Draft, low: Any, high: Any, columns: tuple[str, str]) -> None:
        """Whole years, the top clamped to 25; a problem for adults-only or min > max."""
        values: list[int | None] = []
        for raw, column in zip((low, high), columns, strict=True):
            number = _number(raw)
            if raw not in (None, "") and number is None:
                d.warn(column, raw, f"{column} is not a number, so it was left out",
                       "Ask the publisher to give ages as numbers of years.")
            if number is not None and number < 0:
                d.warn(column, raw, f"{column} {raw} is negative, so it was left out",
                       "Ask the publisher to correct the age.")
                number = None
            values.append(None if number is None else int(math.floor(number)))
        lo, hi = values
        if lo is not None and lo > MAX_AGE:
            d.problem(columns[0], low, f"the service is for people aged {lo} and over, outside "
                                       f"the {MIN_AGE}-{MAX_AGE} ages of the Local Offer",
                      "Nothing to fix: services only for adults over 25 are left out.")
            lo = None
        if hi is not None and hi > MAX_AGE:
            hi = MAX_AGE   # serves 12-100: for the Local Offer that is 12-25
        if lo is not None and hi is not None and lo > hi:
            d.problem(columns[0], f"{low} > {high}", f"the minimum age {lo} is above the "
                                                     f"maximum age {hi}",
                      "Ask the publisher to correct the ages (they may be swapped).")
        d.kwargs["min_age"], d.kwargs["max_age"] = lo, hi

    def date(self, d: Draft, raw: Any, column: str) -> dt.date | None:
        """A date (``YYYY-MM-DD`` or an ISO date-time); bad or future dates are warnings."""
        text = _text(raw)
        if not text:
            return None
        m = _DATE.match(text)
        try:
            value = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
        except ValueError:
            value = None
        if value is None:
            d.warn(column, raw, f"{column} is not a date, so it was left out",
                   "Ask the publisher to give dates as YYYY-MM-DD.")
            return None
        if value > self.today:
            d.warn(column, raw, f"{column} {value.isoformat()} is in the future, so it was "
                                "left out", "Ask the publisher to correct the date.")
            return None
        return value

    # -- contact details --------------------------------------------------------------------
    def url(self, d: Draft, raw: Any, column: str) -> str:
        """A web address (``https://`` added when missing); anything else a warning."""
        text = _text(raw)
        if not text:
            return ""
        m = _URL.fullmatch(text)
        if m is None:
            d.warn(column, raw, "this does not look like a web address, so it was left out",
                   "Ask the publisher to give the full address, e.g. https://www.example.org.uk.")
            return ""
        return text if m.group(1) else "https://" + text

    def email(self, d: Draft, raw: Any, column: str) -> str:
        """One e-mail address; anything else a warning."""
        text = _text(raw).removeprefix("mailto:")
        if not text:
            return ""
        if not _EMAIL.fullmatch(text):
            d.warn(column, raw, "this does not look like one e-mail address, so it was left "
                                "out", "Ask the publisher to give a single address.")
            return ""
        return text

    # -- vocabularies -----------------------------------------------------------------------
    def needs(self, d: Draft, words: Sequence[str], column: str) -> None:
        """Fill ``needs_raw`` (the words as given, ``;``-separated), ``needs`` (canonical ids)
        and ``needs_unrecognised`` (warning + report) from the feed's need words."""
        words = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
        raw = ";".join(words)
        needs, unrecognised, _ = self._normalise(raw)
        extra = [n for n in d.ours.get("needs", []) if self.vocab.is_known(n) and n not in needs]
        d.kwargs.update(needs_raw=raw, needs=needs + extra, needs_unrecognised=unrecognised)
        if unrecognised:
            joined = "; ".join(unrecognised)
            d.warn(column, joined, f"needs word(s) not recognised: {joined}",
                   "The service is still imported (the words are kept and its description is "
                   "read). Ask for the words to be added to data/vocabulary.yaml if they name a "
                   "need.")
            self.report.note_unmapped("needs", unrecognised)

    def term_needs(self, term: str) -> bool:
        """True when a general taxonomy term plainly names a need ("Dyslexia", "Activities
        for SEND"): every word matched exactly, or the match is "any SEND"."""
        return self._normalise(term)[2]

    def _normalise(self, words: str) -> tuple[list[str], list[str], bool]:
        """(needs, unrecognised, plainly a need) of some words, cached per feed."""
        if words not in self._normalised:
            result = self.vocab.normalise(words) if words else None
            if result is None:
                self._normalised[words] = ([], [], False)
            else:
                plain = bool(result.matches) and not result.unrecognised and (
                    all(m.method == "exact" for m in result.matches)
                    or result.needs == [ALL_SEND])
                self._normalised[words] = (list(result.needs), list(result.unrecognised), plain)
        needs, unrecognised, plain = self._normalised[words]
        return list(needs), list(unrecognised), plain

    def categories(self, d: Draft, terms: Sequence[Term], need_terms: set[str],
                   name: str, description: str) -> None:
        """Categories from taxonomy terms; guessed from the name and description (warning)
        when no term maps; a problem when nothing does."""
        cats: list[str] = []
        unmapped: list[str] = []
        for term in terms:
            cat = category_of_term(term.text) or category_of_term(term.value)
            if cat is not None:
                if cat not in cats:
                    cats.append(cat)
            elif term.text not in need_terms:
                unmapped.append(term.text)
        if unmapped:
            joined = "; ".join(dict.fromkeys(unmapped))
            d.warn(terms[0].column.split("[")[0] if terms else "taxonomy", joined,
                   f"taxonomy term(s) not used for matching: {joined}",
                   "Nothing to fix; they are listed so the keyword table in "
                   "matcher/oruk/importer.py can be extended if they matter.")
            self.report.note_unmapped("taxonomy", dict.fromkeys(unmapped))
        if not cats:
            guess = _guess_category(name, description)
            if guess is not None:
                cats = [guess]
                d.warn("categories", guess, "no taxonomy term gives a category, so "
                                            f"'{guess}' was guessed from the name and "
                                            "description",
                       "Ask the publisher to tag the service with a taxonomy term.")
            else:
                d.problem("categories", "", "no category could be worked out: the service has "
                                            "no taxonomy term the matcher knows, and its name "
                                            "and description name none",
                          "Ask the publisher to tag it with a service type (e.g. 'Sports and "
                          "fitness', 'Advice and support').")
        d.kwargs["categories"] = cats

    def when(self, schedules: Sequence[Schedule]) -> list[str]:
        """``weekdays``/``weekends`` from the days, ``evenings`` from the times, and any value
        the schedules' descriptions name (clauses with "not", "closed"... are skipped)."""
        found: set[str] = set()
        for s in schedules:
            if any(_DAYS[day] < 5 for day in s.days):
                found.add("weekdays")
            if any(_DAYS[day] >= 5 for day in s.days):
                found.add("weekends")
            if (s.opens is not None and s.opens >= EVENING_STARTS) or (
                    s.closes is not None and s.closes > EVENING_RUNS_PAST):
                found.add("evenings")
            for text in s.texts:
                for clause in re.split(r"[.;:\n]+", text):
                    if _WHEN_NEGATED.search(clause):
                        continue
                    found.update(v for v, rx in _WHEN_TEXT if rx.search(clause))
        return [v for v in CONTRACT_VALUES["when"] if v in found]

    @staticmethod
    def delivery_from_text(text: str) -> list[str]:
        """Delivery values named in free text ("in-person or remotely via video")."""
        return [v for v, rx in _DELIVERY_TEXT if rx.search(text)]

    def accessibility(self, d: Draft, texts: Sequence[str], column: str) -> list[str]:
        """Accessibility values read from location accessibility texts; the rest reported."""
        out: list[str] = []
        unmapped: list[str] = []
        for text in texts:
            exact = self._access_labels.get(self._key(text))
            if exact:
                values = [exact]
            elif _PARTIAL.search(text):
                values = []
            else:
                values = self.vocab.find_in_text(text).accessibility_mentioned
            if not values:
                unmapped.append(text)
            out.extend(v for v in values if v not in out)
        if unmapped:
            joined = "; ".join(dict.fromkeys(unmapped))
            d.warn(column, joined, f"accessibility not understood: {joined}",
                   "Nothing to fix; the matcher knows: " + ", ".join(self.vocab.accessibility)
                   + ".")
            self.report.note_unmapped("accessibility", dict.fromkeys(unmapped))
        return out

    def cost(self, d: Draft, options: Sequence[Mapping[str, Any]], fees: str,
             free_flag: bool | None = None) -> None:
        """``cost`` and ``cost_details`` from cost options, the fees text and a free flag.

        An option of amount 0 or saying "free" means free, an amount above 0 or a charge means
        paid; both (or "free for under 5s", "concessions") mean ``free_for_some``.
        """
        free = paid = some = False
        details: list[str] = [fees] if fees else []
        for opt in options:
            label = _text(opt.get("option"))
            amount = _number(opt.get("amount"))
            words = " ".join(filter(None, (label, _text(opt.get("amount_description")))))
            if _FREE_FOR_SOME.search(words):
                some = True
            if (amount is not None and amount == 0) or _FREE.search(words):
                free = True
            if (amount is not None and amount > 0) or _PAID.search(words):
                paid = True
            summary = label
            if amount is not None and amount > 0:
                currency = _text(opt.get("currency")) or "GBP"
                price = f"£{amount:g}" if currency.upper() == "GBP" else f"{amount:g} {currency}"
                summary = f"{label}: {price}" if label else price
            extra = _text(opt.get("amount_description"))
            if extra:
                summary = f"{summary} {extra}".strip()
            if summary and summary.lower() not in _BARE_OPTIONS and summary not in details:
                details.append(summary)
        if not options and fees:
            some = bool(_FREE_FOR_SOME.search(fees))
            free = bool(_FREE.search(fees))
            paid = bool(_PAID.search(fees))
        if free_flag is True:
            free = True
        elif free_flag is False and not free:
            paid = True
        if some or (free and paid):
            cost = "free_for_some"
        elif free:
            cost = "free"
        elif paid:
            cost = "paid"
        else:
            cost = None
        d.kwargs["cost"] = cost
        d.kwargs["cost_details"] = "; ".join(details)

    def service_area(self, d: Draft, texts: Sequence[str], column: str) -> list[str]:
        """Postcode districts (``N7``, ``LS6``) or ``national``; other text reported."""
        out: list[str] = []
        for text in texts:
            clean = re.sub(r"\s+", " ", text.strip())
            if not clean:
                continue
            if _NATIONAL.match(clean):
                values = ["national"]
            else:
                parts = [p for p in re.split(r"[,;/]|\s+and\s+|\s+", clean.upper()) if p]
                values = parts if parts and all(_DISTRICT.match(p) for p in parts) else []
            if not values:
                d.warn(column, clean, f"the service area '{clean}' is not a list of postcode "
                                      "districts or 'national', so it was not used",
                       "Nothing to fix; the service is shown to families anywhere. Districts "
                       "such as N7 or LS6 in the feed's service_areas make this exact.")
                self.report.note_unmapped("service_area", [clean])
            out.extend(v for v in values if v not in out)
        if "national" in out:
            out = ["national"]
        return out

    @staticmethod
    def languages(values: Iterable[str]) -> list[str]:
        """Language names, title-cased when all lower case; a few ISO codes read as names."""
        out: list[str] = []
        for value in values:
            text = re.sub(r"\s+", " ", value.strip())
            if not text:
                continue
            text = _LANGUAGE_CODES.get(text.lower(), text)
            if text.islower():
                text = text.title()
            if text not in out:
                out.append(text)
        return out

    def our_values(self, d: Draft, terms: Sequence[Term]) -> list[Term]:
        """Split off the ``send-matcher:<field>`` attributes into ``d.ours``; return the rest.

        Unknown fields or values of our taxonomy are warnings.
        """
        rest: list[Term] = []
        prefix = OUR_TAXONOMY + ":"
        for term in terms:
            if not term.taxonomy.startswith(prefix):
                rest.append(term)
                continue
            name = term.taxonomy[len(prefix):]
            allowed: Sequence[str] | None
            if name in ("needs_as_written",):
                allowed = None
            elif name == "needs":
                allowed = None if self.vocab.is_known(term.value) else ()
            elif name == "ehcp_required":
                allowed = ("yes", "no")
            elif name in _OUR_FIELDS:
                allowed = tuple(getattr(self.vocab, name, None) or CONTRACT_VALUES[name])
            else:
                allowed = ()
            if allowed is not None and term.value not in allowed:
                d.warn(term.column, term.value, f"'{term.value}' is not a value of our "
                                                f"taxonomy {term.taxonomy}, so it was left out",
                       "Re-export the feed from an up-to-date matcher.")
                continue
            values = d.ours.setdefault(name, [])
            if term.value not in values:
                values.append(term.value)
        return rest


def _guess_category(name: str, description: str) -> str | None:
    """The category whose keywords occur most in the name (counted twice) and description."""
    scores: Counter[str] = Counter()
    for weight, text in ((2, name), (1, description)):
        for category, rx in _CATEGORY_RULES:
            scores[category] += weight * len(rx.findall(text))
    if not scores or max(scores.values()) == 0:
        return None
    order = [c for c, _ in _CATEGORY_RULES]
    return max(scores, key=lambda c: (scores[c], -order.index(c)))


# --------------------------------------------------------------------------- ORUK records
def _terms_of(item: Mapping[str, Any], base: str = "") -> list[Term]:
    """Taxonomy terms of ORUK 3 ``attributes`` and ORUK 2 ``service_taxonomys``."""
    out: list[Term] = []
    for i, attr in enumerate(_list(item.get("attributes"))):
        if not isinstance(attr, dict):
            continue
        tt = attr.get("taxonomy_term") if isinstance(attr.get("taxonomy_term"), dict) else {}
        taxonomy = tt.get("taxonomy")
        if isinstance(taxonomy, dict):
            taxonomy = taxonomy.get("name")
        taxonomy = _text(taxonomy) or _text(tt.get("taxonomy_id")) or _text(attr.get("link_type"))
        text = _text(tt.get("name")) or _text(tt.get("term")) or _text(attr.get("value"))
        value = _text(tt.get("term")) or text
        if text or value:
            out.append(Term(text or value, value, taxonomy, f"{base}attributes[{i}]"))
    for i, st in enumerate(_list(item.get("service_taxonomys"))):
        tax = st.get("taxonomy") if isinstance(st, dict) else None
        if isinstance(tax, dict):
            text = _text(tax.get("name"))
            if text:
                out.append(Term(text, text, _text(tax.get("vocabulary")),
                                f"{base}service_taxonomys[{i}]"))
    return out


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _address_text(parts: Iterable[Any]) -> str:
    out: list[str] = []
    for part in parts:
        text = re.sub(r"\s+", " ", _text(part))
        if text and text.lower() not in {o.lower() for o in out}:
            out.append(text)
    return ", ".join(out)


def _oruk_places(item: Mapping[str, Any]) -> tuple[list[Place], list[Term]]:
    """Locations of ``service_at_locations`` (and a top-level ``locations`` list)."""
    places: list[Place] = []
    terms: list[Term] = []
    entries = [(f"service_at_locations[{i}].location", sal.get("location"))
               for i, sal in enumerate(_list(item.get("service_at_locations")))
               if isinstance(sal, dict)]
    entries += [(f"locations[{i}]", loc) for i, loc in enumerate(_list(item.get("locations")))]
    for column, loc in entries:
        if not isinstance(loc, dict):
            continue
        addresses = [a for a in _list(loc.get("addresses")) + _list(loc.get("physical_addresses"))
                     if isinstance(a, dict)]
        addresses.sort(key=lambda a: {"physical": 0, "postal": 1}.get(_text(a.get("address_type")),
                                                                       2))
        first = addresses[0] if addresses else {}
        postcode = next((_text(a.get("postal_code")) for a in addresses
                         if _text(a.get("postal_code"))), "")
        access = []
        for a in _list(loc.get("accessibility")) + _list(loc.get("accessibility_for_disabilities")):
            if isinstance(a, dict):
                text = (_text(a.get("description")) or _text(a.get("accessibility"))
                        or _text(a.get("details")))
                if text:
                    access.append(text)
        places.append(Place(
            column=column, postcode=postcode,
            latitude=_number(loc.get("latitude")), longitude=_number(loc.get("longitude")),
            address=_address_text([loc.get("name"), first.get("address_1"),
                                   first.get("address_2"), first.get("city")]),
            virtual=_text(loc.get("location_type")).lower() == "virtual",
            postal=_text(loc.get("location_type")).lower() == "postal",
            accessibility=access,
        ))
        terms += _terms_of(loc, column + ".")
    return places, terms


def _oruk_schedules(item: Mapping[str, Any]) -> tuple[list[Schedule], list[str]]:
    """Schedules of the service and of its locations, plus every ``attending_type`` text."""
    raw = _list(item.get("schedules")) + _list(item.get("regular_schedules"))
    for sal in _list(item.get("service_at_locations")):
        if isinstance(sal, dict):
            raw += _list(sal.get("schedules")) + _list(sal.get("regular_schedules"))
    out: list[Schedule] = []
    attending: list[str] = []
    for s in raw:
        if not isinstance(s, dict):
            continue
        days = set()
        for token in re.split(r"[,\s]+", _text(s.get("byday")).upper()):
            token = re.sub(r"^[+-]?\d+", "", token)
            if token in _DAYS:
                days.add(token)
        weekday = _text(s.get("weekday")).lower()
        if weekday in _DAY_NAMES:
            days.add(_DAY_NAMES[weekday])
        texts = [t for t in (_text(s.get("description")), _text(s.get("notes"))) if t]
        out.append(Schedule(days, _minutes(s.get("opens_at")), _minutes(s.get("closes_at")), texts))
        if _text(s.get("attending_type")):
            attending.append(_text(s.get("attending_type")))
    return out, attending


def _oruk_draft(m: FeedMapper, row: int, item: Mapping[str, Any]) -> Draft:
    """One ORUK service object -> a :class:`Draft` (problems and warnings on it)."""
    d = Draft(row=row, kwargs={"source": "oruk"})
    d.kwargs["id"] = m.service_id(d, item.get("id"))
    name = m.name(d, item.get("name"))
    m.status(d, item.get("status"))
    if not any(k in item for k in _NESTED):
        d.warn("", "", "the record has only the summary fields of a /services list (no "
                       "locations, schedules or taxonomy terms), so the matcher knows little "
                       "about it", "Import the full records: matcher import --url fetches "
                                   "each one from /services/{id}.")
    org = item.get("organization") if isinstance(item.get("organization"), dict) else {}

    places, location_terms = _oruk_places(item)
    terms = m.our_values(d, _terms_of(item) + location_terms)
    ours = d.ours

    need_terms = {t.text for t in terms if _NEEDS_TAXONOMY.search(t.taxonomy)}
    need_terms |= {t.text for t in terms if t.text not in need_terms and m.term_needs(t.text)}
    description = m.description(d, item.get("description"), name, [t.text for t in terms])
    d.kwargs.update(name=name, description=description, organisation=_text(org.get("name")))

    low, high = item.get("minimum_age"), item.get("maximum_age")
    columns = ("minimum_age", "maximum_age")
    if low is None and high is None:
        for i, e in enumerate(_list(item.get("eligibilitys"))):
            if isinstance(e, dict) and (e.get("minimum_age") is not None
                                        or e.get("maximum_age") is not None):
                low, high = e.get("minimum_age"), e.get("maximum_age")
                columns = (f"eligibilitys[{i}].minimum_age", f"eligibilitys[{i}].maximum_age")
                break
    m.ages(d, low, high, columns)

    # Categories and needs: our own attributes when present, else the feed's terms.
    if "categories" in ours:
        d.kwargs["categories"] = list(ours["categories"])
    else:
        m.categories(d, terms, need_terms, name, description)
    if "needs_as_written" in ours or "needs" in ours:
        m.needs(d, ours.get("needs_as_written", []), "attributes")
    else:
        m.needs(d, [t.text for t in terms if t.text in need_terms], "attributes")

    schedules, attending = _oruk_schedules(item)
    d.places = places
    if ours:
        for name_ in ("when", "accessibility", "referral", "transitions", "delivery"):
            d.kwargs[name_] = list(ours.get(name_, []))
    else:
        d.kwargs["when"] = m.when(schedules)
        access_texts = [a for p in places for a in p.accessibility]
        d.kwargs["accessibility"] = m.accessibility(d, access_texts, "service_at_locations")
        d.kwargs["referral"] = []
        d.kwargs["transitions"] = []
        delivery = {v for text in attending for v in m.delivery_from_text(text)}
        if any(p.virtual for p in places):
            delivery.add("online")
        if any(not p.virtual and not p.postal and (p.postcode or _in_gb(p.latitude, p.longitude))
               for p in places):
            delivery.add("in_person")
        d.kwargs["delivery"] = [v for v in CONTRACT_VALUES["delivery"] if v in delivery]
    d.kwargs["ehcp_required"] = ours.get("ehcp_required") == ["yes"]

    m.cost(d, [o for o in _list(item.get("cost_options")) if isinstance(o, dict)],
           _text(item.get("fees")))
    if ours:
        d.kwargs["cost"] = ours["cost"][0] if ours.get("cost") else None
        d.kwargs["cost_details"] = _text(item.get("fees"))

    area_texts = []
    for a in _list(item.get("service_areas")):
        if isinstance(a, dict):
            text = _text(a.get("service_area")) or _text(a.get("name"))
            if not text and _text(a.get("extent_type")).lower() == "text":
                text = _text(a.get("extent"))
            if text:
                area_texts.append(text)
    d.kwargs["service_area"] = m.service_area(d, area_texts, "service_areas")

    langs = []
    for lang in _list(item.get("languages")):
        if isinstance(lang, dict):
            langs.append(_text(lang.get("name")) or _text(lang.get("language"))
                         or _text(lang.get("code")))
        elif isinstance(lang, str):
            langs.append(lang)
    d.kwargs["languages"] = m.languages(langs)

    phones = [p for p in _list(item.get("phones")) if isinstance(p, dict)]
    for c in _list(item.get("contacts")):
        if isinstance(c, dict):
            phones += [p for p in _list(c.get("phones")) if isinstance(p, dict)]
    d.kwargs["phone"] = next((_text(p.get("number")) for p in phones if _text(p.get("number"))), "")
    d.kwargs["url"] = m.url(d, item.get("url") or org.get("website") or org.get("url"), "url")
    d.kwargs["email"] = m.email(d, item.get("email") or org.get("email"), "email")
    d.kwargs["last_reviewed"] = (m.date(d, item.get("assured_date"), "assured_date")
                                 or m.date(d, item.get("last_modified"), "last_modified"))
    return d


# --------------------------------------------------------------------------- finishing
def _finish(m: FeedMapper, drafts: list[Draft]) -> list[ServiceRecord]:
    """Check every venue postcode and district at once, place each service, build records."""
    from matcher.geo.distance import haversine_km
    from matcher.geo.postcodes import get_postcode_index, normalise_postcode

    formatted: dict[tuple[int, int], str] = {}
    for di, d in enumerate(drafts):
        for pi, p in enumerate(d.places):
            if not p.postcode or p.virtual:
                continue
            try:
                pc = normalise_postcode(p.postcode)
            except PostcodeError:
                pc = ""
            if " " in pc and len(pc.rsplit(" ", 1)[1]) == 3:
                formatted[(di, pi)] = pc
            else:
                d.warn(f"{p.column}.addresses", p.postcode,
                       f"'{p.postcode}' is not a full GB postcode, so it was not used",
                       "Ask the publisher to correct the venue's postcode.")
    districts = sorted({a for d in drafts for a in d.kwargs.get("service_area", [])
                        if a != "national"})
    found: dict[str, tuple[float, float] | None] = {}
    known_districts: dict[str, bool] = {}
    if formatted or districts:
        index = get_postcode_index()
        unique = sorted(set(formatted.values()))
        if unique:
            lat, lon, ok = index.lookup_many(unique)
            for pc, la, lo, hit in zip(unique, lat, lon, ok, strict=True):
                found[pc] = (float(la), float(lo)) if hit else None
        if districts:
            known_districts = dict(zip(districts, index.lookup_many(districts)[2].tolist(),
                                       strict=True))

    records: list[ServiceRecord] = []
    for di, d in enumerate(drafts):
        chosen: tuple[Place, str | None, float | None, float | None] | None = None
        usable = []
        for pi, p in enumerate(d.places):
            if p.virtual:
                continue
            pc = formatted.get((di, pi))
            centre = found.get(pc) if pc else None
            if pc and centre is None:
                d.warn(f"{p.column}.addresses", pc, f"postcode {pc} is not in the Ordnance "
                                                    "Survey list of current GB postcodes",
                       "Ask the publisher to check it; the location's own coordinates are "
                       "used when it has them.")
                pc = None
            feed_ok = _in_gb(p.latitude, p.longitude)
            if (p.latitude is not None or p.longitude is not None) and not feed_ok and not (
                    p.latitude == 0 and p.longitude == 0):
                d.warn(f"{p.column}.latitude", f"{p.latitude}, {p.longitude}",
                       "the location's coordinates are not in Great Britain, so they were "
                       "not used", "Ask the publisher to correct them.")
            lat = lon = None
            if feed_ok:
                lat, lon = p.latitude, p.longitude
                if centre is not None and float(haversine_km(lat, lon, *centre)) > \
                        MAX_COORDINATE_DISAGREEMENT_KM:
                    d.warn(f"{p.column}.latitude", f"{lat}, {lon}",
                           f"the location's coordinates are more than "
                           f"{MAX_COORDINATE_DISAGREEMENT_KM:g} km from its postcode {pc}, so "
                           "the postcode's were used", "Ask the publisher to check both.")
                    lat, lon = centre
            elif centre is not None:
                lat, lon = centre
            if pc or lat is not None:
                usable.append((p, pc, lat, lon))
        if usable:
            chosen = usable[0]
            others = sorted({u[1] for u in usable[1:] if u[1] and u[1] != chosen[1]})
            if others:
                d.warn("service_at_locations", "; ".join(others),
                       f"the service has {len(usable)} venues; distances use the first "
                       f"({chosen[1] or 'by its coordinates'})",
                       "Nothing to fix; import each venue as its own service if distance to "
                       "each matters.")
            place, pc, lat, lon = chosen
            d.kwargs.update(postcode=pc, latitude=lat, longitude=lon, address=place.address)
        else:
            d.kwargs.update(postcode=None, latitude=None, longitude=None,
                            address=next((p.address for p in d.places
                                          if p.address and not p.virtual), ""))
        for area in d.kwargs.get("service_area", []):
            if area != "national" and not known_districts.get(area, True):
                d.warn("service_areas", area, f"{area} is not a current GB postcode district, "
                                              "so no family will be inside it",
                       "Ask the publisher to check the district; the service was still "
                       "imported.")
        has_place = d.kwargs["latitude"] is not None and not (chosen and chosen[0].postal)
        if not d.kwargs.get("delivery"):
            d.kwargs["delivery"] = ["in_person"] if has_place else ["online"]
        elif d.kwargs["delivery"] == ["in_person"] and not has_place:
            d.warn("service_at_locations", "", "the service is delivered in person but has no "
                                               "usable location, so its distance from a family "
                                               "cannot be worked out",
                   "Ask the publisher to add the venue's postcode or coordinates.")
        m.report.problems.extend(d.problems)
        m.report.warnings.extend(d.warnings)
        if d.problems:
            continue
        kwargs = {k: v for k, v in d.kwargs.items() if k in ServiceRecord.__dataclass_fields__}
        records.append(ServiceRecord(**kwargs))
        m.report.accepted.append(kwargs["id"])
    m.report.problems.sort(key=lambda p: p.row)
    m.report.warnings.sort(key=lambda p: p.row)
    return records


def read_feed(
    source: Any,
    *,
    fmt: str = "auto",
    id_prefix: str | None = None,
    today: dt.date | None = None,
    missing_description: str = "fallback",
    source_name: str | None = None,
) -> tuple[list[ServiceRecord], FeedReport]:
    """Read and check an ORUK or Outpost feed; nothing is written anywhere.

    ``source``: anything :func:`load_feed` accepts. ``fmt``: ``oruk``, ``outpost`` or ``auto``
    (:func:`detect_format`). ``id_prefix``: default ``oruk`` / ``outpost``. Returns the records
    of every good service, in feed order, and the report; a feed of an unknown shape gives a
    report with ``fatal=True`` and no records.
    """
    doc, name = load_feed(source)
    name = source_name or name
    detected = detect_format(doc)
    chosen = detected if fmt == "auto" else fmt
    if chosen not in FEED_FORMATS and chosen is not None:
        raise DataImportError(f"Unknown feed format '{fmt}'. Use one of: "
                              + ", ".join((*FEED_FORMATS, "auto")) + ".")
    report = FeedReport(source=name, format=chosen or "unknown")
    if chosen is None:
        report.fatal = True
        report.problems.append(Problem(
            0, "", _short(doc)[:60], "this JSON is neither an Open Referral UK nor an Outpost "
                                     "feed (no service fields such as name, "
                                     "service_at_locations or locations were found)",
            "Give a saved /services answer, a service object or a list of them; or name the "
            "format with --format oruk or --format outpost."))
        return [], report
    if chosen == "outpost":
        from matcher.oruk.outpost import DEFAULT_OUTPOST_PREFIX, outpost_draft

        make, prefix = outpost_draft, DEFAULT_OUTPOST_PREFIX
    else:
        make, prefix = _oruk_draft, DEFAULT_ORUK_PREFIX
    mapper = FeedMapper(report, id_prefix=prefix if id_prefix is None else id_prefix,
                        today=today or dt.date.today(), missing_description=missing_description)
    drafts: list[Draft] = []
    for row, item in enumerate(service_items(doc), start=1):
        report.rows_read += 1
        if not isinstance(item, dict):
            report.problems.append(Problem(
                row, "", _short(item)[:60], "this record is not a JSON object",
                "Each service must be an object with fields such as id and name."))
            continue
        drafts.append(make(mapper, row, item))
    return _finish(mapper, drafts), report


def read_oruk(source: Any, **kwargs: Any) -> tuple[list[ServiceRecord], FeedReport]:
    """:func:`read_feed` for an Open Referral UK 3.0 feed (ids ``oruk:<id>`` by default)."""
    return read_feed(source, fmt="oruk", **kwargs)


# --------------------------------------------------------------------------- the network
def _services_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise DataImportError(f"'{url}' is not a web address. Give the feed's address, e.g. "
                              "https://example.org/api/services.")
    path = parts.path.rstrip("/")
    if not path.endswith("/services"):
        path += "/services"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _get_json(client: httpx.Client, url: str, params: Mapping[str, Any] | None = None) -> Any:
    import httpx

    try:
        answer = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise DataImportError(f"Could not reach {url}: {exc}. Check the address and your "
                              "network connection, then try again.") from exc
    if answer.status_code >= 400:
        raise DataImportError(f"{answer.request.url} answered {answer.status_code} "
                              f"{answer.reason_phrase}. Check the feed's address (it should be "
                              "its /services endpoint) and try again.")
    try:
        return answer.json()
    except ValueError as exc:
        raise DataImportError(f"{answer.request.url} did not answer with JSON. Check that the "
                              "address is the feed's API, not its web page.") from exc


def _page_facts(doc: Any) -> tuple[list[Any], bool]:
    """(services of the page, whether it says it is the last one)."""
    items = service_items(doc) if isinstance(doc, dict) and (
        "contents" in doc or "content" in doc) else (doc if isinstance(doc, list) else [])
    if not isinstance(doc, dict):
        return items, True
    last = doc.get("last_page", doc.get("last"))
    number = doc.get("page_number", doc.get("number"))
    total = doc.get("total_pages", doc.get("totalPages"))
    if last is True:
        return items, True
    if isinstance(number, int) and isinstance(total, int) and number >= total:
        return items, True
    return items, not items


_NESTED = ("service_at_locations", "schedules", "attributes", "cost_options", "service_areas",
           "locations", "send_needs", "taxonomies")


def fetch_feed(
    url: str,
    *,
    client: httpx.Client | None = None,
    per_page: int = PER_PAGE,
    max_pages: int = MAX_PAGES,
    fetch_details: bool | None = None,
) -> list[dict[str, Any]]:
    """Every service of a live ``/services`` endpoint, page by page (``page``, ``per_page``).

    ``url`` is the endpoint or the API's root (``/services`` is added). Stops at the page
    that says it is the last (``last_page``, Outpost ``last``), at ``total_pages``, at an
    empty page, at a page that repeats the previous one (a server that ignores ``page``), or
    after ``max_pages`` pages. ORUK list pages carry only the one-to-one fields, so with
    ``fetch_details`` (default: when the listed services have no nested fields) each service
    is fetched again from ``/services/{id}``.

    ``client``: an ``httpx.Client`` to use (tests pass one with a ``MockTransport``).
    Raises :class:`~matcher.errors.DataImportError` when the feed cannot be read.
    """
    import httpx

    endpoint = _services_url(url)
    own = client is None
    http = client or httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True,
                                  headers={"User-Agent": _USER_AGENT,
                                           "Accept": "application/json"})
    try:
        items: list[Any] = []
        previous: list[Any] | None = None
        for page in range(1, max_pages + 1):
            doc = _get_json(http, endpoint, {"page": page, "per_page": per_page})
            page_items, last = _page_facts(doc)
            ids = [i.get("id") for i in page_items if isinstance(i, dict)]
            if previous is not None and ids and ids == previous:
                break
            previous = ids
            items.extend(page_items)
            if last:
                break
        if fetch_details is None:
            fetch_details = bool(items) and all(
                isinstance(i, dict) and not any(k in i for k in _NESTED) for i in items)
        if fetch_details:
            base = endpoint + "/"
            items = [_get_json(http, urljoin(base, str(i.get("id"))))
                     if isinstance(i, dict) and i.get("id") is not None else i for i in items]
        return items
    finally:
        if own:
            http.close()


# --------------------------------------------------------------------------- importing
def import_feed(
    source: Any = None,
    *,
    fmt: str = "auto",
    url: str | None = None,
    id_prefix: str | None = None,
    strict: bool = False,
    database_url: str | None = None,
    store: Store | None = None,
    today: dt.date | None = None,
    client: httpx.Client | None = None,
    missing_description: str = "fallback",
) -> ImportSummary:
    """Import a feed into the store (``matcher import PATH --format oruk`` or ``--url URL``).

    ``source`` is a file, folder, JSON text or parsed JSON; or give ``url`` to page through a
    live endpoint (:func:`fetch_feed`, with ``client`` if given). ``fmt`` ``auto`` tells CSV
    from JSON by the content and ORUK from Outpost by the fields; a CSV is handed to
    :func:`matcher.importer.run_import`.

    Good services are added or updated in ONE transaction, exactly as for a CSV; services
    stored but absent from the feed are kept. Raises
    :class:`~matcher.errors.DataImportError` (with ``.report``) and imports nothing when the
    feed's shape is unknown, or when ``strict`` is true and any record has a problem.
    """
    if fmt not in (*FEED_FORMATS, "auto", "csv"):
        raise DataImportError(f"Unknown format '{fmt}'. Use csv, oruk, outpost or auto.")
    if url is not None:
        doc: Any = fetch_feed(url, client=client)
        name = url
        if fmt == "csv":
            raise DataImportError("--url reads JSON feeds only; a CSV must be downloaded and "
                                  "imported from its file.")
    else:
        if source is None:
            raise DataImportError("Nothing to import: give a file (or folder of saved pages), "
                                  "or --url with the feed's address.")
        if fmt == "csv" or (fmt == "auto" and sniff_format(source) == "csv"):
            from matcher.importer import run_import

            return run_import(source, strict=strict, database_url=database_url, store=store,
                              today=today)
        doc, name = load_feed(source)
    records, report = read_feed(doc, fmt=fmt, id_prefix=id_prefix, today=today,
                                missing_description=missing_description, source_name=name)
    if report.fatal:
        raise DataImportError(
            f"{report.source} cannot be imported: "
            + "; ".join(p.problem for p in report.problems) + ". Nothing was imported.",
            report=report)
    if strict and report.problems:
        raise DataImportError(
            f"{report.rejected} service(s) of {report.source} have problems, so nothing was "
            "imported (strict mode). Import without --strict to load the good services only.",
            report=report)
    return import_records(records, report, database_url=database_url, store=store)

