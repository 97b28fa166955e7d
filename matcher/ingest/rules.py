"""The rules every reader shares: identity, ages, dates, contacts, vocabularies, cost, areas,
and the last step that checks venues against the gazetteer and builds the records.

A reader (:mod:`matcher.ingest.oruk3`, :mod:`~matcher.ingest.oruk1`,
:mod:`~matcher.ingest.outpost`) maps its shape onto a :class:`~matcher.ingest.fields.RawRecord`
with the help of :class:`FeedMapper`; :func:`finish` turns the raw records into
:class:`~matcher.services.ServiceRecord` s and fills the report.

What is rejected (a *problem*, listed with its record number): no id, a repeated id (the later
copy) and no name. Everything else that is wrong in a feed is a *warning*: the bad value is
left out and the service still imported, because a feed is not ours to fix.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rapidfuzz import fuzz, process, utils

from matcher.errors import DataImportError, PostcodeError
from matcher.ingest.fields import Place, RawRecord, Schedule, Term
from matcher.ingest.reading import apply_reading
from matcher.ingest.report import FeedReport
from matcher.ingest.text import clean_text, looks_like_html
from matcher.services import OUR_TAXONOMY, ServiceRecord
from matcher.vocab import ALL_SEND, load_vocabulary

#: The store's id column width.
MAX_ID_LENGTH = 200
#: Id prefix of services imported from an ORUK feed: ``oruk:<feed id>``.
DEFAULT_ORUK_PREFIX = "oruk"
#: Feed formats :func:`read_feed` understands.
FEED_FORMATS: tuple[str, ...] = ("oruk", "outpost")
#: Feed and gazetteer coordinates further apart than this (km) mean the feed's are wrong.
MAX_COORDINATE_DISAGREEMENT_KM = 5.0
#: A session starting at or after this time (minutes after midnight) is an evening session...
EVENING_STARTS = 17 * 60
#: ...and so is one still running after this time.
EVENING_RUNS_PAST = 19 * 60
#: The ages the Local Offer covers.
MIN_AGE, MAX_AGE = 0, 25
#: rapidfuzz score (0-100) above which a taxonomy term is read as a category label.
CATEGORY_FUZZY_CUTOFF = 90.0

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

#: Characters that match an ASCII letter only under re.IGNORECASE (dotted and dotless i, long
#: s, Kelvin sign). In any text without them, the lowercase rules below on the lowercased text
#: find exactly what the case-insensitive rules find on the text, faster.
_CASE_TRAPS = re.compile("[\u0130\u0131\u017f\u212a]")


def _lowercase_rules(rules: tuple[tuple[str, re.Pattern[str]], ...]
                     ) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The same rules for lowercased text: written in lower case, compiled without IGNORECASE
    (a rule with an upper-case letter, e.g. ``\\S``, keeps it)."""
    return tuple((name, re.compile(rx.pattern, rx.flags & ~re.I)
                  if rx.pattern == rx.pattern.lower() else rx) for name, rx in rules)


def _lowered(text: str) -> tuple[str, bool]:
    """``(text.lower(), True)`` when the lowercase rules may read it, else ``(text, False)``."""
    if text.isascii() or _CASE_TRAPS.search(text) is None:
        return text.lower(), True
    return text, False


_CATEGORY_RULES_LOWER = _lowercase_rules(_CATEGORY_RULES)

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
        try:
            out = float(value)
        except OverflowError:     # an integer too large for a float (JSON sets no limit)
            return None
        return out if math.isfinite(out) else None
    try:
        out = float(str(value).strip())
    except ValueError:
        return None
    return out if math.isfinite(out) else None


