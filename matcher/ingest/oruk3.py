"""Open Referral UK 3.0 (and 2.0) service objects -> :class:`~matcher.ingest.fields.RawRecord`.

``minimum_age``/``maximum_age`` (or ORUK 2 ``eligibilitys``) -> ages;
``service_at_locations[].location`` -> venues; taxonomy terms of ``attributes`` (ORUK 2
``service_taxonomys``) -> categories and SEND needs; ``schedules`` -> ``when``; ``cost_options``
and ``fees`` -> cost; ``service_areas`` -> postcode districts or ``national``; ``languages``;
location ``accessibility``; ``attending_type`` and virtual locations -> delivery;
``assured_date`` (else ``last_modified``) -> ``last_reviewed``.

Attributes whose taxonomy is ``send-matcher:<field>`` (written by :mod:`matcher.oruk.export`)
carry our closed-vocabulary values exactly; a service that has any of them takes those fields
from them, which makes export -> import lossless.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from matcher.ingest.fields import Place, RawRecord, Schedule, Term
from matcher.ingest.rules import (
    _DAY_NAMES,
    _DAYS,
    _NEEDS_TAXONOMY,
    FeedMapper,
    _address_text,
    _in_gb,
    _list,
    _minutes,
    _number,
    _text,
)
from matcher.ingest.text import clean_text
from matcher.quality import from_oruk

__all__ = ["DEFAULT_ORUK_PREFIX", "oruk_record", "terms_of"]

#: Id prefix of services imported from an ORUK feed: ``oruk:<id>``.
DEFAULT_ORUK_PREFIX = "oruk"
#: Fields of a full record (absent from the summary rows of a ``/services`` list).
NESTED = ("service_at_locations", "schedules", "attributes", "cost_options", "service_areas",
          "locations", "send_needs", "taxonomies")

@functools.lru_cache(maxsize=1024)
def _names_needs(taxonomy: str) -> bool:
    """True when a taxonomy's name says its terms are needs ("SEND needs", "Conditions")."""
    return _NEEDS_TAXONOMY.search(taxonomy) is not None


def terms_of(item: Mapping[str, Any], base: str = "") -> list[Term]:
    """Taxonomy terms of ORUK 3 ``attributes`` and ORUK 2 ``service_taxonomys``."""
    out: list[Term] = []
    for i, attr in enumerate(_list(item.get("attributes"))):
        if not isinstance(attr, dict):
            continue
        tt = attr.get("taxonomy_term") if isinstance(attr.get("taxonomy_term"), dict) else {}
        taxonomy = tt.get("taxonomy")
        if isinstance(taxonomy, dict):
            taxonomy = taxonomy.get("name")
        taxonomy = _text(taxonomy) or _text(tt.get("taxonomy_id")) or _text(attr.get("link_type"))
        text = _text(tt.get("name")) or _text(tt.get("term")) or _text(attr.get("value"))
        value = _text(tt.get("term")) or text
        if text or value:
            out.append(Term(text or value, value, taxonomy, f"{base}attributes[{i}]"))
    for i, st in enumerate(_list(item.get("service_taxonomys"))):
        tax = st.get("taxonomy") if isinstance(st, dict) else None
        if isinstance(tax, dict):
            text = _text(tax.get("name"))
            if text:
                out.append(Term(text, text, _text(tax.get("vocabulary")),
                                f"{base}service_taxonomys[{i}]"))
    return out


def _oruk_places(item: Mapping[str, Any]) -> tuple[list[Place], list[Term]]:
    """Locations of ``service_at_locations`` (and a top-level ``locations`` list)."""
    places: list[Place] = []
    terms: list[Term] = []
    entries = [(f"service_at_locations[{i}].location", sal.get("location"))
               for i, sal in enumerate(_list(item.get("service_at_locations")))
               if isinstance(sal, dict)]
    entries += [(f"locations[{i}]", loc) for i, loc in enumerate(_list(item.get("locations")))]
    for column, loc in entries:
        if not isinstance(loc, dict):
            continue
        addresses = [a for a in _list(loc.get("addresses")) + _list(loc.get("physical_addresses"))
                     if isinstance(a, dict)]
        addresses.sort(key=lambda a: {"physical": 0, "postal": 1}.get(_text(a.get("address_type")),
                                                                       2))
        first = addresses[0] if addresses else {}
        postcode = next((_text(a.get("postal_code")) for a in addresses
                         if _text(a.get("postal_code"))), "")
        access = []
        for a in _list(loc.get("accessibility")) + _list(loc.get("accessibility_for_disabilities")):
            if isinstance(a, dict):
                text = (_text(a.get("description")) or _text(a.get("accessibility"))
                        or _text(a.get("details")))
                if text:
                    access.append(text)
        places.append(Place(
            column=column, postcode=postcode,
            latitude=_number(loc.get("latitude")), longitude=_number(loc.get("longitude")),
            address=_address_text([loc.get("name"), first.get("address_1"),
                                   first.get("address_2"), first.get("city")]),
            virtual=_text(loc.get("location_type")).lower() == "virtual",
            postal=_text(loc.get("location_type")).lower() == "postal",
            accessibility=access,
        ))
        terms += terms_of(loc, column + ".")
    return places, terms


