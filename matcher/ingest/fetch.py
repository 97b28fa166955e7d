"""Reading a live feed over HTTP (only when asked for: nothing on the request path does this).

:func:`fetch_feed` pages through a ``/services`` endpoint once; :mod:`matcher.ingest.sync`
keeps a directory in step with a feed (retries, politeness, a resumable checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from matcher.errors import DataImportError
from matcher.ingest.oruk3 import NESTED
from matcher.ingest.sources import service_items

if TYPE_CHECKING:
    import httpx

__all__ = ["HTTP_TIMEOUT", "MAX_PAGES", "PER_PAGE", "USER_AGENT", "fetch_feed"]

#: Pages fetched at most by :func:`fetch_feed` unless told otherwise.
MAX_PAGES = 1_000
#: Services asked for per page by :func:`fetch_feed`.
PER_PAGE = 100
#: Seconds to wait for one HTTP answer.
HTTP_TIMEOUT = 30.0
USER_AGENT = "send-matcher/0.1 (Open Referral UK import)"


def _services_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise DataImportError(f"'{url}' is not a web address. Give the feed's address, e.g. "
                              "https://example.org/api/services.")
    path = parts.path.rstrip("/")
    if not path.endswith("/services"):
        path += "/services"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _get_json(client: httpx.Client, url: str, params: Mapping[str, Any] | None = None) -> Any:
    import httpx

    try:
        answer = client.get(url, params=params)
    except httpx.HTTPError as exc:
        raise DataImportError(f"Could not reach {url}: {exc}. Check the address and your "
                              "network connection, then try again.") from exc
    if answer.status_code >= 400:
        raise DataImportError(f"{answer.request.url} answered {answer.status_code} "
                              f"{answer.reason_phrase}. Check the feed's address (it should be "
                              "its /services endpoint) and try again.")
    try:
        return answer.json()
    except ValueError as exc:
        raise DataImportError(f"{answer.request.url} did not answer with JSON. Check that the "
                              "address is the feed's API, not its web page.") from exc


def _page_facts(doc: Any) -> tuple[list[Any], bool]:
    """(services of the page, whether it says it is the last one)."""
    items = service_items(doc) if isinstance(doc, dict) and (
        "contents" in doc or "content" in doc) else (doc if isinstance(doc, list) else [])
    if not isinstance(doc, dict):
        return items, True
    last = doc.get("last_page", doc.get("last"))
    number = doc.get("page_number", doc.get("number"))
    total = doc.get("total_pages", doc.get("totalPages"))
    if last is True:
        return items, True
    if isinstance(number, int) and isinstance(total, int) and number >= total:
        return items, True
    return items, not items


def fetch_feed(
    url: str,
    *,
    client: httpx.Client | None = None,
    per_page: int = PER_PAGE,
    max_pages: int = MAX_PAGES,
    fetch_details: bool | None = None,
) -> list[dict[str, Any]]:
    """Every service of a live ``/services`` endpoint, page by page (``page``, ``per_page``).

    ``url`` is the endpoint or the API's root (``/services`` is added). Stops at the page
    that says it is the last (``last_page``, Outpost ``last``), at ``total_pages``, at an
    empty page, at a page that repeats the previous one (a server that ignores ``page``), or
    after ``max_pages`` pages. ORUK list pages carry only the one-to-one fields, so with
    ``fetch_details`` (default: when the listed services have no nested fields) each service
    is fetched again from ``/services/{id}``.

    ``client``: an ``httpx.Client`` to use (tests pass one with a ``MockTransport``).
    Raises :class:`~matcher.errors.DataImportError` when the feed cannot be read.
    """
    import httpx

    endpoint = _services_url(url)
    own = client is None
    http = client or httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=True,
                                  headers={"User-Agent": USER_AGENT,
                                           "Accept": "application/json"})
    try:
        items: list[Any] = []
        previous: list[Any] | None = None
        for page in range(1, max_pages + 1):
            doc = _get_json(http, endpoint, {"page": page, "per_page": per_page})
            page_items, last = _page_facts(doc)
            ids = [i.get("id") for i in page_items if isinstance(i, dict)]
            if previous is not None and ids and ids == previous:
                break
            previous = ids
            items.extend(page_items)
            if last:
                break
        if fetch_details is None:
            fetch_details = bool(items) and all(
                isinstance(i, dict) and not any(k in i for k in NESTED) for i in items)
        if fetch_details:
            base = endpoint + "/"
            items = [_get_json(http, urljoin(base, str(i.get("id"))))
                     if isinstance(i, dict) and i.get("id") is not None else i for i in items]
        return items
    finally:
        if own:
            http.close()


