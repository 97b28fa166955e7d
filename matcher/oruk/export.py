"""Publish the directory as Open Referral UK 3.0: service objects, pages, and a FastAPI router.

:func:`service_to_oruk` gives a full service that validates against the profile's
``service.json`` (JSON Schema draft 2020-12); :func:`service_list_item` the one-to-one fields
a ``/services`` page lists (``service_list.json``); :func:`services_page` the page with its
paging fields. :data:`oruk_router` serves them as ``GET /oruk/services`` and
``GET /oruk/services/{id}``.

Identifiers
    ORUK ids are UUIDs. A service whose id already ends in one (``oruk:<uuid>``, imported from
    an ORUK feed) keeps it; any other id (``ISL-001``) gets a name-based UUID (uuid5), the
    same every time, and nested objects get UUIDs derived from it. ``GET
    /oruk/services/{id}`` accepts either the UUID or our own id.

What is written where
    Native ORUK fields carry everything they can: ages, ``assured_date`` (``last_reviewed``),
    ``fees`` (cost details), ``cost_options`` (free / paid / free for some), the venue as a
    physical location (address, postcode, latitude, longitude, accessibility), online delivery
    as a virtual location, ``schedules`` (weekday/weekend days, descriptions for evenings, term
    time and school holidays; ``attending_type`` from delivery), ``service_areas`` (one per
    postcode district, or ``national``), ``languages`` and ``phones`` (HSDS 3.0 fields the UK
    profile allows). Our closed vocabularies (categories, needs as written and canonical,
    delivery, when, accessibility, referral, transitions, cost, EHCP) are also written as
    ``attributes`` whose taxonomy is ``send-matcher:<field>``, with plain-English names, so that
    :func:`matcher.oruk.read_oruk` gets back exactly what was exported.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from matcher.quality import oruk_terms
from matcher.services import OUR_TAXONOMY, ServiceRecord
from matcher.vocab import Vocabulary, load_vocabulary

__all__ = [
    "ORUK_NAMESPACE",
    "DEFAULT_PER_PAGE",
    "MAX_PER_PAGE",
    "oruk_id",
    "service_to_oruk",
    "service_list_item",
    "services_page",
    "filter_oruk",
    "get_oruk_records",
    "OrukRecordsDep",
    "oruk_router",
]

#: Namespace of the name-based UUIDs given to services and their parts (never change it:
#: published ids depend on it).
ORUK_NAMESPACE = uuid.UUID("5b0f3f8e-4c1a-5d37-9a61-0c2f7e9d4b13")
#: Services per page of ``GET /oruk/services`` unless ``per_page`` says otherwise.
DEFAULT_PER_PAGE = 50
#: The largest ``per_page`` accepted.
MAX_PER_PAGE = 500
#: Description of the schedule written only to say how people attend (no times known).
NO_TIMES = "Times are not listed: contact the service"

_WEEKDAYS = "MO,TU,WE,TH,FR"
_WEEKENDS = "SA,SU"
_LIST_FIELDS = ("id", "organization_id", "name", "description", "url", "email", "status",
                "fees", "accreditations", "minimum_age", "maximum_age", "assured_date",
                "assurer_email", "alert", "last_modified")
_ORG_LIST_FIELDS = ("id", "name", "description", "email", "website", "logo", "uri",
                    "parent_organization_id")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(ORUK_NAMESPACE, "/".join(parts)))


def oruk_id(service_id: str) -> str:
    """The ORUK id (a UUID) of one of our service ids.

    >>> oruk_id("oruk:ac148810-d857-441c-9679-408f346de14b")
    'ac148810-d857-441c-9679-408f346de14b'
    >>> oruk_id("ISL-001") == oruk_id("ISL-001") != oruk_id("ISL-002")
    True
    """
    tail = service_id.rsplit(":", 1)[-1]
    try:
        if str(uuid.UUID(tail)) == tail:
            return tail
    except ValueError:
        pass
    return _uuid("service", service_id)


def _term(field: str, value: str, name: str, field_label: str) -> dict[str, Any]:
    taxonomy = f"{OUR_TAXONOMY}:{field}"
    return {
        "id": _uuid("term", taxonomy, value),
        "name": name,
        "description": f"{field_label}: {name}",
        "taxonomy": taxonomy,
        "term": value,
    }


def _attributes(record: ServiceRecord, sid: str, vocab: Vocabulary) -> list[dict[str, Any]]:
    labelled = (
        ("categories", "Service category", vocab.categories, record.categories),
        ("delivery", "How it is delivered", vocab.delivery, record.delivery),
        ("when", "When it runs", vocab.when, record.when),
        ("accessibility", "Accessibility", vocab.accessibility, record.accessibility),
        ("referral", "How to get a place", vocab.referral, record.referral),
        ("transitions", "Moves between phases it supports", vocab.transitions,
         record.transitions),
    )
    terms: list[dict[str, Any]] = []
    for field, field_label, labels, values in labelled:
        terms += [_term(field, v, labels.get(v, v), field_label) for v in values]
    terms += [_term("needs", n, vocab.label_of(n), "SEND needs served") for n in record.needs]
    written = [w.strip() for w in record.needs_raw.split(";") if w.strip()]
    terms += [_term("needs_as_written", w, w, "Needs in the provider's words") for w in written]
    if record.cost:
        terms.append(_term("cost", record.cost, vocab.cost.get(record.cost, record.cost), "Cost"))
    if record.ehcp_required:
        terms.append(_term("ehcp_required", "yes", "Only with an EHC plan", "EHC plan"))
    terms += oruk_terms(record, _term)
    return [{
        "id": _uuid(sid, "attribute", t["taxonomy"], t["term"]),
        "link_id": sid,
        "link_type": "service",
        "taxonomy_term_id": t["id"],
        "taxonomy_term": t,
    } for t in terms]


def _schedules(record: ServiceRecord, sid: str, vocab: Vocabulary) -> list[dict[str, Any]]:
    attending = "; ".join(vocab.delivery.get(v, v) for v in record.delivery)
    out = []
    for value in record.when:
        s: dict[str, Any] = {"id": _uuid(sid, "schedule", value), "service_id": sid,
                             "description": vocab.when.get(value, value)}
        if value in ("weekdays", "weekends"):
            s.update(freq="WEEKLY", interval=1,
                     byday=_WEEKDAYS if value == "weekdays" else _WEEKENDS)
        if attending:
            s["attending_type"] = attending
        out.append(s)
    if not out and set(record.delivery) - {"online"}:
        # No times to give, but phone or home visits (or a venue-less in-person service)
        # can only be said natively through a schedule's attending_type.
        out.append({"id": _uuid(sid, "schedule", "attending"), "service_id": sid,
                    "description": NO_TIMES, "attending_type": attending})
    return out


def _locations(record: ServiceRecord, sid: str, vocab: Vocabulary) -> list[dict[str, Any]]:
    out = []
    if record.postcode or record.latitude is not None or record.address:
        lid = _uuid(sid, "location", "venue")
        # A venue people go to is "physical"; an address of a service delivered only online,
        # by phone or at home is "postal" (where to write), not a place to attend.
        kind = "physical" if "in_person" in record.delivery or not record.delivery else "postal"
        loc: dict[str, Any] = {"id": lid, "location_type": kind}
        if record.latitude is not None and record.longitude is not None:
            loc.update(latitude=record.latitude, longitude=record.longitude)
        loc["addresses"] = [{
            "id": _uuid(lid, "address"), "location_id": lid,
            "address_1": record.address, "city": "", "state_province": "",
            "postal_code": record.postcode or "", "country": "GB", "address_type": kind,
        }]
        loc["accessibility"] = [{
            "id": _uuid(lid, "accessibility", a), "location_id": lid,
            "description": vocab.accessibility.get(a, a),
        } for a in record.accessibility]
        out.append({"id": _uuid(sid, "service_at_location", "venue"), "service_id": sid,
                     "location_id": lid, "location": loc})
    if "online" in record.delivery:
        lid = _uuid(sid, "location", "online")
        out.append({"id": _uuid(sid, "service_at_location", "online"), "service_id": sid,
                    "location_id": lid,
                    "location": {"id": lid, "location_type": "virtual", "name": "Online"}})
    return out


def _cost_options(record: ServiceRecord, sid: str) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = []
    if record.cost in ("free", "free_for_some"):
        options.append({"option": "Free" if record.cost == "free" else "Free for some families",
                        "amount": 0})
    if record.cost in ("paid", "free_for_some"):
        options.append({"option": "Paid"})
    return [{"id": _uuid(sid, "cost_option", str(i)), "service_id": sid, **o}
            for i, o in enumerate(options)]


def _organization(record: ServiceRecord) -> dict[str, Any] | None:
    if not record.organisation:
        return None
    return {"id": _uuid("organization", record.organisation), "name": record.organisation,
            "description": ""}


def service_to_oruk(record: ServiceRecord, *, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """One service, fully nested, valid against the ORUK 3.0 profile's ``service.json``."""
    vocab = vocab or load_vocabulary()
    sid = oruk_id(record.id)
    out: dict[str, Any] = {"id": sid, "name": record.name, "description": record.description,
                           "status": "active"}
    org = _organization(record)
    if org is not None:
        out["organization_id"] = org["id"]
    if record.url.lower().startswith(("http://", "https://")):
        out["url"] = record.url
    if record.email:
        out["email"] = record.email
    if record.cost_details:
        out["fees"] = record.cost_details
    if record.accreditations:
        out["accreditations"] = "; ".join(record.accreditations)
    if record.min_age is not None:
        out["minimum_age"] = record.min_age
    if record.max_age is not None:
        out["maximum_age"] = record.max_age
    if record.last_reviewed is not None:
        out["assured_date"] = record.last_reviewed.isoformat()
    out["schedules"] = _schedules(record, sid, vocab)
    out["service_areas"] = [{
        "id": _uuid(sid, "service_area", area), "service_id": sid,
        "name": area, "service_area": area,
    } for area in record.service_area]
    out["service_at_locations"] = _locations(record, sid, vocab)
    out["languages"] = [{"id": _uuid(sid, "language", lang), "service_id": sid, "name": lang}
                        for lang in record.languages]
    if org is not None:
        out["organization"] = org
    out["cost_options"] = _cost_options(record, sid)
    if record.phone:
        out["phones"] = [{"id": _uuid(sid, "phone"), "service_id": sid,
                          "number": record.phone}]
    out["contacts"] = []
    out["attributes"] = _attributes(record, sid, vocab)
    return out


