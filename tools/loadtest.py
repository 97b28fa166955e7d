"""Bounded load test of ``POST /match`` over loopback.

Two commands::

    # Against a server you started yourself (127.0.0.1, localhost or ::1 only):
    .venv/bin/python tools/loadtest.py run --url http://127.0.0.1:8000 -n 2000 -c 4

    # Everything: a synthetic directory of --size services, imported into a SQLite file (and
    # into PostgreSQL when --postgres-url or MATCHER_TEST_POSTGRES_URL is set), then for each
    # store `matcher serve --workers N` on a free loopback port, a warm-up, and one measured
    # run per concurrency:
    .venv/bin/python tools/loadtest.py full --size 10000 --workers 2 -c 2,4,8 -n 3000

The synthetic directory is made as ``matcher bench`` makes it (:mod:`matcher.bench`): the demo
Local Offer's rows copied onto other real English postcodes with new ids. The profiles are the
development set's cases (``../shared/eval/dev/cases.jsonl``, when present) interleaved with
``matcher bench``'s varied families living where the directory has services, or a few built-in
ones.

Every run is bounded: ``-n`` requests at most, ``-c`` in flight at once, and ``--time-cap``
seconds; requests go only to a loopback address. Latency is measured by the client, from
sending the request to reading the whole answer, so it includes queueing in the server. The
client runs on the same machine as the server and takes some of its CPU.

Prints a table (or one JSON object with ``--json``): requests, errors, requests per second and
the 50th, 95th and 99th percentile latency, and whether the issue's target is met (p50 at
most 25 ms, at least 100 requests/s, no errors).

PostgreSQL: the ``full`` command works in its own schema, ``matcher_loadtest``, which it drops
and creates again; nothing else in that database is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np

__all__ = [
    "TARGET_P50_MS",
    "TARGET_RPS",
    "LoadResult",
    "LoadTestError",
    "BUILTIN_PROFILES",
    "check_loopback",
    "load_profiles",
    "run_load",
    "make_directory",
    "prepare_directory",
    "engine_baseline",
    "import_directory",
    "postgres_schema_url",
    "Server",
    "serve",
    "warm_up",
    "format_table",
    "main",
]

REPO = Path(__file__).resolve().parents[1]
CASES = REPO.parent / "shared" / "eval" / "dev" / "cases.jsonl"
#: The issue's target for /match at 10,000 services with 2 workers.
TARGET_P50_MS = 25.0
TARGET_RPS = 100.0
#: Upper bounds, so a typo cannot turn this into a flood.
MAX_REQUESTS = 200_000
MAX_CONCURRENCY = 64
MAX_TIME_CAP_S = 3_600.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PG_SCHEMA = "matcher_loadtest"

#: Families used when neither the development cases nor a directory are at hand.
BUILTIN_PROFILES: tuple[dict[str, Any], ...] = (
    {"age": 9, "needs": ["autism"], "postcode": "N7 8JN", "limit": 10},
    {"age": 4, "needs": ["speech delay"], "postcode": "E5 9DQ",
     "travel": {"mode": "walk", "max_minutes": 20}, "transition": "early_years_to_primary"},
    {"age": 15, "needs": ["ADHD", "anxiety"], "about": "not going to school most days",
     "postcode": "N1 1AA", "has_ehcp": True},
    {"age": 19, "needs": ["learning disability"], "transition": "preparing_for_adulthood",
     "about": "wants to travel to college on his own", "postcode": "N19 5NF"},
    {"age": 7, "needs": ["hearing loss"], "preferences": {"free_only": True}},
    {"age": 12, "needs": ["dyslexia", "dyspraxia"], "postcode": "N4 2DP",
     "travel": {"mode": "public_transport", "max_minutes": 45}},
    {"age": 2, "needs": ["global developmental delay"], "postcode": "E8 2LL",
     "preferences": {"language": "Turkish"}},
    {"age": 10, "about": "we need a break, I am exhausted",
     "preferences": {"categories": ["short_breaks"]}},
)


class LoadTestError(Exception):
    """Something about the request to load-test is wrong; the message says how to fix it."""


@dataclass
class LoadResult:
    """The figures of one measured run (times in milliseconds)."""

    label: str
    url: str
    concurrency: int
    requests: int                    # completed, successful or not
    ok: int
    errors: int
    elapsed_s: float
    rps: float                       # successful answers per second of wall time
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    statuses: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    stopped_by: str = "requests"     # "requests" or "time cap"
    keep_alive: bool = True          # False: a new connection for every request
    load_before: float | None = None  # 1-minute load average before and after the run
    load_after: float | None = None
    server_cpu_ms: float | None = None  # CPU time of the server's processes per request

    @property
    def meets_target(self) -> bool:
        """p50 at most 25 ms, at least 100 answers a second, and no errors."""
        return (self.errors == 0 and self.p50_ms is not None and self.p50_ms <= TARGET_P50_MS
                and self.rps >= TARGET_RPS)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "meets_target": self.meets_target}


# --------------------------------------------------------------------------- profiles
def load_profiles(cases: Path | None = CASES, records: Sequence[Any] | None = None,
                  n_generated: int = 200, seed: int = 0) -> list[dict[str, Any]]:
    """Profiles to send: the dev cases (if the file exists) interleaved with ``n_generated``
    families made by :func:`matcher.bench.bench_profiles` for ``records`` (if given), else
    :data:`BUILTIN_PROFILES`."""
    from_cases: list[dict[str, Any]] = []
    if cases is not None and Path(cases).is_file():
        with Path(cases).open(encoding="utf-8") as f:
            from_cases = [json.loads(line)["profile"] for line in f if line.strip()]
    generated: list[dict[str, Any]] = []
    if records:
        from matcher.bench import bench_profiles

        generated = bench_profiles(records, n_generated, np.random.default_rng([seed, 7]))
    if not from_cases and not generated:
        return [dict(p) for p in BUILTIN_PROFILES]
    mixed: list[dict[str, Any]] = []
    for a, b in itertools.zip_longest(from_cases, generated):
        mixed.extend(p for p in (a, b) if p is not None)
    return mixed


# --------------------------------------------------------------------------- the load
def check_loopback(url: str) -> str:
    """The URL without a trailing slash; refuses anything but http on a loopback address."""
    parts = urlsplit(url)
    if parts.scheme != "http" or (parts.hostname or "") not in LOOPBACK_HOSTS:
        raise LoadTestError(
            f"{url!r} is not a loopback address. This tool only loads a server on this "
            "machine: use http://127.0.0.1:PORT (or localhost, or [::1]).")
    return url.rstrip("/")


def _bounded(requests: int, concurrency: int, time_cap: float) -> None:
    if not 1 <= requests <= MAX_REQUESTS:
        raise LoadTestError(f"-n must be between 1 and {MAX_REQUESTS:,} requests.")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise LoadTestError(f"-c must be between 1 and {MAX_CONCURRENCY} requests in flight.")
    if not 0 < time_cap <= MAX_TIME_CAP_S:
        raise LoadTestError(f"--time-cap must be more than 0 and at most {MAX_TIME_CAP_S:.0f} s.")


def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values.size else None


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # pragma: no cover - not on every platform
        return None


def run_load(url: str, profiles: Sequence[dict[str, Any]], *, requests: int = 1000,
             concurrency: int = 4, time_cap: float = 60.0, label: str = "",
             path: str = "/match", keep_alive: bool = True) -> LoadResult:
    """POST the profiles in turn to ``url + path``: at most ``requests`` of them, ``concurrency``
    in flight, stopping early after ``time_cap`` seconds. A non-200 answer or a failed request
    is an error; latency percentiles are over the successful answers.

    With ``keep_alive`` each of the ``concurrency`` connections is reused, so it stays with the
    worker that accepted it; without, every request opens a new connection (as a reverse proxy
    without upstream keep-alive does) and any idle worker may take it."""
    base = check_loopback(url)
    _bounded(requests, concurrency, time_cap)
    if not profiles:
        raise LoadTestError("There are no profiles to send.")
    bodies = [json.dumps(p).encode("utf-8") for p in profiles]
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    samples: list[str] = []
    capped = threading.Event()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Content-Type": "application/json"}
    if not keep_alive:
        headers["Connection"] = "close"
    load_before = _loadavg()

    with httpx.Client(base_url=base, limits=limits, timeout=30.0, trust_env=False) as client:
        started = time.perf_counter()
        deadline = started + time_cap

        def worker() -> None:
            while True:
                i = next(counter)
                if i >= requests:
                    return
                if time.perf_counter() >= deadline:
                    capped.set()
                    return
                t0 = time.perf_counter()
                try:
                    r = client.post(path, content=bodies[i % len(bodies)], headers=headers)
                    r.read()
                    ms = (time.perf_counter() - t0) * 1000
                    key, problem = str(r.status_code), (None if r.status_code == 200
                                                        else f"{r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    ms, key, problem = None, type(exc).__name__, f"{type(exc).__name__}: {exc}"
                with lock:
                    statuses[key] += 1
                    if problem is None and ms is not None:
                        latencies.append(ms)
                    elif len(samples) < 5:
                        samples.append(problem or key)

        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="load") as pool:
            for f in [pool.submit(worker) for _ in range(concurrency)]:
                f.result()
        elapsed = time.perf_counter() - started

    lat = np.asarray(latencies, dtype=float)
    done = sum(statuses.values())
    return LoadResult(
        label=label, url=base + path, concurrency=concurrency, requests=done, ok=len(latencies),
        errors=done - len(latencies), elapsed_s=round(elapsed, 3),
        rps=round(len(latencies) / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=_pct(lat, 50), p95_ms=_pct(lat, 95), p99_ms=_pct(lat, 99),
        mean_ms=round(float(lat.mean()), 2) if lat.size else None,
        max_ms=round(float(lat.max()), 2) if lat.size else None,
        statuses=dict(sorted(statuses.items())), error_samples=samples,
        stopped_by="time cap" if capped.is_set() else "requests",
        keep_alive=keep_alive, load_before=load_before, load_after=_loadavg(),
    )


def warm_up(url: str, profiles: Sequence[dict[str, Any]], *, concurrency: int = 4,
            timeout: float = 180.0) -> float:
    """Send requests until every worker has built its matcher: the last 3 rounds of
    ``4 * concurrency`` requests, each on a new connection (so every worker gets some), all
    answered 200 in under a second each. Returns the seconds it took; raises
    :class:`LoadTestError` when the server is not warm by ``timeout``."""
    started = time.monotonic()
    good_rounds = 0
    last: LoadResult | None = None
    while time.monotonic() - started < timeout:
        last = run_load(url, profiles, requests=4 * concurrency, concurrency=concurrency,
                        time_cap=max(1.0, timeout - (time.monotonic() - started)), label="warm-up",
                        keep_alive=False)
        good = last.errors == 0 and last.max_ms is not None and last.max_ms < 1000
        good_rounds = good_rounds + 1 if good else 0
        if good_rounds >= 3:
            return round(time.monotonic() - started, 1)
    detail = last.error_samples[:1] if last else []
    raise LoadTestError(f"The server at {url} was not warm after {timeout:.0f} s "
                        f"(last round: {detail or 'slow answers'}). Look at its log.")


# --------------------------------------------------------------------------- the directory
def make_directory(size: int, seed: int = 0, source: Path | None = None) -> list[Any]:
    """``size`` synthetic services (see :func:`matcher.bench.synthetic_directory`)."""
    from matcher.bench import load_base_records, synthetic_directory
    from matcher.geo.postcodes import get_postcode_index

    base, _path = load_base_records(source)
    return synthetic_directory(base, size, get_postcode_index(), np.random.default_rng([seed, size]))


def engine_baseline(records: Sequence[Any], profiles: Sequence[dict[str, Any]],
                    n: int = 200) -> dict[str, Any]:
    """The engine alone, in this process: build a matcher on ``records`` and time one
    ``match`` per profile (up to ``n``, after 5 warm-up matches), as the route calls it.
    Set against the server's CPU per request, it shows what the HTTP layer adds."""
    from matcher.api.schemas import MatchRequest
    from matcher.engine.pipeline import Matcher
    from matcher.services import records_to_frame

    t0 = time.perf_counter()
    matcher = Matcher.from_frame(records_to_frame(list(records)))
    build_s = time.perf_counter() - t0
    bodies = [MatchRequest.model_validate(p) for p in profiles[:n]]
    for body in bodies[:5]:
        matcher.match(body, explain=body.explain)
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        matcher.match(body, explain=body.explain)
        times.append((time.perf_counter() - t0) * 1000)
    lat = np.asarray(times)
    return {"build_s": round(build_s, 2), "matches": len(times), "p50_ms": _pct(lat, 50),
            "p95_ms": _pct(lat, 95), "mean_ms": round(float(lat.mean()), 2)}


