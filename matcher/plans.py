"""Key workers' plans: a pseudonymous label, a profile, the services chosen, dated next steps.

A plan belongs to the key worker who made it (``owner``); no one else can read it. Every plan
has a retention date, 12 months after it was made unless the key worker sets an earlier one;
the day after that date it is deleted (:func:`purge_expired`, run on every access to plans by
the API and by ``matcher plans purge``).

The label must not identify the child: use initials or your own case reference.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, delete, insert, select, update

from matcher.engine.profile import Profile, Transition
from matcher.store.base import write_transaction
from matcher.store.plans import PlanRow

__all__ = [
    "RETENTION_MONTHS",
    "ChosenService",
    "NextStep",
    "PlanContent",
    "Plan",
    "default_retention",
    "create_plan",
    "get_plan",
    "list_plans",
    "replace_plan",
    "delete_plan",
    "purge_expired",
]

#: How long a plan is kept when the key worker does not choose an earlier date.
RETENTION_MONTHS = 12

_EMAIL = re.compile(r"\S+@\S+")


def default_retention(today: dt.date | None = None) -> dt.date:
    """The same day 12 months later (28 February when today is 29 February)."""
    today = today or dt.date.today()
    year, month = divmod(today.month - 1 + RETENTION_MONTHS, 12)
    year, month = today.year + year, month + 1
    for day in (today.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


class ChosenService(BaseModel):
    """A service the key worker picked, with their note."""

    model_config = ConfigDict(extra="forbid")

    service_id: str = Field(..., min_length=1, max_length=200, description="the service's id")
    note: str = Field("", max_length=2000, description="why it was chosen, what was agreed")
    reasons: list[str] = Field(default_factory=list, max_length=10,
                               description="why the matcher suggested it, as shown when it "
                                           "was chosen (kept so the printed plan can say why)")

    @field_validator("reasons")
    @classmethod
    def _short_reasons(cls, v: list[str]) -> list[str]:
        if any(len(r) > 500 for r in v):
            raise ValueError("each reason must be 500 characters or fewer")
        return [r.strip() for r in v if r.strip()]


class NextStep(BaseModel):
    """Something to do next, optionally by a date."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(..., min_length=1, max_length=500, description="what to do")
    due: dt.date | None = Field(None, description="by when (YYYY-MM-DD)")
    owner: str = Field("", max_length=100,
                       description="who will do it: a role such as 'key worker', 'SENCo' or "
                                   "'parent', or a professional's name; never the child's")
    done: bool = False


class PlanContent(BaseModel):
    """What a key worker writes into a plan (the body of ``POST /plans`` and ``PUT /plans/{id}``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "label": "JB-2025-014",
        "profile": {"age": 10, "needs": ["autism"], "postcode": "N7"},
        "transition": "primary_to_secondary",
        "services": [{"service_id": "S-001", "note": "Mum keen; ask about the waiting list"}],
        "move": "y6_y7", "move_year": 2026,
        "next_steps": [{"action": "Call the SENCO about the transition visit",
                        "due": "2025-10-01", "owner": "key worker", "done": False}],
    }]})

    label: str = Field(..., min_length=1, max_length=80,
                       description="pseudonymous label: initials or your case reference, never "
                                   "the child's name")
    profile: Profile | None = Field(None, description="the family's profile (contract section 2)")
    transition: Transition | None = Field(None, description="the phase move the plan is about")
    move: str | None = Field(None, max_length=40, pattern=r"^[a-z0-9_]+$",
                             description="the key worker's name for the move (the UI's move "
                                         "id, e.g. 'y11_post16'), finer than `transition`")
    move_year: int | None = Field(None, ge=2000, le=2100,
                                  description="the year of the move (the September it happens)")
    services: list[ChosenService] = Field(default_factory=list, max_length=50)
    next_steps: list[NextStep] = Field(default_factory=list, max_length=50)
    retain_until: dt.date | None = Field(
        None, description="delete the plan after this date; default and latest: 12 months "
                          "from today")

    @field_validator("label")
    @classmethod
    def _pseudonymous(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("label must not be blank: use initials or your case reference")
        if _EMAIL.search(v):
            raise ValueError("label must not contain an e-mail address: use initials or your "
                             "case reference")
        return v

    @field_validator("retain_until")
    @classmethod
    def _within_retention(cls, v: dt.date | None) -> dt.date | None:
        if v is None:
            return v
        today = dt.date.today()
        if v < today:
            raise ValueError("retain_until must be today or a later date")
        latest = default_retention(today)
        if v > latest:
            raise ValueError(f"retain_until must be at most {RETENTION_MONTHS} months from today "
                             f"(on or before {latest.isoformat()})")
        return v


class Plan(PlanContent):
    """A stored plan."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=None)

    id: str
    owner: str
    created_at: dt.datetime
    updated_at: dt.datetime
    retain_until: dt.date  # type: ignore[assignment]  # always set once stored

    @field_validator("retain_until")
    @classmethod
    def _within_retention(cls, v: dt.date) -> dt.date:  # stored dates are not re-checked
        return v


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _to_plan(row) -> Plan:
    return Plan(id=row.id, owner=row.owner, created_at=_as_utc(row.created_at),
                updated_at=_as_utc(row.updated_at), retain_until=row.retain_until, **row.content)


