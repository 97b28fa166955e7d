"""Scorers: values in [0, 1] of shape (n,), travel minutes against hand-computed figures,
neutral values for missing data, and the facts their reasons are written from."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import numpy as np
import pytest
from engine_support import TODAY, explicit_config, make_record, property_directory

import matcher.engine.pipeline as pipeline_module
from matcher.engine.config import load_config
from matcher.engine.pipeline import Matcher
from matcher.engine.profile import Profile
from matcher.engine.query import FamilyQuery, prepare_query
from matcher.engine.scorers import (
    NEED_LEVELS,
    Scored,
    need_levels,
    score_freshness,
    score_need,
    score_preferences,
    score_text,
    score_transition,
    score_travel,
    travel_minutes,
)
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture(scope="module")
def directory(postcode_index, vocab) -> Matcher:
    """The forty-service directory with the explicit config."""
    return Matcher.from_frame(records_to_frame(property_directory(postcode_index, vocab)),
                              gazetteer=postcode_index, cfg=explicit_config())


@pytest.fixture(scope="module")
def small(postcode_index, vocab) -> Matcher:
    """Services placed for the travel, statutory-walking and freshness checks."""
    def r(*args: Any, **kw: Any):
        return make_record(postcode_index, vocab, *args, **kw)

    records = [
        r("NO_VENUE", "Drop-in with no venue given", "A drop-in for families.", ["support_advice"],
          "all SEND", None, delivery=["in_person"], last_reviewed=TODAY),
        r("FAR_SCHOOL", "Stratford Special School", "A special school.", ["education"],
          "all SEND", "E15 1AA", min_age=4, max_age=19, last_reviewed=TODAY),
        r("FAR_CLUB", "Stratford Youth Club", "A youth club.", ["leisure"], "all SEND",
          "E15 1AA", min_age=4, max_age=16, last_reviewed=TODAY),
        r("MID_SCHOOL", "Dalston Primary", "A primary school.", ["education"], "all SEND",
          "E8 1DY", min_age=4, max_age=11, last_reviewed=TODAY),
        r("NEAR_SCHOOL", "Holloway Primary", "A primary school.", ["education"], "all SEND",
          "N7 6PA", min_age=4, max_age=11, last_reviewed=TODAY),
        r("STALE", "Old record", "A club.", ["leisure"], "all SEND", "N7 9DP",
          last_reviewed=dt.date(2024, 1, 15)),
        r("JUST_FRESH", "Checked a year ago", "A club.", ["leisure"], "all SEND", "N7 9DP",
          last_reviewed=TODAY - dt.timedelta(days=365)),
        r("JUST_STALE", "Checked a year and a day ago", "A club.", ["leisure"], "all SEND",
          "N7 9DP", last_reviewed=TODAY - dt.timedelta(days=366)),
        r("UNDATED", "Never dated", "A club.", ["leisure"], "all SEND", "N7 9DP"),
        r("ONLINE", "Web chat", "Online chat.", ["support_advice"], "all SEND", None,
          delivery=["online"], last_reviewed=TODAY),
        r("PHONE", "Phone line", "A helpline.", ["support_advice"], "all SEND", None,
          delivery=["phone"], last_reviewed=TODAY),
        r("HOME", "Home visits", "Visits at home.", ["health"], "all SEND", None,
          delivery=["home_visit"], last_reviewed=TODAY),
        r("HOME_FAR", "Home visits from Leeds", "Visits at home.", ["health"], "all SEND",
          "LS6 3HN", delivery=["home_visit"], last_reviewed=TODAY),
    ]
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                              cfg=explicit_config())


def query_for(m: Matcher, **profile: Any) -> FamilyQuery:
    return prepare_query(Profile.model_validate(profile), m.vocab, m.gazetteer, m.cfg)


def row(m: Matcher, sid: str) -> int:
    return int(np.flatnonzero(m.table.ids == sid)[0])


def result(m: Matcher, sid: str, **profile: Any):
    out = m.match({"limit": 50, **profile}, today=TODAY)
    found = [r for r in out.results if r.service_id == sid]
    assert found, f"{sid} not suggested for {profile}"
    return found[0]


def label(res, component: str) -> str:
    return next(c.label for c in res.explanation.contributions if c.component == component)


def scored_by_pipeline(m: Matcher, profile: dict) -> dict[str, Scored]:
    """Every scorer's output exactly as the pipeline passes it to ``combine``."""
    seen: dict[str, Scored] = {}
    real = pipeline_module.combine

    def spy(scored, cfg):
        seen.update(scored)
        return real(scored, cfg)

    with mock.patch.object(pipeline_module, "combine", spy):
        m.match(profile, today=TODAY)
    assert seen, "the pipeline no longer calls combine(scored, cfg)"
    return seen


