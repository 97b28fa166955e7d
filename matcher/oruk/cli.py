"""Command-line parts of ORUK publishing: ``matcher oruk-check`` (the dashboard's feed tests
against any ORUK 3.0 feed) and ``matcher bench oruk`` (speed of ``/oruk/services``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

__all__ = ["add_oruk_check_parser", "add_bench_oruk_parser"]

_DEFAULT_SCHEMAS = (Path(__file__).resolve().parents[2].parent / "shared" / "real-samples"
                    / "oruk-uk-profile-schema")


def add_oruk_check_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("oruk-check", help="run the ORUK dashboard's feed tests against an "
                                          "Open Referral UK 3.0 feed",
                       description="Five searches built from sampled services' own fields "
                                   "(text, age, postcode, taxonomy, time), paging on the "
                                   "first, middle and last page, and every answer checked "
                                   "against the profile's JSON schemas. Reads the feed over "
                                   "the network: give its root URL.")
    p.add_argument("url", help="the feed's root, e.g. http://localhost:8000/oruk")
    p.add_argument("--schemas", default=None,
                   help="folder holding the profile's service.json, service_list.json and "
                        "openapi.json (default: ../shared/real-samples/oruk-uk-profile-schema "
                        "when present; without them no schema is checked)")
    p.add_argument("--sample", type=int, default=50,
                   help="services tried per search (default 50)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=cmd_oruk_check)
    return p


def cmd_oruk_check(args: argparse.Namespace) -> int:
    import httpx

    from matcher.oruk.conformance import ProfileSchemas, check_feed, getter_for

    folder = Path(args.schemas) if args.schemas else _DEFAULT_SCHEMAS
    schemas = None
    if (folder / "service.json").is_file():
        schemas = ProfileSchemas(folder)
    elif args.schemas:
        print(f"No service.json in {folder}: give the folder of the profile's schema files.",
              file=sys.stderr)
        return 2
    locate = None
    try:
        from matcher.geo.postcodes import get_postcode_index

        index = get_postcode_index()

        def locate(postcode: str):
            try:
                loc = index.lookup(postcode)
            except ValueError:
                return None
            return loc.latitude, loc.longitude
    except Exception:  # noqa: BLE001 - without the gazetteer the distance check is skipped
        locate = None
    with httpx.Client(timeout=30.0, follow_redirects=True) as client:
        report = check_feed(getter_for(client, args.url), sample=args.sample, seed=args.seed,
                            schemas=schemas, locate=locate)
    if args.json:
        print(json.dumps({"ok": report.ok, "row": report.row(), "problems": report.problems(),
                          "services": report.services, "requests": report.requests}, indent=2))
    else:
        for key, value in report.row().items():
            print(f"{key:<14} {value}")
        if schemas is None:
            print("(no schema files: answers were not checked against the profile's schemas)")
        for problem in report.problems()[:20]:
            print(f"  - {problem}")
    return 0 if report.ok else 1


def add_bench_oruk_parser(sub: argparse._SubParsersAction, name: str = "bench-oruk"
                          ) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help="time GET /oruk/services with each filter on a synthetic "
                                  "directory")
    p.add_argument("--size", type=int, default=10_000, help="services (default 10000)")
    p.add_argument("--queries", type=int, default=50,
                   help="queries timed per filter (default 50)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--source", default=None,
                   help="services CSV whose rows are copied (default: the demo Local Offer)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench_oruk)
    return p


def cmd_bench_oruk(args: argparse.Namespace) -> int:
    from matcher.oruk.bench import format_oruk_bench, run_oruk_bench

    result = run_oruk_bench(args.size, args.queries, seed=args.seed, source=args.source)
    print(json.dumps(result.to_dict(), indent=2) if args.json else format_oruk_bench(result))
    return 0
