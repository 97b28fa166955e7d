"""Eligibility: each hard rule on services either side of it, and every excluded service shown
in ``not_suggested`` with a reason sentence."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import TODAY, explicit_config, make_record

from matcher.engine.config import load_config
from matcher.engine.pipeline import Matcher, MatchOutcome
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary

#: Fields every service here has unless it says otherwise: open to all ages, all SEND, no area
#: restriction, free, in person near N7 8JN. So each service only tests its own rule.
DEFAULTS: dict[str, Any] = {"needs_raw": "all SEND", "postcode": "N7 9DP", "cost": "free"}

SERVICES: list[tuple[str, str, list[str], dict[str, Any]]] = [
    # id, name, categories, fields
    ("AGE_TEEN", "Teen club", ["leisure"], {"min_age": 12, "max_age": 16}),
    ("AGE_KIDS", "Kids club", ["leisure"], {"min_age": 5, "max_age": 10}),
    ("AGE_OPEN", "Club for all ages", ["leisure"], {}),
    ("AGE_FROM_8", "Club from 8", ["leisure"], {"min_age": 8}),
    ("AGE_UP_TO_9", "Club up to 9", ["leisure"], {"max_age": 9}),
    ("LA_SCHOOL", "Secondary school", ["education"], {"min_age": 11, "max_age": 16}),
    ("LA_WORKSHOP", "Moving on workshop", ["transition"], {"min_age": 11, "max_age": 12}),
    ("LA_LEISURE", "Secondary youth club", ["leisure"], {"min_age": 11, "max_age": 16}),
    ("LA_LISTS_MOVE", "Year 7 buddies", ["leisure"],
     {"min_age": 11, "max_age": 12, "transitions": ["primary_to_secondary"]}),
    ("LA_TWO_AHEAD", "Upper school", ["education"], {"min_age": 12, "max_age": 16}),
    ("LA_ADULT", "Supported employment", ["training_employment", "transition"],
     {"min_age": 18, "max_age": 25, "transitions": ["preparing_for_adulthood"]}),
    ("LA_COLLEGE", "College", ["education"],
     {"min_age": 16, "max_age": 25, "transitions": ["secondary_to_post16"]}),
    ("AREA_N7", "N7 club", ["leisure"], {"service_area": ["N7"]}),
    ("AREA_N19", "N19 club", ["leisure"], {"service_area": ["N19"]}),
    ("AREA_N1", "N1 club", ["leisure"], {"service_area": ["N1"]}),
    ("AREA_NATIONAL", "National line", ["support_advice"], {"service_area": ["national"]}),
    ("AREA_BLANK", "Club with no area", ["leisure"], {"service_area": []}),
    ("AREA_EC1", "EC1 club", ["leisure"], {"service_area": ["EC1"]}),
    ("AREA_EC1V", "EC1V club", ["leisure"], {"service_area": ["EC1V"]}),
    ("EHCP_ONLY", "Special school", ["education"], {"ehcp_required": True}),
    ("DEL_IN_PERSON", "Drop-in", ["support_advice"], {"delivery": ["in_person"]}),
    ("DEL_ONLINE", "Web chat", ["support_advice"], {"delivery": ["online"], "postcode": None}),
    ("DEL_PHONE", "Phone line", ["support_advice"], {"delivery": ["phone"], "postcode": None}),
    ("DEL_HOME", "Home visits", ["health"], {"delivery": ["home_visit"], "postcode": None}),
    ("DEL_MIXED", "Drop-in or video", ["support_advice"], {"delivery": ["in_person", "online"]}),
    ("COST_PAID", "Paid club", ["leisure"], {"cost": "paid"}),
    ("COST_SOME", "Club free for some", ["leisure"], {"cost": "free_for_some"}),
    ("COST_BLANK", "Club with no cost stated", ["leisure"], {"cost": None}),
    ("NEED_DYSLEXIA", "Dyslexia tutoring", ["education"], {"needs_raw": "dyslexia"}),
    ("NEED_ADHD", "ADHD group", ["support_advice"], {"needs_raw": "ADHD"}),
    ("NEED_SLCN", "Speech therapy", ["health"], {"needs_raw": "speech and language needs"}),
    ("NEED_BLANK", "General club", ["leisure"], {"needs_raw": ""}),
    ("NEED_TOPIC", "Behaviour workshop", ["support_advice"], {"needs_raw": "behaviour"}),
    ("NEED_MIXED", "Learning club", ["education"], {"needs_raw": "dyslexia; autism"}),
    ("NEED_REFUSES", "Football", ["leisure"],
     {"needs_raw": "", "description": "Inclusive football. Not suitable for children with ADHD."}),
    ("NEED_REFUSES_SERVES", "Autism football", ["leisure"],
     {"needs_raw": "autism",
      "description": "Football for autistic children. Not suitable for children with ADHD."}),
]
ALL_IDS = {s[0] for s in SERVICES}


@pytest.fixture(scope="module")
def matcher(postcode_index) -> Matcher:
    vocab = load_vocabulary()
    records = []
    for sid, name, cats, fields in SERVICES:
        kw = {**DEFAULTS, **fields}
        description = kw.pop("description", f"{name} for children and young people.")
        needs_raw = kw.pop("needs_raw")
        postcode = kw.pop("postcode")
        records.append(make_record(postcode_index, vocab, sid, name, description, cats,
                                   needs_raw, postcode, **kw))
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                              cfg=explicit_config())


def run(matcher: Matcher, **profile: Any) -> tuple[set[str], dict[str, list[str]], MatchOutcome]:
    """Suggested ids, {not suggested id: reasons} and the outcome, for a profile."""
    out = matcher.match({"limit": 50, **profile}, explain="full", today=TODAY)
    assert out.not_suggested is not None
    return ({r.service_id for r in out.results},
            {n.service_id: n.reasons for n in out.not_suggested}, out)


def reason_of(excluded: dict[str, list[str]], sid: str) -> str:
    assert sid in excluded, f"{sid} should have been excluded"
    assert len(excluded[sid]) == 1, excluded[sid]
    return excluded[sid][0]


# -- age -----------------------------------------------------------------------------------


def test_age_range_is_inclusive_and_missing_bounds_never_exclude(matcher):
    shown, excluded, _ = run(matcher, age=10)
    assert {"AGE_KIDS", "AGE_OPEN", "AGE_FROM_8"} <= shown
    assert reason_of(excluded, "AGE_TEEN") == "For ages 12 to 16, but your child is 10"
    assert reason_of(excluded, "AGE_UP_TO_9") == "For ages up to 9, but your child is 10"
    shown, excluded, _ = run(matcher, age=12)
    assert "AGE_TEEN" in shown
    assert reason_of(excluded, "AGE_KIDS") == "For ages 5 to 10, but your child is 12"
    _, excluded, _ = run(matcher, age=7)
    assert reason_of(excluded, "AGE_FROM_8") == "For ages 8 and over, but your child is 7"


def test_without_a_transition_there_is_no_look_ahead(matcher):
    _, excluded, _ = run(matcher, age=10)
    for sid in ("LA_SCHOOL", "LA_WORKSHOP", "LA_LEISURE", "LA_LISTS_MOVE"):
        assert sid in excluded


def test_dated_transition_looks_ahead_one_year_for_education_and_transition_services(matcher):
    shown, excluded, out = run(matcher, age=10, transition="primary_to_secondary")
    # Education settings, transition services and services listing the move: shown.
    assert {"LA_SCHOOL", "LA_WORKSHOP", "LA_LISTS_MOVE"} <= shown
    # A leisure service of the next phase is not a destination-phase option.
    assert reason_of(excluded, "LA_LEISURE") == "For ages 11 to 16, but your child is 10"
    # Only one year ahead.
    assert reason_of(excluded, "LA_TWO_AHEAD") == "For ages 12 to 16, but your child is 10"
    school = next(r for r in out.results if r.service_id == "LA_SCHOOL")
    assert "For ages 11 to 16: one to look at now for the move to secondary school" in school.reasons


def test_look_ahead_to_college_for_the_post16_move(matcher):
    shown, excluded, _ = run(matcher, age=15, transition="secondary_to_post16")
    assert "LA_COLLEGE" in shown
    _, excluded, _ = run(matcher, age=15)
    assert "LA_COLLEGE" in excluded


def test_preparing_for_adulthood_has_no_look_ahead(matcher):
    _, excluded, _ = run(matcher, age=17, transition="preparing_for_adulthood")
    assert reason_of(excluded, "LA_ADULT") == "For ages 18 to 25, but your child is 17"
    shown, _, _ = run(matcher, age=18, transition="preparing_for_adulthood")
    assert "LA_ADULT" in shown


def test_shipped_config_looks_ahead_only_for_dated_moves():
    cfg = load_config()
    assert "preparing_for_adulthood" not in cfg.eligibility.lookahead_transitions
    assert cfg.eligibility.lookahead_years >= 1


def test_look_ahead_never_admits_services_the_child_is_too_old_for(matcher):
    _, excluded, _ = run(matcher, age=11, transition="early_years_to_primary")
    assert "AGE_UP_TO_9" in excluded


# -- service area --------------------------------------------------------------------------


def test_service_area_for_a_family_in_n7(matcher):
    shown, excluded, out = run(matcher, age=10, postcode="N7 8JN")
    assert {"AREA_N7", "AREA_NATIONAL", "AREA_BLANK"} <= shown
    assert reason_of(excluded, "AREA_N19") == "Only for families living in N19; you are in N7"
    # "N1" is not a prefix match for "N7", nor "N1" for "N19".
    assert "AREA_N1" in excluded
    assert "AREA_EC1" in excluded and "AREA_EC1V" in excluded
    blank = next(r for r in out.results if r.service_id == "AREA_BLANK")
    assert blank.reasons  # kept, with its caveat when it is the first fact shown


def test_ec1_area_includes_ec1v_but_ec1v_area_excludes_ec1a(matcher):
    shown, excluded, _ = run(matcher, age=10, postcode="EC1V 4PA")
    assert {"AREA_EC1", "AREA_EC1V"} <= shown
    shown, excluded, _ = run(matcher, age=10, postcode="EC1A 1BB")
    assert "AREA_EC1" in shown
    assert reason_of(excluded, "AREA_EC1V") == "Only for families living in EC1V; you are in EC1A"


def test_n19_family_is_not_in_n1(matcher):
    shown, excluded, _ = run(matcher, age=10, postcode="N19 5JT")
    assert "AREA_N19" in shown
    assert "AREA_N1" in excluded


def test_a_district_alone_is_enough_for_the_area_rule(matcher):
    shown, excluded, _ = run(matcher, age=10, postcode="N19")
    assert "AREA_N19" in shown and "AREA_N7" in excluded


def test_no_postcode_means_no_area_exclusion(matcher):
    shown, _, _ = run(matcher, age=10)
    assert {"AREA_N7", "AREA_N19", "AREA_N1", "AREA_EC1", "AREA_EC1V"} <= shown


# -- EHCP, delivery, cost ------------------------------------------------------------------


def test_ehcp_rule(matcher):
    _, excluded, _ = run(matcher, age=10)
    assert reason_of(excluded, "EHCP_ONLY") == "Only for children and young people with an EHC plan"
    shown, _, _ = run(matcher, age=10, has_ehcp=True)
    assert "EHCP_ONLY" in shown


def test_online_only_keeps_online_phone_and_home_visits(matcher):
    shown, excluded, _ = run(matcher, age=10, travel={"mode": "online_only"})
    assert {"DEL_ONLINE", "DEL_PHONE", "DEL_HOME", "DEL_MIXED"} <= shown
    assert reason_of(excluded, "DEL_IN_PERSON") == (
        "Only in person, and you asked for online or phone services")
    shown, _, _ = run(matcher, age=10, travel={"mode": "walk"})
    assert "DEL_IN_PERSON" in shown


def test_free_only_excludes_paid_and_keeps_unknown_cost(matcher):
    shown, excluded, _ = run(matcher, age=10, preferences={"free_only": True})
    assert {"AGE_OPEN", "COST_SOME", "COST_BLANK"} <= shown
    assert reason_of(excluded, "COST_PAID") == (
        "There is a charge, and you asked for free services only")
    shown, _, _ = run(matcher, age=10)
    assert "COST_PAID" in shown


def test_free_for_some_can_be_configured_as_not_free(postcode_index, matcher):
    strict = Matcher(matcher.table, matcher.vocab, postcode_index,
                     explicit_config(eligibility={"free_for_some_is_free": False}))
    shown, excluded, _ = run(strict, age=10, preferences={"free_only": True})
    assert "COST_SOME" in excluded and "COST_BLANK" in shown


# -- needs ---------------------------------------------------------------------------------


def test_other_needs_rule(matcher):
    shown, excluded, _ = run(matcher, age=10, needs=["autism"])
    assert reason_of(excluded, "NEED_DYSLEXIA") == (
        "Specialises in dyslexia, which you did not mention")
    assert "NEED_ADHD" in excluded
    # All SEND, no needs stated, only a topic ("behaviour"), or one of several stated needs.
    assert {"AGE_OPEN", "NEED_BLANK", "NEED_TOPIC", "NEED_MIXED"} <= shown


def test_other_needs_rule_keeps_services_for_a_need_of_the_same_type(matcher):
    # Dyscalculia and dyslexia are both specific learning difficulties (DfE code SPLD).
    shown, excluded, _ = run(matcher, age=10, needs=["dyscalculia"])
    assert "NEED_DYSLEXIA" in shown
    assert "NEED_ADHD" in excluded


def test_other_needs_rule_applies_to_needs_read_from_free_text(matcher):
    _, excluded, _ = run(matcher, age=10, about="we think she is autistic")
    assert "NEED_DYSLEXIA" in excluded


def test_no_needs_given_excludes_no_specialist_service(matcher):
    shown, _, _ = run(matcher, age=10)
    assert {"NEED_DYSLEXIA", "NEED_ADHD", "NEED_SLCN", "NEED_REFUSES"} <= shown


def test_need_excluded_rule(matcher):
    shown, excluded, _ = run(matcher, age=10, needs=["ADHD"])
    assert reason_of(excluded, "NEED_REFUSES") == "Says it does not support ADHD"
    assert "NEED_ADHD" in shown
    # The service names another of the family's needs, so it is still suggested.
    shown, _, _ = run(matcher, age=10, needs=["ADHD", "autism"])
    assert "NEED_REFUSES_SERVES" in shown


# -- not_suggested is complete -------------------------------------------------------------

PROFILES = [
    {"age": 10},
    {"age": 10, "needs": ["autism"], "postcode": "N7 8JN", "travel": {"mode": "online_only"},
     "preferences": {"free_only": True}},
    {"age": 17, "needs": ["ADHD"], "postcode": "EC1A 1BB", "transition": "preparing_for_adulthood"},
    {"age": 3, "needs": ["dyslexia", "hearing loss"], "postcode": "N19 5JT", "has_ehcp": True},
    {"age": 25, "about": "my son is deaf", "postcode": "LS6 3HN"},
]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_service_is_either_suggested_or_explained(matcher, profile):
    shown, excluded, out = run(matcher, **profile)
    assert not shown & set(excluded)
    assert shown | set(excluded) == ALL_IDS
    assert out.candidates == len(shown) and out.excluded == len(excluded)
    for item in out.not_suggested:
        assert item.reasons, item
        for sentence in item.reasons:
            assert sentence and sentence[0].isupper() and not sentence.endswith(" "), sentence
        assert item.status == ("near_miss" if len(item.reasons) == 1 else "excluded")


def test_near_misses_come_before_services_failing_several_rules(matcher):
    _, _, out = run(matcher, **PROFILES[1])
    statuses = [n.status for n in out.not_suggested]
    assert "excluded" in statuses and "near_miss" in statuses
    assert statuses == sorted(statuses, key=lambda s: s != "near_miss")


def test_brief_outcome_has_no_not_suggested(matcher):
    out = matcher.match({"age": 10}, today=TODAY)
    assert out.not_suggested is None
    assert "not_suggested" not in out.to_dict()


def test_not_suggested_is_capped_but_every_exclusion_is_counted(matcher):
    from matcher.engine.config import dump_config, parse_config

    full = dict(dump_config(matcher.cfg))
    full["explain"] = {**full["explain"], "not_suggested_limit": 2}
    capped = type(matcher)(matcher.table, matcher.vocab, matcher.gazetteer, parse_config(full))
    _, excluded, out = run(matcher, **PROFILES[1])
    small = capped.match({**PROFILES[1], "limit": 50}, explain="full", today=TODAY)
    assert len(excluded) > 2
    assert [n.service_id for n in small.not_suggested] == \
        [n.service_id for n in out.not_suggested][:2]
    assert small.excluded == len(excluded)
    assert sum(small.excluded_by_rule.values()) >= small.excluded
