"""The ``matcher`` console script.

Exit codes: 0 success, 1 failure of the command's own work (e.g. strict import refused,
evaluation below its floor), 2 bad input (a malformed postcode, an unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.errors import ConfigError, MatcherError, PostcodeError

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


def _prepare_for_servers(database_url: str | None, threshold: int | None = -1,
                         nice: int = 10) -> None:
    """After an import or sync has committed, write the new version's prepared index (the
    matcher every server process maps; :mod:`matcher.engine.snapshot`) for a directory the
    servers would prepare apart (``ApiConfig.prepare_apart_from`` services or more), so that
    they map it instead of building. Never fails the import: a failure is logged and the
    first server that needs the version prepares it."""
    import logging
    import os

    from matcher.allowed import using_vocabulary, vocabulary_at
    from matcher.api.deps import ApiConfig
    from matcher.api.prepare import prepare_after_write
    from matcher.settings import get_settings
    from matcher.store import Store

    if threshold == -1:
        threshold = ApiConfig().prepare_apart_from
    try:
        settings = get_settings()
        models = settings.models_dir or settings.data_dir / "models"
        vocab = vocabulary_at(settings.vocabulary_path)
        with Store.open(database_url or settings.database_url) as store:
            if threshold is None or store.count_services() < threshold:
                return
            # The import is committed; what is left yields the CPU to the servers' requests.
            if nice > 0 and hasattr(os, "nice"):
                os.nice(nice)
            with using_vocabulary(vocab):
                prepare_after_write(store, models, vocab)
    except Exception:  # noqa: BLE001 - the import itself has succeeded
        logging.getLogger("matcher").warning(
            "the directory was imported, but its prepared index was not written; the server "
            "prepares it at its next build", exc_info=True)


def _cmd_import(args: argparse.Namespace) -> int:
    from matcher.errors import DataImportError
    from matcher.ingest import run_import

    try:
        if args.path is None and args.url is None:
            raise DataImportError("Give the file to import, or --url with a feed's address.")
        from matcher.ingest.parallel import default_workers

        summary = run_import(args.path, strict=args.strict, database_url=args.database_url,
                             fmt=args.format or "auto", url=args.url,
                             workers=args.workers or default_workers())
    except MatcherError as exc:
        report = getattr(exc, "report", None)
        if args.json and report is not None:
            # Same keys as a successful import's summary, so scripts can read either.
            payload = {"imported": False, "error": str(exc), "added": 0, "updated": 0,
                       "unchanged": 0, **report.to_dict()}
            print(json.dumps(payload, indent=2))
        elif report is not None:
            print(report.format_text(), file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1 if report is not None else 2
    _prepare_for_servers(args.database_url)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.format_text())
    # The good records are in; a non-zero exit still tells a script some were rejected.
    return 1 if summary.rejected else 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import datetime as dt

    from matcher.evaluation.runner import evaluate_set

    today = dt.date.fromisoformat(args.today) if args.today else None
    report = evaluate_set(args.set_dir, baselines=not args.no_baselines, today=today,
                          free_text_only=args.free_text_only, sparse=args.sparse)
    summary = report.to_dict()
    if args.per_case:
        for row in report.engine:
            print(f"{row.case_id}  ndcg@10={row.ndcg:.3f}  recall3@10={row.recall3:.2f}  "
                  f"violation={int(row.violation)}", file=sys.stderr)
    print(json.dumps(summary, indent=2) if args.json else report.format_text())
    if args.floor:
        floor = json.loads(Path(args.floor).read_text(encoding="utf-8"))
        # The file's "sparse" / "free_text_only" blocks hold the floors of those runs.
        if args.sparse and "sparse" in floor:
            floor = floor["sparse"]
        elif args.free_text_only and "free_text_only" in floor:
            floor = floor["free_text_only"]
        e = summary["engine"]
        problems = []
        if e["ndcg@10"] < floor["ndcg@10"]:
            problems.append(f"NDCG@10 {e['ndcg@10']:.4f} is below the floor {floor['ndcg@10']:.4f}")
        if e["recall3@10"] < floor["recall3@10"]:
            problems.append(f"recall3@10 {e['recall3@10']:.4f} is below the floor {floor['recall3@10']:.4f}")
        if e["violation_rate"] > floor["violation_rate"]:
            problems.append(f"violation rate {e['violation_rate']:.4f} is above the ceiling "
                            f"{floor['violation_rate']:.4f}")
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    return 0


def _cmd_tune_text(args: argparse.Namespace) -> int:
    import datetime as dt

    from matcher.engine.config import load_config
    from matcher.evaluation.tune_text import tune_text

    set_dir = Path(args.set_dir)
    missing = [f for f in ("services.csv", "cases.jsonl") if not (set_dir / f).is_file()]
    if missing:
        print(f"{set_dir} has no {' or '.join(missing)}: give the folder of an evaluation set "
              "(e.g. ../shared/eval/dev)", file=sys.stderr)
        return 2
    if args.folds is not None and args.folds < 2:
        print(f"--folds must be 2 or more (got {args.folds}); leave it out to hold out one "
              "family at a time", file=sys.stderr)
        return 2
    today = dt.date.fromisoformat(args.today) if args.today else None
    tuning = tune_text(set_dir, load_config(), k=args.folds, today=today,
                       progress=(lambda s: print(s, file=sys.stderr)) if args.verbose else None)
    print(tuning.format_text())
    return 0


def _database_url(args: argparse.Namespace) -> str:
    from matcher.settings import get_settings

    return args.database_url or get_settings().database_url


def _cmd_evaluate_labels(args: argparse.Namespace) -> int:
    import datetime as dt

    from matcher.evaluation.labels import evaluate_labels, format_text

    today = dt.date.fromisoformat(args.today) if args.today else None
    try:
        result = evaluate_labels(args.labels, args.shared, today=today)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else format_text(result))
    return 0


def _checked_settings():
    """The settings, read now; ``None`` (after printing what is wrong) when one is invalid."""
    from matcher.errors import ConfigError
    from matcher.settings import get_settings

    get_settings.cache_clear()
    try:
        return get_settings()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _cmd_serve(args: argparse.Namespace) -> int:
    from matcher.api.serve import serve

    settings = _checked_settings()
    if settings is None:
        return 2
    serve(host=args.host, port=args.port, workers=args.workers,
          log_level=args.log_level or settings.log_level, log_format=settings.log_format,
          worker_start_seconds=settings.worker_start_seconds,
          trusted_proxies=settings.trusted_proxies)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    """Load the demo if the store is empty, then run the API and the Streamlit UI together.

    The UI (``ui/Home.py``) runs as a child process in ``ui/`` (so it reads
    ``ui/.streamlit/config.toml``) on port 8501 (``MATCHER_UI_PORT`` changes it) and talks to
    the API through ``MATCHER_API_URL``; Ctrl+C stops both.
    """
    import os
    import subprocess

    from matcher.api.serve import ensure_demo_data, serve
    from matcher.resources import ui_dir

    settings = _checked_settings()
    if settings is None:
        return 2
    try:
        ready = ensure_demo_data(settings)
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not ready:
        return 1
    api_url = f"http://{args.host}:{args.port}"
    ui_port = str(settings.ui_port)
    entry = ui_dir() / "Home.py"
    ui: subprocess.Popen | None = None
    if entry.is_file():
        ui = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", entry.name, "--server.port", ui_port,
             "--server.address", args.host, "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=entry.parent, env={**os.environ, "MATCHER_API_URL": api_url})
        print(f"Open http://{args.host}:{ui_port} for the app. The API is on {api_url} "
              "(API docs at /docs). Ctrl+C stops both.")
    else:
        print(f"Serving the API on {api_url} (API docs at /docs); the app folder "
              f"{entry.parent} is missing, so only the API runs. Ctrl+C stops.")
    try:
        serve(host=args.host, port=args.port, workers=1, log_level=settings.log_level,
              log_format=settings.log_format, worker_start_seconds=settings.worker_start_seconds,
              trusted_proxies=settings.trusted_proxies)
    finally:
        if ui is not None and ui.poll() is None:
            ui.terminate()
            try:
                ui.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ui.kill()
                ui.wait()
    return 0


def _cmd_users(args: argparse.Namespace) -> int:
    from matcher.api import serve as ops

    url = _database_url(args)
    try:
        if args.users_command == "add":
            ops.users_add(url, args.name, args.role)
        elif args.users_command == "list":
            ops.users_list(url)
        elif not ops.users_remove(url, args.name):
            print(f"There is no user called '{args.name}'. See them with: matcher users list",
                  file=sys.stderr)
            return 1
        else:
            print(f"Removed '{args.name}'; their API key no longer works.")
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def _cmd_plans(args: argparse.Namespace) -> int:
    from matcher.api.serve import plans_purge

    try:
        n = plans_purge(_database_url(args))
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Deleted {n} plan(s) past their retention date.")
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    from matcher.store import schema
    from matcher.store.base import open_engine, safe_url

    url = _database_url(args)
    try:
        if args.db_command == "revision":
            return _db_revision(args.message)
        engine = open_engine(url, create=args.db_command == "upgrade")
        try:
            state = schema.probe(engine)
            if isinstance(state, str):
                print(f"{safe_url(url)}: {state}", file=sys.stderr)
                return 2
            if args.db_command == "current":
                print(f"{safe_url(url)}: {schema.describe(state)}")
                return 0 if state.ok else 1
            before, after = schema.upgrade(engine)
        finally:
            engine.dispose()
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if before == after:
        print(f"{safe_url(url)}: already at revision {after}; nothing to do.")
    else:
        print(f"{safe_url(url)}: {schema.describe(state)} Upgraded to revision {after}.")
    return 0


def _db_revision(message: str) -> int:
    """Write a new revision from the models (a source checkout only), on a scratch SQLite."""
    import tempfile

    from matcher.store import schema
    from matcher.store.base import open_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{tmp}/scratch.sqlite")
        try:
            path = schema.new_revision(engine, message)
        finally:
            engine.dispose()
    print(f"Wrote {path}. Read it through (and test it from empty and from the previous "
          "revision, on SQLite and PostgreSQL) before committing it.")
    return 0


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(x.replace("_", "")) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a list of whole numbers; write it like 1000,10000,100000") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive numbers of services, e.g. 1000")
    return sizes


def _cmd_bench(args: argparse.Namespace) -> int:
    from matcher.bench import run_bench

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        report = run_bench(args.sizes, args.queries, seed=args.seed, source=args.source,
                           progress=None if args.json else say)
    except MatcherError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.format_text())
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    from matcher.ingest.sync import sync_feed

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        summary = sync_feed(args.url, database_url=args.database_url, fmt=args.format,
                            resume=not args.restart, delay=args.delay,
                            checkpoint_dir=args.checkpoint_dir, id_prefix=args.id_prefix,
                            progress=None if args.json else say)
    except (MatcherError, KeyboardInterrupt) as exc:
        message = str(exc) if isinstance(exc, MatcherError) else (
            "Interrupted. Nothing in the directory was changed; the pages fetched so far are "
            "kept, so running the same 'matcher sync' again carries on where it stopped.")
        report = getattr(exc, "report", None)
        if args.json:
            print(json.dumps({"synced": False, "error": message,
                              **(report.to_dict() if report is not None else {})}, indent=2))
        elif report is not None:
            print(report.format_text(), file=sys.stderr)
        print(message, file=sys.stderr)
        return 2
    _prepare_for_servers(args.database_url)
    print(json.dumps(summary.to_dict(), indent=2) if args.json else summary.format_text())
    return 1 if summary.rejected else 0


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
    p.add_argument("path", nargs="?", default=None,
                   help="CSV file in the service template, or an Open Referral UK / Outpost "
                        "JSON file (or a folder of saved pages)")
    p.add_argument("--format", choices=["csv", "oruk", "oruk1", "outpost"], default=None,
                   help="what the file is: csv, oruk (ORUK 3.0), oruk1 (ORUK version 1, Open "
                        "Place) or outpost (default: worked out from its content)")
    p.add_argument("--url", default=None,
                   help="page through a live Open Referral UK (or Outpost) /services endpoint "
                        "instead of reading a file (uses the network)")
    p.add_argument("--strict", action="store_true", help="import nothing if any row is bad")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes reading a feed of 5,000 services or more (default: one per "
                        "CPU core, at most 4; 1 reads in this process)")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("evaluate", help="score the engine and four baselines on an evaluation set")
    p.add_argument("set_dir", help="folder holding services.csv and cases.jsonl")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--per-case", action="store_true", help="also print each case's figures")
    p.add_argument("--no-baselines", action="store_true", help="score the engine only")
    p.add_argument("--today", default=None, help="judge freshness on this date (YYYY-MM-DD)")
    p.add_argument("--free-text-only", action="store_true",
                   help="drop each family's list of needs and keep only their own words")
    p.add_argument("--sparse", action="store_true",
                   help="blank the structured fields real feeds leave empty (needs, ages, "
                        "transitions, EHCP, accessibility, languages, referral) before import")
    p.add_argument("--floor", default=None,
                   help="JSON file of minimum figures; exit 1 if the engine falls below them")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("tune-text",
                       help="try the text-relevance settings on an evaluation set (full and "
                            "blanked) and cross-validate the choice over its families")
    p.add_argument("set_dir", help="folder holding services.csv and cases.jsonl")
    p.add_argument("--folds", type=int, default=None,
                   help="number of folds (default: leave one family out at a time)")
    p.add_argument("--today", default=None, help="judge freshness on this date (YYYY-MM-DD)")
    p.add_argument("--verbose", action="store_true", help="print each setting as it runs")
    p.set_defaults(func=_cmd_tune_text)

    p = sub.add_parser("evaluate-labels",
                       help="precision and recall of what the import reads from real records, "
                            "against labels written by reading them")
    p.add_argument("--labels", default="tests/data/labels",
                   help="folder of label files (*.jsonl; default tests/data/labels)")
    p.add_argument("--shared", default="../shared",
                   help="folder holding real-samples/ (default ../shared)")
    p.add_argument("--today", default=None, help="judge dates on this day (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_evaluate_labels)

    p = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--log-level", default=None,
                   choices=["critical", "error", "warning", "info", "debug"],
                   help="lowest level logged (default: MATCHER_LOG_LEVEL, else info)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("run", help="import the demo Local Offer if the store is empty, then serve")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("users", help="API users and their keys")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    users = p.add_subparsers(dest="users_command", required=True)
    u = users.add_parser("add", help="create a user and print their API key (shown once)")
    u.add_argument("name", help="who holds the key, e.g. a login name")
    u.add_argument("--role", required=True,
                   choices=["key_worker", "commissioner", "admin", "editor"])
    users.add_parser("list", help="list users and roles (never keys)")
    u = users.add_parser("remove", help="delete a user; their key stops working")
    u.add_argument("name")
    p.set_defaults(func=_cmd_users)

    p = sub.add_parser("plans", help="key workers' plans")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    plans = p.add_subparsers(dest="plans_command", required=True)
    plans.add_parser("purge", help="delete plans past their retention date")
    p.set_defaults(func=_cmd_plans)

    p = sub.add_parser("db", help="the store's schema (Alembic migrations)")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    db = p.add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create the schema, or bring it to this version's newest "
                                  "revision (also done at every start)")
    db.add_parser("current", help="say which revision the store is at (exit 1 when it is not "
                                  "this version's newest)")
    d = db.add_parser("revision", help="(developers) write a new revision from the models")
    d.add_argument("message", help="what the revision changes, e.g. 'services: add x'")
    p.set_defaults(func=_cmd_db)

    p = sub.add_parser("bench", help="time the engine on synthetic directories of many sizes")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--sizes", type=_parse_sizes, default=[1_000, 10_000, 100_000],
                   help="directory sizes, comma-separated (default 1000,10000,100000)")
    p.add_argument("--queries", type=int, default=20,
                   help="profiles timed per size, after a warm-up (default 20)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--source", default=None,
                   help="services CSV whose rows are copied (default: the demo Local Offer)")
    p.set_defaults(func=_cmd_bench)
    bench = p

    p = sub.add_parser("sync", help="keep the store in step with a live Open Referral UK feed "
                                    "(retries, resumable; withdrawn services kept as inactive)")
    p.add_argument("url", help="the feed's /services endpoint (or its API root)")
    p.add_argument("--format", choices=["auto", "oruk", "oruk1", "outpost"], default="auto",
                   help="the feed's format (default: worked out from its content)")
    p.add_argument("--id-prefix", default=None,
                   help="prefix of the stored ids (default: oruk or outpost); give each feed "
                        "its own, as a sync withdraws the services of its prefix it no longer "
                        "lists")
    p.add_argument("--delay", type=float, default=0.5,
                   help="seconds between two requests (default 0.5)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="folder for the pages fetched so far (default: in the cache folder)")
    p.add_argument("--restart", action="store_true",
                   help="ignore a checkpoint left by an interrupted sync and start again")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: MATCHER_DATABASE_URL or the local SQLite file)")
    p.set_defaults(func=_cmd_sync)

    # Gaps in provision for commissioners (matcher/gaps/cli.py); the gap benchmark is
    # `matcher bench gaps` (also `matcher bench-gaps`).
    from matcher.gaps.cli import add_bench_gaps_parser, add_gaps_parser

    add_gaps_parser(sub)
    add_bench_gaps_parser(sub)
    bench_targets = bench.add_subparsers(dest="bench_target", required=False,
                                         metavar="{gaps,import,oruk,rebuild}")
    add_bench_gaps_parser(bench_targets, "gaps")
    # The import benchmark: `matcher bench import` (also `matcher bench-import`).
    from matcher.ingest.bench import add_bench_import_parser

    add_bench_import_parser(sub)
    add_bench_import_parser(bench_targets, "import")
    # ORUK publishing: `matcher oruk-check URL`, `matcher bench oruk` (also `bench-oruk`).
    from matcher.oruk.cli import add_bench_oruk_parser, add_oruk_check_parser

    add_oruk_check_parser(sub)
    add_bench_oruk_parser(sub)
    add_bench_oruk_parser(bench_targets, "oruk")
    # Matching during re-imports, and a server's start: `matcher bench rebuild`.
    from matcher.rebuild_bench import add_bench_rebuild_parser

    add_bench_rebuild_parser(sub)
    add_bench_rebuild_parser(bench_targets, "rebuild")

    # Data health for the directory team (matcher/data_health_cli.py).
    from matcher.data_health_cli import add_data_health_parser

    add_data_health_parser(sub)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:   # e.g. an invalid MATCHER_* setting: say which, no traceback
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