PROFILES = [
    {"age": 10},
    {"age": 10, "needs": ["autism", "anxiety"], "about": "he loves swimming and trains",
     "postcode": "N7 8JN", "travel": {"mode": "public_transport", "max_minutes": 30},
     "transition": "primary_to_secondary", "has_ehcp": False,
     "preferences": {"free_only": True, "categories": ["leisure"], "when": ["weekends"],
                     "accessibility": ["sensory_friendly"], "delivery": ["in_person"],
                     "language": "Turkish"}},
    {"age": 17, "needs": ["learning disability"], "postcode": "EC1V 4PA",
     "travel": {"mode": "walk", "max_minutes": 20}, "transition": "preparing_for_adulthood"},
    {"age": 4, "needs": ["dyslexia", "SLCN"], "postcode": "N7", "travel": {"mode": "car"}},
    {"age": 12, "about": "deaf, uses BSL", "travel": {"mode": "online_only"},
     "preferences": {"language": "BSL"}},
]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_scorer_gives_n_values_in_unit_interval(directory, profile):
    scored = scored_by_pipeline(directory, profile)
    assert {"need", "text", "travel", "transition", "preferences", "freshness"} <= set(scored)
    n = directory.table.n
    for name, s in scored.items():
        assert s.values.shape == (n,), name
        assert np.all(np.isfinite(s.values)), name
        assert np.all((s.values >= 0) & (s.values <= 1)), name


def test_scorers_called_directly_give_n_values_in_unit_interval(directory):
    m, n = directory, directory.table.n
    q = query_for(m, **PROFILES[1])
    levels = need_levels(m.table, q, m.vocab, m.cfg)
    assert levels.values.shape == (n, len(q.needs)) and len(q.needs) >= 2
    for s in (score_need(levels, q, m.cfg), score_text(m.table, q, m.cfg),
              score_travel(m.table, q, m.cfg), score_transition(m.table, q, m.cfg),
              score_preferences(m.table, q, m.cfg), score_freshness(m.table, TODAY, m.cfg)):
        assert s.applies
        assert s.values.shape == (n,)
        assert np.all((s.values >= 0) & (s.values <= 1))


def test_components_that_do_not_apply_are_left_out(directory):
    scored = scored_by_pipeline(directory, {"age": 10})
    assert not scored["transition"].applies  # no move ahead
    assert not scored["preferences"].applies  # no preferences given
    assert not scored["text"].applies  # no words at all


# -- travel --------------------------------------------------------------------------------


@pytest.mark.parametrize(("km", "mode", "minutes"), [
    (0.0, "public_transport", 8.0),
    (2.0, "public_transport", 8.0 + 2.0 * 1.3 / 14.8 * 60),  # 18.54
    (2.0, "walk", 32.5),                                      # 2 x 1.3 / 4.8 h
    (3.0, "car", 5.0 + 11.7),                                 # 3 x 1.3 / 20 h = 11.7 min
    (3.0, "travel_assistance", 10.0 + 11.7),
    (10.0, "walk", 162.5),
])
def test_travel_minutes_hand_computed(km, mode, minutes):
    got = travel_minutes(np.array([km]), mode, explicit_config())
    assert got.shape == (1,)
    assert got[0] == pytest.approx(minutes, abs=1e-9)


def test_travel_minutes_with_shipped_config_is_linear_and_vectorised():
    cfg = load_config()
    km = np.array([0.0, 1.0, 2.0, 5.0])
    for mode, m in cfg.travel.modes.items():
        got = travel_minutes(km, mode, cfg)
        assert got.shape == (4,)
        assert got[0] == pytest.approx(m.overhead_min)
        assert np.all(np.diff(got) > 0)
        # Straight line: equal steps in km add equal minutes.
        assert got[2] - got[1] == pytest.approx(got[1] - got[0])
        assert got[1] - got[0] == pytest.approx(m.route_factor / m.speed_kmh * 60)


def test_walking_is_slower_than_a_car_for_the_same_distance():
    cfg = load_config()
    km = np.array([3.0])
    assert travel_minutes(km, "walk", cfg)[0] > travel_minutes(km, "car", cfg)[0]


