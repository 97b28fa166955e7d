"""Keeping the directory in step with a live feed (``matcher sync URL``).

:func:`sync_feed` pages through an Open Referral UK ``/services`` endpoint (3.0 and 2.0 pages:
``contents``, ``total_pages``, ``page_number``, ``last_page``; version 1 / Open Place: a plain
JSON list per page, or a Spring page: ``content``, ``totalPages``, ``number``, ``last``; Outpost
pages too), then writes the result in ONE store transaction.

Fetching
    Every request has a timeout. Time-outs, network errors, ``429`` and ``5xx`` answers, and
    pages that are not JSON or not shaped like a page of services are retried with
    exponential backoff (``Retry-After`` honoured on 429 and 503; every wait capped); other
    4xx answers fail at once. A politeness delay separates consecutive requests.

Checkpoint
    Each page is saved (atomically) as it arrives, in a folder per feed
    (``<cache>/sync/<hash of the address>/``: page files and a ``state.json`` holding the next
    page's number). A sync that fails or is interrupted (Ctrl+C) keeps it, and the next sync
    of the same address resumes at the next page instead of starting again (``resume=False``,
    ``matcher sync --restart``, starts again). It is removed once the store is written.

Writing
    Nothing touches the store until every page is in. Then, in ONE transaction
    (:meth:`matcher.store.Store.sync_services`), new and changed services are written, and
    every stored service of this feed (its id prefix and format) that the feed no longer lists
    is marked ``inactive``: kept, never suggested, and active again if the feed lists it
    again. A failed or interrupted sync leaves the store exactly as it was.

Two feeds imported with the same id prefix are one feed to a sync (a sync of one would mark
the other's services inactive): give each its own ``--id-prefix``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from matcher.errors import DataImportError
from matcher.ingest.fetch import HTTP_TIMEOUT, MAX_PAGES, PER_PAGE, USER_AGENT, _services_url
from matcher.ingest.oruk3 import NESTED
from matcher.ingest.report import ImportSummary
from matcher.ingest.sources import FEED_FORMATS, READERS, detect_format, read_feed

if TYPE_CHECKING:
    import httpx

    from matcher.store import Store

__all__ = ["CHECKPOINT_MAX_AGE", "DEFAULT_DELAY", "DEFAULT_RETRIES", "MAX_BACKOFF",
           "SyncSummary", "default_checkpoint_dir", "sync_feed"]

#: Seconds between two consecutive requests to the feed (politeness).
DEFAULT_DELAY = 0.5
#: Retries of one request after its first try.
DEFAULT_RETRIES = 5
#: The longest wait before a retry, whatever the backoff or ``Retry-After`` says (seconds).
MAX_BACKOFF = 60.0
#: A checkpoint older than this (seconds) is not resumed: its pages would be stale.
CHECKPOINT_MAX_AGE = 24 * 3600
_STATE = "state.json"
_CHECKPOINT_VERSION = 1


@dataclass
class SyncSummary(ImportSummary):
    """What :func:`sync_feed` did: the import summary's counts, plus ``withdrawn`` (services of
    this feed it no longer lists, now inactive) and how the fetch went."""

    format: str = ""
    withdrawn: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    resumed_at_page: int | None = None
    checkpoint: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (``matcher sync --json``): the import summary's keys and the sync's."""
        d = super().to_dict()
        d.update(synced=True, format=self.format, withdrawn=self.withdrawn, pages=self.pages,
                 requests=self.requests, retries=self.retries,
                 resumed_at_page=self.resumed_at_page)
        return d

    def format_text(self) -> str:
        """One summary line, then the report's tables when there is anything to show."""
        resumed = (f", resumed at page {self.resumed_at_page}"
                   if self.resumed_at_page is not None else "")
        head = (f"Synced {self.source} ({self.format}) into {self.database}: {self.pages} "
                f"page(s), {self.requests} request(s), {self.retries} retried{resumed}. "
                f"{self.rows_read} services read; {self.added} added, {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.withdrawn} withdrawn (kept as inactive), "
                f"{self.rejected} rejected.")
        if self.report is None or (not self.report.problems and not self.report.warnings):
            return head
        details = self.report.format_text().split("\n", 1)
        return head + ("\n" + details[1] if len(details) > 1 else "")


def default_checkpoint_dir(url: str) -> Path:
    """The checkpoint folder of a feed: ``<cache>/sync/<hash of its /services address>``, the
    cache being ``$MATCHER_CACHE_DIR``, else ``$XDG_CACHE_HOME/send-matcher``, else
    ``~/.cache/send-matcher``."""
    from matcher.geo.postcodes import default_cache_dir

    return default_cache_dir() / "sync" / _url_key(_services_url(url))


