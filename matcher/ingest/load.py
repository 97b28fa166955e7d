"""Importing: read a source of any format, then write its good records in ONE transaction.

``matcher import PATH`` (format sniffed, ``--format`` to override) and ``POST /import`` end
here. A failure half-way (or a killed process) leaves the store exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from matcher.errors import DataImportError
from matcher.ingest.csv_template import read_service_csv
from matcher.ingest.report import ImportReport, ImportSummary
from matcher.ingest.sources import FORMATS, read_feed_batches, sniff_format
from matcher.services import ServiceRecord

if TYPE_CHECKING:
    import httpx

    from matcher.store import Store

__all__ = ["import_feed", "import_records", "run_import"]



def run_import(
    path: str | os.PathLike[str] | bytes | None,
    strict: bool = False,
    database_url: str | None = None,
    store: Store | None = None,
    *,
    progress: bool | None = None,
    today: dt.date | None = None,
    fmt: str = "csv",
    url: str | None = None,
    workers: int = 1,
) -> ImportSummary:
    """Import a Local Offer CSV into the store (``matcher import PATH``).

    ``path`` is anything :func:`read_service_csv` accepts (a path, CSV text, or the bytes of
    an uploaded file).

    Good rows are added or updated in ONE transaction; a re-import of identical rows counts
    them as unchanged; rows with problems are rejected and listed. Services already stored but
    absent from the file are kept.

    Raises :class:`~matcher.errors.DataImportError` (with ``.report``, an
    :class:`ImportReport`) and imports nothing when the file as a whole is unusable, or when
    ``strict`` is true and any row has a problem. ``store`` (else ``database_url``, else the
    settings) says where to write.

    ``fmt`` (one of :data:`~matcher.ingest.sources.FORMATS`) other than ``csv``, or a ``url``, hands the import
    to :func:`import_feed`: Open Referral UK or Outpost JSON from a file or a live
    ``/services`` endpoint, with the same report and summary; ``workers`` processes read a
    large feed (:mod:`~matcher.ingest.parallel`).
    """
    if fmt != "csv" or url is not None:
        return import_feed(path, fmt=fmt, url=url, strict=strict, database_url=database_url,
                           store=store, today=today, workers=workers)
    if path is None:
        raise DataImportError("No file was given. Give the path of the CSV file to import.")
    records, report = read_service_csv(path, progress=progress, today=today)
    if report.fatal:
        raise DataImportError(
            f"{report.source} cannot be imported: "
            + "; ".join(p.problem for p in report.problems) + ". Nothing was imported.",
            report=report,
        )
    if strict and report.problems:
        raise DataImportError(
            f"{report.rejected} row(s) of {report.source} have problems, so nothing was "
            "imported (strict mode). Fix the rows listed, or import without --strict to load "
            "the good rows only.",
            report=report,
        )
    return import_records(records, report, database_url=database_url, store=store)


def import_records(
    records: Sequence[ServiceRecord],
    report: ImportReport,
    *,
    database_url: str | None = None,
    store: Store | None = None,
) -> ImportSummary:
    """Write already checked records to the store in ONE transaction and summarise.

    The last step of every import (CSV, Open Referral UK, Outpost): ``report`` is the one the
    reader produced, so every format's summary looks the same. ``store`` (else
    ``database_url``, else the settings) says where to write.
    """
    from matcher.store import Store

    owned = store is None
    target = Store.open(database_url) if store is None else store
    try:
        added, updated, unchanged = target.upsert_services(list(records))
        database = target.url
    finally:
        if owned:
            target.close()
    return _summary(report, database, added, updated, unchanged)


def _summary(report: ImportReport, database: str, added: int, updated: int,
             unchanged: int) -> ImportSummary:
    return ImportSummary(
        source=report.source,
        database=database,
        rows_read=report.rows_read,
        added=added,
        updated=updated,
        unchanged=unchanged,
        rejected=report.rejected,
        problems=[p.to_dict() for p in report.problems],
        warnings=[w.to_dict() for w in report.warnings],
        report=report,
    )



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
    workers: int = 1,
) -> ImportSummary:
    """Import a feed into the store (``matcher import PATH --format oruk`` or ``--url URL``).

    ``source`` is a file, folder, JSON text or parsed JSON; or give ``url`` to page through a
    live endpoint (:func:`fetch_feed`, with ``client`` if given). ``fmt`` ``auto`` tells CSV
    from JSON by the content and ORUK from Outpost by the fields; a CSV is handed to
    :func:`run_import`.

    Good services are added or updated in ONE transaction, exactly as for a CSV; services
    stored but absent from the feed are kept. Raises
    :class:`~matcher.errors.DataImportError` (with ``.report``) and imports nothing when the
    feed's shape is unknown, or when ``strict`` is true and any record has a problem.
    """
    if fmt not in FORMATS:
        raise DataImportError(f"Unknown format '{fmt}'. Use one of: {', '.join(FORMATS)}.")
    if url is not None:
        from matcher.ingest.fetch import fetch_feed

        doc: Any = fetch_feed(url, client=client)
        name: str | None = url
        if fmt == "csv":
            raise DataImportError("--url reads JSON feeds only; a CSV must be downloaded and "
                                  "imported from its file.")
    else:
        if source is None:
            raise DataImportError("Nothing to import: give a file (or folder of saved pages), "
                                  "or --url with the feed's address.")
        if fmt == "csv" or (fmt == "auto" and sniff_format(source) == "csv"):
            return run_import(source, strict=strict, database_url=database_url, store=store,
                              today=today)
        doc, name = source, None   # read_feed parses it (a JSON list file as a stream)
    batches, report = read_feed_batches(doc, fmt=fmt, id_prefix=id_prefix, today=today,
                                        missing_description=missing_description,
                                        source_name=name, workers=workers)
    if not isinstance(batches, list):
        return _import_streamed(batches, report, strict=strict, database_url=database_url,
                                store=store)
    records = [record for batch in batches for record in batch]
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




def _import_streamed(batches: Iterable[list[ServiceRecord]], report: ImportReport, *,
                     strict: bool, database_url: str | None,
                     store: Store | None) -> ImportSummary:
    """Store a feed read by several processes batch by batch as it is read, in ONE
    transaction (:meth:`~matcher.store.Store.upsert_service_batches`): nothing is held whole,
    and a refusal found at the end (``strict`` with problems) rolls everything back."""
    from matcher.store import Store

    def checked() -> Iterator[list[ServiceRecord]]:
        yield from batches
        if strict and report.problems:
            raise DataImportError(
                f"{report.rejected} service(s) of {report.source} have problems, so nothing "
                "was imported (strict mode). Import without --strict to load the good "
                "services only.", report=report)

    owned = store is None
    target = Store.open(database_url) if store is None else store
    try:
        added, updated, unchanged = target.upsert_service_batches(checked())
        database = target.url
    finally:
        if owned:
            target.close()
    return _summary(report, database, added, updated, unchanged)
