"""Baseline: every table of the store, and the adoption of a store written before Alembic.

Revision ID: 0021
Revises: (none)

On an empty database it creates every table: the service directory, API users, plans,
feedback and the co-production tables.

On a store written before Alembic (a ``schema_version`` table with steps 1, 2, 10 and/or 20,
and the tables the API created as it needed them) it creates only what is missing and adds the
columns of steps 2 (``audience``, ``status``, ``facts``) and 20 (``ratings``,
``accreditations``, ``outcomes``, ``outside_area``, ``used_by_local_families``) where they are
missing, with the defaults those steps gave existing rows; every row is kept. The
``schema_version`` table is then dropped: Alembic's ``alembic_version`` replaces it. Numbered
21 to follow those steps.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from matcher.errors import ConfigError

revision = "0021"
down_revision = None
branch_labels = None
depends_on = None

#: The highest step a store written before Alembic can have.
LAST_LEGACY_STEP = 20


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _services() -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("categories", _json(), nullable=False),
        sa.Column("needs_raw", sa.Text(), nullable=False),
        sa.Column("needs", _json(), nullable=False),
        sa.Column("needs_unrecognised", _json(), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("max_age", sa.Integer(), nullable=True),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("service_area", _json(), nullable=False),
        sa.Column("delivery", _json(), nullable=False),
        sa.Column("cost", sa.String(length=32), nullable=True),
        sa.Column("cost_details", sa.Text(), nullable=False),
        sa.Column("when", _json(), nullable=False),
        sa.Column("accessibility", _json(), nullable=False),
        sa.Column("languages", _json(), nullable=False),
        sa.Column("referral", _json(), nullable=False),
        sa.Column("ehcp_required", sa.Boolean(), nullable=False),
        sa.Column("transitions", _json(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("audience", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("facts", _json(), nullable=False),
        sa.Column("ratings", _json(), nullable=False),
        sa.Column("accreditations", _json(), nullable=False),
        sa.Column("outcomes", _json(), nullable=False),
        sa.Column("outside_area", sa.Boolean(), nullable=False),
        sa.Column("used_by_local_families", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


#: Columns added to ``services`` by the steps after the first, with the default each step gave
#: the rows already there ("json" columns default to an empty list).
_LATER_SERVICE_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("audience", "json", "'[]'"),
    ("status", "VARCHAR(16)", "'active'"),
    ("facts", "json", "'[]'"),
    ("ratings", "json", "'[]'"),
    ("accreditations", "json", "'[]'"),
    ("outcomes", "json", "'[]'"),
    ("outside_area", "BOOLEAN", "FALSE"),
    ("used_by_local_families", "BOOLEAN", "FALSE"),
)

#: Every other table: (name, columns and constraints, indexes as (name, columns, unique)).
_TABLES: tuple[tuple[str, list, list[tuple[str, list[str], bool]]], ...] = (
    ("api_users", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    ], [("ix_api_users_key_id", ["key_id"], True)]),
    ("feedback", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ], [("ix_feedback_service_id", ["service_id"], False)]),
    ("plans", [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ], [("ix_plans_owner", ["owner"], False),
        ("ix_plans_retain_until", ["retain_until"], False)]),
    ("comments", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("about", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.String(length=200), nullable=True),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("who", sa.String(length=32), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("theme", sa.String(length=80), nullable=True),
        sa.Column("published_words", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    ], [("ix_comments_created_on", ["created_on"], False),
        ("ix_comments_published_on", ["published_on"], False),
        ("ix_comments_service_id", ["service_id"], False),
        ("ix_comments_status", ["status"], False)]),
    ("comment_contacts", [
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("delete_after", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id"),
    ], [("ix_comment_contacts_delete_after", ["delete_after"], False)]),
    ("comment_actions", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("service_ids", sa.JSON(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    ], [("ix_comment_actions_comment_id", ["comment_id"], False)]),
    ("directory_tasks", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    ], [("ix_directory_tasks_service_id", ["service_id"], False),
        ("ix_directory_tasks_status", ["status"], False)]),
    ("feedback_seen", [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("service_id", sa.String(length=200), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service_id", "session_hash"),
    ], [("ix_feedback_seen_seen_on", ["seen_on"], False)]),
    ("demand_cells", [
        sa.Column("need", sa.String(length=64), nullable=False),
        sa.Column("band", sa.String(length=40), nullable=False),
        sa.Column("district", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("need", "band", "district", "month"),
    ], []),
)


def _legacy_step(bind: sa.Connection) -> int | None:
    if not sa.inspect(bind).has_table("schema_version"):
        return None
    step = int(bind.execute(sa.text("SELECT max(version) FROM schema_version")).scalar() or 0)
    if step > LAST_LEGACY_STEP:
        raise ConfigError(
            f"The database's schema_version is {step}, newer than any this program knows "
            f"({LAST_LEGACY_STEP}). Upgrade send-matcher, or point MATCHER_DATABASE_URL at "
            "another database.")
    return step


def upgrade() -> None:
    bind = op.get_bind()
    _legacy_step(bind)
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    if "services" not in existing:
        op.create_table("services", *_services())
    else:
        have = {c["name"] for c in inspector.get_columns("services")}
        json_type = "JSONB" if bind.dialect.name == "postgresql" else "JSON"
        for name, kind, default in _LATER_SERVICE_COLUMNS:
            if name not in have:
                kind = json_type if kind == "json" else kind
                op.execute(f"ALTER TABLE services ADD COLUMN {name} {kind} NOT NULL "
                           f"DEFAULT {default}")
    for name, items, indexes in _TABLES:
        if name in existing:
            continue
        op.create_table(name, *items)
        for index, columns, unique in indexes:
            op.create_index(index, name, columns, unique=unique)
    if "schema_version" in existing:
        op.drop_table("schema_version")


def downgrade() -> None:
    for name, _items, _indexes in reversed(_TABLES):
        op.drop_table(name)
    op.drop_table("services")
