"""The store's Alembic revisions, numbered 0021, 0022... (one head)."""
