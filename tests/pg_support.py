"""What the PostgreSQL tests share: the server's URL, the skip marker and a throwaway schema.

Start a throwaway server with ``eval "$(.ci/postgres)"`` (it prints MATCHER_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("MATCHER_TEST_POSTGRES_URL", "").strip()

needs_postgres = pytest.mark.skipif(
    not PG_URL,
    reason="PostgreSQL tests need MATCHER_TEST_POSTGRES_URL (postgresql+psycopg://...); "
           "start a local server and set it with: eval \"$(.ci/postgres)\"",
)


@contextmanager
def temp_schema() -> Iterator[str]:
    """A new, empty PostgreSQL schema; yields a URL whose ``search_path`` is that schema."""
    name = f"t_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={name}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()
