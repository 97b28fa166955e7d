"""``matcher bench oruk``: how fast ``GET /oruk/services`` answers on a large directory.

A synthetic directory is made as :mod:`matcher.bench` makes one (the demo's rows copied onto
real English postcodes from the offline gazetteer, with new ids). Building the filter index,
once per directory version, is timed apart.

For each filter, ``queries`` different queries are built from random services' own fields
(a word of the name, the ages, the venue's postcode with 1,000 m, a taxonomy term, a day) and
each is timed once after one warm-up, two ways; the report gives p50 and p95 in milliseconds:

* ``handler``: what the feed's own code spends on the request: parsing the query, filtering,
  rendering the page of 50 services and encoding it as JSON;
* ``request``: the whole request through FastAPI's in-process test client (routing,
  dependencies, the ASGI round trip and the client's thread hand-over added; no network),
  as wall-clock time and as the CPU time the process spent on it (client and server together;
  unlike wall-clock time, it does not grow when other programs share the machine's cores).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["FILTERS", "OrukBenchResult", "run_oruk_bench", "format_oruk_bench"]

#: The filters timed, in order.
FILTERS: tuple[str, ...] = ("none", "search", "ages", "postcode", "taxonomy_term_id",
                            "taxonomy_id", "day", "all five")


@dataclass
class OrukBenchResult:
    size: int
    index_build_ms: float
    p50_ms: dict[str, float] = field(default_factory=dict)          # handler
    p95_ms: dict[str, float] = field(default_factory=dict)
    request_p50_ms: dict[str, float] = field(default_factory=dict)  # through the test client
    request_p95_ms: dict[str, float] = field(default_factory=dict)
    request_cpu_p50_ms: dict[str, float] = field(default_factory=dict)
    matches_median: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "index_build_ms": round(self.index_build_ms, 1),
                "p50_ms": {k: round(v, 2) for k, v in self.p50_ms.items()},
                "p95_ms": {k: round(v, 2) for k, v in self.p95_ms.items()},
                "request_p50_ms": {k: round(v, 2) for k, v in self.request_p50_ms.items()},
                "request_p95_ms": {k: round(v, 2) for k, v in self.request_p95_ms.items()},
                "request_cpu_p50_ms": {k: round(v, 2) for k, v in
                                       self.request_cpu_p50_ms.items()},
                "matches_median": self.matches_median}


def _queries(records: Sequence[Any], name: str, n: int, rng: random.Random) -> list[dict]:
    from matcher.oruk.export import service_terms
    from matcher.vocab import load_vocabulary

    vocab = load_vocabulary()
    out: list[dict] = []
    tries = 0
    while len(out) < n and tries < n * 50:
        tries += 1
        r = records[rng.randrange(len(records))]
        words = [w for w in r.name.split() if len(w) >= 4 and w.isalpha()]
        terms = service_terms(r, vocab)
        days = [d for d, v in (("MO", "weekdays"), ("SA", "weekends")) if v in r.when]
        q: dict[str, Any] | None = None
        if name == "none":
            q = {}
        elif name == "search" and words:
            q = {"search": rng.choice(words)}
        elif name == "ages" and r.min_age is not None and r.max_age is not None:
            q = {"minimum_age": r.min_age, "maximum_age": r.max_age}
        elif name == "postcode" and r.postcode and r.latitude is not None:
            q = {"postcode": r.postcode, "proximity": 1000}
        elif name == "taxonomy_term_id" and terms:
            q = {"taxonomy_term_id": rng.choice(terms)["id"]}
        elif name == "taxonomy_id" and terms:
            q = {"taxonomy_id": rng.choice(terms)["taxonomy_id"]}
        elif name == "day" and days:
            q = {"day": rng.choice(days)}
        elif name == "all five" and words and terms and days and r.postcode and (
                r.latitude is not None):
            q = {"search": rng.choice(words), "minimum_age": r.min_age or 0,
                 "maximum_age": 25 if r.max_age is None else r.max_age,
                 "postcode": r.postcode, "proximity": 1000,
                 "taxonomy_term_id": rng.choice(terms)["id"], "day": rng.choice(days)}
        if q is not None:
            out.append(q)
    return out


def run_oruk_bench(size: int = 10_000, queries: int = 50, *, seed: int = 0,
                   source: str | None = None) -> OrukBenchResult:
    """Time ``GET /oruk/services`` with each filter on a synthetic directory of ``size``."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from matcher.bench import load_base_records, synthetic_directory
    from matcher.geo.postcodes import get_postcode_index
    from matcher.oruk.export import page_of, service_list_item
    from matcher.oruk.feed import feed_index, parse_query
    from matcher.oruk.routes import get_oruk_records, oruk_router

    def handle(params: dict[str, Any]) -> bytes:
        q = parse_query({k: str(v) for k, v in params.items()})
        hits = feed_index(records).services(q)
        start = (q.page - 1) * q.per_page
        page = page_of([service_list_item(records[i]) for i in hits[start:start + q.per_page]],
                       q.page, q.per_page, len(hits))
        return json.dumps(page, ensure_ascii=False).encode("utf-8")

    base, _ = load_base_records(source)
    records = synthetic_directory(base, size, get_postcode_index(), np.random.default_rng(seed))
    started = time.perf_counter()
    feed_index(records)
    result = OrukBenchResult(size=size, index_build_ms=(time.perf_counter() - started) * 1000)
    app = FastAPI()
    app.include_router(oruk_router)
    app.dependency_overrides[get_oruk_records] = lambda: records
    rng = random.Random(seed)
    with TestClient(app) as client:
        for name in FILTERS:
            times: list[float] = []
            request_times: list[float] = []
            cpu_times: list[float] = []
            found: list[int] = []
            for q in _queries(records, name, queries, rng):
                handle(q)                                        # warm-up
                t0 = time.perf_counter()
                handle(q)
                times.append((time.perf_counter() - t0) * 1000)
                client.get("/oruk/services", params=q)          # warm-up
                c0, t0 = time.process_time(), time.perf_counter()
                r = client.get("/oruk/services", params=q)
                request_times.append((time.perf_counter() - t0) * 1000)
                cpu_times.append((time.process_time() - c0) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"/oruk/services?{q} answered {r.status_code}: {r.text}")
                found.append(r.json()["total_items"])
            if times:
                result.p50_ms[name] = float(np.percentile(times, 50))
                result.p95_ms[name] = float(np.percentile(times, 95))
                result.request_p50_ms[name] = float(np.percentile(request_times, 50))
                result.request_p95_ms[name] = float(np.percentile(request_times, 95))
                result.request_cpu_p50_ms[name] = float(np.percentile(cpu_times, 50))
                result.matches_median[name] = float(np.median(found))
    return result


def format_oruk_bench(result: OrukBenchResult) -> str:
    lines = [f"GET /oruk/services on {result.size:,} services (index built in "
             f"{result.index_build_ms:,.0f} ms, once per directory version)",
             f"{'':<18}{'handler (ms)':>16}{'request (ms)':>16}{'request CPU':>12}",
             f"{'filter':<18}{'p50':>8}{'p95':>8}{'p50':>8}{'p95':>8}{'p50':>12}"
             f"{'matches (median)':>18}"]
    for name in FILTERS:
        if name in result.p50_ms:
            lines.append(f"{name:<18}{result.p50_ms[name]:>8.1f}{result.p95_ms[name]:>8.1f}"
                         f"{result.request_p50_ms[name]:>8.1f}"
                         f"{result.request_p95_ms[name]:>8.1f}"
                         f"{result.request_cpu_p50_ms[name]:>12.1f}"
                         f"{result.matches_median[name]:>18,.0f}")
    return "\n".join(lines)
