"""The reading step at import: what a record's own words say, kept with the record.

Every reader's records go through :func:`apply_reading` once, at import (never per request).
It runs :func:`matcher.understand.read_service` over the name, description and audience tags
and keeps every fact on the record (``facts``: field, value, quote, source, confidence, and
``used``). Structured fields win: a fact only fills a field the record leaves unknown, and
only when it is unambiguous (``certain``); a certain fact that disagrees with a structured
field is kept with ``conflict: true`` for the directory team. Likely facts are kept, never
used to fill a field. One exception, for ages: when the words state ages in numbers that lie
inside the age fields' range and narrow it (a feed's broad default band such as "5 to 11" or
"0 to 99" against "girls aged 7 to 10"), the words are believed, and the fact keeps what the
listing said (``listing``) beside ``conflict: true`` (see :func:`_narrower`).

What a certain fact may fill: the ages (both bounds unknown; for a service for parents and
carers, the ages of their children, since families are matched on the child's age), a minimum
age of 18 for a service only for adults (unless it is for parents and carers), the audience,
the needs served (only when the record names none, from the words saying who the service is
for: "for pupils with SLD and PMLD"), ``ehcp_required``, referral routes, cost and delivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matcher.services import ServiceRecord
from matcher.understand import Fact, ages_said_of_audience, effective_ages, read_service
from matcher.vocab import Vocabulary

__all__ = ["ADULT_AGE", "apply_reading", "fact_dict"]

#: The age an "adults only" service starts at, when the record gives none.
ADULT_AGE = 18


def fact_dict(fact: Fact, *, used: bool = False, conflict: bool = False) -> dict[str, Any]:
    """A fact as stored on the record (JSON-safe)."""
    out: dict[str, Any] = {"field": fact.field, "value": fact.value, "quote": fact.quote,
                           "source": fact.source, "confidence": fact.confidence, "used": used}
    if conflict:
        out["conflict"] = True
    return out


def _certain(facts: Sequence[Fact], name: str) -> list[Fact]:
    return [f for f in facts if f.field == name and f.confidence == "certain"]


#: Audiences that mean a service is not for adults alone.
_NOT_ADULTS_ONLY = frozenset({"children_young_people", "families", "parents_carers"})


def _adults_by_audience(facts: Sequence[Fact], audience: Sequence[str]) -> Fact | None:
    """The fact naming adults as a service's users when every audience its words, tags and
    fields name is adults (or professionals working with them) and no age is stated."""
    named = {str(f.value) for f in facts if f.field == "audience"} | set(audience or ())
    if "adults" not in named or named & _NOT_ADULTS_ONLY:
        return None
    if any(f.field in ("min_age", "max_age", "child_ages", "for_parents") for f in facts):
        return None
    adults = [f for f in facts if f.field == "audience" and f.value == "adults"]
    return next((f for f in adults if f.confidence == "certain" and f.source != "tags"), None)


def _narrower(fact: Fact, low: int | None, high: int | None, field_low: int | None,
              field_high: int | None, text: str) -> tuple[int | None, int | None] | None:
    """The ages to believe when a record's words and its age fields disagree, or None to keep
    the fields.

    A feed's age fields often hold a broad band: a category's default ("0 to 25", "5 to 11"
    for every club of a kind) or a placeholder ("0 to 99"). When the provider's own words state
    ages in numbers ("girls aged 7 to 10", "for children aged 4 to 11", "Years 6 and 7") that
    lie inside the fields' range and narrow it, the words are the more specific statement and
    are believed, when they are said of whom the service is for ("for children aged 4 to 11",
    "a group of girls aged 7 to 10": :func:`~matcher.understand.ages_said_of_audience`), not
    of a part of it or an example ("plus a youth forum for 11-25s", "including children under
    3", "usually from age 17"). A bound the words leave open keeps the field's. Words outside
    the fields' range, age-group words ("toddlers") and facts about other people (the
    children of parents) never replace a field: there the fields win and the conflict is only
    recorded."""
    if fact.field not in ("min_age", "max_age") or fact.kind not in ("", "line") \
            or fact.confidence != "certain" or fact.source == "tags":
        return None
    if fact.source == "description" and not ages_said_of_audience(text, fact.quote):
        return None
    floor = 0 if field_low is None else field_low
    ceiling = 200 if field_high is None else field_high
    if any(v is not None and not floor <= v <= ceiling for v in (low, high)):
        return None
    new_low = field_low if low is None else low
    new_high = field_high if high is None else high
    if new_low is not None and new_high is not None and new_low > new_high:
        return None
    if (new_low, new_high) == (field_low, field_high):
        return None
    return new_low, new_high


def apply_reading(record: ServiceRecord, tags: Sequence[str] = (),
                  vocab: Vocabulary | None = None,
                  organisation_description: str = "") -> ServiceRecord:
    """Read ``record``'s words, keep the facts on it and fill what it leaves unknown.

    ``organisation_description`` is the provider's words about itself, where the feed gives
    them: read only for who the organisation serves (see
    :func:`matcher.understand.read_service`).

    Changes ``record`` in place and returns it.
    """
    facts = read_service(record.name, record.description, tags, vocab=vocab,
                         organisation=record.organisation,
                         organisation_description=organisation_description)
    used: set[int] = set()
    conflicts: set[int] = set()
    index = {id(f): i for i, f in enumerate(facts)}

    for_parents = bool(_certain(facts, "for_parents"))
    low, high, age_fact = effective_ages(facts)
    if age_fact is not None and (age_fact.confidence != "certain" or for_parents):
        low = high = age_fact = None
    children = _certain(facts, "child_ages")
    if age_fact is None and children:
        # A service for parents of children of given ages: matching is on the child's age,
        # so the children's ages are the service's ("for parents of children aged 0-5").
        lows = [f.value[0] for f in children if f.value[0] is not None]
        highs = [f.value[1] for f in children if f.value[1] is not None]
        low, high = (min(lows) if lows else None), (max(highs) if highs else None)
        age_fact = children[0]
    listing: dict[int, tuple[int | None, int | None]] = {}
    if age_fact is not None:
        if record.min_age is None and record.max_age is None:
            record.min_age, record.max_age = low, high
            used.add(index[id(age_fact)])
        elif (low is not None and record.min_age is not None and low != record.min_age) or (
                high is not None and record.max_age is not None and high != record.max_age):
            conflicts.add(index[id(age_fact)])
            narrowed = _narrower(age_fact, low, high, record.min_age, record.max_age,
                                 record.name if age_fact.source == "name"
                                 else record.description)
            if narrowed is not None:
                # The words state ages inside the listing's range and narrower: believe them.
                listing[index[id(age_fact)]] = (record.min_age, record.max_age)
                record.min_age, record.max_age = narrowed
                used.add(index[id(age_fact)])
    adults = _certain(facts, "adults_only")
    if adults and not for_parents and record.min_age is None:
        record.min_age = ADULT_AGE
        if record.max_age is not None and record.max_age < ADULT_AGE:
            record.max_age = None
        used.add(index[id(adults[0])])

    if record.min_age is None and record.max_age is None and not for_parents:
        # Named users all adults ("for adults with dementia", a feed's "Women" tag) and
        # nobody else (no children, young people, families or parents), with no ages at all:
        # a service for adults, so 18 is its minimum. The fact quotes the adult audience.
        adult = _adults_by_audience(facts, record.audience)
        if adult is not None:
            derived = Fact("adults_only", True, adult.quote, adult.source, adult.confidence)
            facts.append(derived)
            index[id(derived)] = len(facts) - 1
            record.min_age = ADULT_AGE
            used.add(index[id(derived)])

    for fact in [f for f in facts if f.field == "audience"] + _certain(facts, "for_parents"):
        value = "parents_carers" if fact.field == "for_parents" else str(fact.value)
        if fact.confidence == "certain" and value not in record.audience:
            record.audience = [*record.audience, value]
            used.add(index[id(fact)])
    if for_parents:
        # The words saying it is for parents and carers are what the results quote ("For you
        # as a parent or carer"), whether or not a feed tag already named the audience.
        used.add(index[id(_certain(facts, "for_parents")[0])])
    served = [f for f in _certain(facts, "needs") if f.kind == "served"]
    if served and not record.needs:
        # "for pupils with SLD and PMLD": the needs the service is for, when the record names
        # none (so that a service for other needs is not offered as if open to any).
        allowed = getattr(vocab, "needs", None) if vocab is not None else None
        needs = [n for f in served for n in f.value if allowed is None or n in allowed]
        if needs:
            record.needs = list(dict.fromkeys(needs))
            used.update(index[id(f)] for f in served)
    for fact in _certain(facts, "ehcp_required"):
        if fact.value and not record.ehcp_required:
            record.ehcp_required = True
            used.add(index[id(fact)])
    for name in ("referral", "delivery"):
        if not getattr(record, name):
            allowed = getattr(vocab, name, None) if vocab is not None else None
            values = [str(f.value) for f in _certain(facts, name)
                      if allowed is None or str(f.value) in allowed]
            if values:
                setattr(record, name, list(dict.fromkeys(values)))
                used.update(index[id(f)] for f in _certain(facts, name))
    costs = _certain(facts, "cost")
    if record.cost is None and costs:
        record.cost = str(costs[0].value)
        used.add(index[id(costs[0])])

    record.facts = [fact_dict(f, used=i in used, conflict=i in conflicts)
                    for i, f in enumerate(facts)]
    for i, (lo, hi) in listing.items():
        # What the listing said before the words narrowed it (the directory team checks it).
        record.facts[i]["listing"] = {"min_age": lo, "max_age": hi}
    return record
