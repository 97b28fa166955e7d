"""The ``matcher gaps`` and ``matcher bench-gaps`` sub-commands (added to matcher/cli.py).

Exit codes follow matcher/cli.py: 0 success, 2 bad input (unknown district, unreadable file,
bad option value).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matcher.errors import MatcherError

__all__ = ["add_gaps_parser", "add_bench_gaps_parser", "cmd_gaps", "cmd_bench_gaps",
           "load_services"]


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]


def add_gaps_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``gaps`` to the ``matcher`` sub-commands."""
    p = sub.add_parser(
        "gaps", help="gaps in provision: reachable services per small area x need x age band",
        description="Count the eligible services a child could reach from each postcode sector "
                    "(or district), for every need and age band, and flag gaps (none) and thin "
                    "cells (one). Counts of children under 10 are shown as <10.")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--districts", help="postcode districts, e.g. N1,N7,EC1V")
    where.add_argument("--around", metavar="POSTCODE", help='a postcode, e.g. "N7 8JN"')
    where.add_argument("--all-areas", action="store_true",
                       help="every postcode sector (or district) in Great Britain")
    p.add_argument("--radius-km", type=float, default=5.0,
                   help="with --around: areas whose centre is within this distance (default 5)")
    p.add_argument("--level", choices=["sector", "district"], default=None,
                   help="small areas (default from [gaps] in the config: sector)")
    p.add_argument("--mode", default=None,
                   help="travel mode: a travel_modes value of the vocabulary other than "
                        "online_only (default from the config: public_transport)")
    p.add_argument("--minutes", type=float, default=None,
                   help="one time limit for every band (default: each band's own, 45 or 75)")
    p.add_argument("--by", choices=["need", "area"], default="need",
                   help="columns: canonical needs (default) or the four broad areas")
    p.add_argument("--need", default=None, help="only these needs, e.g. autism,adhd")
    p.add_argument("--band", default=None, help="only these bands, e.g. primary,secondary")
    p.add_argument("--category", default=None,
                   help="count only services in these categories, e.g. short_breaks,health")
    p.add_argument("--serves", default=None,
                   help="levels that count as serving a need (default from the config: "
                        "stated,broader,area,all_send; also text, unstated)")
    p.add_argument("--demand", default=None,
                   help="CSV of area,need,band,children: rank gaps by children affected")
    p.add_argument("--services", default=None,
                   help="a Local Offer CSV to analyse instead of the store")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL of the store (default: MATCHER_DATABASE_URL or the local "
                        "SQLite file)")
    p.add_argument("--config", default=None, help="TOML file with a [gaps] table")
    p.add_argument("--no-near-misses", action="store_true", help="skip the near-miss search")
    p.add_argument("--out", required=True, help="CSV to write (near misses go beside it)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_gaps)
    return p


def add_bench_gaps_parser(sub: argparse._SubParsersAction, name: str = "bench-gaps"
                          ) -> argparse.ArgumentParser:
    """Add the gap benchmark (``bench-gaps``, or ``gaps`` under a ``bench`` command)."""
    p = sub.add_parser(name, help="time the gap analysis on the demo borough and on all of GB",
                       description="Demo: every sector of the demo borough x every need x "
                                   "every band on the demo data. GB: every postcode sector in "
                                   "Great Britain against a synthetic directory of demo rows "
                                   "copied onto random real postcodes. Each runs in its own "
                                   "process; peak memory is that process's.")
    p.add_argument("--scenario", choices=["demo", "gb", "store", "all"], default="all",
                   help="demo, gb (prepared arrays), both (all), or store: import --services "
                        "synthetic services into a fresh store, then time `matcher gaps` and "
                        "GET /gaps on it for the council's districts and all of Great Britain")
    p.add_argument("--no-api", action="store_true", help="store scenario: skip the API part")
    p.add_argument("--services", type=int, default=100_000,
                   help="size of the synthetic GB directory (default 100000)")
    p.add_argument("--repeats", type=int, default=3, help="runs per scenario (median reported)")
    p.add_argument("--out-dir", default=None, help="also write each scenario's CSV files here")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_bench_gaps)
    return p


