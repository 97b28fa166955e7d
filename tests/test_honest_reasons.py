"""Honest reasons: every reason produced for every family of the development set (with the
services' structured fields full, and blanked as real feeds leave them) and for profiles run
against the real North Lincolnshire records is checked, claim by claim, against what the
record or the family said (tests/honest_reasons.py). Also the services not suggested.

The sets are read from ../shared; each test skips, saying why, when it is absent.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from honest_reasons import Context, check_reason

from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.evaluation.runner import blank_columns, build_matcher_for_csv, load_cases
from matcher.services import records_to_frame

SHARED = Path(__file__).resolve().parents[2] / "shared"
DEV = SHARED / "eval" / "dev"
NORTH_LINCS = SHARED / "real-samples" / "north-lincs-oruk-v1" / "services.json"
TODAY = dt.date(2026, 11, 22)


def _walk(matcher: Matcher, profiles: list[Profile]) -> list[str]:
    records = {r["id"]: r for r in matcher.table.records}
    problems: list[str] = []
    for profile in profiles:
        query_point = None
        if profile.postcode:
            loc = matcher.gazetteer.lookup(profile.postcode)
            query_point = (loc.latitude, loc.longitude)
        outcome = matcher.match(profile, explain="full", today=TODAY)
        shown = [(r.service_id, r.reasons) for r in outcome.results]
        shown += [(n.service_id, n.reasons) for n in outcome.not_suggested or []]
        for service_id, reasons in shown:
            context = Context(records[service_id], profile, matcher.vocab,
                              *(query_point or (None, None)))
            for reason in reasons:
                problems += [f"{service_id} | {reason} | {p}"
                             for p in check_reason(reason, context)]
    return problems


def _dev_profiles() -> list[Profile]:
    out = []
    for case in load_cases(DEV / "cases.jsonl"):
        who = case["profile"].get("who", case.get("who"))
        out.append(Profile.model_validate({**case["profile"], "limit": 10, "who": who}))
    return out


needs_dev = pytest.mark.skipif(not DEV.exists(),
                               reason=f"the development set is not at {DEV} (../shared absent)")


@needs_dev
@pytest.mark.parametrize("sparse", [False, True], ids=["full", "blanked"])
def test_every_reason_of_the_development_set_is_backed(sparse, postcode_index):
    with tempfile.TemporaryDirectory() as tmp:
        source = DEV / "services.csv"
        if sparse:
            source = Path(tmp) / "services.csv"
            blank_columns(DEV / "services.csv", source)
        matcher = build_matcher_for_csv(source)
    problems = _walk(matcher, _dev_profiles())
    assert not problems, "\n".join(problems[:40])


@pytest.mark.skipif(not NORTH_LINCS.exists(),
                    reason=f"the real North Lincolnshire sample is not at {NORTH_LINCS}")
def test_every_reason_on_real_records_is_backed(postcode_index):
    from matcher.ingest import read_feed

    records, _ = read_feed(NORTH_LINCS, today=TODAY)
    matcher = Matcher.from_frame(records_to_frame(records))
    asks = [("autism", "looking for a club where he can make friends"),
            ("learning disability", "somewhere for her to go at the weekend"),
            ("visual impairment", "support for the family"),
            ("anxiety", "someone to talk to"),
            ("physical disability", "wheelchair user, wants to try a sport"),
            ("ADHD", "parenting support")]
    profiles = [Profile.model_validate({"age": age, "needs": [need], "about": about,
                                        "limit": 10, "who": "parent"})
                for age in (3, 8, 12, 15, 17, 19, 23) for need, about in asks]
    problems = _walk(matcher, profiles)
    assert not problems, "\n".join(problems[:40])


def test_the_checker_catches_unbacked_claims(postcode_index):
    """The checker is not a rubber stamp: made-up claims are caught."""
    from matcher.vocab import load_vocabulary

    vocab = load_vocabulary()
    record = {"id": "S1", "name": "Youth club", "description": "A club for ages 11 to 16.",
              "min_age": 11, "max_age": 16, "needs": [], "cost": None, "delivery": [],
              "facts": [], "categories": ["leisure"], "service_area": []}
    profile = Profile.model_validate({"age": 12, "needs": ["autism"]})
    c = Context(record, profile, vocab)
    assert check_reason("For ages 11 to 16; your child is 12", c) == []
    assert check_reason("For ages 10 to 16; your child is 12", c)
    assert check_reason("For ages 11 to 16 (it says 'ages 11 to 16'); your child is 12", c)
    assert check_reason("Free", c)
    assert check_reason("Supports autistic children and young people: you mentioned autism", c)
    assert check_reason("Open to children and young people with any SEND", c)
    assert check_reason("Online or by phone, so no travel needed", c)
    assert check_reason("A brand new kind of sentence", c)


def test_the_checker_tells_the_organisations_words_from_the_records(postcode_index):
    """An age quoted as the organisation's words must be a fact read from them, and words
    read from the record must not be passed off as the organisation's (or the reverse)."""
    from matcher.vocab import load_vocabulary

    vocab = load_vocabulary()
    org_fact = {"field": "adults_only", "value": True, "quote": "supports adults with dementia",
                "source": "organisation", "confidence": "certain", "used": True}
    record = {"id": "S2", "name": "Memory cafe", "description": "Tea and a chat.",
              "min_age": 18, "max_age": None, "needs": [], "cost": None, "delivery": [],
              "facts": [org_fact], "categories": ["leisure"], "service_area": []}
    profile = Profile.model_validate({"age": 12, "needs": ["autism"]})
    c = Context(record, profile, vocab)
    good = ("For ages 18 and over (its organisation says 'supports adults with dementia'), "
            "but your child is 12")
    assert check_reason(good, c) == []
    assert check_reason(good.replace("its organisation says", "it says"), c)
    assert check_reason(good.replace("with dementia", "only"), c)
    own = dict(record, description="Tea and a chat for adults only.",
               facts=[{**org_fact, "quote": "adults only", "source": "description"}])
    assert check_reason("For ages 18 and over (it says 'adults only'), but your child is 12",
                        Context(own, profile, vocab)) == []
    assert check_reason("For ages 18 and over (its organisation says 'adults only'), but your "
                        "child is 12", Context(own, profile, vocab))
