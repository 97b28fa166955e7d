"""Scaling out: separate ``matcher serve`` processes over one PostgreSQL database, and the
metrics of several workers added up.

The PostgreSQL test is skipped unless MATCHER_TEST_POSTGRES_URL is set
(``eval "$(.ci/postgres)"``). Each server runs as a machine of its own would: its own data,
cache and models folders, one shared database.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pg_support import needs_postgres, temp_schema
from serve_support import (
    ServerProcess,
    ask_on_new_connection,
    cli,
    machine_env,
    running_server,
    wait_until_ready,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"
#: How often each server checks the directory's version counter in these tests (seconds).
REFRESH_SECONDS = 2.0
#: What a server may take to build its matcher after it has seen a new version. The demo's
#: few hundred services build in well under a second on an idle machine; the allowance is for
#: a shared CI machine under load.
BUILD_SECONDS = 60.0
#: So a change written to the database must reach a server's /match answers within the
#: interval of its version check plus one build.
CHANGE_BOUND = REFRESH_SECONDS + BUILD_SECONDS
PROFILE = {"age": 9, "needs": ["autism"], "postcode": "N7 8JN", "limit": 10}
NEW_ID = "ISL-TWO-SERVERS-1"

linux_proc = pytest.mark.skipif(not Path("/proc/net/tcp").is_file(),
                                reason="telling worker processes apart reads Linux's /proc")


# --------------------------------------------------------------------------- helpers
@dataclass
class Seen:
    """One /match answer seen by the background clients."""

    server: str
    at: float
    status: int
    data_version: str | None = None
    ids: list[str] = field(default_factory=list)
    problem: str = ""


class MatchClients:
    """One client per server sending the same /match over and over until stopped, keeping
    every answer: to check that no request fails while the directory changes under them."""

    def __init__(self, servers: list[ServerProcess]):
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(s,), daemon=True)
                         for s in servers]

    def __enter__(self) -> MatchClients:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=90)

    def _loop(self, server: ServerProcess) -> None:
        with httpx.Client(base_url=server.url, timeout=60, trust_env=False) as client:
            while not self._stop.is_set():
                try:
                    r = client.post("/match", json=PROFILE)
                    body = r.json() if r.headers.get("content-type", "").startswith(
                        "application/json") else {}
                    seen = Seen(server.name, time.monotonic(), r.status_code,
                                body.get("data_version"),
                                [x["service_id"] for x in body.get("results", [])],
                                "" if r.status_code == 200 else r.text[:300])
                except httpx.HTTPError as exc:
                    seen = Seen(server.name, time.monotonic(), 0, problem=repr(exc))
                with self._lock:
                    self.seen.append(seen)
                time.sleep(0.05)

    def answers(self, server: str, since: float = float("-inf")) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.server == server and s.at >= since]

    def wait_for(self, server: str, since: float, test, bound: float) -> float:
        """Seconds from ``since`` until ``server`` first gave an answer ``test`` accepts;
        fails the test when none came within ``bound`` seconds."""
        deadline = since + bound
        while time.monotonic() < deadline:
            for s in self.answers(server, since):
                if test(s):
                    return s.at - since
            time.sleep(0.1)
        raise AssertionError(f"server {server} did not serve the change within {bound:.0f} s "
                             f"(its version check every {REFRESH_SECONDS:.0f} s plus one build)")


def _demo_row(service_id: str) -> tuple[list[str], list[str]]:
    """The demo CSV's header and the row of ``service_id``."""
    lines = [line for line in DEMO.read_text(encoding="utf-8").splitlines(keepends=True)
             if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("".join(lines))))
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("id")] == service_id:
            return header, row
    raise AssertionError(f"{service_id} is not in {DEMO}")