def _url_key(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:24]


# ------------------------------------------------------------------------------ the checkpoint
def _write_atomic(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file in the same folder, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Checkpoint:
    """The pages fetched so far of one feed, and where to carry on."""

    def __init__(self, folder: Path, endpoint: str, per_page: int):
        self.folder = folder
        self.endpoint = endpoint
        self.per_page = per_page
        self.state: dict[str, Any] = {}

    def _fresh(self) -> dict[str, Any]:
        return {"version": _CHECKPOINT_VERSION, "url": self.endpoint, "per_page": self.per_page,
                "base": 1, "next_index": 1, "done": False, "previous": None,
                "started": time.time()}

    def open(self, resume: bool, max_age: float) -> int | None:
        """Load the checkpoint (or start a fresh one); the page resumed at, else ``None``."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataImportError(f"Cannot create the checkpoint folder {self.folder}: "
                                  f"{exc.strerror}. Give another with --checkpoint-dir.") from exc
        state = self._load(max_age) if resume else None
        if state is None:
            self.clear()
            self.state = self._fresh()
            self.save_state()
            return None
        self.state = state
        index = int(state["next_index"])
        return index if index > 1 or state["done"] else None

    def _load(self, max_age: float) -> dict[str, Any] | None:
        try:
            state = json.loads((self.folder / _STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(state, dict) or (
                state.get("version"), state.get("url"), state.get("per_page")) != (
                _CHECKPOINT_VERSION, self.endpoint, self.per_page):
            return None
        started = state.get("started")
        if not isinstance(started, int | float) or time.time() - started > max_age:
            return None
        try:
            pages = int(state["next_index"]) - 1
            int(state["base"])
        except (KeyError, TypeError, ValueError):
            return None
        if not all(self.page_path(i).is_file() for i in range(1, pages + 1)):
            return None
        return state

    def page_path(self, index: int) -> Path:
        return self.folder / f"page-{index:06d}.json"

    def detail_path(self, service_id: str) -> Path:
        name = hashlib.sha256(service_id.encode("utf-8")).hexdigest()[:32]
        return self.folder / "details" / f"{name}.json"

    def save_page(self, index: int, body: bytes) -> None:
        _write_atomic(self.page_path(index), body)

    def save_detail(self, service_id: str, body: bytes) -> None:
        path = self.detail_path(service_id)
        path.parent.mkdir(exist_ok=True)
        _write_atomic(path, body)

    def save_state(self) -> None:
        _write_atomic(self.folder / _STATE,
                      json.dumps(self.state, sort_keys=True).encode("utf-8"))

    def pages(self) -> list[Any]:
        """Every saved page, parsed, in order."""
        out = []
        for index in range(1, int(self.state["next_index"])):
            path = self.page_path(index)
            try:
                out.append(json.loads(path.read_bytes().decode("utf-8-sig")))
            except (OSError, ValueError) as exc:
                raise DataImportError(
                    f"The saved page {path} cannot be read ({exc}). Run the sync again with "
                    "--restart to fetch every page afresh.") from exc
        return out

    def clear(self) -> None:
        """Remove the saved pages and state (the folder itself and its lock stay)."""
        if not self.folder.is_dir():
            return
        for path in [*self.folder.glob("page-*.json"), *self.folder.glob(".*.tmp"),
                     *self.folder.glob("details/*.json"), self.folder / _STATE]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        with contextlib.suppress(OSError):
            (self.folder / "details").rmdir()

    def remove(self) -> None:
        """Remove the whole checkpoint (after a successful sync)."""
        self.clear()
        with contextlib.suppress(OSError):
            (self.folder / ".lock").unlink()
        with contextlib.suppress(OSError):
            self.folder.rmdir()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the checkpoint's lock: two syncs of one feed at once would mix their pages."""
        try:
            import fcntl
        except ImportError:      # pragma: no cover - not POSIX: no lock
            yield
            return
        fh = open(self.folder / ".lock", "a+b")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise DataImportError(
                    f"Another 'matcher sync' of {self.endpoint} is running (its checkpoint "
                    f"{self.folder} is locked). Wait for it to finish.") from exc
            yield
        finally:
            fh.close()


# ------------------------------------------------------------------------------ HTTP with retries
class _End(Exception):
    """The feed said there is no such page (a list endpoint past its end)."""


def _retry_after(answer: httpx.Response) -> float | None:
    value = answer.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _page_shape(doc: Any) -> str | None:
    """What is wrong with a page of services, or ``None`` when it is one."""
    if isinstance(doc, list):
        return None
    if isinstance(doc, dict):
        for key in ("contents", "content"):
            if key in doc:
                return None if isinstance(doc[key], list) else (
                    f"its '{key}' is a JSON {_json_kind(doc[key])}, not a list of services")
        keys = ", ".join(sorted(map(str, doc))[:6]) or "none"
        return ("it is a JSON object with no list of services (no 'contents' as in Open "
                f"Referral UK 3.0, nor 'content' as in version 1; its keys: {keys})")
    return f"it is a JSON {_json_kind(doc)}, not a page of services"


def _detail_shape(doc: Any) -> str | None:
    return None if isinstance(doc, dict) else (
        f"it is a JSON {_json_kind(doc)}, not a service object")


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "true/false",
            type(None): "null"}.get(type(value), "number")


