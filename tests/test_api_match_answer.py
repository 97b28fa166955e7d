"""``POST /match`` builds its brief answer without ``MatchOutcome.to_dict``'s deep copy; the
answer must stay exactly what ``to_dict(full=False)`` gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matcher.api.routes.match import brief_answer

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "islington_local_offer.csv"

PROFILES = [
    {"age": 9, "needs": ["autism"], "postcode": "N7 8JN"},
    {"age": 15, "needs": ["ADHD", "anxiety", "qwertyuiop"], "about": "not going to school",
     "has_ehcp": True, "limit": 3},
    {"age": 2, "needs": ["speech delay"], "postcode": "N19 5NF",
     "travel": {"mode": "walk", "max_minutes": 15}, "transition": "into_early_years"},
    {"age": 20, "preferences": {"free_only": True, "categories": ["leisure"]}},
]


@pytest.fixture(scope="module")
def matcher(postcode_index):
    from matcher.engine.pipeline import Matcher
    from matcher.ingest import read_service_csv
    from matcher.services import records_to_frame

    records, _report = read_service_csv(DEMO, progress=False)
    return Matcher.from_frame(records_to_frame(records), gazetteer=postcode_index)


@pytest.mark.parametrize("profile", PROFILES)
def test_brief_answer_equals_to_dict(matcher, profile):
    outcome = matcher.match(profile)
    expected = outcome.to_dict(full=False)
    got = brief_answer(outcome)
    assert got == expected
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)
    assert "explanation" not in json.dumps(got)


def test_brief_answer_leaves_the_outcome_alone(matcher):
    outcome = matcher.match(PROFILES[0])
    before = outcome.to_dict(full=True)
    brief_answer(outcome)
    assert outcome.to_dict(full=True) == before
    assert outcome.results and all(r.explanation is not None for r in outcome.results)
