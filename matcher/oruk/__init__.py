"""Open Referral UK: import directory feeds (ORUK 3.0 JSON, the Outpost API) and publish the
directory as ORUK.

* :func:`read_feed` / :func:`read_oruk` / :func:`read_outpost`: a feed -> records + report
  (nothing written); :func:`import_feed`: the same into the store, as ``matcher import``.
* :func:`fetch_feed`: page through a live ``/services`` endpoint (httpx; network only when
  called).
* :mod:`matcher.oruk.export`: :func:`service_to_oruk`, :func:`services_page` and the FastAPI
  ``oruk_router`` (``GET /oruk/services``, ``GET /oruk/services/{id}``). Import it from there:
  it needs FastAPI, the importers do not.
"""

from __future__ import annotations

from matcher.oruk.importer import (
    DEFAULT_ORUK_PREFIX,
    FEED_FORMATS,
    OUR_TAXONOMY,
    FeedReport,
    category_of_term,
    detect_format,
    fetch_feed,
    import_feed,
    load_feed,
    read_feed,
    read_oruk,
    service_items,
    sniff_format,
)
from matcher.oruk.outpost import DEFAULT_OUTPOST_PREFIX, read_outpost

__all__ = [
    "DEFAULT_ORUK_PREFIX",
    "DEFAULT_OUTPOST_PREFIX",
    "FEED_FORMATS",
    "OUR_TAXONOMY",
    "FeedReport",
    "category_of_term",
    "detect_format",
    "fetch_feed",
    "import_feed",
    "load_feed",
    "read_feed",
    "read_oruk",
    "read_outpost",
    "service_items",
    "sniff_format",
]
