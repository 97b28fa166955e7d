"""Property over the hand-labelled real records (tests/data/labels): whatever a family under 18
asks, a record a person labelled "adults only" is never suggested to them (below the label's
own first age, for a record that calls 16-year-olds adults), unless the result says it is for
the parent ("For you as a parent or carer").

The records are read from ../shared/real-samples (North Lincolnshire ORUK v1, Buckinghamshire
Outpost); the test skips, saying why, when they are absent.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.engine.pipeline import Matcher
from matcher.evaluation.labels import _records, load_labels
from matcher.services import records_to_frame
from matcher.vocab import load_vocabulary

SHARED = Path(__file__).resolve().parents[2] / "shared"
LABELS = Path(__file__).resolve().parent / "data" / "labels"
SAMPLES = SHARED / "real-samples"

pytestmark = pytest.mark.skipif(
    not (SAMPLES / "north-lincs-oruk-v1").exists(),
    reason=f"the real samples are not at {SAMPLES} (../shared absent)")


@lru_cache(maxsize=1)
def _setup() -> tuple[Matcher, dict[str, int]]:
    """The matcher over both samples, and each labelled adults-only record's first age (the
    label's minimum where it gives one, as for "adults (16+)", else 18)."""
    records = _records(SHARED, dt.date(2026, 11, 22))
    adults = {records[(lab["source"], lab["id"])].id: lab.get("min_age") or 18
              for lab in load_labels(LABELS)
              if lab.get("adults_only") and (lab["source"], lab["id"]) in records}
    return Matcher.from_frame(records_to_frame(list(records.values()))), adults


NEEDS = sorted(n for n in load_vocabulary().needs if n != "all_send")
WORDS = ["somewhere to go at the weekend", "someone to talk to", "help with money",
         "a club to make friends", "support for the family", "a break", ""]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(age=st.integers(0, 17), needs=st.lists(st.sampled_from(NEEDS), max_size=3),
       about=st.sampled_from(WORDS), who=st.sampled_from(["parent", "young_person"]))
def test_no_child_is_shown_an_adults_only_record(postcode_index, age, needs, about, who):
    matcher, adults = _setup()
    assert adults, "the labels name no adults-only record: nothing to check"
    if who == "young_person" and age < 11:
        who = "parent"
    out = matcher.match({"age": age, "needs": needs, "about": about, "who": who, "limit": 50})
    for r in out.results:
        if r.service_id in adults and age < adults[r.service_id]:
            assert who == "parent" and any(
                x.startswith("For you as a parent or carer") for x in r.reasons), (
                r.service_id, r.name, r.reasons)


def _shown_to_a_child(matcher: Matcher, adults: dict[str, int], profile: dict) -> list[tuple]:
    out = matcher.match({**profile, "limit": 50})
    return [(r.service_id, r.name) for r in out.results
            if r.service_id in adults and profile["age"] < adults[r.service_id]
            and not (profile["who"] == "parent"
                     and any(x.startswith("For you as a parent or carer") for x in r.reasons))]


def test_no_child_is_shown_an_adults_only_record_at_any_age_need_or_wording(postcode_index):
    """The same property, swept: every age under 18, both askers, each wording with no need and
    each need alone."""
    matcher, adults = _setup()
    wrong = []
    for age in range(18):
        for who in ("parent", "young_person") if age >= 11 else ("parent",):
            profiles = [{"age": age, "who": who, "needs": [], "about": w} for w in WORDS]
            profiles += [{"age": age, "who": who, "needs": [n], "about": ""} for n in NEEDS]
            for p in profiles:
                wrong += [(p["age"], p["who"], p["needs"], p["about"], *hit)
                          for hit in _shown_to_a_child(matcher, adults, p)]
    assert not wrong, wrong[:10]
