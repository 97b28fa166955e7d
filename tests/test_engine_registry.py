"""The engine's registry (matcher.engine.components) is the one list of scorers and hard
rules: weights, the combined score, each reason, the "why not" sentences and the baselines'
filters all come from it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from engine_support import property_directory

from matcher.engine import components
from matcher.engine.config import Weights
from matcher.engine.eligibility import RULES
from matcher.engine.pipeline import Matcher
from matcher.services import records_to_frame

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(scope="module")
def directory(postcode_index):
    from matcher.vocab import load_vocabulary

    vocab = load_vocabulary()
    return Matcher.from_frame(records_to_frame(property_directory(postcode_index, vocab)),
                              gazetteer=postcode_index)


def test_every_scorer_has_a_weight_and_every_weight_a_scorer():
    assert [s.name for s in components.SCORERS] == list(Weights.model_fields)


def test_every_rule_has_a_check_and_a_reason_in_one_order():
    assert tuple(r.name for r in components.RULES) == RULES
    assert all(callable(r.check) and callable(r.reason) for r in components.RULES)


def test_each_contribution_is_its_scorers_value_times_weight_with_its_label(directory):
    out = directory.match({"age": 9, "needs": ["autism"], "about": "hates loud noise",
                           "postcode": "N7 8JN", "limit": 5}, explain="full", today=TODAY)
    assert out.results
    names = [s.name for s in components.SCORERS]
    for result in out.results:
        contribs = result.explanation.contributions
        parts = [c for c in contribs if c.component != "variety"]
        assert [c.component for c in parts] == [n for n in names if n in
                                                {c.component for c in parts}]
        for c in parts:
            assert np.isclose(c.points, c.weight * c.value, atol=1e-6)
            assert c.label
        assert np.isclose(result.score, sum(c.points for c in contribs), atol=1e-5)


def test_why_not_sentences_come_from_the_registry(directory, monkeypatch):
    profile = {"age": 3, "needs": ["autism"], "limit": 5}
    before = directory.match(profile, explain="full", today=TODAY).not_suggested
    assert any(n.reasons for n in before)
    monkeypatch.setitem(components.REASONS, "age", lambda *a: "AGE RULE FROM THE REGISTRY")
    after = directory.match(profile, explain="full", today=TODAY).not_suggested
    assert any("AGE RULE FROM THE REGISTRY" in n.reasons for n in after)


def test_a_labels_sentence_comes_from_the_registry(directory, monkeypatch):
    monkeypatch.setitem(components.LABELS, "freshness", lambda b, i, row: ("FRESH", {}))
    out = directory.match({"age": 9, "needs": ["autism"], "limit": 3}, explain="full",
                          today=TODAY)
    labels = [c.label for r in out.results for c in r.explanation.contributions
              if c.component == "freshness"]
    assert labels and set(labels) == {"FRESH"}
