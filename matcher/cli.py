"""The ``matcher`` console script.

Exit codes: 0 success, 1 failure of the command's own work (e.g. strict import refused,
evaluation below its floor), 2 bad input (a malformed postcode, an unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from matcher.errors import MatcherError, PostcodeError

__all__ = ["main", "build_parser"]


def _cmd_postcode(args: argparse.Namespace) -> int:
    from matcher.geo.postcodes import get_postcode_index

    try:
        loc = get_postcode_index().lookup(args.postcode)
    except PostcodeError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({
            "postcode": loc.postcode,
            "latitude": round(loc.latitude, 6),
            "longitude": round(loc.longitude, 6),
            "kind": loc.kind,
            "count": loc.count,
        }))
    else:
        what = {"postcode": "", "sector": " (centre of postcode sector)",
                "district": " (centre of postcode district)"}[loc.kind]
        print(f"{loc.postcode}{what}: latitude {loc.latitude:.6f}, longitude {loc.longitude:.6f}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from matcher.importer import run_import

    try:
        summary = run_import(args.path, strict=args.strict, database_url=args.database_url)
    except MatcherError as exc:
        report = getattr(exc, "report", None)
        if args.json and report is not None:
            print(json.dumps(report.to_dict(), indent=2))
        elif report is not None:
            print(report.format_text(), file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1 if report is not None else 2
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.format_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="matcher",
        description="SEND Local Offer needs-matcher: find the services that fit a child, and say why.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("postcode", help="resolve a GB postcode, sector or district (offline)")
    p.add_argument("postcode", help='e.g. "N7 8JN", "n78jn", "N7 8" or "N7"')
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_postcode)

    p = sub.add_parser("import", help="import a Local Offer CSV (contract template) into the store")
    p.add_argument("path", help="CSV file in the service template")
    p.add_argument("--strict", action="store_true", help="import nothing if any row is bad")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    p.set_defaults(func=_cmd_import)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
