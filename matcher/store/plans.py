"""Key workers' plans, as stored (what a plan holds and how long it is kept: :mod:`matcher.plans`).

A plan carries a pseudonymous label chosen by the key worker, a profile (needs, a postcode) and
the services chosen; it is deleted after its retention date. Only its owner may read it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.base import Base

__all__ = ["PlanRow"]


class PlanRow(Base):
    """One key worker's plan (content as JSON, see :mod:`matcher.plans`)."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    content: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    retain_until: Mapped[dt.date] = mapped_column(Date, index=True)
