"""The ``matcher data-health`` sub-command (added to matcher/cli.py).

Exit codes follow matcher/cli.py: 0 success, 2 bad input (an unreachable store, a CSV file
that cannot be written, a malformed date).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from matcher.errors import MatcherError

__all__ = ["add_data_health_parser", "cmd_data_health"]


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; write it like 2026-11-01"
                                         ) from None


def _top(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number, e.g. 20")
    return value


def add_data_health_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``data-health`` to the ``matcher`` sub-commands."""
    p = sub.add_parser(
        "data-health",
        help="how complete the directory is, its conflicts, and the records to fix first",
        description="Per field, the share of active records that state it, had it read from "
                    "their own words at import, or leave it unknown; the records with no age "
                    "and no needs; conflicts between a record's words and its fields; and the "
                    "records whose fixing would most improve matching, with what to add.")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--csv", metavar="FILE", default=None,
                   help="also write every record to fix to this CSV, to send to providers")
    p.add_argument("--top", type=_top, default=20,
                   help="how many records to fix to print (default 20; the CSV has them all)")
    p.add_argument("--today", type=_date, default=None,
                   help="judge how long ago records were checked on this date (YYYY-MM-DD)")
    p.set_defaults(func=cmd_data_health)
    return p


def cmd_data_health(args: argparse.Namespace) -> int:
    """Read the store, print the data health, and write the CSV when asked."""
    from matcher.data_health import data_health, format_text, to_csv
    from matcher.store import Store

    try:
        store = Store.open(args.database_url)
        try:
            records = store.list_services()
        finally:
            store.close()
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    health = data_health(records, today=args.today)
    if args.csv:
        try:
            # UTF-8 with a byte order mark, so spreadsheets read names and quotes right.
            Path(args.csv).write_text(to_csv(health), encoding="utf-8-sig", newline="")
        except OSError as exc:
            print(f"Could not write {args.csv}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(health.to_dict(top=args.top), indent=2))
    else:
        print(format_text(health, top=args.top))
        if args.csv:
            print(f"\nWrote {len(health.to_fix)} record(s) to fix to {args.csv}")
    return 0