def service_list_item(record: ServiceRecord) -> dict[str, Any]:
    """The one-to-one fields of a service, as a ``/services`` page lists them
    (``service_list.json``)."""
    full = service_to_oruk(record)
    item = {k: full[k] for k in _LIST_FIELDS if k in full}
    if "organization" in full:
        item["organization"] = {k: full["organization"][k] for k in _ORG_LIST_FIELDS
                                if k in full["organization"]}
    return item


def services_page(records: Sequence[ServiceRecord], page: int, size: int, total: int, *,
                  full: bool = False) -> dict[str, Any]:
    """One page of ``GET /services``: the ORUK ``Page`` fields and ``contents``.

    ``records`` are this page's services, ``page`` its number (from 1), ``size`` the services
    per page asked for, ``total`` how many services match in all. The answer's ``size`` is the
    number of services on this page (the profile's definition). ``full`` lists fully nested
    services instead of the one-to-one fields.
    """
    if page < 1 or size < 1 or total < 0:
        raise ValueError("page and size must be at least 1 and total at least 0")
    contents = [service_to_oruk(r) if full else service_list_item(r) for r in records]
    total_pages = math.ceil(total / size)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def filter_oruk(records: Sequence[ServiceRecord], *, search: str | None = None,
                minimum_age: float | None = None, maximum_age: float | None = None,
                age: int | None = None, taxonomy_term_id: str | None = None
                ) -> list[ServiceRecord]:
    """The services passing the profile's ``/services`` filters, in the given order.

    ``search``: every word in the name, organisation or description (any case).
    ``minimum_age``: services whose minimum age is at least this (an unstated one counts as
    0); ``maximum_age``: whose maximum age is at most this (unstated: 25), as the profile's
    OpenAPI describes them. ``age``: services open to a child of this age (our addition).
    ``taxonomy_term_id``: services carrying that term (its UUID, or its value, e.g.
    ``leisure``).
    """
    words = search.lower().split() if search else []
    vocab = load_vocabulary() if taxonomy_term_id else None
    out = []
    for r in records:
        lo = 0 if r.min_age is None else r.min_age
        hi = 25 if r.max_age is None else r.max_age
        if minimum_age is not None and lo < minimum_age:
            continue
        if maximum_age is not None and hi > maximum_age:
            continue
        if age is not None and not lo <= age <= hi:
            continue
        if words:
            text = f"{r.name}\n{r.organisation}\n{r.description}".lower()
            if not all(w in text for w in words):
                continue
        if taxonomy_term_id and vocab is not None:
            terms = [a["taxonomy_term"] for a in _attributes(r, oruk_id(r.id), vocab)]
            if not any(taxonomy_term_id in (t["id"], t["term"]) for t in terms):
                continue
        out.append(r)
    return out


