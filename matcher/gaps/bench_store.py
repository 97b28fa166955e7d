"""The gap report on an imported store, timed the way a commissioner gets it.

``matcher bench gaps --scenario store``:

1. makes ``n`` synthetic services (:func:`matcher.bench.synthetic_directory`: the demo rows
   copied onto random real English postcodes, as the engine's benchmarks do) and imports them
   into a fresh SQLite store with the import's own last step
   (:func:`matcher.ingest.load.import_records`);
2. runs ``matcher gaps`` on that store in a child process, for the council's districts and for
   every postcode sector in Great Britain (``--all-areas``): first straight after the import
   (the records' words are read then, and the readings stored), then again on the prepared
   store (as after the server has prepared the import, or after a first report);
3. starts the API in a child process on the same store (FastAPI's in-process test client, no
   network), waits until its matcher is built (``/health/ready``), then times ``GET /gaps``
   for the same two scenarios with a commissioner's key (the first request of a directory
   version also turns the matcher's table into the gap arrays; the second reuses them).

Wall time is measured around each child process or request; peak memory is the child's own
(``ru_maxrss`` of the CLI process; for the API, the server process's peak before and after the
requests). Nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from matcher.errors import MatcherError

__all__ = ["COUNCIL_DISTRICTS", "StoreBenchResult", "result_dict", "run_store_bench"]

#: The council's districts of the demo borough (Islington).
COUNCIL_DISTRICTS = ("N1", "N4", "N5", "N7", "N19", "EC1V", "EC1R", "EC1M", "EC1Y", "WC1X")


@dataclass
class StoreBenchResult:
    """Measured figures of the store scenario (seconds, MiB)."""

    services: int
    import_s: float
    cpus: int
    load_before: list[float]
    cli: list[dict] = field(default_factory=list)   # one per run: scenario, cold, wall_s, ...
    api: list[dict] = field(default_factory=list)   # one per request
    api_ready_s: float = 0.0
    api_rss_ready_mib: float = 0.0
    api_peak_rss_mib: float = 0.0
    load_after: list[float] = field(default_factory=list)

    def format_text(self) -> str:
        lines = [f"store: {self.services:,} services imported in {self.import_s:.1f} s "
                 f"({self.cpus} CPUs; load average before {self.load_before}, after "
                 f"{self.load_after})"]
        for r in self.cli:
            lines.append(
                f"  matcher gaps, {r['scenario']}{' (first after import)' if r['cold'] else ''}: "
                f"{r['wall_s']:.1f} s wall ({r['cpu_s']:.1f} s CPU), peak {r['peak_mib']:,.0f} "
                f"MiB; {r['areas']:,} areas, {r['cells']:,} cells, {r['gaps']:,} gaps, "
                f"{r['near_misses']:,} near misses")
        lines.append(f"  API ready after {self.api_ready_s:.1f} s "
                     f"({self.api_rss_ready_mib:,.0f} MiB resident)")
        for r in self.api:
            lines.append(f"  GET /gaps, {r['scenario']} (request {r['request']}): "
                         f"{r['wall_s']:.1f} s; {r['areas']:,} areas, {r['gaps']:,} gaps; "
                         f"server peak so far {r['peak_mib']:,.0f} MiB")
        return "\n".join(lines)


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}


def _cli_run(url: str, where: list[str], out_dir: Path, scenario: str, cold: bool) -> dict:
    out_path, err_path = out_dir / f"{scenario}.out", out_dir / f"{scenario}.err"
    with open(out_path, "w", encoding="utf-8") as out_f, \
            open(err_path, "w", encoding="utf-8") as err_f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "gaps", "--database-url", url, *where,
             "--out", str(out_dir / f"gaps_{scenario}.csv"), "--json"],
            stdout=out_f, stderr=err_f, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)   # this child's own CPU time and peak memory
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    out = out_path.read_text(encoding="utf-8")
    if proc.returncode != 0:
        err = err_path.read_text(encoding="utf-8")
        raise MatcherError(f"matcher gaps failed on the benchmark store: {err.strip()[-2000:]}")
    body = json.loads(out)
    return {"scenario": scenario, "cold": cold, "wall_s": round(wall, 2),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mib": round(usage.ru_maxrss / 1024, 1), "areas": body["areas"],
            "cells": body["cells"], "gaps": body["gaps"], "thin": body["thin"],
            "near_misses": body["near_misses"]}


def run_store_bench(n_services: int = 100_000, *, seed: int = 0,
                    districts: tuple[str, ...] = COUNCIL_DISTRICTS, api: bool = True,
                    great_britain: bool = True, keep_dir: str | None = None,
                    progress=None) -> StoreBenchResult:
    """Run the scenario (see the module's description) and return its figures
    (``great_britain=False``: the council's districts only)."""
    from matcher.bench import load_base_records, synthetic_directory
    from matcher.geo.postcodes import get_postcode_index
    from matcher.ingest.load import import_records
    from matcher.ingest.report import ImportReport
    from matcher.store import Store

    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="matcher-gaps-store-", dir=keep_dir) as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        url = f"sqlite:///{work / 'gaps.sqlite'}"
        base, _ = load_base_records()
        say(f"making {n_services:,} synthetic services")
        records = synthetic_directory(base, n_services, get_postcode_index(),
                                      np.random.default_rng([seed, n_services]))
        say("importing them into a fresh store")
        store = Store.open(url)
        t0 = time.perf_counter()
        import_records(records, ImportReport(source="bench", rows_read=len(records)),
                       store=store)
        import_s = time.perf_counter() - t0
        store.close()
        del records
        result = StoreBenchResult(services=n_services, import_s=round(import_s, 2),
                                  cpus=os.cpu_count() or 0,
                                  load_before=[round(x, 2) for x in os.getloadavg()])
        council = ["--districts", ",".join(districts)]
        everywhere = ["--all-areas"]
        say("matcher gaps on the council's districts, straight after the import")
        result.cli.append(_cli_run(url, council, work, "council", cold=True))
        scenarios = [("council", council)]
        if great_britain:
            scenarios.append(("great_britain", everywhere))
        for name, where in scenarios:
            say(f"matcher gaps, {name}, on the prepared store")
            result.cli.append(_cli_run(url, where, work, name, cold=False))
        if api:
            _api_bench(url, work, districts, great_britain, result, say)
        result.load_after = [round(x, 2) for x in os.getloadavg()]
    return result


def _api_bench(url: str, work: Path, districts: tuple[str, ...], great_britain: bool,
               result: StoreBenchResult, say) -> None:
    """Start the API in a child process on the store and time GET /gaps there."""
    say("starting the API on the store and waiting for its matcher")
    code = "import sys; from matcher.gaps.bench_store import _api_child; _api_child(sys.argv[1:])"
    proc = subprocess.run([sys.executable, "-c", code, url, str(work), ",".join(districts),
                           "yes" if great_britain else "no"],
                          capture_output=True, text=True, env=_env(), check=False)
    if proc.returncode != 0:
        raise MatcherError("The API part of the gap benchmark failed: "
                           + proc.stderr.strip()[-2000:])
    body = json.loads(proc.stdout.strip().splitlines()[-1])
    result.api_ready_s = body["ready_s"]
    result.api_rss_ready_mib = body["rss_ready_mib"]
    result.api_peak_rss_mib = body["peak_mib"]
    result.api = body["requests"]


def _rss_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _api_child(argv: list[str]) -> None:  # pragma: no cover - runs in the child process
    """The API on the store: wait until ready, then time GET /gaps (prints one JSON line)."""
    from fastapi.testclient import TestClient

    from matcher.api import create_app
    from matcher.api.deps import ApiConfig
    from matcher.api.security import API_KEY_HEADER
    from matcher.settings import Settings
    from matcher.store.users import add_user

    url, data_dir, districts, great_britain = argv
    settings = Settings(data_dir=Path(data_dir), database_url=url,
                        demo_data_path=Path(data_dir) / "absent.csv")
    app = create_app(settings, ApiConfig(import_wait_seconds=3600, start_wait_seconds=3600))
    key = add_user(app.state.resources.store.engine, "bench-commissioner", "commissioner")
    headers = {API_KEY_HEADER: key}
    out: dict = {"requests": []}
    t0 = time.perf_counter()
    with TestClient(app) as client:
        while client.get("/health/ready").status_code != 200:
            if time.perf_counter() - t0 > 3600:
                raise SystemExit("the API was not ready within an hour")
            time.sleep(0.5)
        out["ready_s"] = round(time.perf_counter() - t0, 2)
        out["rss_ready_mib"] = round(_rss_mib(), 1)
        scenarios = [("council", {"districts": districts})]
        if great_britain == "yes":
            scenarios.append(("great_britain", {"all_areas": "true"}))
        for scenario, params in scenarios:
            for request in (1, 2):
                t = time.perf_counter()
                r = client.get("/gaps", params=params, headers=headers)
                wall = time.perf_counter() - t
                if r.status_code != 200:
                    raise SystemExit(f"GET /gaps answered {r.status_code}: {r.text[:500]}")
                body = r.json()
                out["requests"].append({"scenario": scenario, "request": request,
                                        "wall_s": round(wall, 2), "areas": body["areas"],
                                        "cells": body["cells"], "gaps": body["gaps"],
                                        "thin": body["thin"],
                                        "peak_mib": round(_peak_mib(), 1)})
    out["peak_mib"] = round(_peak_mib(), 1)
    print(json.dumps(out))


def result_dict(result: StoreBenchResult) -> dict:
    """The figures as a plain dict (for JSON)."""
    return asdict(result)
