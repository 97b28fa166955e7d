"""Property tests (hypothesis) of the importers under random damage.

A small valid feed of each JSON format (ORUK 3.0, ORUK v1 as Open Place publishes it, Outpost)
and a small valid template CSV are written out below; each test damages them at random, record
by record (keys deleted, values of the wrong type, ``<script>`` and other HTML injected into
text, ids blanked or repeated, garbage nested anywhere, whole records replaced, the JSON text
cut short, stray quotes in the CSV) and checks that an import

* never raises anything but :class:`~matcher.errors.DataImportError`, and that only for text
  that is not a feed at all (cut-short JSON: a plain message with line and column);
* never loses a good record: every undamaged record is accepted exactly as it is when read
  alone (same fields, same warnings);
* accounts for every record: accepted + rejected == rows read, and each rejected record has a
  problem on its own row, with a fix;
* rejects a feed record only for no id, no name, or an id an earlier record already has (the
  later copy), and an id longer than the store's id column;
* never keeps markup in a name or description.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.errors import DataImportError
from matcher.ingest import COLUMNS, Problem, read_feed, read_service_csv
from matcher.ingest.rules import MAX_ID_LENGTH
from matcher.ingest.text import clean_text

TODAY = dt.date(2026, 1, 1)
SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
#: Markup left in plain text (the issue's test: "<" then a letter, "/" or "!").
MARKUP = re.compile(r"<[A-Za-z/!]")


@pytest.fixture(autouse=True, scope="module")
def _gazetteer(postcode_index):
    """Venue postcodes are checked against the real gazetteer (built once per session)."""
    return postcode_index


# --------------------------------------------------------------------------- the valid feeds
ORUK3: list[dict[str, Any]] = [
    {
        "id": "7c1e0a52-0001-4c1a-9d0e-000000000001",
        "name": "Riverside Sensory Swim",
        "description": "<p>Quiet, sensory-friendly swimming sessions. Lights down &amp; music "
                       "off.</p><ul><li>Saturdays</li><li>Sundays</li></ul>",
        "url": "https://riverside-swim.example",
        "email": "swim@riverside.example",
        "status": "active",
        "minimum_age": 4,
        "maximum_age": 16,
        "assured_date": "2025-05-01",
        "organization": {"id": "org-1", "name": "Riverside Leisure Trust"},
        "service_at_locations": [{"id": "sal-1", "location": {
            "id": "loc-1", "location_type": "physical", "name": "Riverside Pool",
            "addresses": [{"address_1": "1 Example Road", "city": "London",
                           "postal_code": "E9 6FH", "address_type": "physical"}],
            "accessibility": [{"description": "Wheelchair accessible entrance"}]}}],
        "schedules": [{"byday": "SA,SU", "opens_at": "10:00", "closes_at": "12:00"}],
        "attributes": [
            {"taxonomy_term": {"name": "Sports and fitness", "taxonomy": "Service types"}},
            {"taxonomy_term": {"name": "Autism", "taxonomy": "SEND needs"}}],
        "cost_options": [{"option": "Per swim", "amount": 3, "currency": "GBP"}],
        "service_areas": [{"service_area": "E5, E8, E9"}],
    },
    {
        "id": "7c1e0a52-0002-4c1a-9d0e-000000000002",
        "name": "Talk Together Parent Line",
        "description": "Phone and online advice for parents of children with speech and "
                       "language needs.",
        "status": "active",
        "minimum_age": 0,
        "maximum_age": 18,
        "organization": {"id": "org-2", "name": "Talk Together"},
        "service_at_locations": [{"location": {"location_type": "virtual", "name": "Online"}}],
        "schedules": [{"byday": "MO,TU,WE,TH,FR", "opens_at": "18:00", "closes_at": "20:00",
                       "attending_type": "phone"}],
        "attributes": [{"taxonomy_term": {"name": "Advice and support", "taxonomy": "types"}},
                       {"taxonomy_term": {"name": "Speech and language", "taxonomy": "needs"}}],
        "cost_options": [{"option": "Free", "amount": 0}],
        "service_areas": [{"service_area": "national"}],
        "languages": [{"name": "English"}, {"name": "Turkish"}],
    },
    {
        "id": "7c1e0a52-0003-4c1a-9d0e-000000000003",
        "name": "Oak Lane Resource Base",
        "description": "Resource base for autistic pupils with an EHCP naming the school.",
        "status": "active",
        "eligibilitys": [{"minimum_age": 4, "maximum_age": 11}],
        "organization": {"name": "Oak Lane Primary School"},
        "service_at_locations": [{"location": {
            "location_type": "physical", "name": "Oak Lane",
            "physical_addresses": [{"address_1": "Oak Lane", "city": "London",
                                    "postal_code": "E8 3QB"}]}}],
        "regular_schedules": [{"weekday": "Monday", "opens_at": "09:00", "closes_at": "15:00",
                               "description": "Term time only"}],
        "service_taxonomys": [{"taxonomy": {"name": "Primary schools", "vocabulary": "types"}}],
        "fees": "Free",
    },
]

ORUK1: list[dict[str, Any]] = [
    {
        "id": "3f1c9a10-aaaa-4bbb-8ccc-000000000001",
        "name": "Saturday Youth Club",
        "description": "<p>Youth club for young people with learning disabilities:</p>"
                       "<ul><li>games</li><li>cooking &amp; trips</li></ul>",
        "status": "active",
        "attending_type": "Venue",
        "attending_access": "Drop-in",
        "deliverable_type": "Social activity",
        "pc_targetAudience": [{"id": "ld", "audienceType": "Learning Disability"},
                              {"id": "yp", "audienceType": "Young People"}],
        "organization": {"id": "org-10", "name": "Eastside Youth"},
        "url": "https://eastside-youth.example",
    },
    {
        "id": "3f1c9a10-aaaa-4bbb-8ccc-000000000002",
        "name": "Sign Play",
        "description": "<p>Play sessions led by deaf staff, in BSL and English.</p>",
        "status": "active",
        "attending_type": "Online",
        "pc_targetAudience": [{"id": "si", "audienceType": "Sensory Impaired>Hearing Impaired"},
                              {"id": "pc", "audienceType": "Parents>Carers "}],
        "organization": {"id": "org-11", "name": "Sign Play (charity)"},
    },
    {
        "id": "3f1c9a10-aaaa-4bbb-8ccc-000000000003",
        "name": "Home Start Portage",
        "description": "Home visits that help families of very young children learn through "
                       "play.",
        "status": "active",
        "attending_type": "Home visit",
        "pc_targetAudience": [{"id": "au", "audienceType": "Autism"}],
        "organization": {"id": "org-12", "name": "Early Help"},
        "pc_metadata": {"date_modified": "2025-02-02T10:00:00Z"},
    },
]

OUTPOST: list[dict[str, Any]] = [
    {
        "id": 101,
        "updated_at": "2025-05-02T10:00:00.000Z",
        "name": "Tiny Tots Sensory Play",
        "description": "Messy and sensory play for babies and toddlers.",
        "url": "https://tinytots.example",
        "age_band_under_2": True,
        "age_band_2": True,
        "needs_referral": False,
        "free": True,
        "locations": [{"id": 1, "name": "Children's Centre", "address_1": "1 Example Road",
                       "city": "London", "postal_code": "E5 8AS"}],
        "contacts": [{"id": 2, "email": "play@tinytots.example", "phone": "020 7946 0202"}],
        "organisation": {"id": 9, "name": "Tiny Tots Trust"},
        "taxonomies": [{"id": 123, "name": "Activities for babies and toddlers"}],
        "regular_schedules": [{"weekday": "Saturday", "opens_at": "10:00", "closes_at": "11:00"}],
        "send_needs": [{"id": 5, "name": "Sensory and physical needs"}],
        "suitabilities": [{"id": 6, "name": "Autism"}],
    },
    {
        "id": 102,
        "updated_at": "2025-04-01T10:00:00.000Z",
        "name": "Homework Help Online",
        "description": "One-to-one homework help by video call.",
        "age_band_8_plus": True,
        "needs_referral": True,
        "free": False,
        "locations": [{"id": 2, "name": "Online", "city": "Nationwide"}],
        "organisation": {"id": 10, "name": "Study Buddies", "url": "studybuddies.example"},
        "local_offer": {"description": "<p>Tutors trained in dyslexia support.</p>"},
        "taxonomies": [{"id": 200, "name": "Tuition"}],
        "cost_options": [{"option": "Per session", "amount": 12, "cost_type": "per hour"}],
        "languages": [{"name": "english"}],
    },
    {
        "id": 103,
        "updated_at": "2025-03-01",
        "name": "Evening Drama Group",
        "description": "Drama for young people with additional needs.",
        "min_age": 11,
        "max_age": 19,
        "locations": [{"id": 3, "name": "Community Hall", "postal_code": "N16 7NL",
                       "geometry": {"type": "Point", "coordinates": [-0.0756, 51.5616]},
                       "accessibilities": [{"name": "Wheelchair accessible"}]}],
        "organisation": {"id": 11, "name": "Stage Door"},
        "taxonomies": [{"id": 300, "name": "Drama"}],
        "regular_schedules": [{"weekday": "Wednesday", "opens_at": "18:00",
                               "closes_at": "20:00"}],
        "local_offer": {"description": "Quiet room and trained staff.", "age_group": "11-19"},
    },
]

FEEDS = {"oruk": ORUK3, "oruk1": ORUK1, "outpost": OUTPOST}
PREFIX = {"oruk": "oruk", "oruk1": "oruk", "outpost": "outpost"}


# --------------------------------------------------------------------------- damage
#: Text that cannot itself look like markup (no "<", "&"), nor a script call (no "(").
SAFE_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                           blacklist_characters="<&()"), max_size=30)
HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<b>bold</b> and <i>italic</i>",
    "<p>para</p><ul><li>item</li></ul>",
    '<a href="javascript:alert(1)">click</a>',
    "<!-- a comment --> text",
    "<style>body{display:none}</style>",
    "<iframe src=//evil.example></iframe>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",           # HTML encoded twice, as some CMSs send
    "&lt;p&gt;double &amp;amp; encoded&lt;/p&gt;",
    "<textarea><script>alert(1)</script></textarea>",   # raw-text elements keep tags as text
    "<<script>script>alert(1)<</script>/script>",
    "<svg onload=alert(1)>",
    "</p></div>",
]
LONG = "x" * 5000
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.sampled_from([10**400, -(10**4000)]),            # valid JSON; too big for a float
    st.floats(), SAFE_TEXT, st.just(LONG), st.sampled_from(HTML), st.sampled_from(["", "  "]),
)
GARBAGE = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
#: Numbers no float holds (they crashed the readers), not-a-number, infinity, words.
NUMBERS = st.sampled_from([10**400, -(10**4000), float("nan"), float("inf"), -1, 1e308,
                           "12 years", "1e400", ""])
PATH = st.lists(st.integers(0, 60), min_size=1, max_size=4)
OPS = st.one_of(
    st.tuples(st.just("delete"), PATH),
    st.tuples(st.just("replace"), PATH, GARBAGE),
    st.tuples(st.just("replace"), PATH, NUMBERS),
    st.tuples(st.just("inject"), PATH, st.sampled_from(HTML), st.integers(0, 500)),
    st.tuples(st.just("set"), st.sampled_from(["id", "name"]), st.sampled_from(["", " ", None])),
    st.tuples(st.just("delete_key"), st.sampled_from(["id", "name", "description"])),
    st.tuples(st.just("inject_key"), st.sampled_from(["name", "description"]),
              st.sampled_from(HTML), st.integers(0, 500)),
    st.tuples(st.just("dup_id"), st.integers(0, 10)),
    st.tuples(st.just("not_object"), st.one_of(SCALARS, st.lists(SCALARS, max_size=2))),
)
#: Markup in the text families read (the issue's main worry) and numbers in the number fields
#: are drawn on their own as well as among the other damage. Families read a feed's name, its
#: description, Outpost's local offer text, and the taxonomy terms a made-up description
#: lists when a record has none.
TEXT_AT = [("name",), ("description",), ("local_offer", "description"),
           ("taxonomies", 0, "name"), ("attributes", 0, "taxonomy_term", "name"),
           ("service_taxonomys", 0, "taxonomy", "name"), ("deliverable_type",)]
MARKUP_OP = st.tuples(st.just("inject_at"), st.integers(0, 10), st.sampled_from(HTML),
                      st.integers(0, 500))
NUMBER_OP = st.tuples(st.just("set"), st.sampled_from(["minimum_age", "maximum_age", "min_age",
                                                         "max_age", "id", "name"]), NUMBERS)
#: About half the records are left alone.
DAMAGE = st.one_of(
    st.just([]),
    st.builds(lambda *parts: [op for part in parts for op in part],
              st.lists(MARKUP_OP, max_size=2), st.lists(NUMBER_OP, max_size=1),
              st.lists(st.just(("delete_key", "description")), max_size=1),
              st.lists(OPS, max_size=3)),
)


def _locate(record: Any, path: list[int]) -> tuple[Any, Any] | None:
    """(container, key) somewhere inside ``record``, chosen by ``path``."""
    container = record
    for depth, i in enumerate(path):
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        if not keys:
            return None
        key = keys[i % len(keys)]
        child = container[key]
        if depth == len(path) - 1 or not isinstance(child, dict | list) or not child:
            return container, key
        container = child
    return None


def _spot(item: dict[str, Any], at: tuple[Any, ...]) -> tuple[dict[str, Any], str] | None:
    """(container, key) of a text field the record has (a name or description always)."""
    *steps, last = at
    container: Any = item
    for step in steps:
        if isinstance(container, dict) and step in container or (
                isinstance(container, list) and isinstance(step, int) and step < len(container)):
            container = container[step]
        else:
            return None
    if isinstance(container, dict) and (last in container or not steps):
        return container, last
    return None


def _insert(text: Any, snippet: str, at: int) -> str:
    if not isinstance(text, str):
        return snippet
    at %= len(text) + 1
    return text[:at] + snippet + text[at:]


def damage(base: list[dict[str, Any]], plans: list[list[tuple]]) -> list[Any]:
    """The base records with each one's damage applied (plans[i] for record i)."""
    items: list[Any] = []
    for i, (record, plan) in enumerate(zip(base, plans, strict=True)):
        item: Any = copy.deepcopy(record)
        for op, *args in plan:
            if not isinstance(item, dict):
                break
            if op == "not_object":
                item = copy.deepcopy(args[0])
                continue
            if op in ("delete", "replace", "inject"):
                where = _locate(item, args[0])
                if where is None:
                    continue
                container, key = where
                if op == "delete":
                    del container[key]
                elif op == "replace":
                    container[key] = copy.deepcopy(args[1])
                else:
                    container[key] = _insert(container[key], args[1], args[2])
            elif op == "set":
                item[args[0]] = args[1]
            elif op == "delete_key":
                item.pop(args[0], None)
            elif op == "inject_key":
                item[args[0]] = _insert(item.get(args[0]), args[1], args[2])
            elif op == "inject_at":
                spots = [s for s in (_spot(item, at) for at in TEXT_AT) if s is not None]
                container, key = spots[args[0] % len(spots)]
                container[key] = _insert(container.get(key), args[1], args[2])
            elif op == "dup_id" and i > 0:
                item["id"] = base[args[0] % i]["id"]
        items.append(item)
    return items


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (so ``True`` is not ``1`` and ``1.0`` is not ``1``)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@dataclass
class FeedCase:
    fmt: str
    items: list[Any]        # the damaged records, in feed order
    undamaged: list[bool]
    shape: str              # "list", "page" or "pages"
    given_as: str           # "object", "text", "bytes" or "file"

    def document(self) -> Any:
        key = "content" if self.fmt == "outpost" else "contents"
        if self.shape == "list":
            return list(self.items)
        if self.shape == "page":
            return {"total_items": len(self.items), "page_number": 1, key: list(self.items)}
        half = len(self.items) // 2
        return [{"page_number": 1, key: self.items[:half]},
                {"page_number": 2, key: self.items[half:]}]

    @contextmanager
    def source(self) -> Iterator[Any]:
        doc = self.document()
        if self.given_as == "text":
            yield json.dumps(doc)
        elif self.given_as == "bytes":
            yield json.dumps(doc, ensure_ascii=False).encode("utf-8")
        elif self.given_as == "file":
            with _saved(json.dumps(doc, ensure_ascii=False, indent=1)) as path:
                yield path
        else:
            yield doc


