"""The directory as an Open Referral UK 3.0 API: every route of the UK profile under ``/oruk/``.

``GET /oruk/`` (version, profile and ``openapi_url``), ``/oruk/services`` and
``/oruk/services/{id}``, ``/oruk/service_at_locations`` and ``/{id}``, ``/oruk/taxonomies`` and
``/{id}``, ``/oruk/taxonomy_terms`` and ``/{id}``, and ``/oruk/openapi.json`` (these routes
alone). Lists carry the profile's paging fields; the filters are those of
:mod:`matcher.oruk.feed`. A bad filter value is a 400 listing every problem
(``{"detail": [{"field", "message", "type"}]}``); an unknown id a 404
(``{"detail": "No service with id 'X'."}``). Query parameters the profile does not name are
ignored. Every answer allows any origin (``Access-Control-Allow-Origin: *``), as ORUK
compliance asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from matcher.oruk.export import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    list_item_of,
    oruk_id,
    page_of,
    service_list_item,
    service_locations,
    service_to_oruk,
)
from matcher.oruk.feed import (
    FeedIndex,
    FeedQuery,
    FeedQueryError,
    FeedUnavailableError,
    feed_index,
    parse_query,
    taxonomies,
    vocabulary_terms,
)
from matcher.services import ServiceRecord

__all__ = ["PROFILE_VERSION", "PROFILE_URL", "get_oruk_records", "OrukRecordsDep",
           "oruk_router"]

#: The version of the profile these routes publish.
PROFILE_VERSION = "3.0"
#: Where the UK profile is described.
PROFILE_URL = "https://github.com/OpenReferralUK/uk-profile"
_LOCATION_LIST_FIELDS = ("id", "location_type", "name", "description", "latitude", "longitude",
                         "external_identifier", "external_identifier_type")


def get_oruk_records(request: Request) -> Sequence[ServiceRecord]:
    """The services to publish: by default the app's directory at its current data version
    (:func:`matcher.api.deps.get_directory`), the same list object while that version lasts
    (so its filter index is built once). Override it with
    ``app.dependency_overrides[get_oruk_records] = lambda: records``."""
    from matcher.api.deps import get_directory

    return get_directory(request).records


OrukRecordsDep = Annotated[Sequence[ServiceRecord], Depends(get_oruk_records)]


async def _allow_any_origin(response: Response) -> None:
    response.headers["Access-Control-Allow-Origin"] = "*"


oruk_router = APIRouter(prefix="/oruk", tags=["open referral uk"],
                        dependencies=[Depends(_allow_any_origin)])

_BAD = {400: {"description": "a filter value is not valid: every problem is listed",
              "content": {"application/json": {"example": {"detail": [{
                  "field": "day", "message": "day must be a day of the week, as MO, TU, WE, "
                                             "TH, FR, SA, SU or its name (Monday); 'Funday' "
                                             "is not.", "type": "value_error"}]}}}},
        503: {"description": "the offline postcode data is missing (postcode filters only)"}}


def _json(body: dict[str, Any]) -> JSONResponse:
    """The answer as JSON at once (its values are already JSON types: no re-encoding)."""
    return JSONResponse(body, headers={"Access-Control-Allow-Origin": "*"})


def _missing(what: str) -> dict[int | str, dict[str, Any]]:
    return {404: {"description": f"no {what} with this id", "content": {"application/json": {
        "example": {"detail": f"No {what} with id 'X'."}}}}}


def _not_found(what: str, key: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"No {what} with id '{key}'.")


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, FeedQueryError):
        return JSONResponse(status_code=400, content={"detail": exc.problems},
                            headers={"Access-Control-Allow-Origin": "*"})
    return JSONResponse(status_code=503, content={"detail": str(exc)},
                        headers={"Access-Control-Allow-Origin": "*"})


def _paging(request: Request) -> tuple[int, int] | JSONResponse:
    try:
        q = parse_query({k: request.query_params[k] for k in ("page", "per_page")
                         if k in request.query_params})
    except FeedQueryError as exc:
        return _error(exc)
    return q.page, q.per_page


async def _filters(
    request: Request,
    search: Annotated[str | None, Query(description="words in the name, organisation or "
                                                    "description (all of them)")] = None,
    page: Annotated[str | None, Query(description="page number, from 1")] = None,
    per_page: Annotated[str | None, Query(description=f"items per page, 1 to {MAX_PER_PAGE} "
                                                      f"(default {DEFAULT_PER_PAGE})")] = None,
    taxonomy_term_id: Annotated[str | None, Query(description="a term's id (or value, e.g. "
                                                              "short_breaks)")] = None,
    taxonomy_id: Annotated[str | None, Query(description="a taxonomy's id (or name, e.g. "
                                                         "send-matcher:categories)")] = None,
    minimum_age: Annotated[str | None, Query(description="services taking someone this age "
                                                         "or older")] = None,
    maximum_age: Annotated[str | None, Query(description="services taking someone this age "
                                                         "or younger")] = None,
    start_time: Annotated[str | None, Query(description="HH:MM: a schedule opening at or "
                                                        "after this time")] = None,
    end_time: Annotated[str | None, Query(description="HH:MM: a schedule closing at or "
                                                      "before this time")] = None,
    day: Annotated[str | None, Query(description="MO, TU, WE, TH, FR, SA or SU (or the "
                                                 "day's name)")] = None,
    postcode: Annotated[str | None, Query(description="a GB postcode: covered by the "
                                                      "service's area, or with proximity, "
                                                      "the centre to measure from")] = None,
    proximity: Annotated[str | None, Query(description="metres from the postcode's "
                                                       "centre")] = None,
    age: Annotated[str | None, Query(description="(not in the profile) services taking "
                                                 "someone of this age")] = None,
    full: Annotated[str | None, Query(description="true: fully nested items")] = None,
) -> FeedQuery | JSONResponse:
    """The profile's filters, parsed (a 400 answer when any value is bad)."""
    del (search, page, per_page, taxonomy_term_id, taxonomy_id, minimum_age, maximum_age,
         start_time, end_time, day, postcode, proximity, age, full)   # read below, as sent
    try:
        return parse_query(dict(request.query_params))
    except FeedQueryError as exc:
        return _error(exc)