def _csv(header: list[str], *rows: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _no_traceback(*servers: ServerProcess) -> None:
    for s in servers:
        assert "Traceback" not in s.log(), f"{s.name}'s log: {s.log()[-3000:]}"


# --------------------------------------------------------------------------- two servers
@pytest.mark.slow
@needs_postgres
def test_two_server_processes_share_one_postgres(tmp_path: Path) -> None:
    """Two `matcher serve` processes (as on two machines) over one PostgreSQL database: a key
    made through one works on the other, a plan saved through one is read and changed through
    the other, and an import through one and a deletion by a third process reach both servers'
    /match answers within the version check interval plus one build, with no request failing
    meanwhile."""
    from matcher.store import Store

    with temp_schema() as url, ExitStack() as stack:
        homes = {name: tmp_path / name for name in ("a", "b")}
        envs = {name: machine_env(url, home, MATCHER_REFRESH_SECONDS=str(REFRESH_SECONDS))
                for name, home in homes.items()}
        # An operator loads the directory and makes the first admin with the command line.
        cli(envs["a"], "import", str(DEMO), cwd=homes["a"])
        out = cli(envs["a"], "users", "add", "ada", "--role", "admin", cwd=homes["a"])
        admin = {"X-API-Key": out.strip().splitlines()[-1]}
        # Both servers start together and must both become ready.
        a, b = (stack.enter_context(running_server(name.upper(), envs[name], homes[name],
                                                   wait=None)) for name in ("a", "b"))
        for server in (a, b):
            wait_until_ready(server)
        ca = stack.enter_context(httpx.Client(base_url=a.url, timeout=120, trust_env=False))
        cb = stack.enter_context(httpx.Client(base_url=b.url, timeout=120, trust_env=False))

        # A key made through A's admin route works on B at once.
        r = ca.post("/admin/users", json={"name": "kim", "role": "key_worker"}, headers=admin)
        assert r.status_code == 201, r.text
        kim = {"X-API-Key": r.json()["api_key"]}
        # A plan saved through A is read, changed and listed through B, and the change is read
        # back through A.
        plan = {"label": "KW-2026-7", "profile": {"age": 9, "needs": ["autism"]},
                "next_steps": [{"action": "Call the SENCO", "due": "2030-10-01"}]}
        r = ca.post("/plans", json=plan, headers=kim)
        assert r.status_code == 201, r.text
        saved = r.json()
        assert cb.get(f"/plans/{saved['id']}", headers=kim).json() == saved
        assert [p["id"] for p in cb.get("/plans", headers=kim).json()["plans"]] == [saved["id"]]
        changed = dict(plan, label="KW-2026-8")
        r = cb.put(f"/plans/{saved['id']}", json=changed, headers=kim)
        assert r.status_code == 200 and r.json()["label"] == "KW-2026-8"
        assert ca.get(f"/plans/{saved['id']}", headers=kim).json() == r.json()

        # Both serve the same directory to begin with.
        first = cb.post("/match", json=PROFILE).json()
        assert ca.post("/match", json=PROFILE).json()["data_version"] == first["data_version"]
        top = first["results"][0]["service_id"]
        assert NEW_ID not in [x["service_id"] for x in first["results"]]
        header, row = _demo_row(top)
        copy = list(row)
        copy[header.index("id")] = NEW_ID
        copy[header.index("name")] = row[header.index("name")] + " (second site)"

        before = ca.get("/services").json()["total"]
        with MatchClients([a, b]) as clients:
            # An import through A: A answers once its own new matcher is in use; B serves it
            # within the bound.
            started = time.monotonic()
            r = ca.post("/import", headers=admin,
                        files={"file": ("new.csv", _csv(header, copy), "text/csv")})
            assert r.status_code == 200, r.text
            assert (r.json()["added"], r.json()["services"]) == (1, before + 1)
            imported = r.json()["data_version"]
            answer = ca.post("/match", json=PROFILE).json()
            assert answer["data_version"] == imported
            assert NEW_ID in [x["service_id"] for x in answer["results"]]
            clients.wait_for("B", started, lambda s: NEW_ID in s.ids, CHANGE_BOUND)

            # A deletion written by another process (a nightly job, a third machine): the
            # service copied above goes; it reaches both servers within the bound.
            started = time.monotonic()
            with Store.open(url) as store:
                kept = [rec for rec in store.list_services() if rec.id != top]
                assert len(kept) == before
                store.upsert_services(kept, replace_all=True)
                deleted = store.data_version()
            assert deleted not in (imported, first["data_version"])
            for name in ("A", "B"):
                clients.wait_for(name, started, lambda s: s.data_version == deleted,
                                 CHANGE_BOUND)
            time.sleep(1.0)   # a few more answers from both after the change

        # No request failed while the directory changed, on either server, and each served
        # one version after another: never an older one again once it had served a newer.
        order = [first["data_version"], imported, deleted]
        for name in ("A", "B"):
            seen = clients.answers(name)
            assert len(seen) > 10, f"only {len(seen)} answers from {name}"
            failed = [s for s in seen if s.status != 200]
            assert not failed, f"{name}: {len(failed)} failed, e.g. {failed[0]}"
            versions = [order.index(s.data_version) for s in seen]
            assert versions == sorted(versions), f"{name} went back to an older directory"
            assert versions[-1] == 2
            for s in seen:   # each answer is wholly of its version
                assert (NEW_ID in s.ids) == (s.data_version != first["data_version"]), s
                assert (top in s.ids) == (s.data_version != deleted), s
        # Both report the same directory version as ready.
        ready = [c.get("/health/ready").json() for c in (ca, cb)]
        assert ready[0]["status"] == ready[1]["status"] == "ready"
        assert ready[0]["directory_version"] == ready[1]["directory_version"] is not None
    _no_traceback(a, b)


# --------------------------------------------------------------------------- metrics
def _requests_total(metrics: str, route: str) -> float:
    """Sum of ``matcher_http_requests_total`` for GET ``route`` over statuses."""
    pattern = re.compile(r'^matcher_http_requests_total\{([^}]*)\}\s+([0-9.eE+]+)$', re.M)
    total = 0.0
    for labels, value in pattern.findall(metrics):
        if 'method="GET"' in labels and f'route="{route}"' in labels:
            total += float(value)
    return total


@pytest.mark.slow
@linux_proc
def test_metrics_add_up_the_workers_of_one_server(tmp_path: Path) -> None:
    """`matcher serve --workers 2` with PROMETHEUS_MULTIPROC_DIR set: /metrics, whichever
    worker answers it, counts the requests answered by both workers."""
    prom = tmp_path / "prometheus"
    prom.mkdir()
    env = machine_env(f"sqlite:///{tmp_path / 'data' / 'matcher.sqlite'}", tmp_path,
                      PROMETHEUS_MULTIPROC_DIR=str(prom))
    with running_server("S", env, tmp_path, workers=2) as server:
        by_worker: dict[int, int] = {}
        sent = 0
        for _ in range(400):
            status, _body, pid = ask_on_new_connection(server, "GET", "/version")
            assert status == 200
            sent += 1
            if pid is not None:
                by_worker[pid] = by_worker.get(pid, 0) + 1
            if len(by_worker) == 2 and min(by_worker.values()) >= 3:
                break
        assert len(by_worker) == 2, f"only {len(by_worker)} worker(s) answered {sent} requests"
        assert sum(by_worker.values()) == sent
        # Each worker's /metrics answer counts every one of them (a request is counted just
        # after its answer is sent, so the last may take a moment to appear).
        totals: dict[int, float] = {}
        deadline = time.monotonic() + 30
        while len(totals) < 2 and time.monotonic() < deadline:
            status, text, pid = ask_on_new_connection(server, "GET", "/metrics")
            assert status == 200 and isinstance(text, str)
            if pid is not None and _requests_total(text, "/version") == sent:
                totals[pid] = sent
            time.sleep(0.05)
        assert set(totals) == set(by_worker), (
            f"/metrics did not count all {sent} requests ({by_worker} per worker) through "
            f"both workers; last answer counted {_requests_total(text, '/version')}")
    _no_traceback(server)


# --------------------------------------------------------------------------- behind a balancer
def test_proxy_options_follow_the_setting() -> None:
    from matcher.api.serve import proxy_options

    assert proxy_options("") == {"proxy_headers": False}
    assert proxy_options("10.0.0.5, 10.0.1.0/24") == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.5", "10.0.1.0/24"]}


def test_trusted_proxies_must_be_addresses() -> None:
    from pydantic import ValidationError

    from matcher.settings import Settings

    assert Settings(trusted_proxies=" 10.0.0.5 ,::1,*").trusted_proxies == "10.0.0.5,::1,*"
    with pytest.raises(ValidationError) as caught:
        Settings(trusted_proxies="10.0.0.5,lb.internal")
    assert "'lb.internal' is not an IP address or network" in str(caught.value)


@pytest.mark.slow
def test_throttle_counts_each_caller_behind_a_trusted_balancer(tmp_path: Path) -> None:
    """With MATCHER_TRUSTED_PROXIES naming the balancer, failed API keys are counted per
    caller (X-Forwarded-For), so one caller guessing keys does not lock out the others; a
    connection from any other address has its X-Forwarded-For ignored."""
    env = machine_env(f"sqlite:///{tmp_path / 'data' / 'matcher.sqlite'}", tmp_path,
                      MATCHER_TRUSTED_PROXIES="127.0.0.1")
    with running_server("P", env, tmp_path) as server:
        def wrong_key(client: httpx.Client, caller: str) -> int:
            return client.get("/plans", headers={"X-API-Key": "not-a-key",
                                                 "X-Forwarded-For": caller}).status_code

        # Through the balancer (127.0.0.1): the throttle counts each caller on its own.
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as balancer:
            guesser = [wrong_key(balancer, "203.0.113.7") for _ in range(15)]
            assert guesser[0] == 401 and guesser[-1] == 429, guesser
            assert wrong_key(balancer, "203.0.113.8") == 401
        # From an address that is not a trusted balancer, the header is not believed: the
        # connection's own address is the caller, whatever it claims.
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False,
                          transport=transport) as other:
            claimed = [wrong_key(other, f"198.51.100.{i}") for i in range(15)]
            assert claimed[0] == 401 and claimed[-1] == 429, claimed
    _no_traceback(server)


# --------------------------------------------------------------------------- workers starting
def test_workers_of_one_machine_prepare_a_new_directory_once(tmp_path: Path,
                                                             monkeypatch) -> None:
    """Workers starting together on one models folder prepare the directory one at a time;
    those that waited find it done and do not do it again."""
    pytest.importorskip("fcntl", reason="the lock between workers is a POSIX file lock")
    from matcher.api.deps import DirectoryCache

    calls: list[str] = []
    done = threading.Event()

    folder = tmp_path / "models" / "prepared" / "v1"

    def prepare(self: DirectoryCache) -> None:
        calls.append(threading.current_thread().name)
        time.sleep(0.5)   # long enough for the others to be waiting by now
        folder.mkdir(parents=True)
        (folder / "done.json").write_text("{}")
        done.set()

    monkeypatch.setattr(DirectoryCache, "_prepare_apart", prepare)
    caches = [DirectoryCache(None, tmp_path / "models") for _ in range(3)]  # type: ignore[arg-type]
    threads = [threading.Thread(target=c._prepare_apart_once, args=(folder,), name=f"worker-{i}")
               for i, c in enumerate(caches)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert done.is_set() and len(calls) == 1, calls
