"""Open Referral UK version 1 (as the Open Place platform publishes it) -> RawRecord.

Open Place directories (``/o/ServiceDirectoryService/v2/services``) answer a JSON list of
services, or a Spring-style page (``content``, ``totalElements``, ``number``, ``last``). A list
record has the one-to-one fields only: ``id``, ``name``, an HTML ``description``, ``url``,
``email``, ``status``, ``fees``, ``accreditations``, ``deliverable_type`` ("Social activity",
"1 to 1 support"), ``attending_type`` ("Venue", "Phone", "Online", "Home visit"),
``attending_access`` ("Drop-in", "Appointment", "Self referral"), ``assured_date``, an
``organization``, ``pc_metadata`` and ``pc_targetAudience`` tags (``{"id", "audienceType"}``,
such as "Autism", "Sensory Impaired>Visually Impaired", "Parents>Grandparents", "Carers ").
A full record (``/services/{id}``) may add the nested lists of HSDS 1 (locations with
``physical_addresses``, ``regular_schedules``, ``eligibilitys``, ``service_taxonomys``,
``cost_options``, ``contacts``, ``languages``), read by the ORUK 3.0 reader's rules.

What is read from the v1 fields
    ``attending_type`` -> delivery (only what it names; nothing when it is blank);
    ``attending_access`` "Self referral" / "Drop-in" -> referral ``self``; ``deliverable_type``
    -> a taxonomy term for the category; ``pc_targetAudience`` -> needs (through the
    vocabulary) and audience (children, parents and carers, adults, groups), each tag's most
    specific part first ("Sensory Impaired>Visually Impaired" -> visual impairment); tags that
    map to nothing are listed in the report; ``pc_metadata.date_modified`` -> the review date
    when there is no ``assured_date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matcher.ingest.fields import RawRecord, Term
from matcher.ingest.oruk3 import oruk_record
from matcher.ingest.rules import FeedMapper, _list, _text

__all__ = ["DEFAULT_ORUK1_PREFIX", "ORUK1_KEYS", "oruk1_record"]

#: Id prefix of services imported from an ORUK v1 feed: ``oruk:<id>`` (ids are GUIDs).
DEFAULT_ORUK1_PREFIX = "oruk"
#: Fields only an ORUK v1 (Open Place) record has.
ORUK1_KEYS = frozenset({"pc_targetAudience", "pc_metadata", "pc_attendingAccess_additionalInfo",
                        "attending_access", "deliverable_type"})
_SELF_ACCESS = ("self referral", "self-referral", "drop-in", "drop in", "membership")


def audience_tags(item: Mapping[str, Any]) -> list[Term]:
    """``pc_targetAudience`` tags as terms, spaces trimmed, most specific part first."""
    out: list[Term] = []
    for i, tag in enumerate(_list(item.get("pc_targetAudience"))):
        if isinstance(tag, dict):
            text = _text(tag.get("audienceType")) or _text(tag.get("name"))
            value = _text(tag.get("id")) or text
        else:
            text = value = _text(tag)
        if not text:
            continue
        parts = [p.strip() for p in text.split(">") if p.strip()]
        out.append(Term(" > ".join(parts), value, "audience", f"pc_targetAudience[{i}]"))
    return out


def oruk1_record(m: FeedMapper, row: int, item: Mapping[str, Any]) -> RawRecord:
    """One ORUK v1 service object -> a :class:`RawRecord` (problems and warnings on it)."""
    nested = dict(item)
    deliverable = _text(item.get("deliverable_type"))
    if deliverable and not deliverable.lower().startswith("other"):
        nested.setdefault("service_taxonomys", [])
        nested["service_taxonomys"] = [*_list(nested["service_taxonomys"]),
                                       {"taxonomy": {"name": deliverable,
                                                     "vocabulary": "deliverable_type"}}]
    d = oruk_record(m, row, nested, summary_ok=True)
    d.source = "oruk1"

    tags = audience_tags(item)
    d.tags = tags
    if tags:
        m.audience_tags(d, tags)

    attending = _text(item.get("attending_type"))
    if attending:
        found = m.delivery_from_text(attending)
        if found:
            d.delivery = [v for v in m.vocab.delivery if v in set(d.delivery) | set(found)]
        else:
            d.warn("attending_type", attending, f"the attending type '{attending}' does not say "
                                                "how the service is delivered",
                   "Nothing to fix; delivery is left as not stated.")
    access = _text(item.get("attending_access")).lower()
    if access and any(word in access for word in _SELF_ACCESS) and "self" not in d.referral:
        d.referral = [*d.referral, "self"]
    if d.last_reviewed is None:
        meta = item.get("pc_metadata") if isinstance(item.get("pc_metadata"), dict) else {}
        d.last_reviewed = (m.date(d, meta.get("date_assured"), "pc_metadata.date_assured")
                           or m.date(d, meta.get("date_modified"), "pc_metadata.date_modified"))
    return d
