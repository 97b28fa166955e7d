"""The engine's registry: every scorer and every hard rule, each with the function that gives
its numbers and the one that words its reason from those same numbers.

One list drives the match: :data:`SCORERS` is what the pipeline scores with, the order
:func:`matcher.engine.combine.combine` adds up in and the labels
:func:`matcher.engine.explain.explain_rows` writes; :data:`RULES` is what
:func:`matcher.engine.eligibility.check_eligibility` applies and the "why not" sentences of
services left out. A component's weight is ``[weights] <name>`` of the match configuration.
The baselines reuse the same rule checks (:mod:`matcher.evaluation.baselines`).

To add a scorer: write a vectorised function returning :class:`Scored` (values in [0, 1]
for every service, and the arrays its sentence needs in ``facts``), a label function reading
those arrays, a weight in :class:`matcher.engine.config.Weights`, and one line here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from matcher.engine import eligibility as rules
from matcher.engine import explain as ex
from matcher.engine import scorers as sc
from matcher.engine.config import MatchConfig
from matcher.engine.features import ServiceTable
from matcher.engine.query import FamilyQuery
from matcher.engine.scorers import NeedLevels, Scored
from matcher.vocab import Vocabulary

__all__ = ["MatchInputs", "Scorer", "Rule", "SCORERS", "RULES", "LABELS", "REASONS",
           "RULE_CHECKS", "score_all", "rule_reason"]


@dataclass(frozen=True)
class MatchInputs:
    """What every scorer of one match may read."""

    table: ServiceTable
    query: FamilyQuery
    cfg: MatchConfig
    levels: NeedLevels
    today: dt.date


@dataclass(frozen=True)
class Scorer:
    name: str
    score: Callable[[MatchInputs], Scored]
    label: ex.LabelFn


@dataclass(frozen=True)
class Rule:
    name: str
    check: rules.RuleCheck
    reason: ex.ReasonFn


SCORERS: tuple[Scorer, ...] = (
    Scorer("need", lambda m: sc.score_need(m.levels, m.query, m.cfg), ex.label_need),
    Scorer("intent", lambda m: sc.score_intent(m.table, m.query.intent_vector),
           ex.label_intent),
    Scorer("text", lambda m: sc.score_text(m.table, m.query, m.cfg), ex.label_text),
    Scorer("travel", lambda m: sc.score_travel(m.table, m.query, m.cfg), ex.label_travel),
    Scorer("transition", lambda m: sc.score_transition(m.table, m.query, m.cfg),
           ex.label_transition),
    Scorer("preferences", lambda m: sc.score_preferences(m.table, m.query, m.cfg),
           ex.label_preferences),
    Scorer("language", lambda m: sc.score_language(m.table, m.query, m.cfg), ex.label_language),
    Scorer("audience", lambda m: sc.score_audience(m.table, m.query, m.cfg), ex.label_audience),
    Scorer("freshness", lambda m: sc.score_freshness(m.table, m.today, m.cfg),
           ex.label_freshness),
    Scorer("age_hint", lambda m: sc.score_age_hint(m.table, m.query, m.cfg), ex.label_age_hint),
)

RULES: tuple[Rule, ...] = (
    Rule("age", rules.rule_age, ex.reason_age),
    Rule("area", rules.rule_area, ex.reason_area),
    Rule("ehcp", rules.rule_ehcp, ex.reason_ehcp),
    Rule("parents_only", rules.rule_parents_only, ex.reason_parents_only),
    Rule("online_only", rules.rule_online_only, ex.reason_online_only),
    Rule("free_only", rules.rule_free_only, ex.reason_free_only),
    Rule("other_needs", rules.rule_other_needs, ex.reason_other_needs),
    Rule("need_excluded", rules.rule_need_excluded, ex.reason_need_excluded),
)

LABELS: dict[str, ex.LabelFn] = {s.name: s.label for s in SCORERS}
REASONS: dict[str, ex.ReasonFn] = {r.name: r.reason for r in RULES}
RULE_CHECKS: dict[str, rules.RuleCheck] = {r.name: r.check for r in RULES}


def score_all(inputs: MatchInputs) -> dict[str, Scored]:
    """Every registered scorer's values for every service, in the registry's order."""
    return {s.name: s.score(inputs) for s in SCORERS}


def rule_reason(rule: str, row: int, table: ServiceTable, query: FamilyQuery,
                levels: NeedLevels, vocab: Vocabulary) -> str:
    """Why ``rule`` excludes service ``row``, in a sentence (its registry reason)."""
    reason = REASONS.get(rule)
    return reason(row, table, query, levels, vocab) if reason is not None else rule
