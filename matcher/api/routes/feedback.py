"""``POST /feedback`` (anyone, anonymous) and ``GET /feedback/summary`` (commissioners)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from matcher.api.deps import StoreDep
from matcher.api.routes.services import not_found_message
from matcher.api.schemas import FeedbackReceipt, FeedbackRequest, FeedbackSummary, Message
from matcher.api.security import CommissionerUser
from matcher.store_extra import add_feedback, feedback_summary

__all__ = ["router"]

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    operation_id="send_feedback",
    summary="Say whether a suggested service was helpful or out of date",
    status_code=201,
    response_model=FeedbackReceipt,
    responses={404: {"model": Message, "description": "no service with this id"}},
)
def send_feedback(body: FeedbackRequest, store: StoreDep) -> dict:
    """Stores only the service id, the kind and the hour: no text, no profile, no user, no
    address."""
    if store.get_service(body.service_id) is None:
        raise HTTPException(status_code=404, detail=not_found_message(body.service_id))
    at = add_feedback(store.engine, body.service_id, body.kind)
    return {"service_id": body.service_id, "kind": body.kind, "recorded_at": at}


@router.get(
    "/feedback/summary",
    operation_id="feedback_summary",
    summary="Feedback counts per service (commissioner or admin)",
    response_model=FeedbackSummary,
    responses={401: {"model": Message}, 403: {"model": Message}},
)
def get_feedback_summary(store: StoreDep, user: CommissionerUser) -> dict:
    """Counts of helpful, not helpful and out-of-date reports for every service that has any."""
    counts = feedback_summary(store.engine)
    return {"services": [{"service_id": sid, **kinds} for sid, kinds in counts.items()]}
