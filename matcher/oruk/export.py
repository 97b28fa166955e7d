"""Publish the directory as Open Referral UK 3.0: service objects and pages.

:func:`service_to_oruk` gives a full service that validates against the profile's
``service.json`` (JSON Schema draft 2020-12); :func:`service_list_item` the one-to-one fields
a ``/services`` page lists (``service_list.json``); :func:`services_page` the page with its
paging fields. :mod:`matcher.oruk.routes` serves them under ``/oruk/``.

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

import functools
import hashlib
import math
import uuid
from collections.abc import Sequence
from typing import Any

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
    "list_item_of",
    "page_of",
    "WHEN_DAYS",
    "taxonomy_id",
    "service_terms",
    "service_locations",
]

#: Namespace of the name-based UUIDs given to services and their parts (never change it:
#: published ids depend on it).
ORUK_NAMESPACE = uuid.UUID("5b0f3f8e-4c1a-5d37-9a61-0c2f7e9d4b13")
_NAMESPACE_BYTES = ORUK_NAMESPACE.bytes
#: Services per page of ``GET /oruk/services`` unless ``per_page`` says otherwise.
DEFAULT_PER_PAGE = 50
#: The largest ``per_page`` accepted.
MAX_PER_PAGE = 500
#: Description of the schedule written only to say how people attend (no times known).
NO_TIMES = "Times are not listed: contact the service"

#: The days (iCalendar ``byday`` codes) a schedule built from a ``when`` value runs on.
WHEN_DAYS = {"weekdays": ("MO", "TU", "WE", "TH", "FR"), "weekends": ("SA", "SU")}
_LIST_FIELDS = ("id", "organization_id", "name", "description", "url", "email", "status",
                "fees", "accreditations", "minimum_age", "maximum_age", "assured_date",
                "assurer_email", "alert", "last_modified")
_ORG_LIST_FIELDS = ("id", "name", "description", "email", "website", "logo", "uri",
                    "parent_organization_id")


def _uuid(*parts: str) -> str:
    """``str(uuid.uuid5(ORUK_NAMESPACE, "/".join(parts)))``, computed directly (about five
    times faster, which matters when pages of services are rendered on request)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "/".join(parts).encode("utf-8"))
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50     # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80     # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


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


def taxonomy_id(field: str) -> str:
    """The UUID of the taxonomy ``send-matcher:<field>`` (``GET /oruk/taxonomies``)."""
    return _uuid("taxonomy", f"{OUR_TAXONOMY}:{field}")


def _term(field: str, value: str, name: str, field_label: str) -> dict[str, Any]:
    return dict(_term_cached(field, value, name, field_label))


@functools.lru_cache(maxsize=65536)
def _term_cached(field: str, value: str, name: str, field_label: str) -> dict[str, Any]:
    taxonomy = f"{OUR_TAXONOMY}:{field}"
    return {
        "id": _uuid("term", taxonomy, value),
        "name": name,
        "description": f"{field_label}: {name}",
        "taxonomy": taxonomy,
        "taxonomy_id": taxonomy_id(field),
        "term": value,
    }


def _labelled(record: ServiceRecord, vocab: Vocabulary):
    return (
        ("categories", "Service category", vocab.categories, record.categories),
        ("delivery", "How it is delivered", vocab.delivery, record.delivery),
        ("when", "When it runs", vocab.when, record.when),
        ("accessibility", "Accessibility", vocab.accessibility, record.accessibility),
        ("referral", "How to get a place", vocab.referral, record.referral),
        ("transitions", "Moves between phases it supports", vocab.transitions,
         record.transitions),
    )


