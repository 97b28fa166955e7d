"""``GET /gaps``: gaps in provision for commissioners, as an APIRouter the app includes.

The route needs the ``commissioner`` (or ``admin``) role, checked by the app's own dependency
(:data:`matcher.api.security.CommissionerUser`) through :func:`gaps_access`, which tests and
other apps can replace with ``app.dependency_overrides[gaps_access]``. The directory comes from
:func:`get_gap_services`, built once per data version of the store.

No count of children is served here (the demand file is a CLI input), so nothing needs
suppressing; service counts are shown exactly.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from matcher.allowed import TravelMode
from matcher.api.deps import EMPTY_DIRECTORY, DirectoryDep
from matcher.api.schemas import Message
from matcher.api.security import CommissionerUser
from matcher.errors import MatcherError, PostcodeError, PostcodeNotFoundError
from matcher.gaps.supply import GapServices
from matcher.store.users import ApiUser

__all__ = [
    "GapCell",
    "GapNearMiss",
    "GapsAnswer",
    "gaps_access",
    "gaps_router",
    "get_gap_services",
    "NO_AREA",
]

gaps_router = APIRouter(
    tags=["gaps"],
    responses={401: {"model": Message, "description": "missing or unknown API key"},
               403: {"model": Message, "description": "the key's role is not commissioner or admin"}},
)

#: The ``detail`` of the 422 when neither ``districts`` nor ``around`` is given.
NO_AREA = ("Give the areas: districts (e.g. N1,N7), around (a postcode) with radius_km, or "
           "all_areas=true.")

_cache_lock = threading.Lock()  # guards each app's cache (kept on app.state, not here)


def gaps_access(user: CommissionerUser) -> ApiUser:
    """Who may see gaps: the app's commissioner-or-admin check (401 without a key, 403 for
    other roles). Override this dependency to use another check."""
    return user


def get_gap_services(request: Request, directory: DirectoryDep) -> GapServices:
    """The store's directory as :class:`GapServices`, built once per data version (cached on
    ``app.state.gap_services``); 503 while the directory is empty."""
    if not directory.records:
        raise HTTPException(status_code=503, detail=EMPTY_DIRECTORY)
    with _cache_lock:
        cache = getattr(request.app.state, "gap_services", None)
        if cache is None:
            cache = request.app.state.gap_services = {}
        found = cache.get(directory.version)
        if found is None:
            from matcher.services import records_to_frame

            matcher = directory.matcher
            if matcher is not None and hasattr(matcher, "table") and hasattr(matcher, "vocab"):
                found = GapServices.from_table(matcher.table, matcher.vocab)
            else:
                found = GapServices.from_frame(records_to_frame(directory.records))
            cache.clear()  # keep only the current version
            cache[directory.version] = found
    return found


class GapNearMiss(BaseModel):
    """A service that fails exactly one criterion for the cell, by a little."""

    service_id: str
    name: str
    criterion: Literal["time", "age", "area"]
    minutes: float | None = Field(None, description="journey time (None for remote services)")
    min_age: int | None = None
    max_age: int | None = None


class GapCell(BaseModel):
    """One small area x need x band."""

    area: str
    district: str
    need: str
    need_label: str
    band: str
    max_minutes: float
    services: int = Field(description="eligible services reachable (shown exactly)")
    status: Literal["gap", "thin", "ok"]
    general_services: int = Field(0, description="services open to any SEND (not naming this "
                                  "need) also reachable; shown beside the count, not in it")
    near_misses: list[GapNearMiss] = []


class GapsAnswer(BaseModel):
    """The answer of ``GET /gaps``."""

    level: str
    mode: str
    areas: int
    cells: int
    gaps: int
    thin: int
    total: int = Field(description="cells matching the status filter (before paging)")
    results: list[GapCell]
    notes: list[str] = []


def _problem(field: str, message: str, kind: str = "value_error") -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": [
        {"field": field, "message": f"{field}: {message}", "type": kind}]})


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


@gaps_router.get(
    "/gaps",
    operation_id="list_gaps",
    summary="Gaps in provision per small area x need x age band (commissioners)",
    response_model=GapsAnswer,
)
def list_gaps(
    _user: Annotated[ApiUser, Depends(gaps_access)],
    services: Annotated[GapServices, Depends(get_gap_services)],
    districts: Annotated[str | None, Query(max_length=400, description="postcode districts, "
                                           "comma-separated, e.g. N1,N7")] = None,
    around: Annotated[str | None, Query(max_length=16, description='a postcode, e.g. "N7 8JN"'
                                        )] = None,
    radius_km: Annotated[float, Query(gt=0, le=50, description="with around")] = 5.0,
    all_areas: Annotated[bool, Query(description="every postcode sector (or district) in "
                                                 "Great Britain instead of districts or "
                                                 "around")] = False,
    level: Annotated[Literal["sector", "district"] | None, Query()] = None,
    mode: Annotated[TravelMode | None,
                    Query(description="a travel mode of the vocabulary, except online_only "
                                      "(default from the config)")] = None,
    minutes: Annotated[float | None, Query(gt=0, le=240, description="one limit for every "
                                           "band (default: each band's own)")] = None,
    by: Annotated[Literal["need", "area"], Query(description="canonical needs or broad "
                                                 "areas")] = "need",
    need: Annotated[str | None, Query(max_length=400, description="only these needs")] = None,
    band: Annotated[str | None, Query(max_length=200, description="only these bands")] = None,
    category: Annotated[str | None, Query(max_length=200, description="count only services "
                                          "in these categories")] = None,
    status: Annotated[str, Query(max_length=20, pattern=r"^(gap|thin|ok)(,(gap|thin|ok))*$",
                                 description="which cells to list")] = "gap,thin",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict | JSONResponse:
    """Count the eligible services reachable from each postcode sector (or district) for
    every need and age band; list the gap and thin cells (gaps first), each gap with its near
    misses. Needs the commissioner or admin role."""
    from matcher.gaps.analysis import analyse_gaps
    from matcher.gaps.areas import (
        area_centroids,
        areas_around,
        areas_in_districts,
        district_centroids,
    )
    from matcher.gaps.config import load_gaps_config
    from matcher.geo.postcodes import get_postcode_index

    if not districts and not around and not all_areas:
        return _problem("districts", NO_AREA, "missing")
    cfg = load_gaps_config()
    index = get_postcode_index()
    field = "districts" if districts else "around"
    try:
        if all_areas:
            areas = area_centroids(index, level or cfg.level)
        elif districts:
            areas = areas_in_districts(index, _split(districts), level or cfg.level)
        else:
            areas = areas_around(index, around or "", radius_km, level or cfg.level)
    except PostcodeError as exc:
        kind = "postcode_not_found" if isinstance(exc, PostcodeNotFoundError) else "postcode_format"
        return _problem(field, str(exc), kind)
    except MatcherError as exc:
        return _problem(field, str(exc))
    centroids = district_centroids(index, services.area_districts)
    try:
        report = analyse_gaps(areas, services, by=by, needs=_split(need) or None,
                              bands=_split(band) or None, mode=mode, minutes=minutes,
                              categories=_split(category) or None, gaps=cfg,
                              district_centroids=centroids)
    except MatcherError as exc:
        field = ("mode" if "travel mode" in str(exc).lower() else
                 "need" if "need" in str(exc).lower() else
                 "band" if "band" in str(exc).lower() else "category")
        return _problem(field, str(exc))

    cells = report.cells
    counts = cells["status"].value_counts()
    wanted = cells[cells["status"].isin(_split(status))]
    order = {"gap": 0, "thin": 1, "ok": 2}
    wanted = wanted.assign(_o=wanted["status"].astype(str).map(order)).sort_values(
        ["_o", "area", "need", "band"], kind="stable")
    page = wanted.iloc[offset: offset + limit]
    nm = report.near_misses
    by_cell: dict[tuple[str, str, str], list[dict]] = {}
    if len(nm) and len(page):
        keys = page[["area", "need", "band"]].astype(str).drop_duplicates()
        shown = nm.astype({"area": str, "need": str, "band": str}).merge(
            keys, on=["area", "need", "band"], how="inner")
        for r in shown.itertuples(index=False):
            key = (r.area, r.need, r.band)
            by_cell.setdefault(key, []).append({
                "service_id": str(r.service_id), "name": str(r.service_name),
                "criterion": r.criterion,
                "minutes": None if r.minutes != r.minutes else float(r.minutes),
                "min_age": None if r.min_age != r.min_age else int(r.min_age),
                "max_age": None if r.max_age != r.max_age else int(r.max_age),
            })
    results = [{
        "area": str(r.area), "district": str(r.district), "need": str(r.need),
        "need_label": str(r.need_label), "band": str(r.band), "max_minutes": float(r.max_minutes),
        "services": int(r.services), "status": str(r.status),
        "general_services": int(r.general_services),
        "near_misses": by_cell.get((str(r.area), str(r.need), str(r.band)), []),
    } for r in page.itertuples(index=False)]
    return {"level": report.level, "mode": report.mode, "areas": len(areas),
            "cells": len(cells), "gaps": int(counts.get("gap", 0)),
            "thin": int(counts.get("thin", 0)), "total": len(wanted), "results": results,
            "notes": report.notes}