FiltersDep = Annotated[FeedQuery | JSONResponse, Depends(_filters)]


@oruk_router.get("/", operation_id="oruk_about",
                 summary="The Open Referral UK version this API publishes and where its "
                         "OpenAPI is")
def oruk_about(request: Request) -> dict[str, str]:
    """``version`` (the profile's), ``profile`` (where it is described) and ``openapi_url``
    (the OpenAPI of these routes)."""
    return {"version": PROFILE_VERSION, "profile": PROFILE_URL,
            "openapi_url": str(request.url_for("oruk_openapi"))}


@oruk_router.get("/openapi.json", operation_id="oruk_openapi", include_in_schema=False)
def oruk_openapi(request: Request) -> dict[str, Any]:
    """The app's OpenAPI document cut down to the ``/oruk/`` routes."""
    full = request.app.openapi()
    paths = {p: v for p, v in full.get("paths", {}).items() if p.startswith("/oruk")}
    return {**full, "info": {**full.get("info", {}),
                             "title": "Open Referral UK 3.0 feed of the SEND Local Offer"},
            "paths": paths}


def _index(records: Sequence[ServiceRecord]) -> FeedIndex:
    return feed_index(records)


@oruk_router.get("/services", operation_id="oruk_list_services",
                 summary="A page of services (one-to-one fields, or fully nested with "
                         "full=true)", responses=_BAD)
def oruk_list_services(records: OrukRecordsDep, q: FiltersDep) -> Any:
    """A ``Page`` (``total_items``, ``total_pages``, ``page_number``, ``size``,
    ``first_page``, ``last_page``, ``empty``) whose ``contents`` validate against the
    profile's ``service_list.json`` (``service.json`` with ``full=true``). A page past the
    last is empty, not an error."""
    if isinstance(q, JSONResponse):
        return q
    index = _index(records)
    try:
        hits = index.services(q)
    except (FeedQueryError, FeedUnavailableError) as exc:
        return _error(exc)
    start = (q.page - 1) * q.per_page
    chosen = [records[i] for i in hits[start:start + q.per_page]]
    contents = [service_to_oruk(r) if q.full else service_list_item(r) for r in chosen]
    return _json(page_of(contents, q.page, q.per_page, len(hits)))


@oruk_router.get("/services/{service_id}", operation_id="oruk_get_service",
                 summary="One service, fully nested", responses=_missing("service"))
def oruk_get_service(service_id: str, records: OrukRecordsDep) -> Any:
    """The service with this ORUK id (UUID) or our own id; 404 when there is none."""
    i = _index(records).by_id.get(service_id)
    if i is None:
        raise _not_found("service", service_id)
    return _json(service_to_oruk(records[i]))


