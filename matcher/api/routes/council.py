"""``GET /council``: the council's own details (name, area, contacts), checked at start."""

from __future__ import annotations

from fastapi import APIRouter, Request

from matcher.council import Council

__all__ = ["router"]

router = APIRouter(tags=["council"])


@router.get("/council", operation_id="get_council", response_model=Council,
            summary="The council's name, area, SEND team, complaints, SENDIASS and mediation")
def council(request: Request) -> Council:
    """What the guidance pages need to name the council's own routes: its name and postcode
    districts, the team that receives requests for an EHC needs assessment, its complaints
    route, its SENDIASS and the mediation service it commissions (``data/council.toml`` or
    ``MATCHER_COUNCIL``; read and checked when the API starts)."""
    return request.app.state.council