class _Fetcher:
    """GET with a timeout, retries with capped exponential backoff, and a politeness delay."""

    def __init__(self, http: httpx.Client, *, timeout: float, retries: int, backoff: float,
                 max_backoff: float, delay: float, sleep: Callable[[float], Any]):
        self.http = http
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.delay = delay
        self.sleep = sleep
        self.requests = 0
        self.retried = 0

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        wait = max(self.delay, self.backoff * 2 ** (attempt - 1))
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_backoff)

    def get(self, url: str, params: dict[str, Any] | None, what: str,
            check: Callable[[Any], str | None], end_ok: bool = False) -> tuple[Any, bytes]:
        """The parsed answer and its bytes. Raises :class:`_End` for a 404 when ``end_ok``,
        :class:`DataImportError` when the answer is refused or still unusable after every
        retry."""
        import httpx

        why = ""
        retry_after: float | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                self.sleep(self._wait(attempt, retry_after))
            elif self.requests and self.delay > 0:
                self.sleep(self.delay)
            self.requests += 1
            retry_after = None
            try:
                answer = self.http.get(url, params=params, timeout=self.timeout)
            except httpx.TimeoutException:
                why = f"no answer within {self.timeout:g} seconds"
                continue
            except httpx.TransportError as exc:
                why = f"the connection failed ({exc or type(exc).__name__})"
                continue
            except httpx.HTTPError as exc:
                raise DataImportError(f"Could not read {what} of {url}: {exc}. Check the "
                                      "feed's address.") from exc
            status = answer.status_code
            if status == 429 or status >= 500:
                why = f"the server answered {status} {answer.reason_phrase}"
                if status in (429, 503):
                    retry_after = _retry_after(answer)
                continue
            if status == 404 and end_ok:
                raise _End
            if status >= 400:
                raise DataImportError(
                    f"{answer.request.url} answered {status} {answer.reason_phrase} for {what}. "
                    "Check the feed's address (it should be its /services endpoint) and try "
                    "again.")
            body = answer.content
            try:
                doc = json.loads(body.decode("utf-8-sig"))
            except UnicodeDecodeError:
                why = "the answer is not UTF-8 text"
                continue
            except json.JSONDecodeError as exc:
                why = (f"the answer is not valid JSON ({exc.msg} at line {exc.lineno}, column "
                       f"{exc.colno}; {len(body)} bytes: cut short?)")
                continue
            problem = check(doc)
            if problem:
                why = f"the answer is not usable: {problem}"
                continue
            return doc, body
        raise DataImportError(
            f"Could not read {what} of {url} after {self.retries + 1} tries: {why}. Nothing in "
            "the directory was changed; the pages fetched so far are kept, so running the sync "
            "again carries on from this page.")


# ------------------------------------------------------------------------------ paging
def _page_items(doc: Any) -> list[Any]:
    if isinstance(doc, list):
        return list(doc)
    for key in ("contents", "content"):
        if isinstance(doc.get(key), list):
            return list(doc[key])
    return []


def _says_last(doc: Any, index: int) -> bool:
    """Whether a page says it is the last one (``index`` counts pages from 1)."""
    if not isinstance(doc, dict):
        return False
    if doc.get("last_page", doc.get("last")) is True:
        return True
    total = doc.get("total_pages", doc.get("totalPages"))
    if isinstance(total, int) and not isinstance(total, bool) and index >= total:
        return True
    number = doc.get("page_number")
    return isinstance(number, int) and isinstance(total, int) and number >= total


def _zero_based(doc: Any) -> bool:
    """A Spring page answering ``page=1`` as its second page (``number`` 1, ``first`` false):
    the endpoint counts pages from 0."""
    return (isinstance(doc, dict) and "content" in doc and doc.get("first") is False
            and doc.get("number") == 1)


