"""Running real ``matcher serve`` processes in tests: start one on a free loopback port, wait
until it is ready, stop it, and tell which worker process answered a request (Linux /proc).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
#: How long a start may take on a busy CI machine (importing the engine took 12-16 s on the
#: shared 2-core machine under load; the first matcher is built after that).
START_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """A running ``matcher serve``: its base URL, process and log file."""

    name: str
    url: str
    port: int
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def machine_env(database_url: str, home: Path, **extra: str) -> dict[str, str]:
    """The environment of a server on its own "machine": the shared database, and its own
    data, cache and models folders under ``home``."""
    for sub in ("data", "cache", "models"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(REPO), "MATCHER_DATABASE_URL": database_url,
            "MATCHER_DATA_DIR": str(home / "data"), "MATCHER_CACHE_DIR": str(home / "cache"),
            "MATCHER_MODELS_DIR": str(home / "models"), "MATCHER_LOG_FORMAT": "json",
            **extra}


def cli(env: dict[str, str], *args: str, cwd: Path) -> str:
    """Run ``matcher ARGS`` in a new process; its stdout (fails the test on a non-zero exit)."""
    done = subprocess.run([sys.executable, "-m", "matcher.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"matcher {' '.join(args)} failed: {done.stderr[-2000:]}"
    return done.stdout


@contextmanager
def running_server(name: str, env: dict[str, str], cwd: Path, workers: int = 1,
                   wait: str | None = "/health/ready") -> Iterator[ServerProcess]:
    """``matcher serve --workers N`` on a free 127.0.0.1 port; waits until ``wait``
    (``None``: no wait) answers 200, and at the end stops the server (SIGINT, then kill)."""
    port = free_port()
    log_path = cwd / f"{name}-{port}.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", str(workers), "--log-level", "warning"],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = ServerProcess(name, f"http://127.0.0.1:{port}", port, proc, log_path)
    try:
        if wait is not None:
            wait_until_ready(server, wait)
        yield server
    finally:
        stop(proc)


def wait_until_ready(server: ServerProcess, path: str = "/health/ready",
                     seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    last = "no answer"
    while True:
        if server.proc.poll() is not None:
            raise AssertionError(f"{server.name} stopped at start (exit {server.proc.returncode})"
                                 f": {server.log()[-3000:]}")
        try:
            r = httpx.get(server.url + path, timeout=10, trust_env=False)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:300]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        if time.monotonic() > deadline:
            raise AssertionError(f"{server.name} did not answer 200 on {path} within "
                                 f"{seconds:.0f} s (last: {last}): {server.log()[-3000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn stops its workers and itself
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- which worker
def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def serving_pid(sock: socket.socket, server_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server side of this open loopback connection."""
    client_port = sock.getsockname()[1]
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if cols[1] == local and cols[2] == remote:
            inode = cols[9]
    if inode is None:
        return None
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def ask_on_new_connection(server: ServerProcess, method: str, path: str,
                          body: dict | None = None) -> tuple[int, dict | str, int | None]:
    """One request on a new connection: (status, JSON body or text, pid of the worker that
    answered it, or None when it could not be told)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
        pid = serving_pid(conn.sock, server.port, descendants(server.proc.pid))
        try:
            data: dict | str = json.loads(raw or b"{}")
        except ValueError:
            data = raw.decode("utf-8", "replace")
        return resp.status, data, pid
    finally:
        conn.close()