def _in_gb(lat: float | None, lon: float | None) -> bool:
    return (lat is not None and lon is not None and _GB_LAT[0] <= lat <= _GB_LAT[1]
            and _GB_LON[0] <= lon <= _GB_LON[1])


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
        #: When a list, :meth:`claim_id` only notes (id, record number, no problem so far) of
        #: every record here, for the process joining chunks of a feed to claim in order.
        self.id_log: list[tuple[str, int, bool]] | None = None
        self._normalised: dict[str, tuple[list[str], list[str], bool]] = {}
        self._access_labels = {self._key(label): value
                               for value, label in self.vocab.accessibility.items()}
        # Feeds repeat the same few texts ("Wheelchair accessible", "Term time only"): what
        # each says is worked out once per feed.
        self._access_of_text: dict[str, list[str]] = {}
        self._when_of_text: dict[str, set[str]] = {}

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()

    # -- identity ---------------------------------------------------------------------------
    def service_id(self, d: RawRecord, raw: Any, column: str = "id") -> str:
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
        return text   # a repeated id is found in finish(): only an accepted record claims one

    def claim_id(self, d: RawRecord, column: str = "id") -> None:
        """Reject ``d`` when an earlier record that was imported has its id; else, when ``d``
        is imported (no problem), its id is taken. A rejected record never takes an id, so
        a later good copy of it is still imported."""
        if self.id_log is not None:      # the ids are claimed by whoever joins the chunks
            self.id_log.append((d.id, d.row, not d.problems))
            return
        if d.id and d.id in self.seen_ids:
            d.problem(column, d.id, f"id {d.id} is already used by record "
                                    f"{self.seen_ids[d.id]} of this feed",
                      "The feed repeats a service: only the first copy was imported. Ask the "
                      "publisher to remove the duplicate.")
        elif not d.problems and d.id:
            self.seen_ids[d.id] = d.row

    def name(self, d: RawRecord, raw: Any, column: str = "name") -> str:
        """The service's name; a problem when blank."""
        text = _text(raw)
        if looks_like_html(text):    # markup is not part of a name: "<b>Swim</b>" -> "Swim"
            text = " ".join(clean_text(text).split())
        if not text:
            d.problem(column, "", "the service has no name",
                      "The feed must name every service: ask its publisher to fix it.")
        return text

    def description(self, d: RawRecord, raw: Any, name: str, terms: Sequence[str],
                    column: str = "description") -> str:
        """The description as plain text (HTML cleaned); without one, a made-up one (warning)
        or a problem."""
        text = clean_text(_text(raw))
        if text:
            return text
        if self.missing_description == "reject":
            d.problem(column, "", "the service has no description",
                      "Families and the matcher read the description: ask the publisher to "
                      "add one, or import with missing_description='fallback'.")
            return ""
        listed = "; ".join(dict.fromkeys(t for t in map(clean_text, terms) if t))
        text = f"{name}." + (f" Listed under: {listed}." if listed else "")
        d.warn(column, "", "the service has no description, so one was made from its name "
                           "and taxonomy terms",
               "Ask the publisher to add a description in the provider's words; matching on "
               "this service's text is weak until then.")
        return text

    def status(self, d: RawRecord, raw: Any, column: str = "status") -> None:
        """A service the feed does not mark active (a blank status counts as active) is kept
        as inactive: stored, never suggested, and active again when the feed says so."""
        text = _text(raw).lower()
        if text and text != "active":
            self.inactive(d, column, raw, f"the feed marks this service as '{text}'")

    @staticmethod
    def inactive(d: RawRecord, column: str, raw: Any, why: str) -> None:
        """Keep the record, marked inactive, with a warning saying why."""
        d.status = "inactive"
        d.warn(column, raw, f"{why}, so it is kept as inactive and not suggested to families",
               "Nothing to fix: it is suggested again when the feed marks it active.")

    # -- ages and dates ---------------------------------------------------------------------
    def ages(self, d: RawRecord, low: Any, high: Any, columns: tuple[str, str]) -> None:
        """Whole years as stated, the top clamped to 25 (a service for 12 to 100 is, for the Local
        Offer, one for 12 to 25). A service for people over 25 keeps its minimum age: it is
        kept, and the engine decides who sees it. Ages the wrong way round are left unknown,
        with a warning."""
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
        if hi is not None and hi > MAX_AGE:
            hi = MAX_AGE if lo is None or lo <= MAX_AGE else None
        if lo is not None and hi is not None and lo > hi:
            d.warn(columns[0], f"{low} > {high}", f"the minimum age {lo} is above the maximum "
                                                  f"age {hi}, so both were left out",
                   "Ask the publisher to correct the ages (they may be swapped).")
            lo = hi = None
        d.min_age, d.max_age = lo, hi

    def date(self, d: RawRecord, raw: Any, column: str) -> dt.date | None:
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
    def url(self, d: RawRecord, raw: Any, column: str) -> str:
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

    def email(self, d: RawRecord, raw: Any, column: str) -> str:
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
    def needs(self, d: RawRecord, words: Sequence[str], column: str) -> None:
        """Fill ``needs_raw`` (the words as given, ``;``-separated), ``needs`` (canonical ids)
        and ``needs_unrecognised`` (warning + report) from the feed's need words."""
        words = list(dict.fromkeys(w.strip() for w in words if w and w.strip()))
        raw = ";".join(words)
        needs, unrecognised, _ = self._normalise(raw)
        extra = [n for n in d.ours.get("needs", []) if self.vocab.is_known(n) and n not in needs]
        d.set(needs_raw=raw, needs=needs + extra, needs_unrecognised=unrecognised)
        if unrecognised:
            joined = "; ".join(unrecognised)
            d.warn(column, joined, f"needs word(s) not recognised: {joined}",
                   "The service is still imported (the words are kept and its description is "
                   "read). Ask for the words to be added to data/vocabulary.yaml if they name a "
                   "need.")
            self.report.note_unmapped("needs", unrecognised)

    def audience_tags(self, d: RawRecord, tags: Sequence[Term]) -> None:
        """Audience tags ("Autism", "Sensory Impaired > Visually Impaired", "Parents > Grand
        parents", "Carers") -> needs and audience, through the vocabulary.

        Each tag's parts are tried from the most specific ("Visually Impaired") to the most
        general: the first part that names a need or an audience decides. A need tag adds to
        ``needs`` (its words to ``needs_raw``); tags that name neither are reported.
        """
        need_words: list[str] = []
        audience: list[str] = list(d.audience)
        unmapped: list[str] = []
        for tag in tags:
            parts = [p.strip() for p in tag.text.split(">") if p.strip()]
            # "Refugees/Asylum Seekers": the whole part first, then each alternative.
            tries = [t for p in reversed(parts)
                     for t in (p, *(q.strip() for q in p.split("/") if "/" in p and q.strip()))]
            for part in tries:
                who = self.vocab.audience_of(part)
                if who is not None:
                    if who not in audience:
                        audience.append(who)
                    break
                needs, unrecognised, _ = self._normalise(part)
                if needs and not unrecognised:
                    need_words.append(part)
                    break
            else:
                unmapped.append(tag.text)
        d.audience = audience
        if need_words:
            words = [w for w in (d.needs_raw.split(";") if d.needs_raw else []) if w]
            self.needs(d, [*words, *need_words], "pc_targetAudience")
        if unmapped:
            joined = "; ".join(dict.fromkeys(unmapped))
            d.warn("pc_targetAudience", joined, f"audience tag(s) not understood: {joined}",
                   "Nothing to fix; the service is still imported. Add the words to the "
                   "needs or audience lists of data/vocabulary.yaml if they name a need or a "
                   "group.")
            self.report.note_unmapped("audience", dict.fromkeys(unmapped))

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

    def categories(self, d: RawRecord, terms: Sequence[Term], need_terms: set[str],
                   name: str, description: str) -> None:
        """Categories from taxonomy terms; guessed from the name and description (warning)
        when no term maps; ``other`` (warning) when nothing does."""
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
                   "matcher/ingest/rules.py can be extended if they matter.")
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
                cats = ["other"]
                d.warn("categories", "", "no category could be worked out (no taxonomy term the "
                                         "matcher knows, and the name and description name "
                                         "none), so it is listed under 'other'",
                       "Ask the publisher to tag it with a service type (e.g. 'Sports and "
                       "fitness', 'Advice and support').")
        d.categories = cats

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
                said = self._when_of_text.get(text)
                if said is None:
                    said = self._when_of_text[text] = {
                        v for clause in re.split(r"[.;:\n]+", text)
                        if not _WHEN_NEGATED.search(clause)
                        for v, rx in _WHEN_TEXT if rx.search(clause)}
                found |= said
        return [v for v in self.vocab.when if v in found]

    @staticmethod
    def delivery_from_text(text: str) -> list[str]:
        """Delivery values named in free text ("in-person or remotely via video")."""
        return list(_delivery_in(text))

    def accessibility(self, d: RawRecord, texts: Sequence[str], column: str) -> list[str]:
        """Accessibility values read from location accessibility texts; the rest reported."""
        out: list[str] = []
        unmapped: list[str] = []
        for text in texts:
            values = self._access_of_text.get(text)
            if values is None:
                values = self._access_of_text[text] = self._access_of(text)
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

    def _access_of(self, text: str) -> list[str]:
        """Accessibility values one text names: its label exactly, else found in its words
        (none for "partially", "limited"...)."""
        exact = self._access_labels.get(self._key(text))
        if exact:
            return [exact]
        if _PARTIAL.search(text):
            return []
        return list(self.vocab.find_in_text(text).accessibility_mentioned)

    def cost(self, d: RawRecord, options: Sequence[Mapping[str, Any]], fees: str,
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
        d.cost = cost
        d.cost_details = "; ".join(details)

    def service_area(self, d: RawRecord, texts: Sequence[str], column: str) -> list[str]:
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

    def our_values(self, d: RawRecord, terms: Sequence[Term]) -> list[Term]:
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
            if name in ("needs_as_written", "ratings", "outcomes"):
                allowed = None
            elif name == "needs":
                allowed = None if self.vocab.is_known(term.value) else ()
            elif name in ("ehcp_required", "outside_area", "used_by_local_families"):
                allowed = ("yes", "no")
            elif name in _OUR_FIELDS:
                allowed = tuple(getattr(self.vocab, name))
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


@functools.lru_cache(maxsize=4096)
def _delivery_in(text: str) -> tuple[str, ...]:
    return tuple(v for v, rx in _DELIVERY_TEXT if rx.search(text))


def _guess_category(name: str, description: str) -> str | None:
    """The category whose keywords occur most in the name (counted twice) and description."""
    scores: Counter[str] = Counter()
    for weight, raw in ((2, name), (1, description)):
        text, lower = _lowered(raw)
        for category, rx in _CATEGORY_RULES_LOWER if lower else _CATEGORY_RULES:
            scores[category] += weight * len(rx.findall(text))
    if not scores or max(scores.values()) == 0:
        return None
    order = [c for c, _ in _CATEGORY_RULES]
    return max(scores, key=lambda c: (scores[c], -order.index(c)))




def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _address_text(parts: Iterable[Any]) -> str:
    out: list[str] = []
    for part in parts:
        text = " ".join(_text(part).split())   # _text is stripped: runs of spaces -> one
        if text and text.lower() not in {o.lower() for o in out}:
            out.append(text)
    return ", ".join(out)




# --------------------------------------------------------------------------- finishing
def finish(m: FeedMapper, drafts: list[RawRecord]) -> list[ServiceRecord]:
    """Check every venue postcode and district at once, place each service, build records.

    ``drafts`` is used up: each draft is let go as its record is made (``drafts`` is empty
    afterwards), so a large feed never holds all its drafts and all its records at once.
    """
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
    districts = sorted({a for d in drafts for a in d.service_area
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
    drafts.reverse()
    for di in range(len(drafts)):
        d = drafts.pop()
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
            d.set(postcode=pc, latitude=lat, longitude=lon, address=place.address)
        else:
            d.set(postcode=None, latitude=None, longitude=None,
                  address=next((p.address for p in d.places if p.address and not p.virtual), ""))
        for area in d.service_area:
            if area != "national" and not known_districts.get(area, True):
                d.warn("service_areas", area, f"{area} is not a current GB postcode district, "
                                              "so no family will be inside it",
                       "Ask the publisher to check the district; the service was still "
                       "imported.")
        has_place = d.latitude is not None and not (chosen and chosen[0].postal)
        if not d.delivery and has_place:
            d.delivery = ["in_person"]   # a venue is stated; with none, delivery stays unknown
        elif d.delivery == ["in_person"] and not has_place:
            d.warn("service_at_locations", "", "the service is delivered in person but has no "
                                               "usable location, so its distance from a family "
                                               "cannot be worked out",
                   "Ask the publisher to add the venue's postcode or coordinates.")
        m.claim_id(d)
        m.report.problems.extend(d.problems)
        m.report.warnings.extend(d.warnings)
        if d.problems:
            continue
        records.append(apply_reading(ServiceRecord(**d.record_fields()),
                                     [tag.text for tag in d.tags], m.vocab,
                                     organisation_description=d.organisation_description))
        m.report.accepted.append(d.id)
    m.report.count_fields(records)
    m.report.problems.sort(key=lambda p: p.row)
    m.report.warnings.sort(key=lambda p: p.row)
    return records