def load_services(services_csv: str | None, database_url: str | None, gaps_cfg):
    """The directory as GapServices: from a CSV, else from the store (active services only)."""
    from matcher.gaps.supply import GapServices

    if services_csv:
        from matcher.ingest import read_service_csv
        from matcher.services import records_to_frame

        records, report = read_service_csv(services_csv, progress=False)
        if report.rejected:
            print(f"Note: {report.rejected} row(s) of {services_csv} were not usable and are "
                  "left out; run `matcher import` on it to see why.", file=sys.stderr)
        if not records:
            raise MatcherError(f"No usable service in {services_csv}. Check it against the "
                               "Local Offer template.")
        return GapServices.from_frame(records_to_frame(records), gaps=gaps_cfg)
    from matcher.gaps.store_read import read_gap_services
    from matcher.store import Store

    store = Store.open(database_url)
    try:
        # The columns a gap analysis uses, with the readings of the records' words the server
        # stores (read now, and stored, for records that have none yet).
        services = read_gap_services(store, gaps=gaps_cfg)
    finally:
        store.close()
    if services.n == 0:
        raise MatcherError("The store holds no active services. Import a Local Offer first "
                           "(matcher import FILE) or give one with --services FILE.")
    return services


def cmd_gaps(args: argparse.Namespace) -> int:
    """Run a gap analysis and write the files."""
    from matcher.gaps.analysis import analyse_gaps
    from matcher.gaps.areas import (
        area_centroids,
        areas_around,
        areas_in_districts,
        district_centroids,
    )
    from matcher.gaps.config import load_gaps_config, parse_gaps_config
    from matcher.gaps.report import attach_demand, read_demand, summarise, write_outputs
    from matcher.geo.postcodes import get_postcode_index

    try:
        cfg = load_gaps_config(args.config)
        if args.serves:
            cfg = parse_gaps_config({**cfg.model_dump(), "serves": _split(args.serves)},
                                    source="--serves")
        level = args.level or cfg.level
        index = get_postcode_index()
        if args.all_areas:
            areas = area_centroids(index, level)
        elif args.districts:
            areas = areas_in_districts(index, _split(args.districts), level)
        else:
            areas = areas_around(index, args.around, args.radius_km, level)
        services = load_services(args.services, args.database_url, cfg)
        centroids = district_centroids(index, services.area_districts)
        report = analyse_gaps(areas, services, by=args.by, needs=_split(args.need) or None,
                              bands=_split(args.band) or None, mode=args.mode,
                              minutes=args.minutes, categories=_split(args.category) or None,
                              with_near_misses=not args.no_near_misses, gaps=cfg,
                              district_centroids=centroids)
        if args.demand:
            report = attach_demand(report, read_demand(args.demand, report))
        written = write_outputs(report, args.out)
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    status = report.cells["status"].value_counts()
    n_gap, n_thin = int(status.get("gap", 0)), int(status.get("thin", 0))
    if args.json:
        top = summarise(report).head(10)
        print(json.dumps({
            "areas": len(areas), "level": report.level, "mode": report.mode,
            "services": services.n, "cells": len(report.cells), "gaps": n_gap, "thin": n_thin,
            "near_misses": len(report.near_misses), "files": [str(p) for p in written],
            "notes": report.notes, "top": top.astype(object).to_dict(orient="records"),
        }, indent=2, default=str))
        return 0
    print(f"{len(areas):,} {report.level}s x {report.cells['need'].nunique()} needs x "
          f"{report.cells['band'].nunique()} bands = {len(report.cells):,} cells, "
          f"{services.n:,} services, by {report.mode.replace('_', ' ')}: "
          f"{n_gap:,} gaps, {n_thin:,} thin.")
    for note in report.notes:
        print(f"Note: {note}")
    top = summarise(report)
    top = top[top["gaps"] > 0].head(10)
    if len(top):
        print("Most gaps (need, band: gap areas / thin areas):")
        for r in top.itertuples(index=False):
            print(f"  {r.need}, {r.band}: {r.gaps} / {r.thin}")
    print("Wrote " + ", ".join(str(p) for p in written))
    return 0


def cmd_bench_gaps(args: argparse.Namespace) -> int:
    """Run the gap benchmarks and print the measured figures."""
    from matcher.gaps.bench import results_json, run_benchmarks

    if args.scenario == "store":
        from matcher.gaps.bench_store import result_dict, run_store_bench

        def say(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

        try:
            result = run_store_bench(args.services, api=not args.no_api,
                                     progress=None if args.json else say)
        except MatcherError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(json.dumps(result_dict(result), indent=2) if args.json else result.format_text())
        return 0
    scenarios = ("demo", "gb") if args.scenario == "all" else (args.scenario,)
    if args.out_dir:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    try:
        results = run_benchmarks(scenarios, repeats=args.repeats, n_services=args.services,
                                 out_dir=args.out_dir)
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(results_json(results))
    else:
        for r in results:
            print(r.format_text())
    return 0
