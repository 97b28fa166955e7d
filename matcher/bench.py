"""``matcher bench``: speed and memory of the engine on synthetic directories.

A directory of any size is made by copying the rows of a real-shaped Local Offer file (the
demo file, else ``../shared/eval/dev/services.csv``) onto other *real* postcodes drawn at
random from the offline gazetteer across England, with new ids. For each size a
:class:`~matcher.engine.pipeline.Matcher` is built, then one in-process ``match`` is timed per
profile over a set of varied profiles after a warm-up (p50 and p95 in milliseconds). The
garbage left by making and building the directory is collected (``gc.collect()``) before the
timed matches, as it is before the reference's, so neither pays for the other's clean-up;
the collector stays on while timing, as in a server.

Memory, three ways (each named in the output):

* ``match_peak_mib``: the largest extra memory one match allocates, from :mod:`tracemalloc`
  (Python objects and NumPy buffers), measured apart from the timed runs;
* ``table_mib``: what the built table holds: the ``nbytes`` of its arrays and sparse text
  matrix, ``DataFrame.memory_usage(deep=True)`` of its frame, and the dicts of its per-service
  records (see :func:`table_nbytes`);
* ``rss_growth_mib``: growth of the process's peak resident set size
  (``resource.getrusage(...).ru_maxrss``) while the directory was made, built and matched. It is
  a high-water mark, so it reads 0 when a size stays under an earlier peak.

The reference is what a straightforward implementation would do: a Python loop over the
services with per-service age, area and EHCP checks, ``geopy.distance.geodesic`` for the
distance, and a Python sort. It is timed on sizes up to :data:`REFERENCE_MAX_SIZE` over as
many of the profiles as fit in :data:`REFERENCE_BUDGET_S` seconds (at least one), and the
report gives the ratio of its median to the engine's.
"""

from __future__ import annotations

import dataclasses
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from geopy.distance import geodesic

from matcher.errors import MatcherError
from matcher.geo.postcodes import PostcodeIndex, get_postcode_index, postcode_district
from matcher.services import ServiceRecord, records_to_frame
from matcher.vocab import Vocabulary

__all__ = [
    "DEFAULT_SIZES",
    "REFERENCE_MAX_SIZE",
    "REFERENCE_BUDGET_S",
    "SizeResult",
    "BenchReport",
    "default_source",
    "load_base_records",
    "sample_england_postcodes",
    "synthetic_directory",
    "bench_profiles",
    "reference_match",
    "table_nbytes",
    "run_bench",
]

DEFAULT_SIZES = (1_000, 10_000, 100_000)
#: The slow reference is timed on directories up to this size.
REFERENCE_MAX_SIZE = 10_000
#: Seconds of reference queries per size; queries beyond it are skipped (sampled).
REFERENCE_BUDGET_S = 20.0
WARMUP = 3
_MIB = 1024 * 1024

#: Postcode areas wholly or mostly in Scotland or Wales, left out of "across England".
_NOT_ENGLAND = frozenset({
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD",
    "ZE", "CF", "LD", "LL", "NP", "SA",
})

_NEEDS = ["autism", "ADHD", "dyslexia", "speech delay", "hearing loss", "anxiety",
          "learning disability", "cerebral palsy", "Down's syndrome", "SEMH", "visual impairment",
          "dyspraxia", "autisim", "global developmental delay", "selective mutism", "epilepsy"]
_ABOUT = ["he might be autistic and hates noise", "she wants to make friends at a club",
          "we need a break, I am exhausted", "struggling at school, not going in most days",
          "needs help to travel to college on his own", "looking for swimming lessons",
          "waiting for an assessment", "moving to secondary school next september"]
#: How often families travel each way; the vocabulary's other travel modes share the rest.
#: (Travel modes, transitions and categories themselves come from the vocabulary.)
_MODE_SHARE = {"walk": 0.15, "public_transport": 0.45, "car": 0.2}


@dataclass
class SizeResult:
    """Figures for one directory size (times in seconds or milliseconds, memory in MiB)."""

    size: int
    build_s: float
    queries: int
    p50_ms: float
    p95_ms: float
    mean_results: float
    match_peak_mib: float
    table_mib: float
    rss_growth_mib: float
    reference_p50_ms: float | None = None
    reference_queries: int = 0
    ratio: float | None = None   # reference p50 / engine p50


