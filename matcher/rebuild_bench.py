"""``matcher bench rebuild``: matching while the directory is re-imported; a server's start.

A synthetic directory (:func:`matcher.bench.synthetic_directory`: rows of a real-shaped Local
Offer copied onto random real English postcodes) is imported into a new SQLite store in a
temporary folder. A real API server (uvicorn, one worker, in a **child process**) is started
three times and timed until its matcher is built (from the process start until a
``POST /match`` is answered 200; before that it answers 503 at once), and its resident set
read then:

* on the empty store: the process **base** (interpreter, libraries, gazetteer);
* on the imported directory for the first time: every record's words are read and stored,
  and the text index fitted and saved (in the server's child process, as for a large
  directory);
* again (**ready** time and memory of an ordinary start): nothing is read again; for a
  directory of ``ApiConfig.prepare_apart_from`` services or more the server maps the
  prepared index written by the first start (:mod:`matcher.engine.snapshot`);
* a second server beside it on the same store (as a second worker): its ready time, and
  the PSS and USS of both (mapped pages are shared, so PSS splits them between the two).

Then ``--clients`` threads send ``POST /match`` back to back (varied families,
:func:`matcher.bench.bench_profiles`) over keep-alive connections:

* for ``--baseline-seconds`` with nothing else happening (the reference latencies);
* during each of ``--imports`` imports of ``--changed`` changed rows (a few words added to
  each description), written into the store by a separate process, as a nightly ``matcher import``
  would. The server notices the new version within its ``refresh_seconds`` (5), builds the
  new matcher in the background and swaps it in. A request counts as "during the import" from
  the moment the import starts until ``--settle-seconds`` after the first answer computed on
  the new data.

With ``--prepare-at-import`` each import is followed by writing its prepared index in a
separate process, as ``matcher import`` does for a large directory; without it the server
prepares it (in its child process). Memory is read as RSS, PSS and USS from ``/proc``.

Reported: p50, p99 and maximum latency with and without an import, the ratio of the p99s,
how long each import took to reach the answers, and the server's resident set
(``VmRSS`` of ``/proc/<pid>/status``) once ready and after each import (after the swap and
the settle time, with the clients stopped), so that growth across imports shows.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.errors import MatcherError

__all__ = ["RebuildBenchReport", "run_rebuild_bench", "add_bench_rebuild_parser"]

_MIB = 1024 * 1024


@dataclass
class RebuildBenchReport:
    """Everything ``matcher bench rebuild`` prints (seconds, milliseconds and MiB)."""

    services: int
    changed: int
    clients: int
    imports: int
    ready_s: float
    rss_ready_mib: float
    base_rss_mib: float = 0.0
    first_ready_s: float = 0.0
    first_rss_ready_mib: float = 0.0
    baseline: dict[str, float] = field(default_factory=dict)
    during: dict[str, float] = field(default_factory=dict)
    import_write_s: list[float] = field(default_factory=list)
    import_to_answers_s: list[float] = field(default_factory=list)
    rss_after_import_mib: list[float] = field(default_factory=list)
    errors: int = 0
    cpus: int = 0
    #: Seconds from the process start until the server on the empty store answered.
    base_ready_s: float = 0.0
    #: Proportional and unique set sizes (MiB; see :func:`_memory_mib`): mapped file pages
    #: are shared between processes, so PSS and USS say what one more worker costs.
    base_pss_mib: float = 0.0
    base_uss_mib: float = 0.0
    pss_ready_mib: float = 0.0
    uss_ready_mib: float = 0.0
    pss_after_import_mib: list[float] = field(default_factory=list)
    #: True: each import is followed by writing its prepared index in a separate process,
    #: as ``matcher import`` does; False: the server prepares it.
    prepare_at_import: bool = False
    prepare_at_import_s: list[float] = field(default_factory=list)
    #: A second server started beside the first on the same store and folder (as a second
    #: worker): its ready time, and both servers' PSS and USS then (MiB).
    second_ready_s: float = 0.0
    pair_pss_mib: list[float] = field(default_factory=list)
    pair_uss_mib: list[float] = field(default_factory=list)
    #: RSS and PSS after the clients' run without an import (more of the mapped pages touched).
    rss_after_baseline_mib: float = 0.0
    pss_after_baseline_mib: float = 0.0
    #: Anonymous memory (heap, stacks: not file pages) on the empty store, once ready and
    #: after the clients' run (MiB).
    base_anon_mib: float = 0.0
    anon_ready_mib: float = 0.0
    anon_after_baseline_mib: float = 0.0

    @property
    def p99_ratio(self) -> float:
        if not self.during:
            return float("nan")
        return self.during["p99_ms"] / max(self.baseline["p99_ms"], 1e-9)

    @property
    def rss_growth_pct(self) -> float:
        if not self.rss_after_import_mib:
            return float("nan")
        first, last = self.rss_after_import_mib[0], self.rss_after_import_mib[-1]
        return 100.0 * (last - first) / first

    @property
    def bytes_per_service(self) -> float:
        return (self.rss_ready_mib - self.base_rss_mib) * _MIB / self.services

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["p99_ratio"] = round(self.p99_ratio, 2)
        out["rss_growth_pct_first_to_last_import"] = round(self.rss_growth_pct, 2)
        out["above_base_mib"] = round(self.rss_ready_mib - self.base_rss_mib, 1)
        out["bytes_per_service"] = round(self.bytes_per_service)
        return out

    def format_text(self) -> str:
        b, d = self.baseline, self.during
        rss = ", ".join(f"{x:.0f}" for x in self.rss_after_import_mib)
        lines = [
            f"matcher bench rebuild: {self.services:,} services, {self.clients} clients, "
            f"{self.imports} imports of {self.changed:,} changed rows ({self.cpus} CPUs)",
            f"server on an empty directory: ready {self.base_ready_s:.1f} s, RSS "
            f"{self.base_rss_mib:.0f} MiB, PSS {self.base_pss_mib:.0f} MiB, USS "
            f"{self.base_uss_mib:.0f} MiB (the base)",
            f"first start (every record's words read and stored): ready {self.first_ready_s:.1f} "
            f"s, RSS {self.first_rss_ready_mib:.0f} MiB",
            f"next start (readings stored): ready {self.ready_s:.1f} s, RSS "
            f"{self.rss_ready_mib:.0f} MiB = base + {self.rss_ready_mib - self.base_rss_mib:.0f}"
            f" MiB ({self.bytes_per_service / 1024:.1f} KiB per service); PSS "
            f"{self.pss_ready_mib:.0f} MiB = base + {self.pss_ready_mib - self.base_pss_mib:.0f}"
            f" MiB; USS {self.uss_ready_mib:.0f} MiB = base + "
            f"{self.uss_ready_mib - self.base_uss_mib:.0f} MiB",
            f"a second server beside it (another worker): ready {self.second_ready_s:.1f} s; "
            f"PSS of the two {' + '.join(f'{x:.0f}' for x in self.pair_pss_mib)} MiB, USS "
            f"{' + '.join(f'{x:.0f}' for x in self.pair_uss_mib)} MiB",
            f"{'':18} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}",
            f"{'without import':18} {b['requests']:>9.0f} {b['p50_ms']:>8.1f} "
            f"{b['p99_ms']:>8.1f} {b['max_ms']:>8.1f}",
            f"after it: RSS {self.rss_after_baseline_mib:.0f} MiB, PSS "
            f"{self.pss_after_baseline_mib:.0f} MiB; anonymous (heap, not file pages): base "
            f"{self.base_anon_mib:.0f}, ready {self.anon_ready_mib:.0f}, after "
            f"{self.anon_after_baseline_mib:.0f} MiB",
        ]
        if d:
            lines += [
                f"{'during imports':18} {d['requests']:>9.0f} {d['p50_ms']:>8.1f} "
                f"{d['p99_ms']:>8.1f} {d['max_ms']:>8.1f}",
                f"p99 during / without: {self.p99_ratio:.2f}x",
                "import written (s): " + ", ".join(f"{x:.1f}" for x in self.import_write_s),
                "import start to answers on the new data (s): "
                + ", ".join(f"{x:.1f}" for x in self.import_to_answers_s),
                f"server RSS after each import (MiB): {rss}; last vs first: "
                f"{self.rss_growth_pct:+.1f}%",
                "server PSS after each import (MiB): "
                + ", ".join(f"{x:.0f}" for x in self.pss_after_import_mib),
            ]
            if self.prepare_at_import:
                lines.append("prepared index written after each import (s, separate "
                             "process): " + ", ".join(f"{x:.1f}" for x in
                                                      self.prepare_at_import_s))
        lines.append(f"failed requests: {self.errors}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- the server
def _serve_child(argv: list[str]) -> None:  # pragma: no cover - runs in the child process
    """Entry point of the server process: ``port database_url data_dir``."""
    import uvicorn

    from matcher.api.app import create_app
    from matcher.api.deps import ApiConfig
    from matcher.settings import load_settings

    port, url, data_dir = int(argv[0]), argv[1], Path(argv[2])
    settings = load_settings(database_url=url, data_dir=data_dir)
    app = create_app(settings, ApiConfig(start_wait_seconds=0))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise MatcherError("no VmRSS line in /proc; this benchmark needs Linux")


def _memory_mib(pid: int) -> dict[str, float]:
    """Resident (RSS), proportional (PSS: each shared page divided among the processes
    mapping it) and unique (USS: private pages only) set sizes of ``pid``, in MiB, from
    ``/proc/<pid>/smaps_rollup`` (zeros for PSS and USS where the kernel has none)."""
    out = {"rss": _rss_mib(pid), "pss": 0.0, "uss": 0.0, "anon": 0.0}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return out
    fields = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    out["pss"] = fields.get("Pss", 0.0)
    out["uss"] = fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0)
    # The process's own heap and stacks (not file pages, which the page cache can share and
    # drop).
    out["anon"] = fields.get("Anonymous", 0.0)
    return out


_WRITER: dict[str, Any] = {}


def _writer_init(url: str, services: int, seed: int, source: str | None) -> None:
    """The import process's start: the same synthetic directory as the benchmark's."""
    from matcher.bench import load_base_records, synthetic_directory
    from matcher.geo.postcodes import get_postcode_index
    from matcher.store import Store

    rng = np.random.default_rng([seed, services])
    base, _ = load_base_records(source)
    _WRITER["records"] = synthetic_directory(base, services, get_postcode_index(), rng)
    _WRITER["store"] = Store.open(url)


def _writer_import(k: int, changed: int) -> tuple[float, str]:
    """Import ``k``: the first ``changed`` rows with a few words added; returns the seconds
    the write took and the directory's new fingerprint."""
    store = _WRITER["store"]
    new = [dataclasses.replace(r, description=f"{r.description} Updated {k}.")
           if i < changed else r for i, r in enumerate(_WRITER["records"])]
    started = time.perf_counter()
    store.upsert_services(new)
    return time.perf_counter() - started, store.data_version()


