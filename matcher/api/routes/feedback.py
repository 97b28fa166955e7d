"""``POST /feedback`` (anyone, anonymous) and ``GET /feedback/summary`` (commissioners)."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import APIRouter, Depends, HTTPException, Request

from matcher.api.deps import StoreDep
from matcher.api.ratelimit import CoprodConfigDep, client_id, limit_anonymous_writes
from matcher.api.routes.services import not_found_message
from matcher.api.schemas import FeedbackReceipt, FeedbackRequest, FeedbackSummary, Message
from matcher.api.security import CommissionerUser
from matcher.coprod.feedback import record_feedback
from matcher.store.feedback import feedback_summary

__all__ = ["router"]

router = APIRouter(tags=["feedback"])


@router.post(
    "/feedback",
    operation_id="send_feedback",
    summary="Say whether a suggested service was helpful or out of date",
    status_code=201,
    response_model=FeedbackReceipt,
    responses={404: {"model": Message, "description": "no service with this id"},
               429: {"model": Message, "description": "too many from this client"}},
    dependencies=[Depends(limit_anonymous_writes)],
)
def send_feedback(body: FeedbackRequest, store: StoreDep, request: Request,
                  config: CoprodConfigDep) -> dict:
    """Stores only the service id, the kind and the hour: no text, no profile, no user, no
    address. One browser session (``session``; without it, the client's connection) counts
    once per service: a repeat answers ``counted: false``. "Out of date" also becomes a task
    for the directory team."""
    if store.get_service(body.service_id) is None:
        raise HTTPException(status_code=404, detail=not_found_message(body.service_id))
    session = body.session or _connection_token(request)
    counted, at = record_feedback(store.engine, body.service_id, body.kind, session,
                                  session_days=config.session_days)
    return {"service_id": body.service_id, "kind": body.kind, "recorded_at": at,
            "counted": counted}


_PROCESS_SALT = secrets.token_bytes(16)


def _connection_token(request: Request) -> str:
    """Stands in for a session token: a hash of the client's address and user agent with a
    salt made when the process starts (so it cannot be reversed from the store)."""
    agent = request.headers.get("user-agent", "")
    return "conn-" + hashlib.sha256(_PROCESS_SALT + f"{client_id(request)}\x1f{agent}".encode()
                                    ).hexdigest()


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