def test_travel_value_is_full_nearby_at_limit_at_the_limit_and_falls_beyond(small):
    m = small
    q = query_for(m, age=9, postcode="N7 8JN", travel={"mode": "public_transport",
                                                       "max_minutes": 30})
    s = score_travel(m.table, q, m.cfg)
    near, far = row(m, "NEAR_SCHOOL"), row(m, "FAR_SCHOOL")
    assert s.facts["minutes"][near] < 15  # under half the limit
    assert s.values[near] == 1.0
    assert s.values[far] < s.values[near]
    # Exactly at the family's limit the value is the configured at_limit.
    limit = float(s.facts["minutes"][far])
    q2 = query_for(m, age=9, postcode="N7 8JN", travel={"mode": "public_transport",
                                                        "max_minutes": limit})
    assert score_travel(m.table, q2, m.cfg).values[far] == pytest.approx(m.cfg.travel.at_limit)
    # Beyond the limit it keeps falling.
    q3 = query_for(m, age=9, postcode="N7 8JN", travel={"mode": "public_transport",
                                                        "max_minutes": limit / 2})
    assert score_travel(m.table, q3, m.cfg).values[far] < m.cfg.travel.at_limit


def test_minutes_in_the_reason_match_the_hand_computed_figure(small):
    res = result(small, "FAR_SCHOOL", age=9, postcode="N7 8JN",
                 travel={"mode": "walk", "max_minutes": 60})
    km = res.distance_km
    assert 7.5 < km < 8.7  # Holloway to Stratford, straight line
    expected = km * 1.3 / 4.8 * 60
    assert res.travel_minutes == pytest.approx(expected, abs=0.2)
    assert label(res, "travel") == (f"About {round(expected)} minutes' walk ({km:.1f} km): "
                                    "longer than the 60 minutes you said")


@pytest.mark.parametrize("mode", ["walk", "public_transport", "car", "travel_assistance",
                                  "online_only"])
def test_online_phone_and_home_visits_need_no_travel(small, mode):
    m = small
    q = query_for(m, age=9, postcode="N7 8JN", travel={"mode": mode})
    s = score_travel(m.table, q, m.cfg)
    for sid in ("ONLINE", "PHONE", "HOME", "HOME_FAR"):
        assert s.values[row(m, sid)] == 1.0, sid
    assert label(result(m, "PHONE", age=9, postcode="N7 8JN"), "travel") == (
        "Online or by phone, so no travel needed")
    assert label(result(m, "HOME_FAR", age=9, postcode="N7 8JN"), "travel") == "Comes to your home"


def test_no_postcode_gives_the_neutral_value_and_says_so(small):
    m = small
    q = query_for(m, age=9)
    s = score_travel(m.table, q, m.cfg)
    for sid in ("FAR_SCHOOL", "NEAR_SCHOOL", "NO_VENUE"):
        assert s.values[row(m, sid)] == m.cfg.travel.unknown
    assert s.values[row(m, "ONLINE")] == 1.0
    res = result(m, "NEAR_SCHOOL", age=9)
    assert label(res, "travel") == "Travel time not estimated: no postcode given"
    assert res.travel_minutes is None and res.distance_km is None
    assert "Travel time not estimated: no postcode given" in res.reasons


def test_service_without_a_venue_gives_the_neutral_value_and_says_so(small):
    m = small
    q = query_for(m, age=9, postcode="N7 8JN")
    assert score_travel(m.table, q, m.cfg).values[row(m, "NO_VENUE")] == m.cfg.travel.unknown
    res = result(m, "NO_VENUE", age=9, postcode="N7 8JN")
    assert label(res, "travel") == "Venue not given, so travel time not estimated"


def test_neutral_value_follows_the_config(small, postcode_index):
    cfg = explicit_config(travel={"unknown": 0.25})
    m = Matcher(small.table, small.vocab, postcode_index, cfg)
    q = query_for(m, age=9)
    assert score_travel(m.table, q, cfg).values[row(m, "NEAR_SCHOOL")] == 0.25


# -- statutory walking distance ------------------------------------------------------------

WALKING = "More than 3 miles away, so your child may get free travel to school: ask the council"


def test_statutory_walking_sentence_for_a_school_over_3_miles_at_age_9(small):
    res = result(small, "FAR_SCHOOL", age=9, postcode="N7 8JN")
    assert WALKING in res.reasons


def test_no_statutory_walking_sentence_for_a_leisure_service_or_a_near_school(small):
    assert WALKING not in result(small, "FAR_CLUB", age=9, postcode="N7 8JN").reasons
    near = result(small, "NEAR_SCHOOL", age=9, postcode="N7 8JN").reasons
    assert not any("miles away" in r for r in near)


