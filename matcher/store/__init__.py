"""The store: one database (SQLite by default, PostgreSQL too) split by what it holds.

- :mod:`matcher.store.directory`: the service directory and :class:`Store`, the handle that
  opens the database and brings its schema up to date;
- :mod:`matcher.store.users`: API users and the hashes of their keys;
- :mod:`matcher.store.plans`: key workers' plans (logic in :mod:`matcher.plans`);
- :mod:`matcher.store.feedback`: anonymous feedback on services;
- :mod:`matcher.store.coprod`: the co-production tables (logic in :mod:`matcher.coprod`);
- :mod:`matcher.store.base`: what they share (one declarative base, opening a database, the
  write transaction that never confirms a lost write);
- :mod:`matcher.store.schema`: the Alembic migrations of every table (``matcher db upgrade``);
- :mod:`matcher.store.health`: whether the store can take writes now (``GET /health/ready``).
"""

from matcher.store.base import PG_WRITE_LOCK, Base, write_transaction
from matcher.store.directory import ServiceRow, Store, record_hash

__all__ = ["Store", "Base", "ServiceRow", "record_hash", "PG_WRITE_LOCK", "write_transaction"]
