"""Ingest: every directory format read into one field layer, checked, and stored.

Layers, each depending only on those above it:

=====================  ==========================================================
``report``             problems, warnings, per-field counts, the import summary
``fields``             the field layer: :class:`RawRecord` (pydantic), places, terms
``text``               HTML descriptions -> plain text
``rules``              rules shared by the feed readers; :func:`rules.finish`
``csv_template``       the service template CSV (contract section 1)
``oruk3``, ``oruk1``,  one reader per JSON format, each only mapping its shape
``outpost``            onto :class:`RawRecord`
``readers``            the reader of each JSON format; reading consecutive services
``sources``            parsing, format sniffing, :func:`read_feed`
``parallel``           a large feed read by several processes (same result)
``load``               :func:`run_import`: read, then write in ONE transaction
``fetch``, ``sync``    live feeds over HTTP (opt-in, never on the request path)
=====================  ==========================================================

Publishing (the ORUK export) lives in :mod:`matcher.oruk`; it does not import this package's
readers, and this package does not import it.
"""

from matcher.ingest.csv_template import COLUMNS, COST_VALUES, REQUIRED_COLUMNS, read_service_csv
from matcher.ingest.fetch import fetch_feed
from matcher.ingest.fields import Place, RawRecord, Schedule, Term
from matcher.ingest.load import import_feed, import_records, run_import
from matcher.ingest.report import (
    FEED_ROW_CONVENTION,
    ROW_CONVENTION,
    FeedReport,
    ImportReport,
    ImportSummary,
    Problem,
)
from matcher.ingest.rules import category_of_term
from matcher.ingest.sources import (
    FEED_FORMATS,
    FORMATS,
    detect_format,
    load_feed,
    read_feed,
    read_oruk,
    read_outpost,
    service_items,
    sniff_format,
)
from matcher.ingest.sync import SyncSummary, sync_feed
from matcher.services import OUR_TAXONOMY

__all__ = [
    "COLUMNS", "COST_VALUES", "FEED_FORMATS", "FEED_ROW_CONVENTION", "FORMATS", "OUR_TAXONOMY",
    "REQUIRED_COLUMNS", "ROW_CONVENTION", "FeedReport", "ImportReport", "ImportSummary", "Place",
    "Problem", "RawRecord", "Schedule", "Term", "category_of_term", "detect_format",
    "fetch_feed", "import_feed", "import_records", "load_feed", "read_feed", "read_oruk",
    "read_outpost", "read_service_csv", "run_import",
    "service_items", "sniff_format", "SyncSummary", "sync_feed",
]