@contextmanager
def _saved(text: str | bytes) -> Iterator[Path]:
    """``text`` saved as a .json file (a list in a file is read as a stream)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "feed.json"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        yield path


@st.composite
def feed_cases(draw: st.DrawFn, fmts: tuple[str, ...] = tuple(FEEDS)) -> FeedCase:
    fmt = draw(st.sampled_from(fmts))
    base = FEEDS[fmt]
    plans = draw(st.lists(DAMAGE, min_size=len(base), max_size=len(base)))
    items = damage(base, plans)
    return FeedCase(fmt, items, [_same(a, b) for a, b in zip(items, base, strict=True)],
                    draw(st.sampled_from(["list", "page", "pages"])),
                    draw(st.sampled_from(["object", "text", "bytes", "file"])))


# --------------------------------------------------------------------------- the rule, restated
def _as_text(value: Any) -> str:
    """An id or name as the feed gives it: a string (trimmed) or a number; nothing else."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return ""


def expected(fmt: str, items: list[Any]) -> list[tuple[str | None, set[str]]]:
    """Per record: (its id when accepted else None, the columns its problems must name).

    Rejected only for: not an object, no id (missing, blank, not a string or number), an id
    too long for the store, an id an earlier record already has (the later copy), no name
    (missing, blank, not a string or number, or nothing left once markup is removed)."""
    prefix = PREFIX[fmt]
    seen: set[str] = set()
    out: list[tuple[str | None, set[str]]] = []
    for item in items:
        if not isinstance(item, dict):
            out.append((None, {""}))
            continue
        columns: set[str] = set()
        text = _as_text(item.get("id"))
        full = text if text.startswith(prefix + ":") else f"{prefix}:{text}"
        if not text or len(full) > MAX_ID_LENGTH or full in seen:
            columns.add("id")
        if not clean_text(_as_text(item.get("name"))).strip():
            columns.add("name")
        if not columns:
            seen.add(full)      # only an imported record takes its id
        out.append((None if columns else full, columns))
    return out