def test_statutory_walking_is_2_miles_under_8_and_only_for_school_ages(small):
    # Dalston is about 2.4 miles from Holloway: over the limit at 7, under it at 9.
    seven = result(small, "MID_SCHOOL", age=7, postcode="N7 8JN").reasons
    assert ("More than 2 miles away, so your child may get free travel to school: ask the "
            "council") in seven
    nine = result(small, "MID_SCHOOL", age=9, postcode="N7 8JN").reasons
    assert not any("miles away" in r for r in nine)
    for age in (4, 17):  # below and above compulsory school age
        reasons = result(small, "FAR_SCHOOL", age=age, postcode="N7 8JN").reasons
        assert not any("miles away" in r for r in reasons), age


# -- freshness -----------------------------------------------------------------------------


def test_freshness_lowers_records_older_than_a_year(small):
    m = small
    s = score_freshness(m.table, TODAY, m.cfg)
    fresh = s.values[row(m, "JUST_FRESH")]
    assert fresh == 1.0
    assert s.values[row(m, "STALE")] < fresh
    assert s.values[row(m, "JUST_STALE")] < fresh
    assert s.values[row(m, "UNDATED")] == m.cfg.freshness.unknown


def test_stale_reason_names_the_month(small):
    res = result(small, "STALE", age=9, postcode="N7 8JN")
    caveat = "Last checked January 2024, over a year ago: details may have changed"
    assert label(res, "freshness") == caveat
    assert res.reasons[-1] == caveat
    fresh = result(small, "NEAR_SCHOOL", age=9, postcode="N7 8JN")
    assert label(fresh, "freshness") == "Details checked November 2026"
    assert not any("over a year ago" in r for r in fresh.reasons)


def test_undated_record_says_so(small):
    res = result(small, "UNDATED", age=9, postcode="N7 8JN")
    assert res.reasons[-1] == ("No date for when it was last checked: confirm details with the "
                               "provider")


# -- needs, transition, preferences, text --------------------------------------------------


def level_of(m: Matcher, sid: str, **profile: Any) -> str:
    q = query_for(m, **profile)
    levels = need_levels(m.table, q, m.vocab, m.cfg)
    return NEED_LEVELS[int(levels.level(row(m, sid), 0))]


def test_need_levels(directory):
    m = directory
    assert level_of(m, "P03", age=10, needs=["dyslexia"]) == "exact"
    assert level_of(m, "P03", age=10, needs=["dyscalculia"]) == "same_code"
    assert level_of(m, "P04", age=10, needs=["autism"]) == "all_send"
    assert level_of(m, "P33", age=10, needs=["autism"]) == "unstated"
    assert level_of(m, "P24", age=10, needs=["ADHD"]) == "excluded"
    assert level_of(m, "P12", age=10, needs=["autism"]) == "none"


def test_need_value_orders_exact_over_related_over_unrelated(directory):
    m = directory
    q = query_for(m, age=10, needs=["dyslexia"])
    s = score_need(need_levels(m.table, q, m.vocab, m.cfg), q, m.cfg).values
    assert s[row(m, "P03")] > s[row(m, "P04")] > s[row(m, "P12")]
    assert s[row(m, "P24")] == 0.0 or s[row(m, "P24")] < s[row(m, "P03")]


def test_transition_fit(directory):
    m = directory
    q = query_for(m, age=10, transition="primary_to_secondary")
    s = score_transition(m.table, q, m.cfg).values
    lists_move, setting, other_move, leisure = (row(m, x) for x in ("P06", "P05", "P17", "P01"))
    assert s[lists_move] > s[setting] > s[other_move] > s[leisure] == 0.0


def test_preferences_reward_what_was_asked(directory):
    m = directory
    q = query_for(m, age=10, preferences={"categories": ["leisure"]})
    s = score_preferences(m.table, q, m.cfg).values
    assert s[row(m, "P01")] == 1.0 and s[row(m, "P02")] == 0.0
    q = query_for(m, age=10, preferences={"when": ["weekends"]})
    s = score_preferences(m.table, q, m.cfg).values
    assert s[row(m, "P01")] > s[row(m, "P03")] > s[row(m, "P02")]  # stated yes, unstated, no


def test_text_scorer_prefers_services_using_the_familys_words(directory):
    m = directory
    q = query_for(m, age=10, about="swimming lessons for my deaf daughter")
    s = score_text(m.table, q, m.cfg)
    assert s.applies
    best = int(np.argmax(s.values))
    assert m.table.ids[best] == "P12"
    assert s.values[row(m, "P30")] == 0.0
