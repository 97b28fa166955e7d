"""``GET /postcodes/{postcode}``: where a GB postcode, sector or district is (offline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from matcher.api.errors import postcode_problem
from matcher.api.schemas import PostcodeAnswer, PostcodeNotFound
from matcher.errors import PostcodeFormatError, PostcodeNotFoundError

__all__ = ["router"]

router = APIRouter(tags=["postcodes"])


@router.get(
    "/postcodes/{postcode}",
    operation_id="lookup_postcode",
    summary="Resolve a GB postcode, sector or district",
    response_model=PostcodeAnswer,
    responses={404: {"model": PostcodeNotFound,
                     "description": "shaped like a postcode but not a current one"}},
)
def lookup_postcode(
    postcode: Annotated[str, Path(min_length=1, max_length=16,
                                  description='e.g. "N7 8JN", "n78jn", "N7 8" or "N7"')],
) -> dict | JSONResponse:
    """The point (latitude, longitude) of a postcode, or the centre of a sector or district,
    from the bundled Ordnance Survey Code-Point Open data. A malformed postcode is a 422; one
    that is well formed but not current is a 404 with close suggestions."""
    from matcher.geo.postcodes import get_postcode_index, postcode_district

    try:
        loc = get_postcode_index().lookup(postcode)
    except PostcodeFormatError as exc:
        return JSONResponse(status_code=422, content={"detail": [postcode_problem(exc)]})
    except PostcodeNotFoundError as exc:
        return JSONResponse(status_code=404, content={"detail": str(exc),
                                                      "suggestions": list(exc.suggestions)})
    return {"query": loc.query, "postcode": loc.postcode, "kind": loc.kind,
            "district": postcode_district(loc.postcode), "latitude": loc.latitude,
            "longitude": loc.longitude, "count": loc.count}