_ALONE: dict[tuple[str, int], tuple[Any, list[tuple[str, str, str, str]]]] = {}


def _said(problems: list[Problem], row: int) -> list[tuple[str, str, str, str]]:
    return [(p.column, p.value, p.problem, p.fix) for p in problems if p.row == row]


def alone(fmt: str, index: int) -> tuple[Any, list[tuple[str, str, str, str]]]:
    """The record and warnings of base record ``index`` read on its own."""
    key = (fmt, index)
    if key not in _ALONE:
        records, report = read_feed([FEEDS[fmt][index]], fmt=fmt, today=TODAY)
        assert len(records) == 1 and report.ok, report.format_text()
        _ALONE[key] = (records[0], _said(report.warnings, 1))
    return _ALONE[key]


def _accounted(report: Any, records: list[Any]) -> None:
    """Invariants of every report: nothing vanishes, each problem is on a record's row."""
    assert [r.id for r in records] == report.accepted
    assert len(report.accepted) + report.rejected == report.rows_read
    for p in report.problems + report.warnings:
        assert 1 <= p.row <= report.rows_read, p
        assert p.problem.strip() and p.fix.strip(), p
    json.dumps(report.to_dict())
    assert report.format_text()


def _no_markup(records: list[Any]) -> None:
    for r in records:
        for text in (r.name, r.description):
            assert "<script" not in text.lower(), (r.id, text)
            assert not MARKUP.search(text), (r.id, text)


