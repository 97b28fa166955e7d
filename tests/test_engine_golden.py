"""Golden explanations (exact reasons, word for word, on a five-service directory with the
explicit test config and a fixed date), the free-text-only family, and known engine bugs."""

from __future__ import annotations

import datetime as dt

import pytest
from engine_support import TODAY, explicit_config, make_record, property_directory

from matcher.engine.pipeline import Matcher
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary

d = dt.date.fromisoformat


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


@pytest.fixture(scope="module")
def tiny(postcode_index, vocab) -> Matcher:
    def r(*args, **kw):
        return make_record(postcode_index, vocab, *args, **kw)

    records = [
        r("G1", "Holloway Autism Club", "A weekly club for autistic children: games, art and a "
          "quiet room.", ["leisure"], "autism", "N7 9DP", organisation="Islington Play",
          min_age=8, max_age=14, cost="free", when=["weekends"],
          accessibility=["sensory_friendly", "quiet_space"], last_reviewed=d("2026-06-01")),
        r("G2", "SENDIASS Helpline", "Free, impartial information, advice and support about "
          "SEND.", ["support_advice"], "all SEND", None, organisation="Islington SENDIASS",
          delivery=["phone", "online"], service_area=["national"], min_age=0, max_age=25,
          cost="free", last_reviewed=d("2026-09-01")),
        r("G3", "Stratford Special School", "A special school for autistic pupils.",
          ["education"], "autism", "E15 1AA", organisation="Newham Council", min_age=4,
          max_age=19, cost="free", last_reviewed=d("2025-10-01")),
        r("G4", "Hornsey Road Resourced Provision", "Secondary autism base in a mainstream "
          "school.", ["education"], "autism", "N7 6PA", organisation="Hornsey Road School",
          min_age=11, max_age=16, transitions=["primary_to_secondary"], cost="free",
          last_reviewed=d("2026-03-03")),
        r("G5", "Dyslexia Tutoring", "Literacy tutoring for dyslexic pupils.", ["education"],
          "dyslexia", "N1 1QN", organisation="Read Well", min_age=6, max_age=16, cost="paid",
          cost_details="£25 an hour", last_reviewed=d("2026-01-15")),
    ]
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                              cfg=explicit_config())


AUTISTIC_10 = {"age": 10, "needs": ["autistic"], "postcode": "N7 8JN",
               "travel": {"mode": "public_transport"}}
MOVING_UP = {"age": 10, "needs": ["autistic"], "postcode": "N7 8JN",
             "transition": "primary_to_secondary",
             "preferences": {"free_only": True, "when": ["weekends"]}}


def reasons(m: Matcher, profile: dict, sid: str) -> list[str]:
    out = m.match(profile, today=TODAY)
    return next(r.reasons for r in out.results if r.service_id == sid)


def test_golden_autism_club_nearby(tiny):
    assert reasons(tiny, AUTISTIC_10, "G1") == [
        "Supports autistic children and young people: you mentioned autistic",
        "Its description matches your words: autistic",
        "For ages 8 to 14; your child is 10",
        "About 10 minutes by public transport (0.4 km)",
        "Free",
    ]


def test_golden_helpline(tiny):
    assert reasons(tiny, AUTISTIC_10, "G2") == [
        "Open to children and young people with any SEND",
        "Online or by phone, so no travel needed",
        "For ages 0 to 25; your child is 10",
        "Free",
    ]


def test_golden_far_school_with_walking_distance_and_stale_record(tiny):
    assert reasons(tiny, AUTISTIC_10, "G3") == [
        "Supports autistic children and young people: you mentioned autistic",
        "Its description matches your words: autistic",
        "For ages 4 to 19; your child is 10",
        "More than 3 miles away, so your child may get free travel to school: ask the council",
        "Last checked October 2025, over a year ago: details may have changed",
    ]


def test_golden_secondary_base_seen_a_year_ahead(tiny):
    assert reasons(tiny, MOVING_UP, "G4") == [
        "Supports autistic children and young people: you mentioned autistic",
        "About 11 minutes by public transport (0.6 km)",
        "For ages 11 to 16: one to look at now for the move to secondary school",
        "Helps with the move to secondary school",
        "Free",
    ]


