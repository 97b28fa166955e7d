"""Benchmarks of the gap analysis: the demo borough, and Great Britain at 100,000 services.

Each scenario runs in a fresh child process so its peak memory (``ru_maxrss``) is its own.
Times are wall-clock seconds on this machine; nothing here asserts a time.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from matcher.resources import data_path

__all__ = [
    "BenchResult",
    "DEMO_BOROUGH_DISTRICTS",
    "DEMO_CSV",
    "demo_services",
    "run_scenario",
    "results_json",
    "run_benchmarks",
    "synthetic_directory",
]

#: The demo Local Offer (fictional Islington services at real postcodes).
DEMO_CSV = data_path("demo", "islington_local_offer.csv")
#: Islington's postcode districts as the demo data's borough-wide service area lists them.
DEMO_BOROUGH_DISTRICTS = ("N1", "N4", "N5", "N7", "N19", "EC1V", "EC1R", "EC1M", "EC1Y", "WC1X")


@dataclass
class BenchResult:
    """Measured figures of one scenario."""

    scenario: str
    areas: int
    services: int
    needs: int
    bands: int
    cells: int
    gaps: int
    thin: int
    near_misses: int
    seconds_prepare: float   # reading and featurising the directory, building the areas
    seconds_analyse: float   # analyse_gaps itself (median of the runs)
    seconds_runs: list[float]
    seconds_write: float     # writing the CSV files (0 when not asked)
    peak_rss_mb: float       # the child process's peak resident memory
    rss_before_mb: float     # ... and its peak before the analysis started

    def format_text(self) -> str:
        return (f"{self.scenario}: {self.areas:,} areas x {self.needs} needs x {self.bands} "
                f"bands = {self.cells:,} cells, {self.services:,} services: "
                f"analyse {self.seconds_analyse:.2f} s (runs "
                f"{', '.join(f'{s:.2f}' for s in self.seconds_runs)}), prepare "
                f"{self.seconds_prepare:.2f} s, write {self.seconds_write:.2f} s; "
                f"{self.gaps:,} gaps, {self.thin:,} thin, {self.near_misses:,} near misses; "
                f"peak memory {self.peak_rss_mb:,.0f} MB ({self.rss_before_mb:,.0f} MB before "
                "the analysis)")


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def demo_services(path: Path | None = None):
    """The demo directory as :class:`~matcher.gaps.supply.GapServices` (no store needed)."""
    from matcher.errors import DataImportError
    from matcher.gaps.supply import GapServices
    from matcher.ingest import read_service_csv
    from matcher.services import records_to_frame

    records, report = read_service_csv(path or DEMO_CSV, progress=False)
    if not records:
        raise DataImportError(f"No service could be read from {path or DEMO_CSV}.", report)
    return GapServices.from_frame(records_to_frame(records))


def synthetic_directory(base, n: int, index, seed: int = 0):
    """``n`` services: rows of ``base`` copied at random onto random real GB postcodes.

    A copy keeps the row's needs, ages and delivery. Its service area moves with it: a row that
    states a service area (a list of districts, or national) serves the new postcode's district
    only, so the directory is a country of local offers rather than thousands of national
    services; a row with no service area keeps none.
    """
    from dataclasses import replace

    rng = np.random.default_rng(seed)
    rows = rng.integers(0, base.n, size=n)
    keys = index._keys  # every current postcode with a position (sorted fixed-width keys)
    pick = rng.integers(0, len(keys), size=n)
    lat = index._lat_e6[pick] / 1e6
    lon = index._lon_e6[pick] / 1e6
    ids = np.array([f"SYN-{i:06d}" for i in range(n)], dtype=object)
    out = base.take(rows, ids=ids, lat=lat, lon=lon)
    outward = np.char.strip(keys[pick].astype("S4").astype(str))
    districts, col = np.unique(outward, return_inverse=True)
    stated = ~out.area_unstated
    matrix = sp.csr_array((np.ones(int(stated.sum()), dtype=bool),
                           (np.flatnonzero(stated), col[stated])), shape=(n, len(districts)))
    return replace(out, area_districts=districts.tolist(), area_matrix=matrix,
                   national=np.zeros(n, dtype=bool))


def run_scenario(name: str, repeats: int = 3, n_services: int = 100_000,
                 out_dir: str | None = None, seed: int = 0) -> BenchResult:
    """Run one scenario in this process: ``"demo"`` or ``"gb"``."""
    from matcher.gaps.analysis import analyse_gaps
    from matcher.gaps.areas import area_centroids, areas_in_districts
    from matcher.gaps.report import write_outputs
    from matcher.geo.postcodes import get_postcode_index

    t0 = time.perf_counter()
    index = get_postcode_index()
    base = demo_services()
    if name == "demo":
        services = base
        present = [d for d in DEMO_BOROUGH_DISTRICTS if d in set(base.area_districts)]
        areas = areas_in_districts(index, present, "sector")
    elif name == "gb":
        services = synthetic_directory(base, n_services, index, seed)
        areas = area_centroids(index, "sector")
    else:
        raise ValueError(f"Unknown scenario '{name}': use 'demo' or 'gb'.")
    centroids = {d: (loc.latitude, loc.longitude) for d in services.area_districts
                 for loc in [index.lookup(d)]}
    prepare = time.perf_counter() - t0
    before = _rss_mb()
    runs, report = [], None
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        report = analyse_gaps(areas, services, district_centroids=centroids)
        runs.append(time.perf_counter() - t)
    assert report is not None
    write = 0.0
    if out_dir:
        t = time.perf_counter()
        write_outputs(report, Path(out_dir) / f"gaps_{name}.csv")
        write = time.perf_counter() - t
    status = report.cells["status"].value_counts()
    return BenchResult(
        scenario=name, areas=len(areas), services=services.n,
        needs=report.cells["need"].nunique(), bands=report.cells["band"].nunique(),
        cells=len(report.cells), gaps=int(status.get("gap", 0)), thin=int(status.get("thin", 0)),
        near_misses=len(report.near_misses), seconds_prepare=round(prepare, 3),
        seconds_analyse=round(float(np.median(runs)), 3),
        seconds_runs=[round(r, 3) for r in runs], seconds_write=round(write, 3),
        peak_rss_mb=round(_rss_mb(), 1), rss_before_mb=round(before, 1),
    )


def _child(name: str, kwargs: dict, queue: mp.Queue) -> None:  # pragma: no cover - subprocess
    try:
        queue.put(("ok", asdict(run_scenario(name, **kwargs))))
    except BaseException as exc:  # report any failure to the parent instead of hanging it
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def run_benchmarks(scenarios: tuple[str, ...] = ("demo", "gb"), *, repeats: int = 3,
                   n_services: int = 100_000, out_dir: str | None = None,
                   isolate: bool = True) -> list[BenchResult]:
    """Run scenarios, each in a fresh process (``isolate``) so peak memory is per scenario."""
    results = []
    for name in scenarios:
        kwargs = {"repeats": repeats, "n_services": n_services, "out_dir": out_dir}
        if not isolate:
            results.append(run_scenario(name, **kwargs))
            continue
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(name, kwargs, queue))
        proc.start()
        status, payload = queue.get()
        proc.join()
        if status != "ok":
            from matcher.errors import MatcherError

            raise MatcherError(f"The '{name}' gap benchmark failed: {payload}")
        results.append(BenchResult(**payload))
    return results


def results_json(results: list[BenchResult]) -> str:
    """The results as JSON text."""
    return json.dumps([asdict(r) for r in results], indent=2)
