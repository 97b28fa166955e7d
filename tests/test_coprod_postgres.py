"""Co-production on PostgreSQL: the migration's tables, the demand upsert, comments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pg_support import needs_postgres, temp_schema
from sqlalchemy import inspect

from matcher.coprod import comments as cm
from matcher.coprod.demand import add_demand, demand_cells
from matcher.coprod.feedback import record_feedback
from matcher.coprod.tables import COPROD_TABLES
from matcher.store import Store
from matcher.store.feedback import feedback_summary

pytestmark = needs_postgres


@pytest.fixture
def store() -> Iterator[Store]:
    """A store in a new, empty PostgreSQL schema (dropped afterwards)."""
    with temp_schema() as url, Store.open(url) as s:
        yield s


def test_coproduction_on_postgres(store):
    assert {t.name for t in COPROD_TABLES} <= set(inspect(store.engine).get_table_names())
    add_demand(store.engine, [("autism", "primary", "N7", "2026-01")], 4)
    add_demand(store.engine, [("autism", "primary", "N7", "2026-01")], 3)
    assert demand_cells(store.engine, min_count=5, round_to=5) == [
        {"need": "autism", "band": "primary", "district": "N7", "searches": 5}]
    cid = cm.add_comment(store.engine, about="local_offer", topic="missing",
                         words="Ask Jo Bloggs", contact="jo@example.org")
    cm.add_action(store.engine, cid, description="Done it", status="done", service_ids=["S-1"])
    cm.moderate(store.engine, cid, editor="e", theme="Other", remove=["Jo Bloggs"],
                response="Thanks", decision="publish")
    (shown,) = cm.published_comments(store.engine)
    assert shown["comment"] == "Ask [removed]" and shown["actions"][0]["service_ids"] == ["S-1"]
    now = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    assert record_feedback(store.engine, "S-1", "out_of_date", "sess-1234", now=now)[0]
    assert not record_feedback(store.engine, "S-1", "out_of_date", "sess-1234", now=now)[0]
    assert feedback_summary(store.engine)["S-1"]["out_of_date"] == 1
    assert cm.service_check(store.engine, "S-1", None)["check_pending"] is True
