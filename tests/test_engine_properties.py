"""Property tests of the whole match on the forty-service directory: no ineligible service is
ever returned (rules re-derived here from the records), results are sorted and at most
``limit`` long, contributions add up to the score, the same input gives the same output, and
every result has one to five plain reasons."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import POSTCODES, TODAY, property_directory
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.engine.config import load_config
from matcher.engine.pipeline import Matcher
from matcher.geo.postcodes import postcode_district
from matcher.services import ServiceRecord, records_to_frame
from matcher.vocab import load_vocabulary

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@pytest.fixture(scope="module")
def records(postcode_index) -> list[ServiceRecord]:
    return property_directory(postcode_index, load_vocabulary())


@pytest.fixture(scope="module")
def matcher(records, postcode_index) -> Matcher:
    # The shipped configuration: these invariants must hold whatever the weights are.
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index)


def _synonyms() -> list[str]:
    vocab = load_vocabulary()
    return sorted({s for need in vocab.needs.values() for s in need.synonyms})


AREA_WORDS = ["communication and interaction", "cognition and learning",
              "sensory and physical needs", "any additional needs"]
#: The allowed values of the closed lists are the vocabulary's.
VOCAB = load_vocabulary()

need_words = st.one_of(
    st.sampled_from(_synonyms() + AREA_WORDS),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=20),
)
ABOUT = ["", "he might be autistic, hates noise", "she is deaf and loves swimming",
         "needs help getting the bus to college", "struggles with reading and maths",
         "anxious, not going to school", "wants to meet other teenagers at a club"]

profiles = st.fixed_dictionaries(
    {"age": st.integers(0, 25)},
    optional={
        "needs": st.lists(need_words, max_size=4),
        "about": st.sampled_from(ABOUT),
        "postcode": st.one_of(st.none(), st.sampled_from(POSTCODES + ("N7", "EC1V"))),
        "travel": st.fixed_dictionaries({}, optional={
            "mode": st.sampled_from(list(VOCAB.travel_modes)),
            "max_minutes": st.integers(5, 120),
        }),
        "transition": st.one_of(st.none(), st.sampled_from(list(VOCAB.transitions))),
        "has_ehcp": st.booleans(),
        "preferences": st.fixed_dictionaries({}, optional={
            "free_only": st.booleans(),
            "categories": st.lists(st.sampled_from(list(VOCAB.categories)),
                                   max_size=2, unique=True),
            "when": st.lists(st.sampled_from(list(VOCAB.when)), max_size=2, unique=True),
            "accessibility": st.lists(st.sampled_from(list(VOCAB.accessibility)),
                                      max_size=2, unique=True),
            "delivery": st.lists(st.sampled_from(list(VOCAB.delivery)), max_size=2, unique=True),
            "language": st.sampled_from(["English", "Turkish", "BSL", "Somali"]),
        }),
        "limit": st.integers(1, 50),
    },
)


def eligible_by_hand(rec: ServiceRecord, p: dict[str, Any], district: str | None) -> bool:
    """The hard rules as the domain states them, written from the records, not the engine."""
    cfg = load_config()
    age = p["age"]
    lo = rec.min_age if rec.min_age is not None else -1
    hi = rec.max_age if rec.max_age is not None else 99
    transition = p.get("transition")
    ahead = (cfg.eligibility.lookahead_years
             if transition in cfg.eligibility.lookahead_transitions else 0)
    in_range = lo <= age <= hi
    next_phase = ("education" in rec.categories or "transition" in rec.categories
                  or (transition is not None and transition in rec.transitions))
    if not in_range and not (ahead and next_phase and lo <= age + ahead and hi >= age):
        return False
    if district and rec.service_area and "national" not in [a.lower() for a in rec.service_area]:
        parents = {district, district[:-1]} if district[-1].isalpha() else {district}
        if not parents & {a.upper() for a in rec.service_area}:
            return False
    if rec.ehcp_required and not p.get("has_ehcp", False):
        return False
    if p.get("travel", {}).get("mode") == "online_only" and not (
            {"online", "phone", "home_visit"} & set(rec.delivery)):
        return False
    return not (p.get("preferences", {}).get("free_only") and rec.cost == "paid")


def _district(matcher: Matcher, postcode: str | None) -> str | None:
    if not postcode:
        return None
    return postcode_district(matcher.gazetteer.lookup(postcode).postcode)


@SETTINGS
@given(profile=profiles)
def test_no_ineligible_service_is_ever_returned(matcher, records, profile):
    by_id = {r.id: r for r in records}
    out = matcher.match(profile, today=TODAY)
    district = _district(matcher, profile.get("postcode"))
    for res in out.results:
        assert eligible_by_hand(by_id[res.service_id], profile, district), res.service_id


@SETTINGS
@given(profile=profiles)
def test_results_sorted_by_score_and_at_most_limit(matcher, profile):
    out = matcher.match(profile, today=TODAY)
    scores = [r.score for r in out.results]
    assert len(scores) <= profile.get("limit", 10)
    assert scores == sorted(scores, reverse=True)
    assert len({r.service_id for r in out.results}) == len(scores)
    assert all(0.0 <= s <= 1.0 for s in scores)
    # Every eligible service is listed while there is room.
    assert len(scores) == min(profile.get("limit", 10), out.candidates)


@SETTINGS
@given(profile=profiles)
def test_contributions_add_up_to_the_score(matcher, profile):
    out = matcher.match(profile, today=TODAY)
    for res in out.results:
        expl = res.explanation
        points = sum(c.points for c in expl.contributions)
        assert abs(expl.base + points - expl.total) <= 1e-9
        # The reported score is the total rounded to six places for display.
        assert abs(res.score - expl.total) <= 5e-7 + 1e-12
        weighted = [c for c in expl.contributions if c.component != "variety"]
        assert abs(sum(c.weight for c in weighted) - 1.0) <= 1e-5  # weights rescaled to 1
        for c in weighted:
            assert 0.0 <= c.value <= 1.0
            assert abs(c.points - c.weight * c.value) <= 1e-5
            assert c.label
        assert all(c.points <= 0 for c in expl.contributions if c.component == "variety")


@SETTINGS
@given(profile=profiles)
def test_same_input_gives_same_output(matcher, profile):
    a = matcher.match(profile, explain="full", today=TODAY)
    b = matcher.match(dict(profile), explain="full", today=TODAY)
    assert a.to_dict(full=True) == b.to_dict(full=True)


@SETTINGS
@given(profile=profiles)
def test_every_result_has_one_to_five_plain_reasons(matcher, profile):
    out = matcher.match(profile, today=TODAY)
    for res in out.results:
        assert 1 <= len(res.reasons) <= 5
        assert len(set(res.reasons)) == len(res.reasons)
        for reason in res.reasons:
            assert isinstance(reason, str) and reason.strip() == reason and reason


def test_a_new_matcher_on_the_same_data_gives_the_same_answers(matcher, records,
                                                                 postcode_index):
    again = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index)
    profile = {"age": 10, "needs": ["autism"], "postcode": "N7 8JN",
               "transition": "primary_to_secondary", "limit": 20}
    assert (again.match(profile, explain="full", today=TODAY).to_dict(full=True)
            == matcher.match(profile, explain="full", today=TODAY).to_dict(full=True))