def _digest(items: Sequence[Any]) -> str:
    payload = json.dumps(items, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _fetch_pages(fetcher: _Fetcher, ckpt: _Checkpoint, endpoint: str, *, per_page: int,
                 max_pages: int, say: Callable[[str], None]) -> None:
    state = ckpt.state
    while not state["done"]:
        index = int(state["next_index"])
        if index > max_pages:
            raise DataImportError(
                f"{endpoint} has more than {max_pages} pages of {per_page} services, so the "
                "sync stopped before the end and nothing in the directory was changed (a "
                "partial feed would mark the rest inactive). Raise the page limit, or ask for "
                "bigger pages; the pages fetched so far are kept.")
        page = int(state["base"]) + index - 1
        try:
            doc, body = fetcher.get(endpoint, {"page": page, "per_page": per_page},
                                    f"page {index}", _page_shape, end_ok=index > 1)
        except _End:
            state["done"] = True
            ckpt.save_state()
            break
        if index == 1 and state["base"] == 1 and _zero_based(doc):
            state["base"] = 0          # fetch page 0 as the first page, then carry on
            ckpt.save_state()
            continue
        items = _page_items(doc)
        digest = _digest(items)
        if not items or digest == state.get("previous"):
            # An empty page ends the feed; so does the same page again (``page`` ignored).
            state["done"] = True
            ckpt.save_state()
            break
        ckpt.save_page(index, body)
        state.update(next_index=index + 1, previous=digest, done=_says_last(doc, index))
        ckpt.save_state()
        say(f"page {index}: {len(items)} service(s)")


def _full_records(fetcher: _Fetcher, ckpt: _Checkpoint, endpoint: str, items: list[Any],
                  say: Callable[[str], None]) -> list[Any]:
    """Each listed service fetched again from ``/services/{id}`` (saved as it arrives)."""
    out: list[Any] = []
    todo = sum(1 for i in items if isinstance(i, dict) and i.get("id") not in (None, ""))
    done = 0
    for item in items:
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            out.append(item)
            continue
        service_id = str(item["id"])
        path = ckpt.detail_path(service_id)
        if path.is_file():
            out.append(json.loads(path.read_bytes().decode("utf-8-sig")))
            done += 1
            continue
        try:
            doc, body = fetcher.get(f"{endpoint}/{quote(service_id, safe='')}", None,
                                    f"service {service_id}", _detail_shape, end_ok=True)
        except _End:
            out.append(item)        # gone since the list was read: keep the list's fields
            continue
        ckpt.save_detail(service_id, body)
        out.append(doc)
        done += 1
        if done % 50 == 0 or done == todo:
            say(f"full records: {done} of {todo}")
    return out


# ------------------------------------------------------------------------------ the sync
def sync_feed(
    url: str,
    *,
    store: Store | None = None,
    database_url: str | None = None,
    fmt: str = "auto",
    client: httpx.Client | None = None,
    per_page: int = PER_PAGE,
    max_pages: int = MAX_PAGES,
    timeout: float = HTTP_TIMEOUT,
    retries: int = DEFAULT_RETRIES,
    backoff: float = 1.0,
    max_backoff: float = MAX_BACKOFF,
    delay: float = DEFAULT_DELAY,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    resume: bool = True,
    checkpoint_max_age: float = CHECKPOINT_MAX_AGE,
    id_prefix: str | None = None,
    fetch_details: bool | None = None,
    today: dt.date | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    progress: Callable[[str], None] | None = None,
) -> SyncSummary:
    """Bring the directory in step with a live feed; see the module's description.

    ``url``: the feed's ``/services`` endpoint or its API root. ``fmt``: ``auto``, ``oruk``,
    ``oruk1`` or ``outpost``. ``store`` (else ``database_url``, else the settings): where to
    write. ``client``: an ``httpx.Client`` to use (``timeout`` is still applied to each
    request). ``retries`` after the first try of each request, waiting ``backoff`` seconds
    doubled at each retry (at least ``delay``, at least ``Retry-After``, at most
    ``max_backoff``); ``delay`` seconds between requests. ``checkpoint_dir``: the folder of
    this feed's checkpoint (default :func:`default_checkpoint_dir`); ``resume=False`` starts
    again; a checkpoint older than ``checkpoint_max_age`` seconds is not resumed.
    ``fetch_details``: fetch each service from ``/services/{id}`` (default: when the list
    pages carry only the summary fields). ``sleep`` is called for every wait (tests pass a
    fake). ``progress`` receives a line per page.

    Raises :class:`~matcher.errors.DataImportError` (the store untouched, the checkpoint
    kept) when the feed cannot be read, its shape is unknown, or it lists no usable service.
    A ``KeyboardInterrupt`` leaves the same state.
    """
    import httpx

    from matcher.store import Store

    if fmt not in (*FEED_FORMATS, "auto"):
        raise DataImportError(f"Unknown feed format '{fmt}'. Use one of: "
                              + ", ".join((*FEED_FORMATS, "auto")) + ".")
    if per_page < 1 or max_pages < 1:
        raise DataImportError("per_page and max_pages must be at least 1.")
    endpoint = _services_url(url)
    say = progress or (lambda _msg: None)
    folder = Path(checkpoint_dir).expanduser() if checkpoint_dir else (
        default_checkpoint_dir(endpoint))
    ckpt = _Checkpoint(folder, endpoint, per_page)

    owned = store is None
    target = Store.open(database_url) if owned else store   # fails early on a bad URL
    own_client = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=True,
                                  headers={"User-Agent": USER_AGENT,
                                           "Accept": "application/json"})
    try:
        ckpt.folder.mkdir(parents=True, exist_ok=True)
        with ckpt.locked():
            resumed = ckpt.open(resume, checkpoint_max_age)
            if resumed is not None:
                say(f"resuming {endpoint} at page {resumed} (checkpoint {folder})")
            fetcher = _Fetcher(http, timeout=timeout, retries=retries, backoff=backoff,
                               max_backoff=max_backoff, delay=delay, sleep=sleep)
            _fetch_pages(fetcher, ckpt, endpoint, per_page=per_page, max_pages=max_pages,
                         say=say)
            pages = ckpt.pages()
            items = [item for page in pages for item in _page_items(page)]
            if fetch_details is None:
                fetch_details = bool(items) and all(
                    isinstance(i, dict) and not any(k in i for k in NESTED) for i in items)
            if fetch_details:
                items = _full_records(fetcher, ckpt, endpoint, items, say)
            summary = _write(target, items, pages, endpoint=endpoint, fmt=fmt,
                             id_prefix=id_prefix, today=today)
            summary.pages = len(pages)
            summary.requests = fetcher.requests
            summary.retries = fetcher.retried
            summary.resumed_at_page = resumed
            summary.checkpoint = str(folder)
        ckpt.remove()
        return summary
    finally:
        if own_client:
            http.close()
        if owned:
            target.close()