@dataclass
class BenchReport:
    """Everything ``matcher bench`` prints."""

    source: str
    base_rows: int
    queries: int
    warmup: int
    seed: int
    sizes: list[SizeResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "base_rows": self.base_rows,
            "queries": self.queries,
            "warmup": self.warmup,
            "seed": self.seed,
            "memory": {
                "match_peak_mib": "tracemalloc peak of one match above the memory in use before it",
                "table_mib": "nbytes of the table's arrays and text matrix + its frame's deep "
                             "memory_usage + its per-service record dicts",
                "rss_growth_mib": "growth of peak RSS (resource ru_maxrss) while making, "
                                  "building and matching this size; a high-water mark",
            },
            "reference": ("Python loop per service: age, area and EHCP checks, "
                          "geopy.distance.geodesic, then a Python sort"),
            "sizes": [dataclasses.asdict(s) for s in self.sizes],
        }

    def format_text(self) -> str:
        head = (f"{'services':>9} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} "
                f"{'match MiB':>9} {'table MiB':>9} {'RSS+ MiB':>8} "
                f"{'ref p50 ms':>11} {'ref n':>5} {'ref/engine':>10}")
        lines = [
            f"matcher bench: {self.queries} profiles per size after {self.warmup} warm-up "
            f"matches; rows copied from {self.source} ({self.base_rows} rows) onto random "
            f"English postcodes (seed {self.seed})",
            head,
        ]
        for s in self.sizes:
            ref = (f"{s.reference_p50_ms:>11.1f} {s.reference_queries:>5d} {s.ratio:>9.1f}x"
                   if s.reference_p50_ms is not None else f"{'-':>11} {'-':>5} {'-':>10}")
            lines.append(f"{s.size:>9,d} {s.build_s:>8.2f} {s.p50_ms:>8.2f} {s.p95_ms:>8.2f} "
                         f"{s.match_peak_mib:>9.1f} {s.table_mib:>9.1f} {s.rss_growth_mib:>8.0f} "
                         f"{ref}")
        lines.append("match MiB: tracemalloc peak of one match; table MiB: arrays, frame and "
                     "record dicts held by the built table; RSS+: growth of peak RSS (ru_maxrss) for the size; "
                     "ref: Python loop with geopy geodesic per service.")
        return "\n".join(lines)


def default_source() -> Path:
    """The demo Local Offer if present, else the shared development set's services."""
    from matcher.resources import data_path

    root = Path(__file__).resolve().parents[1]
    for path in (data_path("demo", "islington_local_offer.csv"),
                 root.parent / "shared" / "eval" / "dev" / "services.csv"):
        if path.is_file():
            return path
    raise MatcherError(
        "No services file to copy rows from: neither data/demo/islington_local_offer.csv nor "
        "../shared/eval/dev/services.csv exists. Pass one with --source PATH.")


def load_base_records(source: str | Path | None = None) -> tuple[list[ServiceRecord], Path]:
    """The good rows of a services CSV (contract template), and the path they came from."""
    from matcher.ingest import read_service_csv

    path = Path(source) if source else default_source()
    records, report = read_service_csv(path, progress=False)
    if not records:
        raise MatcherError(f"{path} has no usable service rows to copy; check it with "
                           f"'matcher import {path}'.")
    return records, path