# --------------------------------------------------------------------------- feed properties
def test_the_valid_feeds_are_valid():
    for fmt, base in FEEDS.items():
        records, report = read_feed(base, fmt=fmt, today=TODAY)
        assert report.ok and len(records) == len(base), report.format_text()
        assert read_feed(base, today=TODAY)[1].format == fmt     # and recognised as theirs


@SETTINGS
@given(case=feed_cases())
def test_damaged_feed_keeps_good_records_and_reports_each_bad_one(case: FeedCase):
    with case.source() as source:
        records, report = read_feed(source, fmt=case.fmt, today=TODAY)

    # (3) every record accounted for, every problem on a record's row, with a fix
    assert report.rows_read == len(case.items) and not report.fatal
    _accounted(report, records)

    # (4) rejected only for no id, no name or a repeated id (the later copy), or an id too
    # long for the store
    want = expected(case.fmt, case.items)
    assert report.accepted == [fid for fid, _ in want if fid is not None]
    assert report.rejected_rows == [row for row, (fid, _) in enumerate(want, 1) if fid is None]
    for row, (_, columns) in enumerate(want, 1):
        named = {p.column for p in report.problems if p.row == row}
        assert columns <= named, (row, columns, named)

    # (2) an undamaged record is kept exactly as when read alone (same fields, same warnings),
    # unless an earlier record that was imported has its id
    by_id = {r.id: r for r in records}
    for row, (fid, columns) in enumerate(want, 1):
        if not case.undamaged[row - 1]:
            continue
        if fid is None:
            assert columns == {"id"} and any("already used" in p.problem for p in
                                               report.problems if p.row == row)
            continue
        record, warnings = alone(case.fmt, row - 1)
        assert by_id[fid] == record
        assert _said(report.warnings, row) == warnings

    # (5) no markup survives in a name or description
    _no_markup(records)


