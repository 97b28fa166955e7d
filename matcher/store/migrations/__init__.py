"""The store's Alembic environment and revisions (see :mod:`matcher.store.schema`)."""