def sample_england_postcodes(gazetteer: PostcodeIndex, n: int,
                             rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``n`` distinct real postcodes drawn uniformly from the gazetteer's English areas,
    with their latitude and longitude."""
    keys = gazetteer._keys  # sorted fixed-width postcode keys (outward padded to 4 + inward 3)
    chosen: list[str] = []
    seen: set[int] = set()
    while len(chosen) < n:
        want = min(len(keys), int((n - len(chosen)) * 1.3) + 16)
        for i in rng.choice(len(keys), size=want, replace=False):
            if int(i) in seen:
                continue
            seen.add(int(i))
            text = bytes(keys[i]).decode("ascii")
            outward, inward = text[:4].strip(), text[4:]
            area = outward[:2] if outward[:2].isalpha() else outward[:1]
            if area in _NOT_ENGLAND:
                continue
            chosen.append(f"{outward} {inward}")
            if len(chosen) == n:
                break
        if len(seen) >= len(keys):
            raise MatcherError("The gazetteer does not hold enough English postcodes.")
    lat, lon, found = gazetteer.lookup_many(chosen)
    if not found.all():  # pragma: no cover - every key comes from the index itself
        raise MatcherError("Some sampled postcodes did not resolve; rebuild the postcode cache.")
    return chosen, lat, lon


def synthetic_directory(base: Sequence[ServiceRecord], size: int, gazetteer: PostcodeIndex,
                        rng: np.random.Generator) -> list[ServiceRecord]:
    """``size`` services: the base rows in turn, each copy on a new real English postcode
    with a new id. A copy limited to some districts serves its own new district; national and
    unrestricted services stay so; services with no venue keep none."""
    postcodes, lat, lon = sample_england_postcodes(gazetteer, size, rng)
    out = []
    for i in range(size):
        rec = base[i % len(base)]
        area = list(rec.service_area)
        if area and "national" not in [a.lower() for a in area]:
            area = [postcode_district(postcodes[i])]
        has_venue = rec.latitude is not None
        out.append(dataclasses.replace(
            rec,
            id=f"BENCH-{i:06d}",
            postcode=postcodes[i] if has_venue else None,
            latitude=float(lat[i]) if has_venue else None,
            longitude=float(lon[i]) if has_venue else None,
            service_area=area,
            address="",
            source="bench",
        ))
    return out


def _mode_weights(modes: Sequence[str]) -> list[float]:
    """Each mode's share: :data:`_MODE_SHARE`, the rest split evenly among the other modes."""
    others = [m for m in modes if m not in _MODE_SHARE]
    rest = max(0.0, 1.0 - sum(_MODE_SHARE.get(m, 0.0) for m in modes))
    weights = [_MODE_SHARE.get(m, rest / len(others) if others else 0.0) for m in modes]
    total = sum(weights)
    return [w / total for w in weights]


def bench_profiles(records: Sequence[ServiceRecord], n: int, rng: np.random.Generator,
                   vocab: Vocabulary | None = None) -> list[dict[str, Any]]:
    """``n`` varied families, most living where the directory has services. Travel modes,
    transitions and categories are the vocabulary's (default: the one in use)."""
    if vocab is None:
        from matcher.allowed import vocabulary_in_use

        vocab = vocabulary_in_use()
    modes, transitions = list(vocab.travel_modes), list(vocab.transitions)
    categories, mode_p = list(vocab.categories), _mode_weights(list(vocab.travel_modes))
    venues = [r.postcode for r in records if r.postcode]
    profiles = []
    for _ in range(n):
        p: dict[str, Any] = {"age": int(rng.integers(0, 26)), "limit": 10}
        k = int(rng.integers(0, 3))
        if k:
            p["needs"] = [str(x) for x in rng.choice(_NEEDS, size=k, replace=False)]
        if rng.random() < 0.4:
            p["about"] = str(rng.choice(_ABOUT))
        if venues and rng.random() < 0.9:
            p["postcode"] = venues[int(rng.integers(len(venues)))]
        p["travel"] = {"mode": str(rng.choice(modes, p=mode_p)),
                       "max_minutes": int(rng.choice([20, 30, 45, 60]))}
        if rng.random() < 0.3:
            p["transition"] = str(rng.choice(transitions))
        p["has_ehcp"] = bool(rng.random() < 0.3)
        prefs: dict[str, Any] = {}
        if rng.random() < 0.25:
            prefs["free_only"] = True
        if rng.random() < 0.3:
            prefs["categories"] = [str(rng.choice(categories))]
        if rng.random() < 0.1:
            prefs["language"] = "Turkish"
        if prefs:
            p["preferences"] = prefs
        profiles.append(p)
    return profiles


def _reference_rows(records: Sequence[ServiceRecord]) -> list[dict[str, Any]]:
    return [{"id": r.id, "min_age": r.min_age, "max_age": r.max_age,
             "area": {a.upper() for a in r.service_area}, "ehcp": r.ehcp_required,
             "lat": r.latitude, "lon": r.longitude} for r in records]


def reference_match(rows: Sequence[dict[str, Any]], profile: dict[str, Any],
                    gazetteer: PostcodeIndex, limit: int = 10) -> list[str]:
    """The straightforward way: one Python pass over every service, then a sort."""
    age = profile["age"]
    here = district = None
    if profile.get("postcode"):
        loc = gazetteer.lookup(profile["postcode"])
        here, district = (loc.latitude, loc.longitude), postcode_district(loc.postcode)
    has_ehcp = profile.get("has_ehcp", False)
    found = []
    for s in rows:
        if s["min_age"] is not None and age < s["min_age"]:
            continue
        if s["max_age"] is not None and age > s["max_age"]:
            continue
        if s["ehcp"] and not has_ehcp:
            continue
        if district and s["area"] and "NATIONAL" not in s["area"] and district not in s["area"] \
                and not (district[-1].isalpha() and district[:-1] in s["area"]):
            continue
        if here is not None and s["lat"] is not None:
            km = geodesic(here, (s["lat"], s["lon"])).km
        else:
            km = float("inf")
        found.append((km, s["id"]))
    found.sort()
    return [sid for _, sid in found[:limit]]


def table_nbytes(table: Any) -> int:
    """Bytes held by a ServiceTable: its NumPy arrays, sparse text matrix and frame (deep), plus
    the containers and numbers of any list of per-service dicts (their strings and lists are
    the frame's own objects, so they are not counted twice)."""
    total = 0
    for value in vars(table).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, pd.DataFrame):
            total += int(value.memory_usage(deep=True).sum())
        elif isinstance(value, pd.Series):
            total += int(value.memory_usage(deep=True))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            total += sys.getsizeof(value)
            for item in value:
                total += sys.getsizeof(item)
                total += sum(sys.getsizeof(v) for v in item.values()
                             if isinstance(v, int | float) and not isinstance(v, bool))
    index = getattr(table, "text_index", None)
    for part in (index, getattr(index, "tfidf_", None)):
        for name in ("matrix_", "own_"):
            matrix = getattr(part, name, None)
            if sp.issparse(matrix):
                total += matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    return total


