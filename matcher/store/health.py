"""Whether the store can take writes now: what ``GET /health/ready`` and the start check ask.

Nothing here writes: a readiness probe must not queue behind an import holding the write lock.
The store is not ready when its SQLite file is gone or replaced, when the file, its folder or
its file system is read-only, when the database cannot be read, when its schema is not this
program's newest revision, or (PostgreSQL) when the server or the session is read-only or the
database user may not write the store's tables.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from matcher.store.base import guard_of
from matcher.store.directory import Store

__all__ = ["store_problems", "WRITTEN_TABLES"]

#: The tables a request writes to (plans, feedback, comments, imports, users).
WRITTEN_TABLES = ("services", "api_users", "plans", "feedback", "comments", "feedback_seen",
                  "demand_cells")


def _postgres_problems(store: Store) -> list[str]:
    problems: list[str] = []
    with store.engine.connect() as conn:
        recovery, read_only = conn.execute(text(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')")).one()
        if recovery:
            problems.append("The PostgreSQL server is a read-only standby (in recovery). Point "
                            "MATCHER_DATABASE_URL at the primary.")
        elif read_only == "on":
            problems.append("PostgreSQL transactions are read-only for this database or user "
                            "(default_transaction_read_only). Turn that off for the store.")
        denied = [t for t in WRITTEN_TABLES if not conn.execute(
            text("SELECT has_table_privilege(CAST(:t AS text), 'INSERT')"), {"t": t}).scalar()]
        if denied:
            problems.append(f"The database user may not write the tables {', '.join(denied)}. "
                            "Grant it INSERT, UPDATE and DELETE on them.")
    return problems


def store_problems(store: Store) -> list[str]:
    """Every reason the store cannot take writes now, in plain English (empty: ready)."""
    from matcher.store.schema import probe

    guard = guard_of(store.engine)
    if guard is not None and (problem := guard.write_problem()):
        return [problem]
    state = probe(store.engine)
    if isinstance(state, str):
        return [state]
    problems = [] if state.ok else [state.problem() or "The schema is not current."]
    if store.engine.dialect.name == "postgresql" and state.ok:
        try:
            problems += _postgres_problems(store)
        except SQLAlchemyError as exc:
            problems.append(f"The database cannot be checked: {exc}.")
    return problems