@SETTINGS
@given(case=feed_cases())
def test_damaged_feed_in_any_format_never_crashes(case: FeedCase):
    # (1) with the format detected from the damaged content: no exception; a feed whose shape
    # is no longer recognisable is reported as fatal, with nothing accepted
    with case.source() as source:
        records, report = read_feed(source, today=TODAY)
    if report.fatal:
        assert records == [] and report.problems and report.problems[0].row == 0
        assert report.problems[0].fix.strip()
        return
    assert report.rows_read == len(case.items)
    _accounted(report, records)
    _no_markup(records)


@SETTINGS
@given(case=feed_cases(), data=st.data())
def test_cut_short_json_is_a_plain_error(case: FeedCase, data: st.DataObject):
    # (6) a feed cut anywhere (a download that stopped) is a DataImportError naming the line
    # and column, never another exception: as text, as bytes (cut even inside a character)
    # and as a saved file (a list in a file is read as a stream: long enough here that the
    # cut comes after the first services were read)
    text = json.dumps(case.document(), indent=data.draw(st.sampled_from([None, 2])),
                      ensure_ascii=data.draw(st.booleans()))
    cut = data.draw(st.integers(1, len(text) - 1))
    with pytest.raises(DataImportError) as err:
        read_feed(text[:cut], fmt=case.fmt, today=TODAY)
    _plain_json_error(str(err.value))
    raw = text.encode("utf-8")
    with pytest.raises(DataImportError):
        read_feed(raw[:data.draw(st.integers(1, len(raw) - 1))], fmt=case.fmt, today=TODAY)
    many = json.dumps(case.items * 8, ensure_ascii=False).encode("utf-8")
    with _saved(many[:data.draw(st.integers(1, len(many) - 1))]) as path, \
            pytest.raises(DataImportError) as err:
        read_feed(path, fmt=case.fmt, today=TODAY)
    if "UTF-8" not in str(err.value):
        _plain_json_error(str(err.value))


