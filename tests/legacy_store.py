"""A frozen copy of how the store built its schema before Alembic (schema steps 1, 2, 10 and
20 recorded in a ``schema_version`` table; API tables created as needed), to make stores "as
an older version left them" for the migration tests. Never change it to follow the models:
it stands for databases already out there.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url

_J = JSON().with_variant(JSONB(), "postgresql")


def _n(name: str, kind, *args, **kw) -> Column:
    return Column(name, kind, *args, nullable=False, **kw)


def _q(name: str, kind) -> Column:
    return Column(name, kind, nullable=True)


def _services_v1(md: MetaData) -> Table:
    """``services`` as step 1 created it (before the columns of steps 2 and 20)."""
    return Table(
        "services", md,
        Column("id", String(200), primary_key=True),
        _n("name", Text), _n("organisation", Text), _n("description", Text),
        _n("categories", _J), _n("needs_raw", Text), _n("needs", _J),
        _n("needs_unrecognised", _J), _q("min_age", Integer), _q("max_age", Integer),
        _q("postcode", String(16)), _q("latitude", Float), _q("longitude", Float),
        _n("address", Text), _n("service_area", _J), _n("delivery", _J),
        _q("cost", String(32)), _n("cost_details", Text), _n("when", _J),
        _n("accessibility", _J), _n("languages", _J), _n("referral", _J),
        _n("ehcp_required", Boolean), _n("transitions", _J), _n("url", Text),
        _n("phone", Text), _n("email", Text), _q("last_reviewed", Date),
        _n("source", String(200)), _n("content_hash", String(64)),
        _n("imported_at", DateTime(timezone=True)),
    )


def _schema_version(md: MetaData) -> Table:
    return Table("schema_version", md,
                 Column("version", Integer, primary_key=True, autoincrement=False),
                 _n("description", Text), _n("applied_at", DateTime(timezone=True)))


def _step2(conn) -> None:
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    conn.execute(text(f"ALTER TABLE services ADD COLUMN audience {json_type} "
                      "NOT NULL DEFAULT '[]'"))
    conn.execute(text("ALTER TABLE services ADD COLUMN status VARCHAR(16) NOT NULL "
                      "DEFAULT 'active'"))
    conn.execute(text(f"ALTER TABLE services ADD COLUMN facts {json_type} NOT NULL DEFAULT '[]'"))


def _step20(conn) -> None:
    json_type = "JSONB" if conn.dialect.name == "postgresql" else "JSON"
    for name in ("ratings", "accreditations", "outcomes"):
        conn.execute(text(f"ALTER TABLE services ADD COLUMN {name} {json_type} "
                          "NOT NULL DEFAULT '[]'"))
    for name in ("outside_area", "used_by_local_families"):
        conn.execute(text(f"ALTER TABLE services ADD COLUMN {name} BOOLEAN NOT NULL "
                          "DEFAULT FALSE"))


def _coprod(md: MetaData) -> list[Table]:
    """Step 10: the co-production tables."""
    comments = Table(
        "comments", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("created_on", Date, index=True), _n("about", String(16)),
        Column("service_id", String(200), nullable=True, index=True), _n("topic", String(32)),
        _n("who", String(32)), _n("words", Text), _n("status", String(16), index=True),
        _q("theme", String(80)), _q("published_words", Text), _q("response", Text),
        _q("responded_on", Date), Column("published_on", Date, nullable=True, index=True),
        _q("decided_by", String(100)))
    contacts = Table(
        "comment_contacts", md,
        Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"),
               primary_key=True),
        _n("address", String(320)), _n("delete_after", Date, index=True))
    actions = Table(
        "comment_actions", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), index=True),
        _n("description", Text), _n("status", String(16)), _n("reason", Text),
        _n("service_ids", JSON), _n("updated_on", Date))
    tasks = Table(
        "directory_tasks", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("service_id", String(200), index=True), _n("kind", String(32)),
        _q("comment_id", Integer), _n("reports", Integer), _n("status", String(16), index=True),
        _n("note", Text), _n("created_on", Date), _q("closed_on", Date))
    seen = Table(
        "feedback_seen", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("service_id", String(200)), _n("session_hash", String(64)),
        _n("seen_on", Date, index=True), UniqueConstraint("service_id", "session_hash"))
    demand = Table(
        "demand_cells", md,
        Column("need", String(64), primary_key=True), Column("band", String(40), primary_key=True),
        Column("district", String(8), primary_key=True),
        Column("month", String(7), primary_key=True), _n("count", Integer))
    return [comments, contacts, actions, tasks, seen, demand]


def _api_tables(md: MetaData) -> list[Table]:
    """``api_users``, ``feedback`` and ``plans``: created by the API when first needed."""
    users = Table(
        "api_users", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("name", String(100), unique=True), _n("role", String(32)),
        _n("key_id", String(16), unique=True, index=True), _n("key_hash", String(64)),
        _n("created_at", DateTime(timezone=True)))
    feedback = Table(
        "feedback", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        _n("service_id", String(200), index=True), _n("kind", String(32)),
        _n("created_at", DateTime(timezone=True)))
    plans = Table(
        "plans", md,
        Column("id", String(32), primary_key=True), _n("owner", String(100), index=True),
        _n("content", JSON), _n("created_at", DateTime(timezone=True)),
        _n("updated_at", DateTime(timezone=True)), _n("retain_until", Date, index=True))
    return [users, feedback, plans]


#: The steps a store can have recorded, and what each did.
STEPS = {1: "services table", 2: "services: audience, status and facts",
         10: "co-production tables",
         20: "services: ratings, accreditations, outcomes and out-of-area"}


def make_legacy_store(url: str, steps: tuple[int, ...] = (1, 2, 10, 20), *,
                      api_tables: bool = True) -> None:
    """Create, in an empty database at ``url``, the schema an older version left after applying
    ``steps`` (always including 1), the API's tables when ``api_tables``, and some rows: one
    service, and a user, a plan and a piece of feedback when there are API tables."""
    assert 1 in steps
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    md = MetaData()
    services = _services_v1(md)
    versions = _schema_version(md)
    coprod = _coprod(md)
    api = _api_tables(md)
    now = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            services.create(conn)
            versions.create(conn)
            row = {c.name: None for c in services.columns}
            row.update(id="S1", name="Swim club", organisation="Org", description="Swimming.",
                       categories=["leisure"], needs_raw="autism", needs=["autism"],
                       needs_unrecognised=[], address="", service_area=[], delivery=[],
                       cost_details="", when=[], accessibility=[], languages=[], referral=[],
                       ehcp_required=False, transitions=[], url="", phone="", email="",
                       source="csv", content_hash="0" * 64, imported_at=now, min_age=5,
                       max_age=18)
            conn.execute(insert(services), row)
            if 2 in steps:
                _step2(conn)
            if 10 in steps:
                for table in coprod:
                    table.create(conn)
            if 20 in steps:
                _step20(conn)
            conn.execute(insert(versions), [
                {"version": v, "description": STEPS[v], "applied_at": now} for v in steps])
            if api_tables:
                users, feedback, plans = api
                for table in api:
                    table.create(conn)
                conn.execute(insert(users), {"name": "ada", "role": "admin",
                                             "key_id": "0123abcd", "key_hash": "f" * 64,
                                             "created_at": now})
                conn.execute(insert(feedback), {"service_id": "S1", "kind": "helpful",
                                                "created_at": now})
                conn.execute(insert(plans), {
                    "id": "p" * 32, "owner": "ada", "created_at": now, "updated_at": now,
                    "retain_until": dt.date(2027, 11, 1),
                    "content": {"label": "AB", "profile": {"age": 9}, "services": [],
                                "next_steps": []}})
    finally:
        engine.dispose()