def _oruk_schedules(item: Mapping[str, Any]) -> tuple[list[Schedule], list[str]]:
    """Schedules of the service and of its locations, plus every ``attending_type`` text."""
    raw = _list(item.get("schedules")) + _list(item.get("regular_schedules"))
    for sal in _list(item.get("service_at_locations")):
        if isinstance(sal, dict):
            raw += _list(sal.get("schedules")) + _list(sal.get("regular_schedules"))
    out: list[Schedule] = []
    attending: list[str] = []
    for s in raw:
        if not isinstance(s, dict):
            continue
        days = set()
        for token in re.split(r"[,\s]+", _text(s.get("byday")).upper()):
            token = re.sub(r"^[+-]?\d+", "", token)
            if token in _DAYS:
                days.add(token)
        weekday = _text(s.get("weekday")).lower()
        if weekday in _DAY_NAMES:
            days.add(_DAY_NAMES[weekday])
        texts = [t for t in (_text(s.get("description")), _text(s.get("notes"))) if t]
        out.append(Schedule(days, _minutes(s.get("opens_at")), _minutes(s.get("closes_at")), texts))
        if _text(s.get("attending_type")):
            attending.append(_text(s.get("attending_type")))
    return out, attending


def oruk_record(m: FeedMapper, row: int, item: Mapping[str, Any], *,
                summary_ok: bool = False) -> RawRecord:
    """One ORUK service object -> a :class:`RawRecord` (problems and warnings on it).

    ``summary_ok``: the format's list records are all it publishes (ORUK v1), so a record
    without nested fields is not worth a warning."""
    d = RawRecord.blank(row, "oruk")
    d.id = m.service_id(d, item.get("id"))
    name = m.name(d, item.get("name"))
    m.status(d, item.get("status"))
    if not summary_ok and not any(k in item for k in NESTED):
        d.warn("", "", "the record has only the summary fields of a /services list (no "
                       "locations, schedules or taxonomy terms), so the matcher knows little "
                       "about it", "Import the full records: matcher import --url fetches "
                                   "each one from /services/{id}.")
    org = item.get("organization") if isinstance(item.get("organization"), dict) else {}

    places, location_terms = _oruk_places(item)
    terms = m.our_values(d, terms_of(item) + location_terms)
    ours = d.ours
    d.set(**from_oruk(ours, item.get("accreditations")))  # matcher.quality

    need_terms = {t.text for t in terms if _names_needs(t.taxonomy)}
    need_terms |= {t.text for t in terms if t.text not in need_terms and m.term_needs(t.text)}
    description = m.description(d, item.get("description"), name, [t.text for t in terms])
    d.set(name=name, description=description, organisation=_text(org.get("name")),
          organisation_description=clean_text(_text(org.get("description"))))

    low, high = item.get("minimum_age"), item.get("maximum_age")
    columns = ("minimum_age", "maximum_age")
    if low is None and high is None:
        for i, e in enumerate(_list(item.get("eligibilitys"))):
            if isinstance(e, dict) and (e.get("minimum_age") is not None
                                        or e.get("maximum_age") is not None):
                low, high = e.get("minimum_age"), e.get("maximum_age")
                columns = (f"eligibilitys[{i}].minimum_age", f"eligibilitys[{i}].maximum_age")
                break
    m.ages(d, low, high, columns)

    # Categories and needs: our own attributes when present, else the feed's terms.
    if "categories" in ours:
        d.categories = list(ours["categories"])
    else:
        m.categories(d, terms, need_terms, name, description)
    if "needs_as_written" in ours or "needs" in ours:
        m.needs(d, ours.get("needs_as_written", []), "attributes")
    else:
        m.needs(d, [t.text for t in terms if t.text in need_terms], "attributes")

    schedules, attending = _oruk_schedules(item)
    d.places = places
    if ours:
        for name_ in ("when", "accessibility", "referral", "transitions", "delivery"):
            setattr(d, name_, list(ours.get(name_, [])))
    else:
        d.when = m.when(schedules)
        access_texts = [a for p in places for a in p.accessibility]
        d.accessibility = m.accessibility(d, access_texts, "service_at_locations")
        d.referral = []
        d.transitions = []
        delivery = {v for text in attending for v in m.delivery_from_text(text)}
        if any(p.virtual for p in places):
            delivery.add("online")
        if any(not p.virtual and not p.postal and (p.postcode or _in_gb(p.latitude, p.longitude))
               for p in places):
            delivery.add("in_person")
        d.delivery = [v for v in m.vocab.delivery if v in delivery]
    d.ehcp_required = ours.get("ehcp_required") == ["yes"]

    m.cost(d, [o for o in _list(item.get("cost_options")) if isinstance(o, dict)],
           _text(item.get("fees")))
    if ours:
        d.cost = ours["cost"][0] if ours.get("cost") else None
        d.cost_details = _text(item.get("fees"))

    area_texts = []
    for a in _list(item.get("service_areas")):
        if isinstance(a, dict):
            text = _text(a.get("service_area")) or _text(a.get("name"))
            if not text and _text(a.get("extent_type")).lower() == "text":
                text = _text(a.get("extent"))
            if text:
                area_texts.append(text)
    d.service_area = m.service_area(d, area_texts, "service_areas")

    langs = []
    for lang in _list(item.get("languages")):
        if isinstance(lang, dict):
            langs.append(_text(lang.get("name")) or _text(lang.get("language"))
                         or _text(lang.get("code")))
        elif isinstance(lang, str):
            langs.append(lang)
    d.languages = m.languages(langs)

    phones = [p for p in _list(item.get("phones")) if isinstance(p, dict)]
    for c in _list(item.get("contacts")):
        if isinstance(c, dict):
            phones += [p for p in _list(c.get("phones")) if isinstance(p, dict)]
    d.phone = next((_text(p.get("number")) for p in phones if _text(p.get("number"))), "")
    d.url = m.url(d, item.get("url") or org.get("website") or org.get("url"), "url")
    d.email = m.email(d, item.get("email") or org.get("email"), "email")
    d.last_reviewed = (m.date(d, item.get("assured_date"), "assured_date")
                       or m.date(d, item.get("last_modified"), "last_modified"))
    return d