def _plain_json_error(message: str) -> None:
    assert re.search(r"is not valid JSON \(.+ at line \d+, column \d+\)", message), message
    assert "Traceback" not in message and "\n" not in message


@pytest.mark.parametrize("text", [
    "[" * 100_000,                                   # nested deeper than the parser goes
    "[" * 5_000 + "]" * 5_000,
    '[{"id": ' + "1" * 5_000 + ', "name": "x"}]',    # a number too long to convert
    "[{]",
    "[1, 2,]",
])
def test_json_the_parser_refuses_is_a_plain_error(text: str):
    with pytest.raises(DataImportError, match="is not valid JSON|cannot be read as JSON"):
        read_feed(text, fmt="oruk", today=TODAY)


def test_not_a_feed_at_all():
    records, report = read_feed('{"hello": "world"}', today=TODAY)
    assert records == [] and report.fatal and report.problems[0].fix
    for doc in ([1, "two", None, [3]], {"contents": [True, 5.5]}):
        records, report = read_feed(doc, fmt="oruk", today=TODAY)
        assert records == [] and report.rows_read == report.rejected == len(
            doc if isinstance(doc, list) else doc["contents"])


# --------------------------------------------------------------------------- the CSV template
CSV_ROWS: list[dict[str, str]] = [
    {"id": "GOOD-1", "name": "Riverside Sensory Swim", "organisation": "Riverside Leisure Trust",
     "description": "Quiet, sensory-friendly swimming sessions. Lights down, music off.",
     "categories": "leisure", "needs": "autism;sensory processing", "min_age": "4",
     "max_age": "16", "postcode": "E9 6FH", "address": "Riverside Pool, London",
     "service_area": "E5;E8;E9", "delivery": "in_person", "cost": "paid",
     "cost_details": "£3 per swim", "when": "weekends", "accessibility": "wheelchair",
     "referral": "self", "ehcp_required": "no", "url": "https://riverside-swim.example",
     "phone": "020 7946 0001", "email": "swim@riverside.example", "last_reviewed": "2024-05-01"},
    {"id": "GOOD-2", "name": "Talk Together Parent Line", "organisation": "Talk Together",
     "description": "Phone and online advice for parents of children with speech and language "
                    "needs.",
     "categories": "support_advice", "needs": "SLCN", "min_age": "0", "max_age": "18",
     "service_area": "national", "delivery": "phone;online", "cost": "free",
     "when": "weekdays;evenings", "languages": "english;Turkish", "referral": "self",
     "url": "talktogether.example", "last_reviewed": "2025-01-10"},
    {"id": "GOOD-3", "name": "Oak Lane Resource Base", "organisation": "Oak Lane Primary",
     "description": "Resource base for autistic pupils with an EHCP naming the school.",
     "categories": "education", "needs": "ASD", "min_age": "4", "max_age": "11",
     "postcode": "E8 3QB", "address": "Oak Lane, London", "delivery": "in_person",
     "cost": "free", "when": "weekdays;term_time", "referral": "ehcp", "ehcp_required": "yes",
     "transitions": "early_years_to_primary"},
    {"id": "GOOD-4", "name": "Saturday Youth Club", "organisation": "Eastside Youth",
     "description": "Youth club for young people with learning disabilities: games, cooking "
                    "and trips.",
     "categories": "leisure;short_breaks", "needs": "learning disability", "min_age": "11",
     "max_age": "19", "postcode": "E5 8AS", "cost": "free_for_some",
     "cost_details": "Free with a short breaks card", "when": "weekends"},
    {"id": "GOOD-5", "name": "Deaf Children's Play Sessions", "organisation": "Sign Play",
     "description": "Play sessions led by deaf staff, in BSL and English.",
     "categories": "leisure", "needs": "hearing impairment", "min_age": "2", "max_age": "8",
     "postcode": "N16 7NL", "service_area": "N16;E5", "delivery": "in_person",
     "when": "weekends", "accessibility": "bsl", "languages": "BSL;English"},
]
BASE_CELLS = [[row.get(c, "") for c in COLUMNS] for row in CSV_ROWS]
HEADER = ",".join(COLUMNS) + "\n"