def _service_at_location(index: FeedIndex, j: int, *, full: bool) -> dict[str, Any]:
    record = index.records[int(index.sal_service[j])]
    sid = oruk_id(record.id)
    sal = next(s for s in service_locations(record, sid, _vocab())
               if s["id"] == index.sal_ids[j])
    service = service_to_oruk(record)
    if full:
        service.pop("service_at_locations", None)
        return {**sal, "service": service}
    location = {k: sal["location"][k] for k in _LOCATION_LIST_FIELDS if k in sal["location"]}
    return {"id": sal["id"], "service_id": sid, "location_id": sal["location_id"],
            "location": location, "service": list_item_of(service)}


def _vocab():
    from matcher.vocab import load_vocabulary

    return load_vocabulary()


@oruk_router.get("/service_at_locations", operation_id="oruk_list_service_at_locations",
                 summary="A page of services at their locations (venues and online)",
                 responses=_BAD)
def oruk_list_service_at_locations(records: OrukRecordsDep, q: FiltersDep) -> Any:
    """Each item: the ``service_at_location`` id, its location's one-to-one fields and its
    service's (``service_at_location_list.json``). Same filters as ``/services``; with
    ``postcode`` and ``proximity`` the location itself must be near enough."""
    if isinstance(q, JSONResponse):
        return q
    index = _index(records)
    try:
        hits = index.service_at_locations(q)
    except (FeedQueryError, FeedUnavailableError) as exc:
        return _error(exc)
    start = (q.page - 1) * q.per_page
    contents = [_service_at_location(index, int(j), full=q.full)
                for j in hits[start:start + q.per_page]]
    return _json(page_of(contents, q.page, q.per_page, len(hits)))


@oruk_router.get("/service_at_locations/{sal_id}", operation_id="oruk_get_service_at_location",
                 summary="One service at one location, fully nested",
                 responses=_missing("service at location"))
def oruk_get_service_at_location(sal_id: str, records: OrukRecordsDep) -> dict[str, Any]:
    """The service_at_location with its full location and its full service."""
    index = _index(records)
    j = index.sal_by_id.get(sal_id)
    if j is None:
        raise _not_found("service at location", sal_id)
    return _service_at_location(index, j, full=True)


@oruk_router.get("/taxonomies", operation_id="oruk_list_taxonomies",
                 summary="A page of the taxonomies our terms belong to", responses=_BAD)
def oruk_list_taxonomies(request: Request) -> Any:
    """Our taxonomies ``send-matcher:<field>`` (categories, needs, delivery, ...)."""
    paging = _paging(request)
    if isinstance(paging, JSONResponse):
        return paging
    page, per_page = paging
    items = taxonomies()
    return page_of(items[(page - 1) * per_page:page * per_page], page, per_page, len(items))


@oruk_router.get("/taxonomies/{taxonomy_id}", operation_id="oruk_get_taxonomy",
                 summary="One taxonomy", responses=_missing("taxonomy"))
def oruk_get_taxonomy(taxonomy_id: str) -> dict[str, Any]:
    """The taxonomy with this id (or name, ``send-matcher:categories``); 404 when none."""
    for t in taxonomies():
        if taxonomy_id in (t["id"], t["name"]):
            return t
    raise _not_found("taxonomy", taxonomy_id)


@oruk_router.get("/taxonomy_terms", operation_id="oruk_list_taxonomy_terms",
                 summary="A page of taxonomy terms", responses=_BAD)
def oruk_list_taxonomy_terms(request: Request, records: OrukRecordsDep) -> Any:
    """Every value of our vocabularies, then the needs as written that services use."""
    paging = _paging(request)
    if isinstance(paging, JSONResponse):
        return paging
    page, per_page = paging
    items = vocabulary_terms(_index(records))
    return page_of(items[(page - 1) * per_page:page * per_page], page, per_page, len(items))


@oruk_router.get("/taxonomy_terms/{term_id}", operation_id="oruk_get_taxonomy_term",
                 summary="One taxonomy term", responses=_missing("taxonomy term"))
def oruk_get_taxonomy_term(term_id: str, records: OrukRecordsDep) -> dict[str, Any]:
    """The term with this id; 404 when there is none."""
    for t in vocabulary_terms(_index(records)):
        if t["id"] == term_id:
            return t
    raise _not_found("taxonomy term", term_id)
