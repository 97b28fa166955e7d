"""Reading a large feed in several processes: the same records and report as one process.

``matcher import`` reads a feed of at least :data:`MIN_RECORDS` services with ``--workers``
processes (by default one per CPU core, at most four). The services are cut into chunks of
:data:`CHUNK_RECORDS` in feed order; each chunk is mapped, checked, placed and read (the
reading step, :mod:`matcher.ingest.reading`) in a worker, exactly as :func:`~matcher.ingest.readers.read_chunk` does
in one process. This process parses the file, hands out the chunks (at most two per worker
at a time, so memory stays bounded) and joins the answers in feed order:

* ids are claimed here, in feed order, as one process claims them: only an imported record
  takes its id, and a later record with the id of an earlier imported one is rejected with
  the same problem;
* problems, warnings and unmapped terms are joined, then sorted by record as one process
  sorts them; the per-field counts are made from the joined records.

Workers are started by ``fork`` after the vocabulary, the postcode index and the reading
rules are loaded, so they share them and start at once. Where ``fork`` is not available
the feed is read in one process.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from typing import Any

from matcher.ingest.report import FeedReport, Problem
from matcher.services import ServiceRecord

__all__ = ["CHUNK_RECORDS", "MIN_RECORDS", "default_workers", "iter_batches", "read_items"]

#: Services per chunk handed to a worker.
CHUNK_RECORDS = 2_000
#: A feed with fewer services is read in one process (starting workers would cost more).
MIN_RECORDS = 5_000
#: ``default_workers()`` never gives more than this.
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Processes used to read a large feed: one per CPU core this process may use, at most
    :data:`MAX_DEFAULT_WORKERS`; 1 where ``fork`` is not available."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def _chunks(items: Iterable[Any], size: int) -> Iterator[tuple[int, list[Any]]]:
    chunk: list[Any] = []
    start = 1
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield start, chunk
            start += len(chunk)
            chunk = []
    if chunk:
        yield start, chunk


def _read_chunk(fmt: str, settings: dict[str, Any], source: str, start: int,
                items: list[Any]) -> tuple[list[ServiceRecord], FeedReport,
                                            list[tuple[str, int, bool]]]:
    """In a worker: one chunk read as :func:`read_chunk` reads it, except that ids are not
    claimed here: the records with no problem, the chunk's report, and (id, record number,
    no problem) of every record, for :func:`read_items` to claim ids in feed order."""
    from matcher.ingest.readers import read_chunk
    from matcher.ingest.rules import FeedMapper

    report = FeedReport(source=source, format=fmt)
    mapper = FeedMapper(report, **settings)
    mapper.id_log = []
    records = read_chunk(mapper, fmt, items, start)
    return records, report, mapper.id_log


def _warm_up() -> None:
    """Load, before forking, what every worker needs, so they share it."""
    from matcher.geo.postcodes import get_postcode_index
    from matcher.understand import read_service

    get_postcode_index()
    read_service("Warm-up", "For children aged 5 to 11 with autism; free; online.", ())


def read_items(items: Iterable[Any], fmt: str, settings: dict[str, Any], report: FeedReport,
               *, workers: int, chunk_records: int | None = None) -> list[ServiceRecord]:
    """Read the services ``items`` (feed order) of a feed of format ``fmt`` into ``report``
    with ``workers`` processes; return the records imported, in feed order.

    ``settings`` are the :class:`~matcher.ingest.rules.FeedMapper` options (``id_prefix``,
    ``today``, ``missing_description``).
    """
    return [record for batch in iter_batches(items, fmt, settings, report, workers=workers,
                                             chunk_records=chunk_records) for record in batch]


def iter_batches(items: Iterable[Any], fmt: str, settings: dict[str, Any],
                 report: FeedReport, *, workers: int,
                 chunk_records: int | None = None) -> Iterator[list[ServiceRecord]]:
    """:func:`read_items`, the records given chunk by chunk, in feed order, as the workers
    finish them (so a caller may store them as they come and never hold them all).
    ``report`` is complete once the last batch has been given."""
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        from matcher.ingest.readers import read_chunk
        from matcher.ingest.rules import FeedMapper

        yield read_chunk(FeedMapper(report, **settings), fmt, items, 1)
        return
    _warm_up()
    claimed: dict[str, int] = {}
    problems: list[Problem] = []
    warnings: list[Problem] = []

    def join(answer: tuple[list[ServiceRecord], FeedReport, list[tuple[str, int, bool]]]
             ) -> list[ServiceRecord]:
        part_records, part, ids = answer
        report.rows_read += part.rows_read
        problems.extend(part.problems)
        warnings.extend(part.warnings)
        for key, n in part.unmapped_terms.items():
            report.unmapped_terms[key] = report.unmapped_terms.get(key, 0) + n
        # As FeedMapper.claim_id does in one process: an imported record takes its id; a
        # record whose id an earlier imported record took is rejected.
        kept: list[ServiceRecord] = []
        next_record = iter(part_records)
        for service_id, row, good in ids:
            record = next(next_record) if good else None
            if service_id and service_id in claimed:
                problems.append(Problem(
                    row, "id", service_id, f"id {service_id} is already used by record "
                                           f"{claimed[service_id]} of this feed",
                    "The feed repeats a service: only the first copy was imported. Ask the "
                    "publisher to remove the duplicate."))
            elif record is not None:
                claimed[service_id] = row
                kept.append(record)
        report.accepted.extend(r.id for r in kept)
        report.add_field_counts(kept)
        return kept

    context = multiprocessing.get_context("fork")
    pending: collections.deque[Any] = collections.deque()
    report.count_fields(())
    with context.Pool(workers) as pool:
        for start, chunk in _chunks(items, chunk_records or CHUNK_RECORDS):
            pending.append(pool.apply_async(_read_chunk,
                                            (fmt, settings, report.source, start, chunk)))
            del chunk
            while len(pending) >= 2 * workers:
                yield join(pending.popleft().get())
        while pending:
            yield join(pending.popleft().get())
    # As one process orders them: by record, each record's own in the order found.
    report.problems.extend(sorted(problems, key=lambda p: p.row))
    report.warnings.extend(sorted(warnings, key=lambda p: p.row))