# --------------------------------------------------------------------------- the router
def get_oruk_records(request: Request) -> list[ServiceRecord]:
    """The services to publish: by default the app's directory at its current data version
    (:func:`matcher.api.deps.get_directory`). Override it with
    ``app.dependency_overrides[get_oruk_records] = lambda: records``."""
    from matcher.api.deps import get_directory

    return list(get_directory(request).records)


OrukRecordsDep = Annotated[list[ServiceRecord], Depends(get_oruk_records)]

oruk_router = APIRouter(prefix="/oruk", tags=["open referral uk"])


@oruk_router.get(
    "/services",
    operation_id="oruk_list_services",
    summary="The directory as an Open Referral UK 3.0 page of services",
)
def oruk_list_services(
    records: OrukRecordsDep,
    page: Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE,
                                   description="services per page")] = DEFAULT_PER_PAGE,
    search: Annotated[str | None, Query(max_length=200,
                                        description="words in the name or description")] = None,
    minimum_age: Annotated[float | None, Query(ge=0, le=150)] = None,
    maximum_age: Annotated[float | None, Query(ge=0, le=150)] = None,
    age: Annotated[int | None, Query(ge=0, le=25, description="open to a child of this "
                                                             "age")] = None,
    taxonomy_term_id: Annotated[str | None, Query(max_length=200)] = None,
    full: Annotated[bool, Query(description="fully nested services instead of the "
                                            "one-to-one fields")] = False,
) -> dict[str, Any]:
    """A ``Page`` (``total_items``, ``total_pages``, ``page_number``, ``size``,
    ``first_page``, ``last_page``, ``empty``) whose ``contents`` validate against the
    profile's ``service_list.json`` (``service.json`` with ``full=true``). A page past the
    last is empty, not an error."""
    selected = filter_oruk(records, search=search, minimum_age=minimum_age,
                           maximum_age=maximum_age, age=age, taxonomy_term_id=taxonomy_term_id)
    start = (page - 1) * per_page
    return services_page(selected[start:start + per_page], page, per_page, len(selected),
                         full=full)


@oruk_router.get(
    "/services/{service_id}",
    operation_id="oruk_get_service",
    summary="One service, fully nested, as Open Referral UK 3.0",
    responses={404: {"description": "no service with this id",
                     "content": {"application/json": {"example": {
                         "detail": "No service with id 'X'."}}}}},
)
def oruk_get_service(service_id: str, records: OrukRecordsDep) -> dict[str, Any]:
    """The service with this ORUK id (UUID) or our own id; 404 when there is none."""
    for record in records:
        if record.id == service_id or oruk_id(record.id) == service_id:
            return service_to_oruk(record)
    raise HTTPException(status_code=404, detail=f"No service with id '{service_id}'.")
