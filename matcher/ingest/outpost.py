"""Outpost API JSON (e.g. Buckinghamshire's Family Information Service) -> service records.

Outpost (wearefuturegov/outpost) publishes an Open Referral-like API: ``/api/v1/services``
pages (``content``, ``number``, ``totalPages``, ``last``) of services with ``locations``,
``taxonomies``, ``send_needs``, ``suitabilities``, ``regular_schedules``, ``cost_options``,
``min_age``/``max_age`` (or ``age_band_*`` flags), ``contacts`` and a ``local_offer``. The
mapping reuses the ORUK reader's rules (:class:`matcher.ingest.rules.FeedMapper`), so the
report and the records look the same:

* ``send_needs`` and ``suitabilities`` are the provider's need words: ``needs_raw``, and
  canonical needs through the vocabulary (words it cannot place are kept and reported);
* ``taxonomies`` give the categories (and needs, when a term plainly names one, such as
  "Activities for SEND");
* a location's ``postal_code`` is checked in the gazetteer and its GeoJSON point
  (``[longitude, latitude]``) kept; Outpost's placeholder locations (no postcode, point
  ``[0, 0]``, city "Nationwide" or "Online") are not venues: "Nationwide" makes the service
  area ``national`` and "Online" (or a Zoom/online venue name) makes delivery ``online``;
* ``needs_referral`` true means a professional refers (``referral: professional``), false that
  families contact the service themselves (``self``); ``free`` gives the cost;
* the ``local_offer`` description (the provider's SEND statement) is added to the description;
* a ``local_offer`` survey answer to the question about outcomes becomes ``outcomes`` ("What it
  aims to achieve: ...", no year); Outpost's public API has no rating or accreditation field;
* ``updated_at`` becomes ``last_reviewed``; services hidden (``visible_to`` past,
  ``visible_from`` future) or ``discarded_at`` are not imported, with their reason.

Ids are ``outpost:<id>`` by default; pass ``id_prefix`` (e.g. ``"bucks"``) to name the feed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from matcher.ingest.fields import Place, RawRecord, Schedule, Term
from matcher.ingest.rules import FeedMapper, _list, _minutes, _number, _text
from matcher.ingest.text import clean_text

__all__ = ["DEFAULT_OUTPOST_PREFIX", "AGE_BANDS", "outpost_record"]

#: Id prefix of services imported from an Outpost feed: ``outpost:<id>``.
DEFAULT_OUTPOST_PREFIX = "outpost"
#: Outpost's age-band flags -> (youngest, oldest) in years; ``None`` is open-ended.
AGE_BANDS: dict[str, tuple[int | None, int | None]] = {
    "age_band_under_2": (0, 1),
    "age_band_2": (2, 2),
    "age_band_3_4": (3, 4),
    "age_band_5_7": (5, 7),
    "age_band_8_plus": (8, None),
    "age_band_all": (None, None),
}
_ONLINE = re.compile(r"\bonline\b|\bzoom\b|\bvirtual\b|\bms teams\b|\bwebsite\b", re.I)
_NATIONWIDE = re.compile(r"^\s*(nationwide|national|uk[- ]wide)\s*$", re.I)


def _names(items: Any) -> list[str]:
    out = []
    for it in _list(items):
        if isinstance(it, dict):
            text = _text(it.get("name")) or _text(it.get("label"))
            if text:
                out.append(text)
        elif isinstance(it, str) and it.strip():
            out.append(it.strip())
    return out


def _band_ages(item: Mapping[str, Any]) -> tuple[int | None, int | None] | None:
    """The age range the ticked ``age_band_*`` flags cover, or ``None`` when none is ticked."""
    ticked = [AGE_BANDS[k] for k in AGE_BANDS if item.get(k) is True]
    if not ticked or (None, None) in ticked:
        return None
    lows = [lo for lo, _ in ticked]
    highs = [hi for _, hi in ticked]
    return min(x for x in lows if x is not None), None if None in highs else max(highs)


def _visibility(m: FeedMapper, d: RawRecord, item: Mapping[str, Any]) -> None:
    if _text(item.get("discarded_at")):
        m.inactive(d, "discarded_at", item.get("discarded_at"),
                   "the feed marks this service as removed (discarded)")
    for column, past in (("visible_to", True), ("visible_from", False)):
        text = _text(item.get(column))
        if not text:
            continue
        try:
            when = dt.date.fromisoformat(text[:10])
        except ValueError:
            continue
        if past and when < m.today:
            m.inactive(d, column, text, f"the service stopped being listed on {when.isoformat()}")
        if not past and when > m.today:
            m.inactive(d, column, text, f"the service is only listed from {when.isoformat()}")


def outpost_record(m: FeedMapper, row: int, item: Mapping[str, Any]) -> RawRecord:
    """One Outpost service object -> a :class:`~matcher.ingest.fields.RawRecord`."""
    d = RawRecord(row=row, source="outpost")
    d.id = m.service_id(d, item.get("id"))
    name = m.name(d, item.get("name"))
    _visibility(m, d, item)
    org = item.get("organisation") if isinstance(item.get("organisation"), dict) else {}

    terms = [Term(t, t, "taxonomies", f"taxonomies[{i}]")
             for i, t in enumerate(_names(item.get("taxonomies")))]
    need_words = _names(item.get("send_needs")) + _names(item.get("suitabilities"))
    from_terms = [t.text for t in terms if m.term_needs(t.text)]
    description = m.description(d, item.get("description"), name, [t.text for t in terms])
    offer = item.get("local_offer") if isinstance(item.get("local_offer"), dict) else {}
    offer_text = clean_text(_text(offer.get("description")))
    if offer_text and offer_text not in description:
        description = f"{description}\n\nSEND local offer: {offer_text}"
    d.set(name=name, description=description, organisation=_text(org.get("name")),
          organisation_description=clean_text(_text(org.get("description"))))
    # The Local Offer survey's question on outcomes: the provider's own words, no year.
    for a in _list(offer.get("survey_answers")):
        answer = clean_text(_text(a.get("answer"))) if isinstance(a, dict) else ""
        if answer and "outcome" in _text(a.get("question")).lower():
            d.outcomes.append({"text": f"What it aims to achieve: {answer}", "year": None})

    low, high = item.get("min_age"), item.get("max_age")
    if low is None and high is None and (band := _band_ages(item)) is not None:
        low, high = band
    m.ages(d, low, high, ("min_age", "max_age"))
    m.categories(d, terms, set(from_terms), name, description)
    m.needs(d, need_words + from_terms, "send_needs, suitabilities")

    national = online = False
    access: list[str] = []
    for i, loc in enumerate(_list(item.get("locations"))):
        if not isinstance(loc, dict):
            continue
        point = loc.get("geometry") if isinstance(loc.get("geometry"), dict) else {}
        coords = _list(point.get("coordinates"))
        lon, lat = (_number(coords[0]), _number(coords[1])) if len(coords) >= 2 else (None, None)
        city = _text(loc.get("city"))
        postcode = _text(loc.get("postal_code"))
        placeholder = not postcode and (lat in (None, 0.0)) and (lon in (None, 0.0))
        label = " ".join(filter(None, (_text(loc.get("name")), _text(loc.get("address_1")), city)))
        if placeholder:
            national = national or bool(_NATIONWIDE.match(city))
            online = online or bool(_ONLINE.search(label))
            continue
        access += _names(loc.get("accessibilities"))
        d.places.append(Place(
            column=f"locations[{i}]", postcode=postcode, latitude=lat, longitude=lon,
            address=", ".join(dict.fromkeys(
                p for p in (_text(loc.get("name")), re.sub(r"\s+", " ", _text(loc.get("address_1"))),
                            city) if p)),
        ))
    d.accessibility = m.accessibility(d, access, "accessibilities")
    d.service_area = ["national"] if national else []

    schedules = [Schedule(days={_DAY.get(_text(s.get("weekday")).lower()[:3], "")} - {""},
                          opens=_minutes(s.get("opens_at")), closes=_minutes(s.get("closes_at")))
                 for s in _list(item.get("regular_schedules")) if isinstance(s, dict)]
    d.when = m.when(schedules)

    delivery = set()
    if online:
        delivery.add("online")
    if d.places:
        delivery.add("in_person")
    d.delivery = [v for v in m.vocab.delivery if v in delivery]

    referral = item.get("needs_referral")
    d.referral = (["professional"] if referral is True
                            else ["self"] if referral is False else [])
    d.transitions = []
    d.ehcp_required = False
    options = []
    for o in _list(item.get("cost_options")):
        if isinstance(o, dict):
            o = dict(o)
            o.setdefault("amount_description", o.get("cost_type"))
            options.append(o)
    free = item.get("free")
    m.cost(d, options, "", free_flag=free if isinstance(free, bool) else None)
    d.languages = m.languages(_names(item.get("languages")))

    contacts = [c for c in _list(item.get("contacts")) if isinstance(c, dict)]
    d.phone = next((_text(c.get("phone")) for c in contacts if _text(c.get("phone"))),
                             "")
    email = next((_text(c.get("email")) for c in contacts if _text(c.get("email"))), "")
    d.email = m.email(d, email or org.get("email"), "contacts.email")
    d.url = m.url(d, item.get("url") or org.get("url"), "url")
    d.last_reviewed = m.date(d, item.get("updated_at"), "updated_at")
    return d


_DAY = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA",
        "sun": "SU"}