#: No damaged cell starts with ",", a quote or a line break: a stray quote in the row before
#: then ends at the next row's first quote, and the reader resumes on the next line.
CELL_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                           blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e"
                                                                "\x85\u2028\u2029"),
                    max_size=20).map(lambda s: "x" + s)
CELLS = st.one_of(CELL_TEXT, st.sampled_from([
    "", "   ", "not a number", "-5", "5.5", "99", "2099-01-01", "31/02/2024", "2024-02-30",
    "yes please", "ZZ99 9ZZ", "E8", "EC1A 1BB", "national;E8", "E8 1", "free;paid", "autsim",
    "leisure;nonsense", "in person", LONG, "a\x00b", "Line one\nLine two", "a;;b",
    'The "Sunflower" club', "<script>alert(1)</script>", "<b>bold</b>", "mailto:",
    "two@example.org, three@example.org", "ftp://files.example", "javascript:alert(1)",
    "NaN", "∞", "😀", "Café £5", "=HYPERLINK(\"http://evil.example\")", "\ufeffGOOD",
])).filter(lambda c: c[:1] not in (",", '"', "\n"))
COLUMN = st.integers(0, len(COLUMNS) - 1)
CSV_OPS = st.one_of(
    st.tuples(st.just("set"), COLUMN, CELLS),
    st.tuples(st.just("set"), st.sampled_from([0, 1, 3, 4]), st.sampled_from(["", "  "])),
    st.tuples(st.just("dup_id"), st.integers(0, 10)),
    st.tuples(st.just("drop"), COLUMN),                 # a cell missing: the rest shift left
    st.tuples(st.just("extra"), COLUMN, CELLS),         # a cell too many
)


@dataclass
class CsvCase:
    lines: list[str]        # one per record (a record may hold quoted line breaks)
    cells: list[list[str]]  # each record's cells as written
    undamaged: list[bool]
    shifted: list[bool]     # cells dropped, added or a stray quote: columns no longer line up

    @property
    def text(self) -> str:
        return HEADER + "".join(self.lines)


def _line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


