"""A directory feed served on the loopback address for tests: saved Open Referral UK pages
(``tests/data/oruk/pages/page1.json``, ``page2.json``) answered by a thread running
:mod:`http.server`, which records every path asked for.

Used by the API test of ``POST /import/feed`` and by the browser test of the Staff page, so
neither reaches the internet.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGES = Path(__file__).parent / "data" / "oruk" / "pages"

__all__ = ["PAGES", "Feed", "serve_feed"]


@dataclass
class Feed:
    """What the server answers: ``pages[i]`` for ``/api/services?page=i+1`` (page numbers
    rewritten so the last one says it is last), 404 for anything else."""

    pages: Sequence[dict]
    asked: list[str] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        self.asked.append(path + ("?" + "&".join(f"{k}={v[0]}" for k, v in sorted(query.items()))
                                  if query else ""))
        if path.rstrip("/") != "/api/services":
            return 404, b'{"detail": "Not found"}'
        number = int((query.get("page") or ["1"])[0])
        if not 1 <= number <= len(self.pages):
            return 200, json.dumps({"contents": [], "last_page": True}).encode()
        page = {**self.pages[number - 1], "page_number": number,
                "total_pages": len(self.pages), "last_page": number == len(self.pages)}
        return 200, json.dumps(page).encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        status, body = self.server.feed.answer(parts.path, parse_qs(parts.query))
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    feed: Feed


@contextmanager
def serve_feed(*names: str) -> Iterator[Feed]:
    """Serve the saved pages ``names`` (e.g. ``"page1", "page2"``) on a free loopback port;
    the feed's ``url`` is its ``/api/services`` address."""
    pages = [json.loads((PAGES / f"{n}.json").read_text(encoding="utf-8")) for n in names]
    feed = Feed(pages)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.feed = feed
    feed.url = f"http://127.0.0.1:{server.server_address[1]}/api/services"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