def _writer_ready() -> bool:
    return "store" in _WRITER


def _start_writer(url: str, services: int, seed: int, source: str | Path | None):
    """A separate process that writes the imports, as a nightly ``matcher import`` runs apart
    from the server and from the clients (in the clients' process, its interpreter lock
    would delay their requests and inflate the latencies measured)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    executor = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_writer_init,
                                   initargs=(url, services, seed,
                                             None if source is None else str(source)))
    executor.submit(_writer_ready).result()   # started and ready before any timing
    return executor


def _prepare_apart(url: str, data_dir: str) -> float:
    """Write the store's prepared index in a separate process at a lower CPU priority, as
    ``matcher import`` does after an import; returns the seconds taken."""
    from matcher.settings import load_settings

    vocab = load_settings(database_url=url, data_dir=Path(data_dir)).vocabulary_path
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "matcher.api.prepare", "--database-url", url,
                    "--models-dir", str(Path(data_dir) / "models"), "--vocabulary", str(vocab),
                    "--nice", "10"], env=env, cwd=data_dir, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _post(conn: http.client.HTTPConnection, body: bytes) -> tuple[int, dict[str, Any]]:
    conn.request("POST", "/match", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, (json.loads(data) if data else {})


# --------------------------------------------------------------------------- the clients
@dataclass
class _Sample:
    started: float
    ms: float
    status: int
    version: str


class _Clients:
    """``n`` threads posting matches back to back until stopped; every answer is kept."""

    def __init__(self, port: int, bodies: list[bytes], n: int):
        self.port, self.bodies, self.n = port, bodies, n
        self.samples: list[_Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _run(self, k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        i = k
        mine: list[_Sample] = []
        while not self._stop.is_set():
            body = self.bodies[i % len(self.bodies)]
            i += self.n
            t0 = time.perf_counter()
            try:
                status, data = _post(conn, body)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                status, data = 0, {}
            mine.append(_Sample(t0, (time.perf_counter() - t0) * 1000, status,
                                str(data.get("data_version", ""))))
        conn.close()
        with self._lock:
            self.samples.extend(mine)

    def __enter__(self) -> _Clients:
        self._threads = [threading.Thread(target=self._run, args=(k,), daemon=True)
                         for k in range(self.n)]
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=300)


def _stats(samples: list[_Sample]) -> dict[str, float]:
    ms = np.array([s.ms for s in samples if s.status == 200], dtype=float)
    if not len(ms):
        raise MatcherError("no request was answered; see the server's messages above")
    return {"requests": float(len(ms)), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1)}


def run_rebuild_bench(services: int = 10_000, changed: int = 10_000, clients: int = 20,
                      imports: int = 5, *, baseline_seconds: float = 20.0,
                      settle_seconds: float = 3.0, seed: int = 0,
                      source: str | Path | None = None, prepare_at_import: bool = False,
                      progress: Callable[[str], None] | None = None) -> RebuildBenchReport:
    """Run the benchmark (see the module's description) and return its figures."""
    from matcher.bench import bench_profiles, load_base_records, synthetic_directory
    from matcher.geo.postcodes import get_postcode_index
    from matcher.store import Store

    if not 1 <= changed <= services:
        raise ValueError("changed must be between 1 and the number of services")
    if clients < 1 or imports < 0:
        raise ValueError("clients must be at least 1 and imports at least 0")
    if not Path("/proc/self/status").is_file():
        raise MatcherError("matcher bench rebuild reads the server's memory from /proc: "
                           "run it on Linux.")
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng([seed, services])
    base, _ = load_base_records(source)
    records = synthetic_directory(base, services, get_postcode_index(), rng)
    bodies = [json.dumps(p).encode() for p in bench_profiles(records, 200, rng)]

    with tempfile.TemporaryDirectory(prefix="matcher-rebuild-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = Store.open(url)
        port = _free_port()
        say("starting the server on the empty directory")
        server, base_ready_s = _start_server(port, url, tmp, bodies[0], empty=True)
        base_mem = _memory_mib(server.pid)
        base_rss = base_mem["rss"]
        _stop(server)
        say(f"importing {services:,} services")
        store.upsert_services(records)
        say("first start: every record's words are read (and stored)")
        server, first_ready_s = _start_server(port, url, tmp, bodies[0])
        first_rss = _rss_mib(server.pid)
        _stop(server)
        say(f"first start ready after {first_ready_s:.1f} s; starting again")
        server, ready_s = _start_server(port, url, tmp, bodies[0])
        try:
            ready_mem = _memory_mib(server.pid)
            rss_ready = ready_mem["rss"]
            say("a second server beside it, on the same store")
            second, second_ready_s = _start_server(_free_port(), url, tmp, bodies[0])
            try:
                pair = [_memory_mib(server.pid), _memory_mib(second.pid)]
            finally:
                _stop(second)
            say(f"ready after {ready_s:.1f} s; {clients} clients for {baseline_seconds:.0f} s "
                "without an import")
            with _Clients(port, bodies, clients) as load:
                time.sleep(baseline_seconds)
            baseline = _stats(load.samples)
            after_baseline = _memory_mib(server.pid)
            errors = sum(s.status != 200 for s in load.samples)
            report = RebuildBenchReport(services=services, changed=changed, clients=clients,
                                        imports=imports, ready_s=round(ready_s, 2),
                                        rss_ready_mib=round(rss_ready, 1), baseline=baseline,
                                        cpus=os.cpu_count() or 0,
                                        base_rss_mib=round(base_rss, 1),
                                        first_ready_s=round(first_ready_s, 2),
                                        first_rss_ready_mib=round(first_rss, 1),
                                        base_ready_s=round(base_ready_s, 2),
                                        base_pss_mib=round(base_mem["pss"], 1),
                                        base_uss_mib=round(base_mem["uss"], 1),
                                        pss_ready_mib=round(ready_mem["pss"], 1),
                                        uss_ready_mib=round(ready_mem["uss"], 1),
                                        prepare_at_import=prepare_at_import,
                                        second_ready_s=round(second_ready_s, 2),
                                        pair_pss_mib=[round(m["pss"], 1) for m in pair],
                                        pair_uss_mib=[round(m["uss"], 1) for m in pair],
                                        rss_after_baseline_mib=round(after_baseline["rss"], 1),
                                        pss_after_baseline_mib=round(after_baseline["pss"], 1),
                                        base_anon_mib=round(base_mem["anon"], 1),
                                        anon_ready_mib=round(ready_mem["anon"], 1),
                                        anon_after_baseline_mib=round(after_baseline["anon"],
                                                                      1))
            during: list[_Sample] = []
            writer = _start_writer(url, services, seed, source) if imports else None
            for k in range(1, imports + 1):
                say(f"import {k} of {imports}: {changed:,} changed rows, {clients} clients")
                with _Clients(port, bodies, clients) as load:
                    time.sleep(1.0)
                    t0 = time.perf_counter()
                    assert writer is not None
                    write_s, version = writer.submit(_writer_import, k, changed).result()
                    report.import_write_s.append(round(write_s, 2))
                    if prepare_at_import:
                        report.prepare_at_import_s.append(round(_prepare_apart(url, tmp), 2))
                    seen_at = _wait_for_version(load, version, t0, server)
                    time.sleep(settle_seconds)
                window_end = seen_at + settle_seconds
                during += [s for s in load.samples if t0 <= s.started <= window_end]
                errors += sum(s.status != 200 for s in load.samples)
                report.import_to_answers_s.append(round(seen_at - t0, 2))
                time.sleep(settle_seconds)
                mem = _memory_mib(server.pid)
                report.rss_after_import_mib.append(round(mem["rss"], 1))
                report.pss_after_import_mib.append(round(mem["pss"], 1))
            if writer is not None:
                writer.shutdown()
            if during:
                report.during = _stats(during)
            report.errors = errors
        finally:
            _stop(server)
            store.close()
    return report


def _start_server(port: int, url: str, data_dir: str, body: bytes,
                  empty: bool = False) -> tuple[subprocess.Popen, float]:
    """Start the API server in a child process; wait until its matcher is built (a match is
    answered 200, or 503 "empty" for an empty directory). Returns it and the seconds taken."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", "import sys; from matcher.rebuild_bench import _serve_child; "
                               "_serve_child(sys.argv[1:])", str(port), url, data_dir],
        env=env, cwd=data_dir)
    try:
        return server, _wait_ready(port, body, started, server, empty=empty)
    except BaseException:
        _stop(server)
        raise


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_ready(port: int, body: bytes, started: float, server: subprocess.Popen,
                empty: bool = False) -> float:
    """Seconds from ``started`` until the server answers a match with 200 (with the 503 of
    an empty directory when ``empty``)."""
    from matcher.api.deps import EMPTY_DIRECTORY

    deadline = started + 3600
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise MatcherError(f"the server stopped (exit code {server.returncode}) before "
                               "it was ready; see its messages above")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                status, data = _post(conn, body)
            finally:
                conn.close()
            if status == 200 or (empty and data.get("detail") == EMPTY_DIRECTORY):
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise MatcherError("the server was not ready within an hour")


def _wait_for_version(load: _Clients, version: str, since: float,
                      server: subprocess.Popen) -> float:
    """When the first answer computed on ``version`` started (the clients keep running)."""
    deadline = since + 1800
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise MatcherError(f"the server stopped (exit code {server.returncode})")
        # Each client keeps its own samples until it stops; look at a probe instead.
        conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=120)
        try:
            t = time.perf_counter()
            status, data = _post(conn, load.bodies[0])
        except (OSError, http.client.HTTPException):
            status, data = 0, {}
        finally:
            conn.close()
        if status == 200 and data.get("data_version") == version:
            return t
        time.sleep(0.1)
    raise MatcherError("the server did not take up the import within 30 minutes")


# --------------------------------------------------------------------------- command line
def cmd_bench_rebuild(args: argparse.Namespace) -> int:
    def say(msg: str) -> None:
        if not args.json:
            print(f"[bench rebuild] {msg}", file=sys.stderr, flush=True)

    try:
        report = run_rebuild_bench(args.services, args.changed, args.clients, args.imports,
                                   baseline_seconds=args.baseline_seconds,
                                   settle_seconds=args.settle_seconds, seed=args.seed,
                                   source=args.source,
                                   prepare_at_import=args.prepare_at_import, progress=say)
    except (MatcherError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format_text())
    return 0


def add_bench_rebuild_parser(sub: argparse._SubParsersAction, name: str = "bench-rebuild"
                             ) -> argparse.ArgumentParser:
    """Add the rebuild benchmark (``bench-rebuild``, or ``rebuild`` under ``bench``)."""
    p = sub.add_parser(name, help="match with many clients while the directory is re-imported",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("--services", type=int, default=10_000,
                   help="services in the directory (default 10000)")
    p.add_argument("--changed", type=int, default=10_000,
                   help="rows changed by each import (default 10000)")
    p.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    p.add_argument("--imports", type=int, default=5,
                   help="imports in a row (default 5; 0: time the starts and the matching only)")
    p.add_argument("--baseline-seconds", type=float, default=20.0,
                   help="seconds of matching without an import (default 20)")
    p.add_argument("--settle-seconds", type=float, default=3.0,
                   help="seconds kept after the new data is answered (default 3)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--source", default=None,
                   help="services CSV whose rows are copied (default: the demo Local Offer)")
    p.add_argument("--prepare-at-import", action="store_true",
                   help="after each import, write its prepared index in a separate process "
                        "as `matcher import` does for a large directory (default: the server "
                        "prepares it)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_bench_rebuild)
    return p
