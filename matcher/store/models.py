"""Every table of the store on one metadata: what Alembic migrates and compares against."""

from __future__ import annotations

from sqlalchemy import MetaData

from matcher.store import coprod, directory, feedback, plans, users
from matcher.store.base import Base

__all__ = ["metadata", "PARTS"]

#: The modules that declare the store's tables.
PARTS = (directory, users, plans, feedback, coprod)


def metadata() -> MetaData:
    """The metadata of every table in the store."""
    return Base.metadata