def _write(target: Store, items: list[Any], pages: list[Any], *, endpoint: str, fmt: str,
           id_prefix: str | None, today: dt.date | None) -> SyncSummary:
    """Read the fetched services and write them in ONE transaction."""
    if not items:
        raise DataImportError(
            f"{endpoint} listed no services, so nothing in the directory was changed (a sync "
            "would have marked every service of this feed inactive). Check the feed's "
            "address and its answer.")
    chosen = fmt
    if fmt == "auto":
        chosen = detect_format(items) or (detect_format(pages[0]) if pages else None) or "auto"
    records, report = read_feed(items, fmt=chosen, id_prefix=id_prefix, today=today,
                                source_name=endpoint)
    if report.fatal:
        raise DataImportError(
            f"{endpoint} cannot be synced: " + "; ".join(p.problem for p in report.problems)
            + ". Nothing in the directory was changed.", report=report)
    if not records:
        raise DataImportError(
            f"{endpoint} listed {report.rows_read} service(s) and none could be used, so "
            "nothing in the directory was changed (a sync would have marked every service of "
            "this feed inactive). Check the feed's address and its answer.", report=report)
    prefix = READERS[report.format][1] if id_prefix is None else id_prefix
    present = _feed_ids(items, prefix)
    added, updated, unchanged, withdrawn = target.sync_services(
        records, scope_prefix=prefix, sources={report.format, *(r.source for r in records)},
        present=present)
    return SyncSummary(
        source=endpoint, database=target.url, rows_read=report.rows_read, added=added,
        updated=updated, unchanged=unchanged, rejected=report.rejected,
        problems=[p.to_dict() for p in report.problems],
        warnings=[w.to_dict() for w in report.warnings], report=report,
        format=report.format, withdrawn=withdrawn)


def _feed_ids(items: list[Any], prefix: str) -> set[str]:
    """The stored ids of every service the feed lists, good or rejected: a service the feed
    still lists is never withdrawn, even when this time its record has a problem."""
    out: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            continue
        text = str(item["id"]).strip()
        if prefix and not text.startswith(prefix + ":"):
            text = f"{prefix}:{text}"
        out.add(text)
    return out