def _max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / _MIB if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB else


def _percentile(xs: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs, dtype=float), q))


def run_bench(sizes: Sequence[int] = DEFAULT_SIZES, queries: int = 20, *, seed: int = 0,
              source: str | Path | None = None, gazetteer: PostcodeIndex | None = None,
              reference_max_size: int = REFERENCE_MAX_SIZE,
              reference_budget_s: float = REFERENCE_BUDGET_S,
              progress: Callable[[str], None] | None = None) -> BenchReport:
    """Build a directory of each size and time the engine (and the reference) on it."""
    from matcher.engine.pipeline import Matcher

    if queries < 1:
        raise ValueError("queries must be at least 1")
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError("sizes must be positive numbers of services, e.g. 1000,10000")
    say = progress or (lambda _msg: None)
    gazetteer = gazetteer or get_postcode_index()
    base, path = load_base_records(source)
    report = BenchReport(source=str(path), base_rows=len(base), queries=queries, warmup=WARMUP,
                         seed=seed)
    for size in sizes:
        gc.collect()
        rng = np.random.default_rng([seed, size])
        rss_before = _max_rss_mib()
        say(f"{size:,} services: making the directory")
        records = synthetic_directory(base, size, gazetteer, rng)
        frame = records_to_frame(records)
        say(f"{size:,} services: building the matcher")
        t0 = time.perf_counter()
        matcher = Matcher.from_frame(frame, gazetteer=gazetteer)
        build_s = time.perf_counter() - t0
        profiles = bench_profiles(records, queries, rng, matcher.vocab)

        say(f"{size:,} services: timing {queries} matches")
        for p in profiles[:WARMUP]:
            matcher.match(p)
        gc.collect()  # the directory's build garbage, not part of a match
        times, n_results = [], []
        for p in profiles:
            t0 = time.perf_counter()
            out = matcher.match(p)
            times.append((time.perf_counter() - t0) * 1000)
            n_results.append(len(out.results))

        peaks = []
        for p in profiles[:3]:
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                matcher.match(p)
                peaks.append(tracemalloc.get_traced_memory()[1] - before)
            finally:
                tracemalloc.stop()

        result = SizeResult(
            size=size, build_s=round(build_s, 3), queries=queries,
            p50_ms=round(_percentile(times, 50), 3), p95_ms=round(_percentile(times, 95), 3),
            mean_results=round(float(np.mean(n_results)), 2),
            match_peak_mib=round(max(peaks) / _MIB, 2),
            table_mib=round(table_nbytes(matcher.table) / _MIB, 2),
            rss_growth_mib=0.0,
        )
        if size <= reference_max_size:
            say(f"{size:,} services: timing the reference")
            rows = _reference_rows(records)
            gc.collect()
            ref_times: list[float] = []
            spent = 0.0
            for p in profiles:
                t0 = time.perf_counter()
                reference_match(rows, p, gazetteer)
                ref_times.append((time.perf_counter() - t0) * 1000)
                spent += ref_times[-1] / 1000
                if spent >= reference_budget_s:
                    break
            result.reference_p50_ms = round(_percentile(ref_times, 50), 3)
            result.reference_queries = len(ref_times)
            result.ratio = round(result.reference_p50_ms / max(result.p50_ms, 1e-6), 1)
        result.rss_growth_mib = round(max(0.0, _max_rss_mib() - rss_before), 1)
        report.sizes.append(result)
        del matcher, frame, records
    return report