@st.composite
def csv_cases(draw: st.DrawFn) -> CsvCase:
    plans = draw(st.lists(st.one_of(st.just([]), st.lists(CSV_OPS, min_size=1, max_size=3)),
                          min_size=len(BASE_CELLS), max_size=len(BASE_CELLS)))
    lines, all_cells, undamaged, shifted = [], [], [], []
    for i, (base, plan) in enumerate(zip(BASE_CELLS, plans, strict=True)):
        cells = list(base)
        moved = False
        for op, *args in plan:
            if op == "set" and args[0] < len(cells):
                cells[args[0]] = args[1]
            elif op == "dup_id" and i > 0 and not moved:
                cells[0] = BASE_CELLS[args[0] % i][0]
            elif op == "drop" and args[0] < len(cells):
                del cells[args[0]]
                moved = True
            elif op == "extra":
                cells.insert(args[0], args[1])
                moved = True
        lines.append(_line(cells))
        all_cells.append(cells)
        undamaged.append(cells == base)
        shifted.append(moved)
    # At most one stray double quote, in a record without line breaks in its cells.
    single = [i for i, c in enumerate(all_cells) if not any("\n" in x for x in c)]
    stray = draw(st.none() | st.tuples(st.sampled_from(single), st.integers(0, 10_000))
                 if single else st.none())
    if stray is not None:
        i, at = stray
        body = lines[i].rstrip("\n")
        at %= len(body) + 1
        lines[i] = body[:at] + '"' + body[at:] + "\n"
        undamaged[i], shifted[i] = False, True
    return CsvCase(lines, all_cells, undamaged, shifted)


_CSV_ALONE: dict[int, tuple[Any, list[tuple[str, str, str, str]]]] = {}


def csv_alone(index: int) -> tuple[Any, list[tuple[str, str, str, str]]]:
    if index not in _CSV_ALONE:
        records, report = read_service_csv(HEADER + _line(BASE_CELLS[index]), today=TODAY)
        assert len(records) == 1 and report.ok, report.format_text()
        _CSV_ALONE[index] = (records[0], _said(report.warnings, 2))
    return _CSV_ALONE[index]


def test_the_valid_csv_is_valid():
    records, report = read_service_csv(HEADER + "".join(map(_line, BASE_CELLS)), today=TODAY)
    assert report.ok and [r.id for r in records] == [c[0] for c in BASE_CELLS]


@SETTINGS
@given(case=csv_cases())
def test_damaged_csv_keeps_good_rows_and_reports_each_bad_one(case: CsvCase):
    records, report = read_service_csv(case.text, today=TODAY)
    assert not report.fatal

    # A record whose every cell is blank is an empty line to a spreadsheet: skipped, not a row.
    rows: list[int | None] = []
    next_row = report.header_row + 1
    for i, cells in enumerate(case.cells):
        if not case.shifted[i] and not any(c.strip() for c in cells):
            rows.append(None)
            continue
        rows.append(next_row)
        next_row += 1
    assert report.rows_read == sum(r is not None for r in rows)

    # every row accounted for; every problem on a data row, with a fix
    assert [r.id for r in records] == report.accepted
    assert len(report.accepted) + report.rejected == report.rows_read
    for p in report.problems + report.warnings:
        assert report.header_row < p.row <= report.header_row + report.rows_read, p
        assert p.problem.strip() and p.fix.strip(), p
    json.dumps(report.to_dict())
    assert report.format_text()

    rejected = set(report.rejected_rows)
    good_ids = {c[0]: i for i, c in enumerate(BASE_CELLS) if case.undamaged[i]}
    by_id = {r.id: r for r in records}
    for i, row in enumerate(rows):
        if row is None:
            continue
        named = {p.column for p in report.problems if p.row == row}
        if case.undamaged[i]:
            # a good row is kept exactly as when read alone
            record, warnings = csv_alone(i)
            assert row not in rejected, [p for p in report.problems if p.row == row]
            assert by_id[record.id] == record
            assert _said(report.warnings, row) == warnings
            continue
        if case.shifted[i]:
            continue
        # the cells line up: a blank id or name, or an earlier good row's id, is reported
        cells = case.cells[i]
        if not cells[0].strip():
            assert "id" in named
        if not cells[1].strip():
            assert "name" in named
        if cells[0].strip() in good_ids and good_ids[cells[0].strip()] < i:
            assert any(p.column == "id" and "already used" in p.problem
                       for p in report.problems if p.row == row)