def test_golden_not_suggested(tiny):
    out = tiny.match(MOVING_UP, explain="full", today=TODAY)
    assert [(n.service_id, n.status, n.reasons) for n in out.not_suggested] == [
        ("G5", "excluded", ["There is a charge, and you asked for free services only",
                            "Specialises in dyslexia, which you did not mention"]),
    ]
    out = tiny.match(AUTISTIC_10, explain="full", today=TODAY)
    assert [(n.service_id, n.status, n.reasons) for n in out.not_suggested] == [
        ("G4", "near_miss", ["For ages 11 to 16, but your child is 10"]),
        ("G5", "near_miss", ["Specialises in dyslexia, which you did not mention"]),
    ]


def test_golden_order(tiny):
    out = tiny.match(AUTISTIC_10, today=TODAY)
    assert [r.service_id for r in out.results] == ["G1", "G3", "G2"]
    assert out.understood_needs == [{"words": "autistic", "need": "autism", "label": "Autism",
                                     "from": "needs"}]


# -- a family that only writes free text ---------------------------------------------------

AUTISM_SERVICES = {"P01", "P05", "P06", "P08", "P15", "P20", "P29", "P32", "P39"}


@pytest.fixture(scope="module")
def directory(postcode_index, vocab) -> Matcher:
    return Matcher.from_frame(records_to_frame(property_directory(postcode_index, vocab)),
                              gazetteer=postcode_index)  # shipped config


@pytest.mark.parametrize("postcode", [None, "N7 8JN"])
def test_free_text_only_family_gets_autism_services_on_top(directory, postcode):
    profile = {"age": 9, "about": "he might be autistic, hates noise"}
    if postcode:
        profile["postcode"] = postcode
    out = directory.match(profile, today=TODAY)
    top = [r.service_id for r in out.results[:3]]
    assert set(top) <= AUTISM_SERVICES, top
    assert out.understood_needs[0]["need"] == "autism"
    assert out.understood_needs[0]["from"] == "about"
    # The reason quotes the family's own word for it, not the vocabulary's label.
    assert any("you wrote 'autistic'" in reason for reason in out.results[0].reasons)


# -- bugs found by these tests, now fixed -------------------------------------------------


def test_results_for_a_small_limit_are_a_prefix_of_a_larger_limit(postcode_index, vocab):
    records = [make_record(postcode_index, vocab, f"C{i:02d}", "Council Play Session",
                           "Inclusive play session for children.", ["leisure"], "all SEND",
                           "N7 9DP", organisation="Council", min_age=5, max_age=15,
                           cost="free", last_reviewed=d("2026-06-01")) for i in range(55)]
    records.append(make_record(postcode_index, vocab, "Z99", "Charity Play Session",
                               "Inclusive play session for children.", ["leisure"], "all SEND",
                               "N7 9DP", organisation="Charity", min_age=5, max_age=15,
                               cost="free", last_reviewed=d("2024-06-01")))
    m = Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index,
                           cfg=explicit_config())
    profile = {"age": 10, "needs": ["autism"], "postcode": "N7 8JN"}
    top50 = [r.service_id for r in m.match({**profile, "limit": 50}, today=TODAY).results]
    top10 = [r.service_id for r in m.match({**profile, "limit": 10}, today=TODAY).results]
    assert "Z99" in top50[:10]
    assert top10 == top50[:10]


def test_other_needs_reason_keeps_acronyms(directory):
    out = directory.match({"age": 10, "needs": ["autism"]}, explain="full", today=TODAY)
    reason = next(n.reasons for n in out.not_suggested if n.service_id == "P02")
    assert reason == ["Specialises in ADHD, which you did not mention"]


def test_text_reason_has_no_doubled_words(tiny):
    profile = {"age": 10, "needs": ["autism"], "postcode": "N7 8JN"}
    for reason in reasons(tiny, profile, "G1"):
        if reason.startswith("Its description matches your words: "):
            for term in reason.split(": ", 1)[1].split(", "):
                words = term.split()
                assert len(words) == len(set(words)), reason
