"""The feed tests the Open Referral UK dashboard measures publishers with, ported to Python.

The dashboard's validator takes real services from a feed, builds each search from a
service's own fields, runs it against ``/services`` and pages through the results until that
service appears (the Open Referral UK "API Validation Rules": Text, Age, Postcode, Taxonomy and
Time tests; a test that finds no service with the data it needs is "not run"). It also reads
the first, a middle and the last page of each paged route. :func:`check_feed` does the same
for any ORUK 3.0 feed, on a random sample of services for every search, and goes further in
two ways: it checks that each search's first page holds only services that match it (a feed
that ignores a filter would otherwise pass by paging through everything), and it validates
every answer against the profile's JSON schemas (:class:`ProfileSchemas`).

The five searches, from one service's own fields

========  ============================================  ============================================
Test      Data the service must have                    Query
========  ============================================  ============================================
Text      a word of three or more letters in its name   ``search=<its longest word>``
Age       ``minimum_age`` and ``maximum_age``            ``minimum_age=<min>&maximum_age=<max>``
Postcode  a physical location's postcode                ``postcode=<it>&proximity=1000``
Taxonomy  an attribute's taxonomy term                  ``taxonomy_term_id=<id>&taxonomy_id=<its
                                                        taxonomy's id>`` (when the term names it)
Time      a schedule with ``byday``                     ``day=<its first day>``, plus
                                                        ``start_time``/``end_time`` from its
                                                        ``opens_at``/``closes_at`` when stated
========  ============================================  ============================================
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

__all__ = ["SEARCHES", "SearchResult", "FeedReport", "ProfileSchemas", "check_feed",
           "getter_for"]

#: The dashboard's five searches, in its order.
SEARCHES: tuple[str, ...] = ("Text", "Age", "Postcode", "Taxonomy", "Time")
#: The proximity (metres) the dashboard's postcode search asks for.
PROXIMITY_METRES = 1000
_PAGED = ("/services", "/service_at_locations", "/taxonomies", "/taxonomy_terms")
_WORD = re.compile(r"[^\W\d_]{3,}")

#: ``get(path, params) -> (status, body)``: one GET against the feed (path from its root).
Getter = Callable[[str, Mapping[str, Any]], tuple[int, Any]]
#: ``locate(postcode) -> (latitude, longitude)`` or None when unknown.
Locator = Callable[[str], "tuple[float, float] | None"]


@dataclass
class SearchResult:
    """One search test over the sampled services."""

    name: str
    eligible: int = 0          # services with the data the test needs
    tried: int = 0
    passed: int = 0
    honoured: bool = True      # every first page held only services matching its query
    failures: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def ran(self) -> bool:
        return self.tried > 0

    @property
    def ok(self) -> bool:
        return self.ran and self.passed == self.tried and self.honoured

    def verdict(self) -> str:
        if not self.ran:
            return "not run (no service has the data)"
        mark = "pass" if self.ok else "FAIL"
        return f"{mark} {self.passed}/{self.tried}" + (f" ({self.note})" if self.note else "")


@dataclass
class FeedReport:
    """What :func:`check_feed` found."""

    searches: dict[str, SearchResult] = field(default_factory=dict)
    paging: dict[str, list[str]] = field(default_factory=dict)   # route -> pages read
    paging_errors: list[str] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    documents_checked: int = 0
    services: int = 0
    requests: int = 0
    root: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (all(s.ok for s in self.searches.values()) and not self.paging_errors
                and not self.schema_errors)

    def row(self) -> dict[str, str]:
        """One line of a dashboard-like table."""
        out = {name: self.searches[name].verdict() for name in SEARCHES if name in
               self.searches}
        read = {p for pages in self.paging.values() for p in pages}
        pages = [p for p in ("first", "middle", "last") if p in read]
        out["Paging"] = ("pass (" + ", ".join(pages) + " page)") if (
            self.paging and not self.paging_errors) else "FAIL"
        out["Schema errors"] = f"{len(self.schema_errors)} in {self.documents_checked} documents"
        return out

    def problems(self) -> list[str]:
        out = list(self.paging_errors) + list(self.schema_errors)
        for s in self.searches.values():
            out += [f"{s.name}: {f}" for f in s.failures]
        return out


# --------------------------------------------------------------------------- schemas
class ProfileSchemas:
    """Validators built from the UK profile's own schema files: ``service.json``,
    ``service_list.json`` and ``openapi.json`` (its ``Page``). A service_at_location list item
    is the profile's service_at_location (from ``service.json``) with a ``service_list.json``
    service; a taxonomy term is the term ``service.json`` nests in attributes. The profile's
    ``taxonomy.json`` is not among these files, so a taxonomy is checked for the fields the
    profile requires of it (``id`` a UUID, ``name``, ``description``)."""

    def __init__(self, folder: Path | str):
        from jsonschema import Draft202012Validator

        folder = Path(folder)

        def load(name: str) -> dict[str, Any]:
            return json.loads((folder / name).read_text(encoding="utf-8"))

        service, service_list, openapi = (load("service.json"), load("service_list.json"),
                                          load("openapi.json"))
        page = openapi["components"]["schemas"]["Page"]
        sal = service["properties"]["service_at_locations"]["items"]
        sal_list = {**sal, "properties": {**sal["properties"], "service": service_list}}
        term = service["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
        taxonomy = {"type": "object", "required": ["id", "name", "description"],
                    "properties": {"id": {"type": "string", "format": "uuid"},
                                   "name": {"type": "string"},
                                   "description": {"type": "string"},
                                   "uri": {"type": "string", "format": "uri"},
                                   "version": {"type": "string"}}}
        root = openapi["paths"]["/"]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]
        root = {**root, "required": ["version", "openapi_url"]}

        checker = Draft202012Validator.FORMAT_CHECKER
        self._validators = {
            name: Draft202012Validator(schema, format_checker=checker)
            for name, schema in {
                "root": root, "service": service, "service_list": service_list,
                "service_at_location": sal_list, "taxonomy": taxonomy, "taxonomy_term": term,
                "page": {"allOf": [page], "required": [*page["properties"], "contents"],
                         "properties": {"contents": {"type": "array"}}},
            }.items()}
        # A page is its Page fields plus each item checked as its own kind; an item seen
        # before (the same service on many search pages) is not checked again.
        self._items = {"/services": "service_list", "/services?full": "service",
                       "/service_at_locations": "service_at_location",
                       "/taxonomies": "taxonomy", "/taxonomy_terms": "taxonomy_term"}
        self._seen: dict[tuple[str, str], list[str]] = {}

    def _check(self, kind: str, doc: Any) -> list[str]:
        return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                for e in self._validators[kind].iter_errors(doc)]

    def errors(self, kind: str, doc: Any) -> list[str]:
        """Every schema error of ``doc`` as ``kind`` (a paged route such as ``/services`` or
        ``/services?full``, or ``service``, ``taxonomy_term``, ``root`` ...), as
        ``path: message``."""
        if kind not in self._items:
            return self._check(kind, doc)
        out = self._check("page", doc)
        items = doc.get("contents") if isinstance(doc, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            key = (self._items[kind], json.dumps(item, sort_keys=True, default=str))
            if key not in self._seen:
                self._seen[key] = self._check(key[0], item)
            out += [f"contents/{i}/{e}" for e in self._seen[key]]
        return out


# --------------------------------------------------------------------------- the checks
def getter_for(client: Any, base: str) -> Getter:
    """A :data:`Getter` over an httpx-like client (``httpx.Client``, FastAPI's TestClient)
    and the feed's root URL (``http://testserver/oruk``)."""
    base = base.rstrip("/")

    def get(path: str, params: Mapping[str, Any]) -> tuple[int, Any]:
        r = client.get(base + path, params=dict(params))
        try:
            body = r.json()
        except ValueError:
            body = None
        return r.status_code, body

    return get


class _Feed:
    def __init__(self, get: Getter, report: FeedReport, schemas: ProfileSchemas | None):
        self._get, self.report, self.schemas = get, report, schemas

    def get(self, path: str, params: Mapping[str, Any], kind: str | None) -> Any:
        self.report.requests += 1
        status, body = self._get(path, params)
        where = path + ("?" + urlencode(params) if params else "")
        if status != 200 or body is None:
            raise _FeedError(f"{where} answered {status}")
        if kind is not None and self.schemas is not None:
            self.report.documents_checked += 1
            self.report.schema_errors += [f"{where}: {e}"
                                          for e in self.schemas.errors(kind, body)]
        return body


class _FeedError(Exception):
    pass


def _paging(feed: _Feed, path: str) -> None:
    report = feed.report
    try:
        first = feed.get(path, {"page": 1}, path)
    except _FeedError as exc:
        report.paging_errors.append(str(exc))
        return
    total_pages = first.get("total_pages")
    if not isinstance(total_pages, int) or total_pages < 0:
        report.paging_errors.append(f"{path}: total_pages is not a whole number")
        return
    if first.get("total_items", 0) == 0:
        report.paging_errors.append(f"{path}: the feed lists nothing")
        return
    per_page = first.get("size") or 1
    read = {"first": 1}
    if total_pages > 2:
        read["middle"] = total_pages // 2
    if total_pages > 1:
        read["last"] = total_pages
    report.paging[path] = list(read)
    for name, number in read.items():
        try:
            page = first if number == 1 else feed.get(path, {"page": number}, path)
        except _FeedError as exc:
            report.paging_errors.append(f"{name} page: {exc}")
            continue
        expected = {"page_number": number, "first_page": number == 1,
                    "last_page": number == total_pages,
                    "size": len(page.get("contents") or []),
                    "total_pages": total_pages, "total_items": first.get("total_items"),
                    "empty": not page.get("contents")}
        wrong = {k: page.get(k) for k, v in expected.items() if page.get(k) != v}
        if number < total_pages and len(page.get("contents") or []) != per_page:
            wrong["contents"] = f"{len(page.get('contents') or [])} items, not {per_page}"
        if wrong:
            report.paging_errors.append(f"{path} {name} page ({number}): wrong {wrong}")


def _all_services(feed: _Feed) -> list[dict[str, Any]]:
    """Every service, fully nested (``full=true`` pages of 100)."""
    out: list[dict[str, Any]] = []
    number = 1
    while True:
        page = feed.get("/services", {"page": number, "per_page": 100, "full": "true"},
                        "/services?full")
        out += page.get("contents") or []
        if page.get("last_page", True) or not page.get("contents"):
            return out
        number += 1


def _minutes(text: Any) -> int | None:
    m = re.match(r"(\d{1,2}):(\d{2})", str(text or ""))
    return int(m.group(1)) * 60 + int(m.group(2)) if m else None


def _days(schedule: Mapping[str, Any]) -> list[str]:
    return [re.sub(r"^[+-]?\d+", "", d.strip().upper())
            for d in str(schedule.get("byday") or "").split(",") if d.strip()]


def _physical_postcode(service: Mapping[str, Any]) -> str | None:
    for sal in service.get("service_at_locations") or []:
        loc = sal.get("location") or {}
        if loc.get("location_type") != "physical":
            continue
        for address in loc.get("addresses") or []:
            if str(address.get("postal_code") or "").strip():
                return str(address["postal_code"]).strip()
    return None


def _query(name: str, s: Mapping[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """The search ``name`` built from service ``s``'s own fields (None: it lacks the data)."""
    if name == "Text":
        words = _WORD.findall(str(s.get("name") or ""))
        return {"search": max(words, key=len)} if words else None
    if name == "Age":
        lo, hi = s.get("minimum_age"), s.get("maximum_age")
        return None if lo is None or hi is None else {"minimum_age": lo, "maximum_age": hi}
    if name == "Postcode":
        postcode = _physical_postcode(s)
        return None if postcode is None else {"postcode": postcode,
                                              "proximity": PROXIMITY_METRES}
    if name == "Taxonomy":
        attributes = [a for a in s.get("attributes") or [] if a.get("taxonomy_term_id")]
        if not attributes:
            return None
        a = rng.choice(attributes)
        q = {"taxonomy_term_id": a["taxonomy_term_id"]}
        tax = (a.get("taxonomy_term") or {}).get("taxonomy_id")
        return {**q, "taxonomy_id": tax} if tax else q
    if name == "Time":
        schedules = [x for x in s.get("schedules") or [] if _days(x)]
        if not schedules:
            return None
        sch = rng.choice(schedules)
        q = {"day": _days(sch)[0]}
        if sch.get("opens_at") and sch.get("closes_at"):
            q.update(start_time=str(sch["opens_at"])[:5], end_time=str(sch["closes_at"])[:5])
        return q
    raise ValueError(f"unknown search {name!r}")


def _matches(name: str, q: Mapping[str, Any], s: Mapping[str, Any],
             locate: Locator | None) -> bool:
    """Whether a fully nested service ``s`` visibly matches search ``q`` (True when the
    check cannot be made: a service that states no ages, no gazetteer)."""
    if name == "Text":
        org = (s.get("organization") or {}).get("name") or ""
        text = f"{s.get('name', '')}\n{org}\n{s.get('description', '')}".lower()
        return q["search"].lower() in text
    if name == "Age":
        lo, hi = s.get("minimum_age"), s.get("maximum_age")
        return lo is None or hi is None or (lo <= q["maximum_age"] and hi >= q["minimum_age"])
    if name == "Postcode":
        centre = locate(q["postcode"]) if locate else None
        if centre is None:
            return True
        from matcher.geo.distance import haversine_km

        for sal in s.get("service_at_locations") or []:
            loc = sal.get("location") or {}
            if loc.get("latitude") is not None and loc.get("longitude") is not None:
                km = float(haversine_km(centre[0], centre[1], loc["latitude"],
                                        loc["longitude"]))
                if km * 1000 <= q["proximity"]:
                    return True
        return False
    if name == "Taxonomy":
        return any(a.get("taxonomy_term_id") == q["taxonomy_term_id"]
                   for a in s.get("attributes") or [])
    if name == "Time":
        for sch in s.get("schedules") or []:
            if q["day"] not in _days(sch):
                continue
            if "start_time" in q:
                opens, closes = _minutes(sch.get("opens_at")), _minutes(sch.get("closes_at"))
                if opens is None or closes is None or opens < _minutes(q["start_time"]) or (
                        closes > _minutes(q["end_time"])):
                    continue
            return True
        return False
    raise ValueError(f"unknown search {name!r}")


def _search(feed: _Feed, name: str, q: dict[str, Any], target: str, result: SearchResult,
            locate: Locator | None, per_page: int) -> None:
    where = "/services?" + urlencode(q)
    number = 1
    while True:
        try:
            page = feed.get("/services", {**q, "page": number, "per_page": per_page},
                            "/services")
        except _FeedError as exc:
            result.failures.append(f"{exc}")
            return
        if any(c.get("id") == target for c in page.get("contents") or []):
            result.passed += 1
            break
        if page.get("last_page", True) or not page.get("contents"):
            result.failures.append(f"{name} search failed. When tested using {where} "
                                   f"(service {target} not in {page.get('total_items')} "
                                   f"results)")
            break
        number += 1
    # The first page, fully nested: every service on it must match the query.
    try:
        full = feed.get("/services", {**q, "page": 1, "per_page": 20, "full": "true"},
                        "/services?full")
    except _FeedError as exc:
        result.failures.append(str(exc))
        return
    wrong = [c.get("id") for c in full.get("contents") or [] if not _matches(name, q, c,
                                                                               locate)]
    if wrong:
        result.honoured = False
        result.failures.append(f"{where} lists {len(wrong)} service(s) that do not match it, "
                               f"e.g. {wrong[0]}")


def check_feed(get: Getter, *, sample: int = 50, seed: int = 0,
               schemas: ProfileSchemas | None = None, locate: Locator | None = None,
               per_page: int = 100) -> FeedReport:
    """Run the dashboard's checks against a feed: its root, paging (first, middle and last
    page of every paged route), a fully nested read of every service (and ``/services/{id}``
    of the sampled ones), then each of the five searches on up to ``sample`` services drawn at
    random (``seed``) from those with the data it needs. With ``schemas`` every answer is
    validated; with ``locate`` (postcode -> latitude, longitude) the postcode search's results
    are checked to be within the proximity. Search results are paged ``per_page`` at a time."""
    report = FeedReport()
    feed = _Feed(get, report, schemas)
    rng = random.Random(seed)
    try:
        report.root = feed.get("/", {}, "root")
    except _FeedError as exc:
        report.paging_errors.append(f"root: {exc}")
    for path in _PAGED:
        _paging(feed, path)
    try:
        services = _all_services(feed)
    except _FeedError as exc:
        report.paging_errors.append(f"reading every service: {exc}")
        services = []
    report.services = len(services)
    looked_up: set[str] = set()
    for name in SEARCHES:
        result = report.searches[name] = SearchResult(name)
        built = [(s, _query(name, s, rng)) for s in services]
        eligible = [(s, q) for s, q in built if q is not None]
        result.eligible = len(eligible)
        chosen = rng.sample(eligible, min(sample, len(eligible)))
        if name == "Time" and chosen and not any("start_time" in q for _, q in chosen):
            result.note = "day only: no sampled schedule states opening times"
        for s, q in chosen:
            result.tried += 1
            _search(feed, name, q, s["id"], result, locate, per_page)
            if s["id"] not in looked_up:
                looked_up.add(s["id"])
                try:
                    detail = feed.get(f"/services/{s['id']}", {}, "service")
                    if detail.get("id") != s["id"]:
                        report.paging_errors.append(f"/services/{s['id']} gave another id")
                except _FeedError as exc:
                    report.paging_errors.append(str(exc))
    return report
