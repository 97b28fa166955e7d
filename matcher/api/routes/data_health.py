"""``GET /admin/data-health`` and ``GET /admin/data-health.csv`` (admin): how complete the
directory is, its conflicts, and the records to fix first (:mod:`matcher.data_health`).

Registered by :func:`matcher.api.app.create_app`. Both read the store as it is now (not the
matcher's cache), so they answer at once after an import, also when the directory is empty.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from matcher.api.deps import StoreDep
from matcher.api.schemas import Message
from matcher.api.security import AdminUser

__all__ = ["router", "DataHealthAnswer"]

router = APIRouter(
    tags=["admin"],
    responses={401: {"model": Message, "description": "missing or unknown API key"},
               403: {"model": Message, "description": "the key's role is not admin"}},
)


class FieldHealthOut(BaseModel):
    """How one field is known across the active records."""

    field: str
    label: str = Field(description="the field in words")
    structured: int = Field(description="records stating it in the field itself")
    from_text: int = Field(description="records whose own words filled it at import")
    unknown: int = Field(description="records leaving it unknown")
    structured_share: float = Field(ge=0, le=1)
    from_text_share: float = Field(ge=0, le=1)
    unknown_share: float = Field(ge=0, le=1)


class RecordRef(BaseModel):
    """A record, by id and name."""

    id: str
    name: str
    organisation: str = ""


class ConflictOut(BaseModel):
    """A certain fact of a record's words that its structured field contradicts."""

    id: str
    name: str
    field: str = Field(description='"ages" for the age range, else the field\'s name')
    label: str
    structured: str = Field(description="what the field says, in words")
    text: str = Field(description="what the words say")
    quote: str = Field(description="the record's own words")
    source: str = Field(description='"name", "description" or "tags"')


class FixItemOut(BaseModel):
    """One thing to add or correct, and the points it adds to the record's score."""

    reason: str
    points: int
    what_to_add: str


class RecordToFixOut(BaseModel):
    """A record to fix, with its score and what to add."""

    id: str
    name: str
    organisation: str = ""
    email: str = ""
    phone: str = ""
    url: str = ""
    score: int = Field(description="the sum of its items' points: the higher, the sooner")
    what_to_add: list[str]
    items: list[FixItemOut]
    conflicts: list[ConflictOut] = []


class DataHealthAnswer(BaseModel):
    """The answer of ``GET /admin/data-health``."""

    records: int = Field(description="every stored record")
    active: int = Field(description="the records looked at")
    inactive: int = Field(description="withdrawn or paused records, left out")
    today: str = Field(description="the date staleness was judged on (YYYY-MM-DD)")
    fields: list[FieldHealthOut]
    no_age_no_needs: list[RecordRef]
    conflicts: list[ConflictOut]
    to_fix_total: int = Field(description="records with something to fix (before limit)")
    to_fix: list[RecordToFixOut] = Field(description="the records to fix, highest score first")
    weights: dict[str, int] = Field(description="the points of each reason")
    stale_after_days: int


def _health(store: StoreDep):
    from matcher.data_health import data_health

    return data_health(store.list_services())


@router.get(
    "/admin/data-health",
    operation_id="data_health",
    summary="Data health of the directory (admin)",
    response_model=DataHealthAnswer,
)
def get_data_health(
    store: StoreDep,
    _user: AdminUser,
    limit: Annotated[int, Query(ge=1, le=100_000, description="how many records to fix to "
                                                               "list")] = 100,
) -> dict:
    """Per field, how many active records state it, had it read from their own words, or
    leave it unknown; the records with no age and no needs; conflicts between a record's
    words and its fields; and the records whose fixing would most improve matching, highest
    score first, each with what to add in plain English. Needs the admin role."""
    return _health(store).to_dict(top=limit)


@router.get(
    "/admin/data-health.csv",
    operation_id="data_health_csv",
    summary="The records to fix, as a CSV for providers (admin)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                     "description": "one row per record to fix: id, name, organisation, email, "
                                    "phone, url, priority_score, what_to_add, conflicts"}},
)
def get_data_health_csv(store: StoreDep, _user: AdminUser) -> Response:
    """Every record to fix, highest score first, as CSV (UTF-8). Needs the admin role."""
    from matcher.data_health import to_csv

    return Response(content=to_csv(_health(store)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="data-health.csv"'})
