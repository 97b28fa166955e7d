"""Feedback buttons that count once per browser session and reach the directory team.

:func:`record_feedback` stores a "helpful", "not helpful" or "out of date" press through
:class:`matcher.store.feedback.FeedbackRow` (kind and hour only) only the first time a browser session presses a
button for a service (the session's random token is kept only as a salted hash, for
:attr:`CoprodConfig.session_days`); an "out of date" press also opens, or adds a report to, a
task for the directory team.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import Engine, delete, insert, select

from matcher.coprod.comments import _open_task
from matcher.coprod.tables import FeedbackSeenRow
from matcher.store.base import write_transaction
from matcher.store.feedback import FEEDBACK_KINDS, FeedbackRow

__all__ = ["session_hash", "record_feedback"]

_SALT = b"send-matcher feedback session v1"


def session_hash(service_id: str, session: str) -> str:
    """SHA-256 of the session token with the service id (the token is never stored)."""
    return hashlib.sha256(_SALT + b"\x1f" + service_id.encode() + b"\x1f"
                          + session.encode()).hexdigest()


def record_feedback(engine: Engine, service_id: str, kind: str, session: str, *,
                    session_days: int = 7, now: dt.datetime | None = None
                    ) -> tuple[bool, dt.datetime | None]:
    """Count one press unless this session already gave feedback on this service.

    Returns ``(counted, recorded_at)``; ``recorded_at`` is ``None`` for a repeat.
    """
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"kind must be one of {', '.join(FEEDBACK_KINDS)}")
    now = now or dt.datetime.now(dt.UTC)
    at = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    today = now.date()
    digest = session_hash(service_id, session)
    t = FeedbackSeenRow.__table__
    with write_transaction(engine) as conn:
        conn.execute(delete(t).where(t.c.seen_on < today - dt.timedelta(days=session_days)))
        seen = conn.execute(select(t.c.id).where(t.c.service_id == service_id,
                                                 t.c.session_hash == digest)).first()
        if seen is not None:
            return False, None
        conn.execute(insert(t).values(service_id=service_id, session_hash=digest, seen_on=today))
        if kind == "out_of_date":
            _open_task(conn, service_id, "out_of_date", None, today)
        conn.execute(insert(FeedbackRow.__table__).values(service_id=service_id, kind=kind,
                                                          created_at=at))
    return True, at
