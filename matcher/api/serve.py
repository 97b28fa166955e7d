"""What ``matcher serve``, ``matcher run``, ``matcher users`` and ``matcher plans`` do.

Kept here so :mod:`matcher.cli` stays a thin argument parser.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from matcher.settings import Settings

__all__ = [
    "APP_FACTORY",
    "serve",
    "tcp_listener_fix",
    "proxy_options",
    "ensure_demo_data",
    "users_add",
    "users_list",
    "users_remove",
    "plans_purge",
]

#: The import string uvicorn loads in factory mode.
APP_FACTORY = "matcher.api.app:create_app"


@contextmanager
def tcp_listener_fix() -> Iterator[None]:
    """While active, uvicorn's own listening socket is labelled ``IPPROTO_TCP``.

    With ``--workers N`` uvicorn binds the socket itself with ``proto`` left at 0; accepted
    connections inherit it, and asyncio only switches Nagle's algorithm off (``TCP_NODELAY``)
    when ``proto`` is ``IPPROTO_TCP``. Every keep-alive request after the first then waits
    about 40 ms for the client's delayed ACK (uvicorn issue #3149). One worker is not
    affected. The same descriptor is kept; only its Python label changes.
    """
    from uvicorn.config import Config

    original = Config.bind_socket

    def bind_socket(self: Config) -> socket.socket:
        sock = original(self)
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
            fixed = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP,
                                  fileno=sock.detach())
            fixed.set_inheritable(True)
            return fixed
        return sock

    Config.bind_socket = bind_socket  # type: ignore[method-assign]
    try:
        yield
    finally:
        Config.bind_socket = original  # type: ignore[method-assign]


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          log_level: str = "info", log_format: str = "json",
          worker_start_seconds: int = 60, trusted_proxies: str = "") -> None:
    """Run the API with uvicorn (factory mode: every worker calls ``create_app()``).

    Logs go to stderr in ``log_format`` (``json``: one object a line with the request id;
    ``text``), see :mod:`matcher.api.logs`; our request log replaces uvicorn's access log.

    With several workers, uvicorn's supervisor restarts a worker that does not answer its
    health check within ``worker_start_seconds``. Its own default (5 s) is shorter than a
    worker's start on a busy machine (importing the engine took 12-16 s on the 2-core test
    machine under load), which made it kill every worker before it started, over and over.

    ``trusted_proxies`` (comma-separated addresses or networks, ``*`` for any): connections
    from these have their client address and scheme taken from ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` (uvicorn's proxy headers), so the throttles per client count the
    callers behind a load balancer, not the balancer. Empty: the headers are ignored.
    """
    import uvicorn

    from matcher.api.logs import log_config

    with tcp_listener_fix():
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, log_config=log_config(log_format, log_level),
                    access_log=False, server_header=False,
                    timeout_worker_healthcheck=worker_start_seconds,
                    **proxy_options(trusted_proxies))


def proxy_options(trusted_proxies: str) -> dict[str, object]:
    """uvicorn's proxy-header options for ``trusted_proxies`` (see :func:`serve`).

    >>> proxy_options("")
    {'proxy_headers': False}
    >>> proxy_options("10.0.0.5,10.0.1.0/24")
    {'proxy_headers': True, 'forwarded_allow_ips': ['10.0.0.5', '10.0.1.0/24']}
    """
    trusted = [x.strip() for x in trusted_proxies.split(",") if x.strip()]
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def ensure_demo_data(settings: Settings, out: TextIO | None = None,
                     err: TextIO | None = None) -> bool:
    """If the store is empty, import the demo Local Offer and say what was loaded.

    Returns False (after saying why on ``err``) when the store is empty and the demo file is
    missing or cannot be imported.
    """
    from matcher.errors import DataImportError
    from matcher.ingest import run_import
    from matcher.store import Store

    out, err = out or sys.stdout, err or sys.stderr

    with Store.open(settings.database_url) as store:
        n = store.count_services()
        if n:
            print(f"The directory {store.url} already holds {n} services; serving those.",
                  file=out)
            return True
        demo = settings.demo_data_path
        if not demo.is_file():
            print(f"The directory {store.url} is empty and the demo Local Offer {demo} is "
                  "missing. Import a Local Offer CSV with `matcher import PATH`, or set "
                  "MATCHER_DEMO_DATA to the demo file's path, then run again.", file=err)
            return False
        try:
            summary = run_import(demo, store=store, progress=False)
        except DataImportError as exc:
            print(f"The demo Local Offer {demo} could not be imported: {exc}", file=err)
            return False
        print(f"Loaded the demo Local Offer {demo}: {summary.accepted} services "
              f"({summary.rejected} rows rejected) into {store.url}.", file=out)
        # Fictional comments and demand beside the demo, for the co-production pages.
        extra = demo.parent / "coproduction.yaml"
        if extra.is_file():
            from matcher.coprod.demo import seed_demo_coproduction

            n, cells = seed_demo_coproduction(store.engine, extra)
            print(f"Loaded {n} fictional comments and {cells} demand cells ({extra}).", file=out)
        return True


def users_add(database_url: str, name: str, role: str, out: TextIO | None = None) -> None:
    """Create a user and print their API key (the only time it is shown)."""
    from matcher.store import Store
    from matcher.store.users import add_user

    out = out or sys.stdout

    with Store.open(database_url) as store:
        key = add_user(store.engine, name, role)
    print(f"Created {role} '{name.strip()}'. Their API key (shown once, keep it safe; send it "
          "as the X-API-Key header):", file=out)
    print(key, file=out)


def users_list(database_url: str, out: TextIO | None = None) -> None:
    """Print every user's name, role and creation date (keys are never shown again)."""
    from matcher.store import Store
    from matcher.store.users import list_users

    out = out or sys.stdout

    with Store.open(database_url) as store:
        users = list_users(store.engine)
    if not users:
        print("No users yet. Add one with: matcher users add NAME --role ROLE", file=out)
    for u in users:
        when = u.created_at.date().isoformat() if u.created_at else ""
        print(f"{u.name}\t{u.role}\t{when}", file=out)


def users_remove(database_url: str, name: str) -> bool:
    """Delete a user (their key stops working at once). False when there was none."""
    from matcher.store import Store
    from matcher.store.users import remove_user

    with Store.open(database_url) as store:
        return remove_user(store.engine, name)


def plans_purge(database_url: str) -> int:
    """Delete plans past their retention date; returns how many."""
    from matcher.plans import purge_expired
    from matcher.store import Store

    with Store.open(database_url) as store:
        return purge_expired(store.engine)
