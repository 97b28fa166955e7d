"""Reading a source: JSON parsing, telling the formats apart, and the reader of each format.

Formats: ``csv`` (the service template, :mod:`matcher.ingest.csv_template`), ``oruk`` (Open
Referral UK 3.0 and 2.0, :mod:`~matcher.ingest.oruk3`), ``oruk1`` (Open Referral UK version 1
as the Open Place platform publishes it, :mod:`~matcher.ingest.oruk1`) and ``outpost`` (the
Outpost API, :mod:`~matcher.ingest.outpost`). :func:`sniff_format` and :func:`detect_format`
tell them apart from the content; every caller may name the format instead.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from matcher.errors import DataImportError
from matcher.ingest.jsonstream import NotStreamable, array_elements, starts_with_array
from matcher.ingest.oruk1 import ORUK1_KEYS
from matcher.ingest.readers import READERS, prefix_of, read_chunk
from matcher.ingest.report import FeedReport, Problem, short_value
from matcher.ingest.rules import FeedMapper
from matcher.services import ServiceRecord

__all__ = ["FEED_FORMATS", "FORMATS", "detect_format", "load_feed", "prefix_of", "read_chunk",
           "read_feed", "read_feed_batches", "read_oruk", "read_outpost", "service_items",
           "sniff_format"]

#: JSON feed formats :func:`read_feed` understands.
FEED_FORMATS: tuple[str, ...] = tuple(READERS)
#: Every format an import accepts (``auto``: decided from the content).
FORMATS: tuple[str, ...] = ("csv", *FEED_FORMATS, "auto")


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
    except (RecursionError, ValueError) as exc:   # nested too deeply; a number too long
        why = ("arrays or objects nested too deeply" if isinstance(exc, RecursionError)
               else "a number too long to convert")
        raise DataImportError(
            f"{source} cannot be read as JSON (it has {why}). Check that it is the feed's "
            "answer, saved exactly as it was sent.") from exc


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
    """``"oruk"``, ``"oruk1"``, ``"outpost"``, or ``None`` when the JSON has none of their shapes.

    ORUK version 1 (Open Place) records carry its ``pc_`` fields (``pc_targetAudience``,
    ``pc_metadata``...). Otherwise the keys typical of each format (ORUK's
    ``service_at_locations``, ``organization``, ``minimum_age``...; Outpost's ``locations``,
    ``organisation``, ``send_needs``...) are counted over the paging wrapper and the first
    services.
    """
    keys: Counter[str] = Counter()
    wrappers = doc if isinstance(doc, list) else [doc]
    for w in wrappers[:3]:
        if isinstance(w, dict):
            keys.update(w.keys())
    items = [i for i in service_items(doc)[:20] if isinstance(i, dict)]
    if any(ORUK1_KEYS & i.keys() for i in items):
        return "oruk1"
    for item in items:
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




def _streamed(source: Any) -> tuple[list[Any], Iterator[Any], str] | None:
    """A file holding one JSON array, read as a stream: its first elements (enough for
    :func:`detect_format`: three, and twenty services), the rest still to read, and its name.
    ``None`` for any other source (parsed whole by :func:`load_feed`)."""
    if isinstance(source, dict | list | bytes) or (
            isinstance(source, str) and source.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")):
        return None
    try:
        path = Path(source)
    except TypeError:
        return None
    if not path.is_file() or not starts_with_array(path):
        return None
    elements = array_elements(path)
    head: list[Any] = []
    services = 0
    for element in elements:
        head.append(element)
        services += len(service_items([element]))
        if len(head) >= 3 and services >= 20:
            break
    return head, elements, str(path)


def read_feed(source: Any, **options: Any) -> tuple[list[ServiceRecord], FeedReport]:
    """Read and check an ORUK or Outpost feed; nothing is written anywhere.

    ``source``: anything :func:`load_feed` accepts. ``fmt``: ``oruk``, ``oruk1``,
    ``outpost`` or ``auto`` (:func:`detect_format`). ``id_prefix``: default ``oruk`` /
    ``oruk1`` / ``outpost``. Returns the records of every good service, in feed order, and
    the report; a feed of an unknown shape gives a report with ``fatal=True`` and no records.
    The options are those of :func:`read_feed_batches`.
    """
    batches, report = read_feed_batches(source, **options)
    return [record for batch in batches for record in batch], report


def read_feed_batches(
    source: Any,
    *,
    fmt: str = "auto",
    id_prefix: str | None = None,
    today: dt.date | None = None,
    missing_description: str = "fallback",
    source_name: str | None = None,
    workers: int = 1,
) -> tuple[Iterable[list[ServiceRecord]], FeedReport]:
    """:func:`read_feed`, the records given in batches, in feed order.

    Read in one process, the batches are a list (everything is read already); read by
    several ``workers``, a generator that reads as it is consumed, and the report is complete
    only once the last batch has been given.

    A file holding one JSON list is read one service at a time
    (:mod:`~matcher.ingest.jsonstream`), never parsed whole; the result is the same.
    ``workers`` above 1 reads a feed of at least :data:`~matcher.ingest.parallel.MIN_RECORDS`
    services in that many processes (:mod:`~matcher.ingest.parallel`); the result is the same.
    """
    options = {"fmt": fmt, "id_prefix": id_prefix, "today": today,
               "missing_description": missing_description, "workers": workers}
    try:
        streamed = _streamed(source)
        if streamed is not None:
            head, rest, name = streamed
            return _read_items(source, head, rest, source_name or name, **options)
    except NotStreamable:
        pass    # not one well-formed JSON list: parsed whole below, which says what is wrong
    doc, name = load_feed(source)
    return _read_items(doc, doc, iter(()), source_name or name, **options)


def _read_items(source: Any, doc: Any, rest: Iterator[Any], name: str, *, fmt: str,
                id_prefix: str | None, today: dt.date | None, missing_description: str,
                workers: int) -> tuple[Iterable[list[ServiceRecord]], FeedReport]:
    """:func:`read_feed` of ``doc`` (the document, or the first elements of a streamed list
    whose other elements ``rest`` yields)."""
    detected = detect_format(doc)
    chosen = detected if fmt == "auto" else fmt
    if chosen not in FEED_FORMATS and chosen is not None:
        raise DataImportError(f"Unknown feed format '{fmt}'. Use one of: "
                              + ", ".join((*FEED_FORMATS, "auto")) + ".")
    report = FeedReport(source=name, format=chosen or "unknown")
    if chosen is None:
        whole = doc if source is doc else load_feed(source)[0]
        report.fatal = True
        report.problems.append(Problem(
            0, "", short_value(whole)[:60], "this JSON is neither an Open Referral UK nor an Outpost "
                                     "feed (no service fields such as name, "
                                     "service_at_locations or locations were found)",
            "Give a saved /services answer, a service object or a list of them; or name the "
            "format with --format oruk or --format outpost."))
        return [], report
    settings = {"id_prefix": prefix_of(chosen, id_prefix), "today": today or dt.date.today(),
                "missing_description": missing_description}
    mapper = FeedMapper(report, **settings)
    items = itertools.chain(service_items(doc),
                            itertools.chain.from_iterable(service_items([e]) for e in rest))
    del doc
    if workers > 1:
        import matcher.ingest.parallel as parallel

        head = list(itertools.islice(items, parallel.MIN_RECORDS))
        if len(head) >= parallel.MIN_RECORDS:
            return parallel.iter_batches(itertools.chain(head, items), chosen, settings,
                                         report, workers=workers), report
        items = iter(head)
    return [read_chunk(mapper, chosen, items, 1)], report


def read_oruk(source: Any, **kwargs: Any) -> tuple[list[ServiceRecord], FeedReport]:
    """:func:`read_feed` for an Open Referral UK 3.0 feed (ids ``oruk:<id>`` by default)."""
    return read_feed(source, fmt="oruk", **kwargs)


def read_outpost(source: Any, **kwargs: Any) -> tuple[list[ServiceRecord], FeedReport]:
    """:func:`read_feed` for an Outpost feed (ids ``outpost:<id>`` by default)."""
    return read_feed(source, fmt="outpost", **kwargs)
