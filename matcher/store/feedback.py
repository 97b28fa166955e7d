"""Anonymous feedback on services: a service id, a kind and the hour it was given (no text,
no IP address, no user). The co-production tables (comments, their contacts and actions,
directory tasks, feedback sessions, demand) are in :mod:`matcher.store.coprod`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import DateTime, Engine, Integer, String, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from matcher.store.base import Base, write_transaction

__all__ = ["FeedbackRow", "FEEDBACK_KINDS", "FeedbackKind", "add_feedback", "feedback_summary"]

FeedbackKind = Literal["helpful", "not_helpful", "out_of_date"]
FEEDBACK_KINDS: tuple[str, ...] = get_args(FeedbackKind)


class FeedbackRow(Base):
    """One piece of anonymous feedback about a service."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def add_feedback(engine: Engine, service_id: str, kind: str,
                 now: dt.datetime | None = None) -> dt.datetime:
    """Record one piece of feedback. The time is kept to the hour only, so a row cannot be
    matched to a request in a web server's log. Returns the stored time."""
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FEEDBACK_KINDS)}")
    at = (now or _now()).astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    with write_transaction(engine) as conn:
        conn.execute(insert(FeedbackRow.__table__),
                     {"service_id": service_id, "kind": kind, "created_at": at})
    return at


def feedback_summary(engine: Engine, since: dt.datetime | None = None) -> dict[str, dict[str, int]]:
    """``{service_id: {kind: count}}`` for every service with feedback (since ``since``)."""
    q = select(FeedbackRow.service_id, FeedbackRow.kind, func.count()).group_by(
        FeedbackRow.service_id, FeedbackRow.kind).order_by(FeedbackRow.service_id)
    if since is not None:
        q = q.where(FeedbackRow.created_at >= since)
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for service_id, kind, n in conn.execute(q):
            out.setdefault(service_id, dict.fromkeys(FEEDBACK_KINDS, 0))[kind] = int(n)
    return out
