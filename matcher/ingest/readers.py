"""The reader of each JSON feed format, and reading consecutive services of a feed.

Shared by :mod:`~matcher.ingest.sources` (one process) and :mod:`~matcher.ingest.parallel`
(several), which import this module and not each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from matcher.ingest.fields import RawRecord
from matcher.ingest.oruk1 import DEFAULT_ORUK1_PREFIX, oruk1_record
from matcher.ingest.oruk3 import DEFAULT_ORUK_PREFIX, oruk_record
from matcher.ingest.outpost import DEFAULT_OUTPOST_PREFIX, outpost_record
from matcher.ingest.report import Problem, short_value
from matcher.ingest.rules import FeedMapper, finish
from matcher.services import ServiceRecord

__all__ = ["READERS", "Reader", "prefix_of", "read_chunk"]

Reader = Callable[[FeedMapper, int, Mapping[str, Any]], RawRecord]
#: JSON feed format -> (reader, default id prefix).
READERS: dict[str, tuple[Reader, str]] = {
    "oruk": (oruk_record, DEFAULT_ORUK_PREFIX),
    "oruk1": (oruk1_record, DEFAULT_ORUK1_PREFIX),
    "outpost": (outpost_record, DEFAULT_OUTPOST_PREFIX),
}


def prefix_of(fmt: str, id_prefix: str | None) -> str:
    """The id prefix a feed of format ``fmt`` is imported under (``id_prefix`` if given)."""
    return READERS[fmt][1] if id_prefix is None else id_prefix


def read_chunk(mapper: FeedMapper, fmt: str, items: Iterable[Any],
               start_row: int) -> list[ServiceRecord]:
    """Map and check consecutive services of a feed (the first is record ``start_row``) into
    ``mapper``'s report; return the records imported."""
    make = READERS[fmt][0]
    report = mapper.report
    drafts: list[RawRecord] = []
    for row, item in enumerate(items, start=start_row):
        report.rows_read += 1
        if not isinstance(item, dict):
            report.problems.append(Problem(
                row, "", short_value(item)[:60], "this record is not a JSON object",
                "Each service must be an object with fields such as id and name."))
            continue
        drafts.append(make(mapper, row, item))
    return finish(mapper, drafts)