def service_terms(record: ServiceRecord, vocab: Vocabulary) -> list[dict[str, Any]]:
    """The taxonomy terms of one service (our closed vocabularies), as its attributes carry
    them."""
    terms: list[dict[str, Any]] = []
    for field, field_label, labels, values in _labelled(record, vocab):
        terms += [_term(field, v, labels.get(v, v), field_label) for v in values]
    terms += [_term("needs", n, vocab.label_of(n), "SEND needs served") for n in record.needs]
    written = [w.strip() for w in record.needs_raw.split(";") if w.strip()]
    terms += [_term("needs_as_written", w, w, "Needs in the provider's words") for w in written]
    if record.cost:
        terms.append(_term("cost", record.cost, vocab.cost.get(record.cost, record.cost), "Cost"))
    if record.ehcp_required:
        terms.append(_term("ehcp_required", "yes", "Only with an EHC plan", "EHC plan"))
    terms += oruk_terms(record, _term)
    return terms


def _attributes(record: ServiceRecord, sid: str, vocab: Vocabulary) -> list[dict[str, Any]]:
    return [{
        "id": _uuid(sid, "attribute", t["taxonomy"], t["term"]),
        "link_id": sid,
        "link_type": "service",
        "taxonomy_term_id": t["id"],
        "taxonomy_term": t,
    } for t in service_terms(record, vocab)]


def _schedules(record: ServiceRecord, sid: str, vocab: Vocabulary) -> list[dict[str, Any]]:
    attending = "; ".join(vocab.delivery.get(v, v) for v in record.delivery)
    out = []
    for value in record.when:
        s: dict[str, Any] = {"id": _uuid(sid, "schedule", value), "service_id": sid,
                             "description": vocab.when.get(value, value)}
        if value in ("weekdays", "weekends"):
            s.update(freq="WEEKLY", interval=1, byday=",".join(WHEN_DAYS[value]))
        if attending:
            s["attending_type"] = attending
        out.append(s)
    if not out and set(record.delivery) - {"online"}:
        # No times to give, but phone or home visits (or a venue-less in-person service)
        # can only be said natively through a schedule's attending_type.
        out.append({"id": _uuid(sid, "schedule", "attending"), "service_id": sid,
                    "description": NO_TIMES, "attending_type": attending})
    return out


def service_locations(record: ServiceRecord, sid: str, vocab: Vocabulary
                      ) -> list[dict[str, Any]]:
    """The service_at_location objects of one service (``sid``: its ORUK id): its venue
    (physical, or postal when it is not attended there) and, when delivered online, a virtual
    location."""
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


def _one_to_one(record: ServiceRecord) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The service's one-to-one fields, and its organisation (None when it names none)."""
    out: dict[str, Any] = {"id": oruk_id(record.id), "name": record.name,
                           "description": record.description,
                           "status": "inactive" if record.status == "inactive" else "active"}
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
    return out, org


def service_to_oruk(record: ServiceRecord, *, vocab: Vocabulary | None = None) -> dict[str, Any]:
    """One service, fully nested, valid against the ORUK 3.0 profile's ``service.json``."""
    vocab = vocab or load_vocabulary()
    out, org = _one_to_one(record)
    sid = out["id"]
    out["schedules"] = _schedules(record, sid, vocab)
    out["service_areas"] = [{
        "id": _uuid(sid, "service_area", area), "service_id": sid,
        "name": area, "service_area": area,
    } for area in record.service_area]
    out["service_at_locations"] = service_locations(record, sid, vocab)
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
    item, org = _one_to_one(record)
    if org is not None:
        item["organization"] = org
    return list_item_of(item)


def list_item_of(full: dict[str, Any]) -> dict[str, Any]:
    """The one-to-one fields of a fully nested service (and of its organisation)."""
    item = {k: full[k] for k in _LIST_FIELDS if k in full}
    if "organization" in full:
        item["organization"] = {k: full["organization"][k] for k in _ORG_LIST_FIELDS
                                if k in full["organization"]}
    return item


def page_of(contents: list[dict[str, Any]], page: int, size: int, total: int
            ) -> dict[str, Any]:
    """The profile's ``Page`` fields around ``contents`` (page ``page`` of ``size`` items per
    page, ``total`` items in all); ``size`` in the answer is the number on this page."""
    if page < 1 or size < 1 or total < 0:
        raise ValueError("page and size must be at least 1 and total at least 0")
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
    return page_of([service_to_oruk(r) if full else service_list_item(r) for r in records],
                   page, size, total)