def _content_json(content: PlanContent) -> dict:
    return content.model_dump(mode="json", exclude={"retain_until"})


def purge_expired(engine: Engine, today: dt.date | None = None) -> int:
    """Delete every plan whose retention date has passed. Returns how many were deleted."""
    today = today or dt.date.today()
    with write_transaction(engine) as conn:
        gone = conn.execute(delete(PlanRow.__table__).where(PlanRow.retain_until < today))
        return int(gone.rowcount or 0)


def create_plan(engine: Engine, owner: str, content: PlanContent) -> Plan:
    """Store a new plan for ``owner`` and return it (with its new random id)."""
    now = _now()
    values = {"id": secrets.token_hex(16), "owner": owner, "content": _content_json(content),
              "created_at": now, "updated_at": now,
              "retain_until": content.retain_until or default_retention(now.date())}
    with write_transaction(engine) as conn:
        conn.execute(insert(PlanRow.__table__), values)
    return Plan(id=values["id"], owner=owner, created_at=now, updated_at=now,
                retain_until=values["retain_until"], **values["content"])


def get_plan(engine: Engine, owner: str, plan_id: str) -> Plan | None:
    """The plan, or ``None`` when there is none with this id *belonging to* ``owner``."""
    with engine.connect() as conn:
        row = conn.execute(select(PlanRow).where(PlanRow.id == plan_id,
                                                 PlanRow.owner == owner)).first()
    return None if row is None else _to_plan(row)


def list_plans(engine: Engine, owner: str) -> list[Plan]:
    """Every plan of ``owner``, most recently changed first."""
    with engine.connect() as conn:
        rows = conn.execute(select(PlanRow).where(PlanRow.owner == owner)
                            .order_by(PlanRow.updated_at.desc(), PlanRow.id)).all()
    return [_to_plan(r) for r in rows]


def replace_plan(engine: Engine, owner: str, plan_id: str, content: PlanContent) -> Plan | None:
    """Replace a plan's content (its retention date too, when given). ``None`` if not found."""
    now = _now()
    values: dict = {"content": _content_json(content), "updated_at": now}
    if content.retain_until is not None:
        values["retain_until"] = content.retain_until
    with write_transaction(engine) as conn:
        done = conn.execute(update(PlanRow.__table__)
                            .where(PlanRow.id == plan_id, PlanRow.owner == owner).values(**values))
        if not done.rowcount:
            return None
    return get_plan(engine, owner, plan_id)


def delete_plan(engine: Engine, owner: str, plan_id: str) -> bool:
    """Delete one of ``owner``'s plans. False when there was none."""
    with write_transaction(engine) as conn:
        gone = conn.execute(delete(PlanRow.__table__)
                            .where(PlanRow.id == plan_id, PlanRow.owner == owner))
        return bool(gone.rowcount)
