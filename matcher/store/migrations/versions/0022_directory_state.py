"""The directory's version counter and fingerprint; what each service's words were read to say.

Revision ID: 0022
Revises: 0021

``directory_state`` holds one row: a counter bumped by every write that changes a service
(in the same transaction) and the directory's content fingerprint, so that a server finds
out whether the directory changed with one row read instead of hashing every row. It is
seeded here from the services already stored (counter 1 when there are any, else 0).

``service_reading`` keeps, per service, the needs its name and description were read to
mention and exclude, with the content hash of the record read and a key of the vocabulary and
reading code; it starts empty and is filled by the next build.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    state = op.create_table(
        "directory_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "service_reading",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reading_key", sa.String(length=32), nullable=False),
        sa.Column("mentioned", _json(), nullable=False),
        sa.Column("excluded", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    bind = op.get_bind()
    rows = sorted(bind.execute(sa.text("SELECT id, content_hash FROM services")).all())
    digest = hashlib.sha256()
    for service_id, content_hash in rows:
        digest.update(f"{service_id}\x1f{content_hash}\x1e".encode())
    op.bulk_insert(state, [{"id": 1, "version": 1 if rows else 0,
                            "fingerprint": digest.hexdigest()[:16] if rows else "empty",
                            "changed_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table("service_reading")
    op.drop_table("directory_state")