def import_directory(database_url: str, records: Sequence[Any]) -> dict[str, Any]:
    """Replace the store's services with ``records`` (one transaction); counts and seconds."""
    from matcher.store import Store

    t0 = time.perf_counter()
    with Store.open(database_url) as store:
        added, updated, unchanged = store.upsert_services(records, replace_all=True)
        total = store.count_services()
    return {"added": added, "updated": updated, "unchanged": unchanged, "services": total,
            "seconds": round(time.perf_counter() - t0, 2)}


def prepare_directory(database_url: str, models_dir: Path) -> float:
    """Do once what a server's first start does for a new directory (every record's words
    read and stored, the text index fitted and saved under ``models_dir``), as the server
    does it: ``python -m matcher.api.prepare``. Then the server's start is an ordinary one,
    and with several workers they do not all do it at once. Returns the seconds it took."""
    from matcher.settings import Settings

    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, "-m", "matcher.api.prepare", "--database-url", database_url,
         "--models-dir", str(models_dir), "--vocabulary", str(Settings().vocabulary_path),
         "--nice", "0"], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LoadTestError(f"preparing the directory failed: {done.stderr[-1500:]}")
    return round(time.perf_counter() - t0, 2)


def postgres_schema_url(url: str, schema: str = PG_SCHEMA, *, fresh: bool = True) -> str:
    """``url`` with its ``search_path`` set to ``schema``, created (dropped first if ``fresh``)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            if fresh:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    finally:
        admin.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}) \
        .render_as_string(hide_password=False)


def _drop_schema(url: str, schema: str = PG_SCHEMA) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _process_tree_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of ``pid``'s child processes (the workers) and itself, from
    Linux's /proc; ``None`` elsewhere."""
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").is_file():
        return None
    stats: dict[int, list[str]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
    tree, frontier = {pid}, {pid}
    while frontier:
        frontier = {p for p, f in stats.items() if int(f[1]) in frontier} - tree
        tree |= frontier
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A running ``matcher serve``: its base URL and process id."""

    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """CPU seconds used so far by the server and its workers (Linux only)."""
        return _process_tree_cpu_s(self.pid)


@contextlib.contextmanager
def serve(database_url: str, data_dir: Path, workers: int = 2,
          startup_timeout: float = 60.0) -> Iterator[Server]:
    """Run ``matcher serve --workers N`` on a free 127.0.0.1 port against ``database_url``;
    yields the :class:`Server` and stops it (SIGINT, then kill) on exit."""
    port = _free_port()
    log_path = data_dir / f"serve-{port}.log"
    env = {**os.environ, "MATCHER_DATABASE_URL": database_url, "MATCHER_DATA_DIR": str(data_dir),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", str(workers), "--log-level", "warning"],
            cwd=data_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                raise LoadTestError(f"matcher serve stopped at start (exit {proc.returncode}): "
                                    f"{log_path.read_text(encoding='utf-8')[-1500:]}")
            try:
                if httpx.get(url + "/health", timeout=5, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise LoadTestError(f"matcher serve did not answer /health within "
                                    f"{startup_timeout:.0f} s; see {log_path}.")
            time.sleep(0.3)
        yield Server(url, proc.pid)
    finally:
        proc.send_signal(2)  # SIGINT: uvicorn stops its workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- output
def format_table(results: Sequence[LoadResult]) -> str:
    """One line per run."""
    head = (f"{'run':<22} {'conn':<4} {'conc':>4} {'requests':>8} {'errors':>6} {'req/s':>7} "
            f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cpu ms':>6} {'load':>9}  "
            "target")

    def ms(v: float | None) -> str:
        return f"{v:>7.1f}" if v is not None else f"{'-':>7}"

    lines = [head]
    for r in results:
        cpu = f"{r.server_cpu_ms:.1f}" if r.server_cpu_ms is not None else "-"
        load = (f"{r.load_before:.1f}/{r.load_after:.1f}"
                if r.load_before is not None and r.load_after is not None else "-")
        lines.append(f"{r.label[:22]:<22} {'keep' if r.keep_alive else 'new':<4} "
                     f"{r.concurrency:>4d} {r.requests:>8d} {r.errors:>6d} "
                     f"{r.rps:>7.1f} {ms(r.p50_ms)} {ms(r.p95_ms)} {ms(r.p99_ms)} {ms(r.max_ms)} "
                     f"{cpu:>6} {load:>9}  {'met' if r.meets_target else 'missed'}")
    lines.append(f"target: p50 <= {TARGET_P50_MS:.0f} ms, >= {TARGET_RPS:.0f} req/s, no errors. "
                 "conn: keep = one kept-alive connection per request in flight (each stays with "
                 "one worker), new = a new connection per request. Latency measured by the "
                 "client (includes queueing); client and server share this machine's "
                 f"{os.cpu_count()} CPU(s); cpu ms: CPU time the server's processes spent per "
                 "request; load: 1-minute load average before/after the run.")
    return "\n".join(lines)


def _modes(text: str) -> list[bool]:
    """``keep``, ``new`` or ``both`` -> the keep_alive values to run."""
    return {"keep": [True], "new": [False], "both": [True, False]}[text]


def _concurrencies(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of whole numbers; write e.g. 4 or 1,2,4,8") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one concurrency, e.g. 4")
    return values


# --------------------------------------------------------------------------- commands
def _cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    profiles = load_profiles(Path(args.cases) if args.cases else CASES)
    url = check_loopback(args.url)
    results = []
    if args.warm_up:
        warm_up(url, profiles, concurrency=max(args.concurrency))
    for keep in _modes(args.connections):
        for c in args.concurrency:
            results.append(run_load(url, profiles, requests=args.requests, concurrency=c,
                                    time_cap=args.time_cap, label="server", keep_alive=keep))
    return {"profiles": len(profiles), "results": results}


def _cmd_full(args: argparse.Namespace) -> dict[str, Any]:
    say = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgres"}
    if unknown:
        raise LoadTestError(f"--stores takes sqlite and/or postgres, not {', '.join(unknown)}.")
    pg_url = args.postgres_url or os.environ.get("MATCHER_TEST_POSTGRES_URL", "").strip()
    if "postgres" in stores and not pg_url:
        say("no PostgreSQL URL (--postgres-url or MATCHER_TEST_POSTGRES_URL): SQLite only")
        stores.remove("postgres")
    say(f"making a synthetic directory of {args.size:,} services")
    t0 = time.perf_counter()
    records = make_directory(args.size, args.seed)
    made_s = round(time.perf_counter() - t0, 2)
    profiles = load_profiles(Path(args.cases) if args.cases else CASES, records,
                             seed=args.seed)
    work = Path(tempfile.mkdtemp(prefix="matcher-loadtest-"))
    summary: dict[str, Any] = {"size": args.size, "workers": args.workers, "seed": args.seed,
                               "profiles": len(profiles), "make_directory_s": made_s,
                               "engine": None, "stores": {}, "results": []}
    if not args.no_engine_baseline:
        say("timing the engine alone in this process")
        summary["engine"] = engine_baseline(records, profiles)
    try:
        for kind in stores:
            data_dir = work / kind
            data_dir.mkdir()
            url = (f"sqlite:///{data_dir / 'matcher.sqlite'}" if kind == "sqlite"
                   else postgres_schema_url(pg_url))
            say(f"{kind}: importing {len(records):,} services")
            info = import_directory(url, records)
            if not args.no_prepare:
                say(f"{kind}: preparing the directory once (records' readings, text index)")
                info["prepare_s"] = prepare_directory(url, data_dir / "models")
            with serve(url, data_dir, args.workers) as server:
                base = server.url
                say(f"{kind}: serving on {base} with {args.workers} workers; warming up")
                info["warm_up_s"] = warm_up(base, profiles, concurrency=max(args.concurrency),
                                            timeout=args.warm_up_timeout)
                for keep in _modes(args.connections):
                    for c in args.concurrency:
                        say(f"{kind}: {args.requests} requests, {c} in flight, "
                            f"{'kept-alive' if keep else 'new'} connections")
                        cpu0 = server.cpu_seconds()
                        result = run_load(
                            base, profiles, requests=args.requests, concurrency=c,
                            time_cap=args.time_cap, keep_alive=keep,
                            label=f"{kind} {args.size:,} x{args.workers}w")
                        cpu1 = server.cpu_seconds()
                        if cpu0 is not None and cpu1 is not None and result.requests:
                            result.server_cpu_ms = round((cpu1 - cpu0) * 1000 / result.requests, 2)
                        summary["results"].append(result)
                        say(format_table([result]).splitlines()[1])
            summary["stores"][kind] = info
            if kind == "postgres" and not args.keep:
                _drop_schema(pg_url)
    finally:
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tools/loadtest.py", description="Bounded load test of POST /match on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-n", "--requests", type=int, default=2000,
                       help="requests per measured run (default 2000)")
        p.add_argument("-c", "--concurrency", type=_concurrencies, default=[4],
                       help="requests in flight; a comma list makes one run each (default 4)")
        p.add_argument("--time-cap", type=float, default=60.0,
                       help="stop a run after this many seconds (default 60)")
        p.add_argument("--connections", choices=("keep", "new", "both"), default="both",
                       help="keep: one kept-alive connection per request in flight; new: a new "
                            "connection for every request; both (default)")
        p.add_argument("--cases", help=f"JSON-lines cases with a 'profile' each (default {CASES})")
        p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("run", help="load a server that is already running")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the server (loopback only)")
    p.add_argument("--warm-up", action="store_true", help="warm every worker up first")
    common(p)
    p = sub.add_parser("full", help="make a directory, import it, serve it, load it")
    p.add_argument("--size", type=int, default=10_000, help="services (default 10000)")
    p.add_argument("--workers", type=int, default=2, help="API worker processes (default 2)")
    p.add_argument("--stores", default="sqlite,postgres",
                   help="which stores: sqlite, postgres or both (default both; postgres only "
                        "when a URL is given)")
    p.add_argument("--postgres-url", help="PostgreSQL URL (default MATCHER_TEST_POSTGRES_URL); "
                                          f"the schema {PG_SCHEMA} in it is replaced")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder and schema")
    p.add_argument("--no-prepare", action="store_true",
                   help="let the server prepare the new directory itself at its first start "
                        "(each worker does it) instead of once before it starts")
    p.add_argument("--warm-up-timeout", type=float, default=600.0,
                   help="seconds the server may take to become warm (default 600)")
    p.add_argument("--no-engine-baseline", action="store_true",
                   help="skip timing the engine alone in this process first")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    common(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0 when every run met the target, 1 when one missed, 2 on error."""
    args = build_parser().parse_args(argv)
    try:
        for c in args.concurrency:
            _bounded(args.requests, c, args.time_cap)
        if args.command == "full" and not 1 <= args.size <= 1_000_000:
            raise LoadTestError("--size must be between 1 and 1,000,000 services.")
        if args.command == "full" and not 1 <= args.workers <= 16:
            raise LoadTestError("--workers must be between 1 and 16.")
        out = _cmd_run(args) if args.command == "run" else _cmd_full(args)
    except LoadTestError as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    results: list[LoadResult] = out["results"]
    if args.json:
        print(json.dumps({**out, "target": {"p50_ms": TARGET_P50_MS, "rps": TARGET_RPS},
                          "cpus": os.cpu_count(),
                          "results": [r.to_dict() for r in results]}, indent=2))
    else:
        engine = out.get("engine")
        if engine:
            print(f"engine alone (in process, {engine['matches']} matches): p50 "
                  f"{engine['p50_ms']} ms, p95 {engine['p95_ms']} ms, mean {engine['mean_ms']} ms")
        print(format_table(results))
        for r in results:
            for s in r.error_samples:
                print(f"  error in '{r.label}' (c={r.concurrency}): {s}")
    return 0 if all(r.meets_target for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
