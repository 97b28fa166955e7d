"""Local Offer CSV (contract section 1) -> validated :class:`ServiceRecord` s + an import report.

:func:`read_service_csv` reads and checks a file without touching the database;
:func:`matcher.ingest.run_import` also writes the good rows to the
:class:`~matcher.store.Store` in one transaction (``matcher import PATH``).

Row numbers
    Every problem names the row **as a spreadsheet shows it**: the file's first line is row 1
    (normally the header; comment lines at the top count as rows too), the first service is
    row 2. A cell with line breaks inside quotes still counts as one row, as in a spreadsheet;
    when that makes the text-editor line number differ, :attr:`Problem.line` gives it too.

What is checked
    The header (required columns present, unknown columns noted and ignored); required cells;
    unique ids; the closed vocabularies (with a "did you mean" suggestion); ages; postcodes
    (shape, and existence in the bundled Ordnance Survey gazetteer, all resolved at once);
    service areas; ``ehcp_required``; ``last_reviewed``; e-mail and web addresses; broken
    double quotes. Every problem of every row is collected. A row with any error is rejected
    as a whole; warnings (for example needs words the vocabulary does not know) never reject.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz, process, utils
from tqdm import tqdm

from matcher.errors import DataImportError, PostcodeError
from matcher.ingest.reading import apply_reading
from matcher.ingest.report import ImportReport, Problem
from matcher.ingest.rules import MAX_ID_LENGTH
from matcher.quality import QUALITY_COLUMNS, parse_quality_cells
from matcher.services import ServiceRecord

if TYPE_CHECKING:
    pass

__all__ = ["COLUMNS", "COST_VALUES", "PROGRESS_MIN_ROWS", "REQUIRED_COLUMNS", "read_service_csv"]

#: The template's columns, in the contract's order.
COLUMNS: tuple[str, ...] = (
    "id", "name", "organisation", "description", "categories", "needs", "min_age", "max_age",
    "postcode", "address", "service_area", "delivery", "cost", "cost_details", "when",
    "accessibility", "languages", "referral", "ehcp_required", "transitions", "url", "phone",
    "email", "last_reviewed", *QUALITY_COLUMNS,
)
REQUIRED_COLUMNS: tuple[str, ...] = ("id", "name", "description", "categories")
#: The closed ``cost`` vocabulary (value -> plain label).
COST_VALUES: dict[str, str] = {"free": "Free", "paid": "Paid", "free_for_some": "Free for some"}
#: Files with more rows than this get a progress bar on stderr.
PROGRESS_MIN_ROWS = 5_000

MIN_AGE, MAX_AGE = 0, 25
_MULTI_CLOSED = ("categories", "delivery", "when", "accessibility", "referral", "transitions")
_YES = {"yes", "y", "true", "t", "1"}
_NO = {"no", "n", "false", "f", "0"}
_FULL_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_SECTOR = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9]$")
_EMAIL = re.compile(r"^[^@\s<>(),;:]+@[^@\s<>(),;:]+\.[A-Za-z]{2,}$")
_HOST = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(:\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_DMY_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_SPLIT_LIST = re.compile(r"[;,]")



# --------------------------------------------------------------------------- reading text
def _load_text(path_or_text: str | os.PathLike[str] | bytes) -> tuple[str, str]:
    """(text, source name). A ``str`` with a line break is CSV text; otherwise a path."""
    if isinstance(path_or_text, bytes):
        return _decode(path_or_text, "<bytes>"), "<bytes>"
    if isinstance(path_or_text, str) and ("\n" in path_or_text or "\r" in path_or_text):
        return path_or_text.removeprefix("\ufeff"), "<text>"
    path = Path(path_or_text)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataImportError(f"There is no file {path}. Check the path and try again.") from exc
    except IsADirectoryError as exc:
        raise DataImportError(f"{path} is a folder, not a CSV file. Give the file's path.") from exc
    except OSError as exc:
        raise DataImportError(
            f"Cannot read {path}: {exc.strerror}. Check that the file exists and you may read it."
        ) from exc
    return _decode(data, str(path)), str(path)


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataImportError(
            f"{source} is saved as UTF-16 text. Save it as UTF-8 instead (in Excel: "
            "File > Save As > 'CSV UTF-8 (Comma delimited)')."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataImportError(
            f"{source} is not UTF-8 text (the first character that is not UTF-8 is on line "
            f"{line}). Save it as UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (Comma "
            "delimited)'; in LibreOffice tick 'Edit filter settings' and choose Unicode (UTF-8))."
        ) from exc


def _norm_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _norm_token(value: str) -> str:
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _suggest(value: str, choices: Sequence[str], cutoff: float = 60.0) -> str | None:
    """The closest choice to ``value`` (rapidfuzz WRatio on lower-cased text), or None."""
    if not value.strip() or not choices:
        return None
    hit = process.extractOne(
        value.replace("_", " "), [c.replace("_", " ") for c in choices],
        scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=cutoff,
    )
    return None if hit is None else choices[hit[2]]


def _open_quote_column(line: str) -> tuple[int | None, int, str]:
    """Scan one physical line for a broken quote.

    Returns (index of the field, offset where that field starts, what is wrong), or
    ``(None, 0, "")`` when the line looks fine on its own.
    """
    text = line.rstrip("\r\n")
    n = len(text)
    index, i = 0, 0
    while i <= n:
        start = i
        if i < n and text[i] == '"':  # quoted field
            i += 1
            while True:
                if i >= n:
                    return index, start, "unclosed"
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
            if i < n and text[i] != ",":
                return index, start, "text after closing quote"
        else:
            while i < n and text[i] != ",":
                i += 1
        i += 1  # skip the comma (or step past the end)
        index += 1
    return None, 0, ""


def _swallowed(cells: list[str], width: int) -> bool:
    """Does a multi-line record look like rows swallowed by an unclosed quote?"""
    inner = [c for c in cells if "\n" in c or "\r" in c]
    if not inner:
        return False
    if len(cells) != width:
        return True
    many = max(3, width // 2)
    return any(part.count(",") >= many for c in inner for part in re.split(r"\r\n|\r|\n", c)[1:])


@dataclass
class _RawRow:
    row: int
    line: int
    cells: list[str]


def _records(
    lines: list[str], start: int, first_row: int, width: int, report: ImportReport,
    columns: list[str],
) -> Iterator[_RawRow]:
    """Yield data records from ``lines[start:]``, reporting and skipping broken quotes.

    Python's csv module (non-strict) swallows everything after an unclosed quote into one
    field. We parse strictly, so such a quote raises an error, or shows as a record that spans
    several lines yet has the wrong number of cells; either way the record's first line is the
    culprit: it is reported, and parsing resumes on the next line.
    """
    row = first_row
    pos = start
    while pos < len(lines):
        reader = csv.reader(iter(lines[pos:]), strict=True)
        consumed = 0
        restart: int | None = None
        try:
            for cells in reader:
                rec_start = pos + consumed
                span = reader.line_num - consumed
                consumed = reader.line_num
                if span > 1 and _swallowed(cells, width):
                    restart = rec_start
                    break
                yield _RawRow(row=row, line=rec_start + 1, cells=cells)
                row += 1
        except csv.Error as exc:
            restart = pos + consumed
            if "NUL" in str(exc):
                report.problems.append(Problem(
                    row, "", "", "this line contains a NUL character, so it cannot be read",
                    "Remove the stray control character (re-save the file from the "
                    "spreadsheet as CSV UTF-8).", restart + 1))
                report.rows_read += 1
                row += 1
                pos = restart + 1
                continue
        if restart is None:
            return
        col_index, offset, kind = _open_quote_column(lines[restart])
        column = columns[col_index] if col_index is not None and col_index < len(columns) else ""
        snippet = lines[restart].rstrip("\r\n")[offset : offset + 60]
        if kind == "text after closing quote":
            what = ('a quoted value is followed by more text before the next comma, so the '
                    'quotes do not enclose the whole value')
        else:
            what = ('a double quote (") opens here and is never closed, so the rest of the file '
                    'would run into this one cell')
        report.problems.append(Problem(
            row, column, snippet, what,
            'Put the whole value in double quotes and write any quote inside it twice, e.g. '
            '"The ""Sunflower"" club, Hackney"; or remove the stray quote. Rows after this '
            "one were still read.", restart + 1))
        report.rows_read += 1
        row += 1
        pos = restart + 1


# --------------------------------------------------------------------------- checking rows
class _Checker:
    """Per-file state for validating rows (vocabularies, caches, today's date)."""

    def __init__(self, today: dt.date):
        from matcher.vocab import load_vocabulary

        self.vocab = load_vocabulary()
        self.today = today
        self.closed: dict[str, dict[str, str]] = {}
        self.choices: dict[str, list[str]] = {}
        vocabularies: dict[str, Mapping[str, str]] = {
            name: getattr(self.vocab, name) for name in _MULTI_CLOSED
        }
        vocabularies["cost"] = getattr(self.vocab, "cost", None) or COST_VALUES
        for column, values in vocabularies.items():
            lookup: dict[str, str] = {}
            for value, label in values.items():
                lookup[_norm_token(label)] = value
            for value in values:
                lookup[_norm_token(value)] = value
            self.closed[column] = lookup
            self.choices[column] = list(values)
        self._needs_cache: dict[str, tuple[list[str], list[str]]] = {}
        self._closed_cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def closed_values(self, column: str, cell: str, problems: list[Problem], row: int,
                      line: int) -> list[str]:
        key = (column, cell)
        cached = self._closed_cache.get(key)
        if cached is not None:
            return list(cached)
        out: list[str] = []
        clean = True
        for part in _SPLIT_LIST.split(cell):
            part = part.strip()
            if not part:
                continue
            value = self.closed[column].get(_norm_token(part))
            if value is None:
                allowed = ", ".join(self.choices[column])
                guess = _suggest(part, self.choices[column])
                hint = f"Did you mean '{guess}'? " if guess else ""
                problems.append(Problem(
                    row, column, part, f"'{part}' is not one of the allowed {column} values",
                    f"{hint}Use one or more of: {allowed} (separate several with ';').", line))
                clean = False
            elif value not in out:
                out.append(value)
        if clean:
            self._closed_cache[key] = tuple(out)
        return out

    def needs(self, raw: str) -> tuple[list[str], list[str]]:
        if raw not in self._needs_cache:
            result = self.vocab.normalise(raw)  # it splits on ; , "and" etc. itself
            self._needs_cache[raw] = (list(result.needs), list(result.unrecognised))
        needs, unrecognised = self._needs_cache[raw]
        return list(needs), list(unrecognised)


def _parse_age(column: str, cell: str, problems: list[Problem], row: int, line: int) -> int | None:
    text = cell.strip()
    if not text:
        return None
    m = re.fullmatch(r"([+-]?\d+)(?:\.0+)?", text)
    if m is None:
        problems.append(Problem(
            row, column, cell, f"{column} must be a whole number of years",
            f"Write just the number, from {MIN_AGE} to {MAX_AGE} (e.g. 5, not '5 years' or "
            "'5.5'); leave it blank if no age is stated.", line))
        return None
    age = int(m.group(1))
    if not MIN_AGE <= age <= MAX_AGE:
        problems.append(Problem(
            row, column, cell, f"{column} {age} is outside {MIN_AGE}-{MAX_AGE}, the ages the "
            "Local Offer covers",
            f"Use a whole number from {MIN_AGE} to {MAX_AGE} (use {MAX_AGE} for a service that "
            "continues into adulthood).", line))
        return None
    return age


def _parse_date(cell: str, today: dt.date, problems: list[Problem], row: int,
                line: int) -> dt.date | None:
    text = cell.strip()
    if not text:
        return None
    m = _ISO_DATE.fullmatch(text)
    fix = "Write the date as YYYY-MM-DD, e.g. 2025-03-18."
    if m is None:
        dmy = _DMY_DATE.fullmatch(text)
        if dmy is not None:
            d, mth, y = (int(g) for g in dmy.groups())
            with contextlib.suppress(ValueError):
                fix = f"Write the date as YYYY-MM-DD: {dt.date(y, mth, d).isoformat()}."
        problems.append(Problem(row, "last_reviewed", cell,
                                "last_reviewed is not a date in the form YYYY-MM-DD", fix, line))
        return None
    try:
        date = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        problems.append(Problem(row, "last_reviewed", cell,
                                "last_reviewed is not a real calendar date", fix, line))
        return None
    if date > today:
        problems.append(Problem(
            row, "last_reviewed", cell, f"last_reviewed {date.isoformat()} is in the future",
            f"Give the date the entry was last checked (today, {today.isoformat()}, or earlier).",
            line))
        return None
    return date


def _has_scheme(m: re.Match[str] | None) -> bool:
    """True when the URL match has an explicit http(s) scheme."""
    return m is not None and m.group(1) is not None


def _parse_url(cell: str, problems: list[Problem], row: int, line: int) -> str:
    text = cell.strip()
    if not text:
        return ""
    m = re.fullmatch(r"(?i)(https?://)?([^/\s?#]+)([/?#]\S*)?", text)
    bad_scheme = re.match(r"(?i)[a-z]+:", text) is not None and not _has_scheme(m)
    if m is None or not _HOST.fullmatch(m.group(2)) or bad_scheme:
        problems.append(Problem(
            row, "url", cell, "this does not look like a web address",
            "Give the full address, e.g. https://www.example.org.uk/page, with no spaces; "
            "or leave it blank.", line))
        return ""
    return text if m.group(1) else "https://" + text


def _parse_email(cell: str, problems: list[Problem], row: int, line: int) -> str:
    text = cell.strip().removeprefix("mailto:")
    if not text:
        return ""
    if not _EMAIL.fullmatch(text):
        problems.append(Problem(
            row, "email", cell, "this does not look like one e-mail address",
            "Give a single address such as info@example.org.uk (no spaces, no name around "
            "it); or leave it blank.", line))
        return ""
    return text


def _parse_service_area(cell: str, problems: list[Problem], row: int, line: int) -> list[str]:
    out: list[str] = []
    for part in _SPLIT_LIST.split(cell):
        text = part.strip()
        if not text:
            continue
        compact = re.sub(r"\s+", " ", text.upper())
        if compact == "NATIONAL":
            value = "national"
        elif _DISTRICT.fullmatch(compact):
            value = compact
        else:
            if _FULL_POSTCODE.fullmatch(compact) or re.fullmatch(
                    r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}", compact):
                district = compact.replace(" ", "")[:-3]
                fix = f"Use the postcode district '{district}' instead of a full postcode."
            elif _SECTOR.fullmatch(compact):
                fix = f"Use the postcode district '{compact.replace(' ', '')[:-1]}' (sectors are not used)."
            else:
                fix = ("List the postcode districts it covers, separated by ';' (e.g. "
                       "E5;E8;N16), or write 'national'; leave blank if anyone may use it.")
            problems.append(Problem(
                row, "service_area", text,
                f"'{text}' is not a postcode district (like E8 or N16) or 'national'", fix, line))
            continue
        if value not in out:
            out.append(value)
    if "national" in out and len(out) > 1:
        problems.append(Problem(
            row, "service_area", cell, "'national' is listed together with postcode districts",
            "Write only 'national' if anyone in England may use it, or only the districts.",
            line))
    return out


def _parse_languages(cell: str) -> list[str]:
    out: list[str] = []
    for part in _SPLIT_LIST.split(cell):
        text = re.sub(r"\s+", " ", part.strip())
        if not text:
            continue
        if text.islower():
            text = text.title()
        if text not in out:
            out.append(text)
    return out


@dataclass
class _Pending:
    """A row that passed its own checks, awaiting postcode resolution."""

    raw: _RawRow
    kwargs: dict[str, Any]
    problems: list[Problem]
    warnings: list[Problem]
    postcode: str | None = None


def _check_row(raw: _RawRow, cells: dict[str, str], checker: _Checker) -> _Pending:
    row, line = raw.row, raw.line
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def text(column: str) -> str:
        return cells.get(column, "").strip()

    required_fix = {
        "id": "Give every service a unique id (any text, e.g. S-001).",
        "name": "Add the service's name.",
        "description": "Add a short description in the provider's words: families and the "
                       "matcher read it.",
        "categories": "Add one or more of: " + ", ".join(checker.choices["categories"]) + ".",
    }
    for column in REQUIRED_COLUMNS:
        if not text(column):
            problems.append(Problem(row, column, "", f"{column} is required but blank",
                                    required_fix[column], line))

    service_id = text("id")
    if len(service_id) > MAX_ID_LENGTH:
        problems.append(Problem(row, "id", service_id[:40] + "...",
                                f"the id is longer than {MAX_ID_LENGTH} characters",
                                "Use a short id such as S-001.", line))

    closed = {c: checker.closed_values(c, cells.get(c, ""), problems, row, line)
              for c in _MULTI_CLOSED}
    cost_values = checker.closed_values("cost", cells.get("cost", ""), problems, row, line)
    if len(cost_values) > 1:
        problems.append(Problem(row, "cost", text("cost"), "cost takes one value only",
                                "Use free, paid or free_for_some; put details in cost_details.",
                                line))

    min_age = _parse_age("min_age", cells.get("min_age", ""), problems, row, line)
    max_age = _parse_age("max_age", cells.get("max_age", ""), problems, row, line)
    if min_age is not None and max_age is not None and min_age > max_age:
        problems.append(Problem(
            row, "min_age", f"{min_age} > {max_age}",
            f"min_age {min_age} is greater than max_age {max_age}",
            "Swap them: min_age is the youngest age served, max_age the oldest.", line))

    postcode: str | None = None
    pc_cell = text("postcode")
    if pc_cell:
        from matcher.geo.postcodes import normalise_postcode

        venue_fix = ("Give the venue's full postcode, e.g. N7 8JN. If the service has no "
                     "venue (online, phone, home visits), leave postcode blank and list the "
                     "districts it covers in service_area.")
        try:
            formatted = normalise_postcode(pc_cell)
        except PostcodeError:
            problems.append(Problem(row, "postcode", pc_cell,
                                    f"'{pc_cell}' is not shaped like a GB postcode",
                                    venue_fix, line))
        else:
            if " " in formatted and len(formatted.rsplit(" ", 1)[1]) == 3:
                postcode = formatted
            else:
                problems.append(Problem(
                    row, "postcode", pc_cell,
                    f"'{pc_cell}' is only part of a postcode: a service venue needs a full "
                    "postcode", venue_fix, line))

    area = _parse_service_area(cells.get("service_area", ""), problems, row, line)
    ehcp_cell = text("ehcp_required").lower()
    ehcp = False
    if ehcp_cell in _YES:
        ehcp = True
    elif ehcp_cell and ehcp_cell not in _NO:
        problems.append(Problem(row, "ehcp_required", text("ehcp_required"),
                                "ehcp_required must be yes or no",
                                "Write yes if only children with an EHCP can use it, no (or "
                                "leave blank) otherwise.", line))
    last_reviewed = _parse_date(cells.get("last_reviewed", ""), checker.today, problems, row, line)
    url = _parse_url(cells.get("url", ""), problems, row, line)
    email = _parse_email(cells.get("email", ""), problems, row, line)

    needs_raw = text("needs")
    needs, unrecognised = checker.needs(needs_raw) if needs_raw else ([], [])
    if unrecognised:
        words = "; ".join(unrecognised)
        warnings.append(Problem(
            row, "needs", words, f"needs word(s) not recognised: {words}",
            "The service is still imported (the words are kept and its description is read). "
            "Use common terms such as autism, ADHD, hearing impairment, or ask for the words to "
            "be added to data/vocabulary.yaml.", line))

    delivery = closed["delivery"]
    if not delivery and not text("delivery"):
        delivery = ["in_person"] if pc_cell else ["online"]
    if delivery == ["in_person"] and not pc_cell:
        warnings.append(Problem(
            row, "postcode", "", "the service is delivered in person but has no postcode, so "
            "its distance from a family cannot be worked out",
            "Add the venue's postcode, or change delivery if it has no venue.", line))

    kwargs: dict[str, Any] = {
        "id": service_id,
        "name": text("name"),
        "organisation": text("organisation"),
        "description": text("description"),
        "categories": closed["categories"],
        "needs_raw": needs_raw,
        "needs": needs,
        "needs_unrecognised": unrecognised,
        "min_age": min_age,
        "max_age": max_age,
        "postcode": postcode,
        "address": text("address"),
        "service_area": area,
        "delivery": delivery,
        "cost": cost_values[0] if len(cost_values) == 1 else None,
        "cost_details": text("cost_details"),
        "when": closed["when"],
        "accessibility": closed["accessibility"],
        "languages": _parse_languages(cells.get("languages", "")),
        "referral": closed["referral"],
        "ehcp_required": ehcp,
        "transitions": closed["transitions"],
        "url": url,
        "phone": text("phone"),
        "email": email,
        "last_reviewed": last_reviewed,
        "source": "csv",
    }
    quality, quality_problems = parse_quality_cells(cells, checker.today)
    kwargs.update(quality)
    problems += [Problem(row, *p, line) for p in quality_problems]
    return _Pending(raw, kwargs, problems, warnings, postcode)


def _resolve_postcodes(pending: list[_Pending]) -> None:
    """Look up every venue postcode and service-area district of the file at once.

    A venue postcode that is not found is an error; an unknown district in service_area
    is a warning (no family's postcode will ever fall in it, but nothing is wrong with
    the service itself).
    """
    with_pc = [p for p in pending if p.postcode]
    districts = sorted({d for p in pending for d in p.kwargs["service_area"] if d != "national"})
    if not with_pc and not districts:
        return
    from matcher.geo.postcodes import get_postcode_index

    index = get_postcode_index()
    if districts:
        known = dict(zip(districts, index.lookup_many(districts)[2].tolist(), strict=True))
        for item in pending:
            for d in item.kwargs["service_area"]:
                if d != "national" and not known[d]:
                    item.warnings.append(Problem(
                        item.raw.row, "service_area", d,
                        f"{d} is not a current GB postcode district, so no family will be "
                        "inside it",
                        "Check the district for typos (e.g. E8, N16, EC2A); the service was "
                        "still imported.", item.raw.line))
    if not with_pc:
        return
    lat, lon, found = index.lookup_many([p.postcode for p in with_pc])
    for item, la, lo, ok in zip(with_pc, lat, lon, found, strict=True):
        if ok:
            item.kwargs["latitude"] = float(la)
            item.kwargs["longitude"] = float(lo)
            continue
        try:
            near = index.suggest(item.postcode or "", n=3)
        except PostcodeError:
            near = []
        hint = f"Did you mean {' or '.join(near)}? " if near else ""
        item.problems.append(Problem(
            item.raw.row, "postcode", item.postcode or "",
            f"postcode {item.postcode} is not in the Ordnance Survey list of current GB "
            "postcodes (Code-Point Open)",
            f"{hint}Check it for typos (O and 0, I and 1) or look it up on Royal Mail's "
            "postcode finder; leave it blank if the service has no venue.", item.raw.line))


def _want_progress(progress: bool | None, n_rows: int) -> bool:
    if progress is False or n_rows <= PROGRESS_MIN_ROWS:
        return False
    return True if progress else bool(getattr(sys.stderr, "isatty", lambda: False)())


def read_service_csv(
    path_or_text: str | os.PathLike[str] | bytes,
    *,
    progress: bool | None = None,
    today: dt.date | None = None,
) -> tuple[list[ServiceRecord], ImportReport]:
    """Read and check a Local Offer CSV (contract section 1); nothing is written anywhere.

    ``path_or_text`` is a path, CSV text (a ``str`` containing a line break) or the file's
    bytes. UTF-8, with or without a byte-order mark; lines at the top starting with ``#`` are
    comments. Header names are matched case-insensitively, ignoring surrounding spaces (and
    treating inner spaces or hyphens as ``_``). Multi-valued cells are separated by ``;``
    (``,`` is accepted too, except in ``needs``).

    Returns the records of every good row, in file order, and the report. Row numbers in the
    report follow the spreadsheet convention of the module docstring (header = row 1 when
    there are no comment lines). If the file cannot be used at all (a required column is
    missing, no header), the report has ``fatal=True`` and no records. A file that cannot be
    read or decoded raises :class:`~matcher.errors.DataImportError`.

    ``progress``: a tqdm bar on stderr for files of more than :data:`PROGRESS_MIN_ROWS` rows;
    ``None`` shows it only when stderr is a terminal, ``True`` always, ``False`` never.
    ``today`` is the date against which ``last_reviewed`` may not be in the future.
    """
    text, source = _load_text(path_or_text)
    report = ImportReport(source=source)
    lines = list(io.StringIO(text, newline=""))

    header_at = 0
    while header_at < len(lines) and (
        not lines[header_at].strip().strip(",").strip()
        or lines[header_at].lstrip().startswith("#")
    ):
        header_at += 1
    report.header_row = header_at + 1
    if header_at >= len(lines):
        report.fatal = True
        report.problems.append(Problem(
            report.header_row, "", "", "the file has no header row (it is empty or all comments)",
            "Start the file with the template's header line: " + ",".join(COLUMNS) + ".", None))
        return [], report

    header_reader = csv.reader(iter(lines[header_at:]))
    header_cells = next(header_reader)
    header_lines = header_reader.line_num
    names = [_norm_header(h) for h in header_cells]
    h_row = report.header_row

    if len(header_cells) == 1:
        for sep, called in ((";", "semicolons"), ("\t", "tabs")):
            parts = {_norm_header(h) for h in header_cells[0].split(sep)}
            if len(parts & set(REQUIRED_COLUMNS)) >= 2:
                report.fatal = True
                report.problems.append(Problem(
                    h_row, "", header_cells[0][:60],
                    f"the columns are separated by {called}, not commas",
                    "Save the file as comma-separated CSV (in Excel: File > Save As > 'CSV "
                    "UTF-8 (Comma delimited)'). Inside a cell, keep ';' between several values.",
                    None))
                return [], report

    seen_names: dict[str, int] = {}
    unknown: list[str] = []
    for idx, name in enumerate(names):
        if not name:
            continue
        if name in seen_names:
            report.fatal = True
            report.problems.append(Problem(
                h_row, name, header_cells[idx],
                f"the column {name} appears twice in the header (columns {seen_names[name] + 1} "
                f"and {idx + 1})", "Keep one of the two columns and delete the other.", None))
            continue
        seen_names[name] = idx
        if name not in COLUMNS:
            unknown.append(name)
    missing = [c for c in COLUMNS if c not in seen_names]
    for name in unknown:
        guess = _suggest(name, missing, cutoff=75)
        report.warnings.append(Problem(
            h_row, header_cells[names.index(name)].strip(), "",
            "this column is not part of the template and was ignored",
            (f"If it was meant to be '{guess}', rename it. " if guess else "")
            + "Template columns: " + ", ".join(COLUMNS) + ".", None))
    for name in (c for c in REQUIRED_COLUMNS if c in missing):
        report.fatal = True
        guess = _suggest(name, unknown, cutoff=75)
        report.problems.append(Problem(
            h_row, name, "", f"the required column '{name}' is missing from the header",
            (f"Rename the column '{guess}' to '{name}'. " if guess else
             f"Add a column headed '{name}'. ")
            + "The header must include: " + ", ".join(REQUIRED_COLUMNS) + ".", None))
    if report.fatal:
        return [], report

    columns = names
    width = len(columns)
    raw_rows = list(_records(lines, header_at + header_lines, h_row + 1, width, report, columns))
    raw_rows = [r for r in raw_rows if any(c.strip() for c in r.cells)]
    report.rows_read += len(raw_rows)

    checker = _Checker(today or dt.date.today())
    seen_ids: dict[str, int] = {}
    pending: list[_Pending] = []
    bar = tqdm(
        raw_rows, desc="Checking rows", unit="row", file=sys.stderr, leave=False,
        disable=not _want_progress(progress, len(raw_rows)),
    )
    for raw in bar:
        cells = {col: raw.cells[i] if i < len(raw.cells) else ""
                 for i, col in enumerate(columns) if col in COLUMNS}
        extra = [c for c in raw.cells[width:] if c.strip()]
        item = _check_row(raw, cells, checker)
        for col, cell in cells.items():
            if "\x00" in cell:
                item.problems.append(Problem(
                    raw.row, col, cell.replace("\x00", "\\0"),
                    "this cell contains a NUL character (an invisible control character)",
                    "Delete the stray character (retyping the cell is enough), or re-save the "
                    "file from the spreadsheet as CSV UTF-8.", raw.line))
        if extra:
            item.problems.insert(0, Problem(
                raw.row, "", extra[0],
                f"this row has {len(raw.cells)} cells but the header has {width} columns",
                "A value that contains a comma must be in double quotes, e.g. "
                '"Homerton, London". Check this row for an unquoted comma.', raw.line))
        pending.append(item)
    bar.close()

    _resolve_postcodes(pending)

    records: list[ServiceRecord] = []
    order = {c: i for i, c in enumerate(COLUMNS)}
    for item in pending:
        # A repeated id: only a row that is imported takes its id, so a rejected row never
        # keeps a later good copy out.
        service_id = item.kwargs.get("id") or ""
        if service_id in seen_ids:
            item.problems.append(Problem(
                item.raw.row, "id", service_id,
                f"id {service_id} is already used on row {seen_ids[service_id]}",
                "Give this service its own id, or delete the repeated row.", item.raw.line))
        elif service_id and not item.problems:
            seen_ids[service_id] = item.raw.row
        item.problems.sort(key=lambda p: order.get(p.column, -1))
        report.problems.extend(item.problems)
        report.warnings.extend(item.warnings)
        if not item.problems:
            records.append(apply_reading(ServiceRecord(**item.kwargs), (), checker.vocab))
            report.accepted.append(item.kwargs["id"])
    report.count_fields(records)
    report.problems.sort(key=lambda p: p.row)
    report.warnings.sort(key=lambda p: p.row)
    return records, report

