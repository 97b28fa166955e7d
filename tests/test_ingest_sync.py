"""``matcher sync``: a live feed kept in step with the store, against a real HTTP server on
127.0.0.1 (a thread running :mod:`http.server`) that pages, fails for a while, answers 429 with
Retry-After, times out and sends malformed pages, as scripted by each test. Never the internet.

Every feed here is written by hand in this file: Open Referral UK 3.0 pages, ORUK version 1
(Open Place) plain lists and Spring pages. Waits go through an injected ``sleep`` that records
them, so the tests take no real backoff time.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from matcher.cli import main
from matcher.errors import DataImportError
from matcher.ingest.sync import default_checkpoint_dir, sync_feed
from matcher.services import ServiceRecord
from matcher.store import Store

TODAY = dt.date(2026, 1, 1)


# --------------------------------------------------------------------------- hand-written feeds
def oruk3_service(n: int, name: str | None = None, **extra: Any) -> dict[str, Any]:
    """A small Open Referral UK 3.0 service (nested fields present, so no detail fetches)."""
    return {
        "id": f"svc-{n}", "name": name or f"Saturday club {n}",
        "description": "A weekly club for autistic children and their brothers and sisters.",
        "status": "active", "minimum_age": 5, "maximum_age": 16,
        "organization": {"id": "org-1", "name": "Riverside Trust"},
        "service_at_locations": [], "schedules": [], **extra,
    }


def oruk1_service(n: int) -> dict[str, Any]:
    """A small ORUK version 1 (Open Place) list record: one-to-one fields only."""
    return {
        "id": f"0000000{n}-aaaa-4000-8000-000000000000", "name": f"Sensory play {n}",
        "description": "<p>Play sessions for children with sensory needs.</p>",
        "status": "active", "attending_type": "Venue",
        "pc_targetAudience": [{"id": "7", "audienceType": "Autism"}],
        "organization": {"id": "op-1", "name": "Open Place Org"},
    }


# --------------------------------------------------------------------------- the fake server
Action = tuple[Any, ...]


class FakeFeed:
    """A scripted ``/api/services`` endpoint.

    ``style``: ``oruk3`` (``contents``/``total_pages``/``page_number``/``last_page``),
    ``list`` (a plain JSON list per page), ``list-no-paging`` (the same list whatever ``page``
    says), ``spring`` (``content``/``totalPages``/``number``/``last``, pages counted from 0).
    ``script[page]``: actions played, one per request, before the page is served normally:
    ``("status", code, headers)``, ``("sleep", seconds)``, ``("body", bytes)``. ``broken``:
    from this page on, every request answers 503 (until set back to ``None``).
    """

    def __init__(self, services: list[dict[str, Any]], *, style: str = "oruk3", size: int = 2):
        self.services = services
        self.style = style
        self.size = size
        self.script: dict[int, list[Action]] = {}
        self.broken: int | None = None
        self.always: dict[int, Action] = {}
        self.hits: Counter[int] = Counter()          # requests per page number
        self.detail_hits: Counter[str] = Counter()
        self.lock = threading.Lock()

    # the pages the feed would send
    def total_pages(self) -> int:
        return max(1, -(-len(self.services) // self.size))

    def page(self, number: int) -> Any:
        if self.style == "list-no-paging":
            return self.services
        index = number if self.style == "spring" else number - 1   # 0-based position
        chunk = self.services[index * self.size:(index + 1) * self.size] if index >= 0 else []
        total = self.total_pages()
        if self.style == "list":
            return chunk
        if self.style == "spring":
            return {"content": chunk, "totalElements": len(self.services), "totalPages": total,
                    "number": number, "size": self.size, "first": number == 0,
                    "last": number >= total - 1}
        return {"total_items": len(self.services), "total_pages": total, "page_number": number,
                "size": self.size, "first_page": number == 1, "last_page": number >= total,
                "empty": not chunk, "contents": chunk}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        if path.startswith("/api/services/"):
            wanted = path.rsplit("/", 1)[1]
            with self.lock:
                self.detail_hits[wanted] += 1
            found = next((s for s in self.services if s.get("id") == wanted), None)
            if found is None:
                return 404, {}, b'{"detail": "Not Found"}'
            full = {**found, "service_at_locations": []}
            return 200, {}, json.dumps(full).encode()
        if path != "/api/services":
            return 404, {}, b'{"detail": "Not Found"}'
        number = int(query.get("page", ["1"])[0])
        with self.lock:
            self.hits[number] += 1
            queued = self.script.get(number)
            action = queued.pop(0) if queued else self.always.get(number)
            if action is None and self.broken is not None and number >= self.broken:
                action = ("status", 503, {})
        if action is not None:
            kind = action[0]
            if kind == "status":
                return action[1], dict(action[2]), b'{"error": "try later"}'
            if kind == "body":
                return 200, {}, action[1]
            if kind == "sleep":
                time.sleep(action[1])
        return 200, {}, json.dumps(self.page(number)).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        status, headers, body = self.server.feed.answer(parts.path, parse_qs(parts.query))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the client gave up (a time-out)
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    feed: FakeFeed

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[FakeFeed], str]]:
    """Start a fake feed on a free port; returns its ``/api/services`` address."""
    servers: list[tuple[_Server, threading.Thread]] = []

    def start(feed: FakeFeed) -> str:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.feed = feed
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/api/services"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Sleeps(list):
    """An injected ``sleep``: records each wait, never waits; may raise after some calls."""

    def __init__(self, interrupt_at: int | None = None):
        super().__init__()
        self.interrupt_at = interrupt_at

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.interrupt_at is not None and len(self) >= self.interrupt_at:
            raise KeyboardInterrupt


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'directory.sqlite'}"


@pytest.fixture
def ckpt(tmp_path: Path) -> Path:
    return tmp_path / "checkpoint"


def _sync(url: str, db_url: str, ckpt: Path, **kwargs: Any):
    options: dict[str, Any] = {"database_url": db_url, "checkpoint_dir": ckpt, "today": TODAY,
                               "sleep": Sleeps(), "delay": 0.0, "timeout": 2.0}
    options.update(kwargs)
    return sync_feed(url, **options)


def _snapshot(db_url: str) -> tuple[list[ServiceRecord], str]:
    with Store.open(db_url) as store:
        return store.list_services(), store.data_version()


# --------------------------------------------------------------------------- a normal sync
def test_full_sync_imports_every_record_and_removes_the_checkpoint(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 6)])
    url = serve(feed)
    sleeps = Sleeps()
    summary = _sync(url, db_url, ckpt, delay=0.25, sleep=sleeps)
    assert (summary.added, summary.updated, summary.unchanged, summary.withdrawn,
            summary.rejected) == (5, 0, 0, 0, 0)
    assert (summary.pages, summary.requests, summary.retries) == (3, 3, 0)
    assert summary.format == "oruk" and summary.resumed_at_page is None
    assert feed.hits == {1: 1, 2: 1, 3: 1}          # stopped at last_page, no extra request
    assert sleeps == [0.25, 0.25]                    # politeness between requests only
    assert not ckpt.exists()                         # removed once the store is written
    with Store.open(db_url) as store:
        records = store.list_services()
    assert [r.id for r in records] == [f"oruk:svc-{n}" for n in range(1, 6)]
    assert {r.status for r in records} == {"active"} and {r.source for r in records} == {"oruk"}
    out = summary.to_dict()
    assert out["synced"] is True and out["withdrawn"] == 0 and out["pages"] == 3
    assert "withdrawn (kept as inactive)" in summary.format_text()


def test_resync_updates_withdraws_as_inactive_and_reactivates(serve, db_url, ckpt):
    services = [oruk3_service(n) for n in range(1, 6)]
    feed = FakeFeed(services)
    url = serve(feed)
    with Store.open(db_url) as store:             # another source's service: never touched
        store.upsert_services([ServiceRecord(id="csv:1", name="Library", description="Books",
                                             categories=["leisure"])])
    _sync(url, db_url, ckpt)
    _, before = _snapshot(db_url)

    feed.services = [oruk3_service(1), oruk3_service(2, name="Saturday club two (renamed)"),
                     oruk3_service(4), oruk3_service(5)]           # 3 withdrawn
    summary = _sync(url, db_url, ckpt)
    assert (summary.added, summary.updated, summary.unchanged, summary.withdrawn) == (0, 1, 3, 1)
    records, after = _snapshot(db_url)
    by_id = {r.id: r for r in records}
    assert after != before
    assert by_id["oruk:svc-2"].name == "Saturday club two (renamed)"
    assert by_id["oruk:svc-3"].status == "inactive"                 # kept, not deleted
    assert by_id["oruk:svc-3"].name == "Saturday club 3"
    assert by_id["csv:1"].status == "active"
    assert len(records) == 6

    again = _sync(url, db_url, ckpt)                # nothing new: idempotent
    assert (again.updated, again.unchanged, again.withdrawn) == (0, 4, 0)

    feed.services = [*feed.services, oruk3_service(3)]               # 3 is back
    summary = _sync(url, db_url, ckpt)
    assert (summary.added, summary.updated, summary.withdrawn) == (0, 1, 0)
    with Store.open(db_url) as store:
        assert store.get_service("oruk:svc-3").status == "active"


def test_a_listed_service_with_a_problem_is_not_withdrawn(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(1), oruk3_service(2)])
    url = serve(feed)
    _sync(url, db_url, ckpt)
    feed.services = [oruk3_service(1), {**oruk3_service(2), "name": ""}]   # no name: rejected
    summary = _sync(url, db_url, ckpt)
    assert (summary.rejected, summary.withdrawn, summary.unchanged) == (1, 0, 1)
    with Store.open(db_url) as store:
        kept = store.get_service("oruk:svc-2")
    assert (kept.status, kept.name) == ("active", "Saturday club 2")      # as it was


def test_only_this_feeds_prefix_is_withdrawn(serve, db_url, ckpt, tmp_path):
    a, b = FakeFeed([oruk3_service(1), oruk3_service(2)]), FakeFeed([oruk3_service(7)])
    url_a, url_b = serve(a), serve(b)
    _sync(url_a, db_url, ckpt, id_prefix="north")
    _sync(url_b, db_url, tmp_path / "other", id_prefix="south")
    a.services = [oruk3_service(1)]
    summary = _sync(url_a, db_url, ckpt, id_prefix="north")
    assert summary.withdrawn == 1
    with Store.open(db_url) as store:
        status = {r.id: r.status for r in store.list_services()}
    assert status == {"north:svc-1": "active", "north:svc-2": "inactive",
                      "south:svc-7": "active"}


# --------------------------------------------------------------------------- failures retried
def test_503_for_a_while_is_retried_with_exponential_backoff(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 4)])
    feed.script[1] = [("status", 503, {}), ("status", 502, {}), ("status", 500, {})]
    url = serve(feed)
    sleeps = Sleeps()
    summary = _sync(url, db_url, ckpt, backoff=1.0, sleep=sleeps)
    assert summary.added == 3 and summary.retries == 3
    assert feed.hits[1] == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_429_retry_after_is_honoured_and_capped(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 4)])
    feed.script[1] = [("status", 429, {"Retry-After": "7"})]
    feed.script[2] = [("status", 503, {"Retry-After": "3600"})]
    url = serve(feed)
    sleeps = Sleeps()
    summary = _sync(url, db_url, ckpt, backoff=0.5, max_backoff=20.0, delay=0.1, sleep=sleeps)
    assert summary.added == 3 and summary.retries == 2
    assert sleeps == [7.0, 0.1, 20.0]       # Retry-After; politeness; Retry-After capped


def test_a_time_out_is_retried(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 4)])
    feed.script[2] = [("sleep", 0.6)]
    url = serve(feed)
    summary = _sync(url, db_url, ckpt, timeout=0.2)
    assert summary.added == 3 and summary.retries == 1 and feed.hits[2] == 2


def test_a_malformed_page_once_is_retried(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 6)])
    feed.script[2] = [("body", b'{"total_pages": 3, "contents": [{"id": "svc-3", "na')]
    url = serve(feed)
    summary = _sync(url, db_url, ckpt)
    assert summary.added == 5 and summary.retries == 1 and feed.hits[2] == 2


@pytest.mark.parametrize(("body", "said"), [
    (b'{"total_pages": 3, "contents": [{"id": "svc-3", "na', "not valid JSON"),
    (b'{"error": "database is down"}', "no list of services"),
    (b'{"contents": "none today"}', "'contents' is a JSON string"),
    (b'"maintenance"', "a JSON string, not a page of services"),
])
def test_a_page_that_stays_malformed_fails_cleanly(serve, db_url, ckpt, body, said):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 6)])
    url = serve(feed)
    _sync(url, db_url, ckpt)
    before = _snapshot(db_url)
    feed.services = [oruk3_service(n, name=f"Changed {n}") for n in range(1, 6)]
    feed.always[2] = ("body", body)
    with pytest.raises(DataImportError) as caught:
        _sync(url, db_url, ckpt, retries=2)
    message = str(caught.value)
    assert "page 2" in message and said in message and "after 3 tries" in message
    assert "Nothing in the directory was changed" in message
    assert _snapshot(db_url) == before                       # store untouched
    state = json.loads((ckpt / "state.json").read_text())
    assert state["next_index"] == 2 and (ckpt / "page-000001.json").is_file()   # kept


def test_other_client_errors_are_not_retried(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(1)])
    feed.script[1] = [("status", 403, {})]
    url = serve(feed)
    with pytest.raises(DataImportError, match="answered 403 Forbidden for page 1"):
        _sync(url, db_url, ckpt)
    assert feed.hits[1] == 1
    with pytest.raises(DataImportError, match="is not a web address"):
        _sync("feed.example/api", db_url, ckpt)


def test_an_empty_feed_changes_nothing(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(1), oruk3_service(2)])
    url = serve(feed)
    _sync(url, db_url, ckpt)
    before = _snapshot(db_url)
    feed.services = []
    with pytest.raises(DataImportError, match="listed no services"):
        _sync(url, db_url, ckpt)
    assert _snapshot(db_url) == before


# --------------------------------------------------------------------------- interrupted, resumed
def test_interruption_half_way_leaves_the_store_unchanged_and_resume_fetches_the_rest(
        serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 9)])      # 4 pages of 2
    url = serve(feed)
    _sync(url, db_url, ckpt)
    before = _snapshot(db_url)
    feed.services = [oruk3_service(n, name=f"New name {n}") for n in range(1, 8)]   # 8 gone
    feed.hits.clear()

    # The politeness wait before page 3 is where Ctrl+C lands.
    with pytest.raises(KeyboardInterrupt):
        _sync(url, db_url, ckpt, delay=0.5, sleep=Sleeps(interrupt_at=2))
    assert feed.hits == {1: 1, 2: 1}
    assert _snapshot(db_url) == before                   # byte for byte as it was
    state = json.loads((ckpt / "state.json").read_text())
    assert state["next_index"] == 3 and not state["done"]

    summary = _sync(url, db_url, ckpt)
    assert summary.resumed_at_page == 3
    assert feed.hits == {1: 1, 2: 1, 3: 1, 4: 1}         # pages 1 and 2 not fetched again
    assert (summary.pages, summary.requests) == (4, 2)
    assert (summary.updated, summary.withdrawn, summary.rows_read) == (7, 1, 7)
    records, _ = _snapshot(db_url)
    assert {r.id: (r.name, r.status) for r in records}["oruk:svc-8"] == (
        "Saturday club 8", "inactive")
    assert not ckpt.exists()


def test_a_server_failing_from_page_3_then_recovering(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 9)])
    url = serve(feed)
    _sync(url, db_url, ckpt)
    before = _snapshot(db_url)
    feed.services = [oruk3_service(n, name=f"New name {n}") for n in range(1, 9)]
    feed.broken = 3
    feed.hits.clear()
    with pytest.raises(DataImportError, match=r"page 3 .* after 3 tries: the server answered "
                                              r"503 Service Unavailable"):
        _sync(url, db_url, ckpt, retries=2)
    assert feed.hits == {1: 1, 2: 1, 3: 3}
    assert _snapshot(db_url) == before

    feed.broken = None
    summary = _sync(url, db_url, ckpt)
    assert summary.resumed_at_page == 3 and summary.updated == 8
    assert feed.hits == {1: 1, 2: 1, 3: 4, 4: 1}


def test_a_store_failure_keeps_the_fetched_pages(serve, db_url, ckpt, monkeypatch):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 4)])
    url = serve(feed)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise DataImportError("the database is locked")

    monkeypatch.setattr(Store, "sync_services", broken)
    with pytest.raises(DataImportError, match="locked"):
        _sync(url, db_url, ckpt)
    monkeypatch.undo()
    assert _snapshot(db_url) == ([], "empty")
    summary = _sync(url, db_url, ckpt)            # every page is in: no request at all
    assert (summary.added, summary.requests, summary.resumed_at_page) == (3, 0, 3)
    assert feed.hits == {1: 1, 2: 1}


def test_restart_and_stale_or_different_checkpoints_start_again(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 7)])
    url = serve(feed)
    with pytest.raises(KeyboardInterrupt):
        _sync(url, db_url, ckpt, delay=0.5, sleep=Sleeps(interrupt_at=1))
    summary = _sync(url, db_url, ckpt, resume=False)
    assert summary.resumed_at_page is None and feed.hits[1] == 2

    for changed in ({"checkpoint_max_age": 0.0}, {"per_page": 50}):
        with pytest.raises(KeyboardInterrupt):
            _sync(url, db_url, ckpt, delay=0.5, sleep=Sleeps(interrupt_at=1))
        time.sleep(0.01)
        assert _sync(url, db_url, ckpt, **changed).resumed_at_page is None


def test_default_checkpoint_folder_is_in_the_cache(matcher_cache_dir):
    folder = default_checkpoint_dir("https://feed.example/api")
    assert folder.parent == matcher_cache_dir / "sync"
    assert folder == default_checkpoint_dir("https://feed.example/api/services")
    assert folder != default_checkpoint_dir("https://other.example/api/services")


# --------------------------------------------------------------------------- ORUK v1 shapes
def test_oruk1_plain_list_pages_and_full_records(serve, db_url, ckpt):
    feed = FakeFeed([oruk1_service(n) for n in range(1, 6)], style="list")
    url = serve(feed)
    summary = _sync(url, db_url, ckpt)
    assert (summary.format, summary.added, summary.pages) == ("oruk1", 5, 3)
    assert feed.hits == {1: 1, 2: 1, 3: 1, 4: 1}          # page 4 is empty: the end
    assert sum(feed.detail_hits.values()) == 5            # summary records fetched in full
    with Store.open(db_url) as store:
        records = store.list_services()
    assert {r.source for r in records} == {"oruk1"}
    assert all(r.needs == ["autism"] for r in records)


def test_a_list_endpoint_that_ignores_page_stops(serve, db_url, ckpt):
    feed = FakeFeed([oruk1_service(n) for n in range(1, 4)], style="list-no-paging")
    url = serve(feed)
    summary = _sync(url, db_url, ckpt, fetch_details=False, max_pages=50)
    assert (summary.added, summary.pages) == (3, 1)
    assert feed.hits == {1: 1, 2: 1}


def test_spring_pages_counted_from_zero(serve, db_url, ckpt):
    feed = FakeFeed([oruk1_service(n) for n in range(1, 6)], style="spring")
    url = serve(feed)
    summary = _sync(url, db_url, ckpt, fetch_details=False)
    assert (summary.added, summary.pages) == (5, 3)
    assert feed.hits == {0: 1, 1: 2, 2: 1}    # page=1 answered as the 2nd: restart from 0


def test_too_many_pages_fails_without_writing(serve, db_url, ckpt):
    feed = FakeFeed([oruk3_service(n) for n in range(1, 9)])
    url = serve(feed)
    with pytest.raises(DataImportError, match="more than 2 pages"):
        _sync(url, db_url, ckpt, max_pages=2)
    assert _snapshot(db_url) == ([], "empty")


# --------------------------------------------------------------------------- the store method
def test_store_sync_services_needs_a_scope(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        with pytest.raises(ValueError, match="needs a scope"):
            store.sync_services([], scope_prefix=None)
        one = ServiceRecord(id="x:1", name="A", description="a", categories=["leisure"],
                            source="oruk")
        assert store.sync_services([one], scope_prefix="x") == (1, 0, 0, 0)
        store.upsert_services([ServiceRecord(id="x:2", name="B", description="b",
                                             categories=["leisure"], source="outpost")])
        # Scoped by source too: x:2 came from another format, so it stays active.
        assert store.sync_services([], scope_prefix="x", sources=["oruk"]) == (0, 0, 0, 1)
        assert [(r.id, r.status) for r in store.list_services()] == [
            ("x:1", "inactive"), ("x:2", "active")]


# --------------------------------------------------------------------------- the CLI
def test_cli_sync_exit_codes_and_json(serve, db_url, ckpt, capsys, monkeypatch):
    feed = FakeFeed([oruk3_service(1), oruk3_service(2)])
    url = serve(feed)
    base = ["sync", url, "--database-url", db_url, "--checkpoint-dir", str(ckpt),
            "--delay", "0"]
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["synced"], out["added"], out["withdrawn"], out["format"]) == (
        True, 2, 0, "oruk")

    feed.services = [oruk3_service(1), {**oruk3_service(3), "name": ""}]
    assert main(base) == 1                       # a record rejected: the good ones synced
    captured = capsys.readouterr()
    assert "1 withdrawn (kept as inactive), 1 rejected" in captured.out
    assert "page 1: 2 service(s)" in captured.err          # progress on stderr

    assert main(["sync", url.replace("/api/services", "/nowhere"), "--database-url", db_url,
                 "--checkpoint-dir", str(ckpt), "--json", "--restart"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["synced"] is False and "answered 404 Not Found" in out["error"]

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("matcher.ingest.sync.sync_feed", interrupted)
    assert main(base) == 2
    assert "Interrupted. Nothing in the directory was changed" in capsys.readouterr().err
