"""Eligibility: the hard rules. Vectorised masks, each with the reason it excludes a service.

A service is a candidate when it fails no rule. Missing data never fails a rule: it is
recorded as "unknown" so the reasons can say so ("age range not stated").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.engine.features import ServiceTable
from matcher.engine.query import FamilyQuery
from matcher.engine.scorers import NeedLevels

__all__ = ["Eligibility", "RULES", "RULE_CHECKS", "RuleResult", "check_eligibility"]

@dataclass
class Eligibility:
    """``fails[rule]`` is True where the rule excludes the service; ``unknown[...]`` where data is missing."""

    fails: dict[str, np.ndarray]
    unknown: dict[str, np.ndarray]
    lookahead: np.ndarray  # eligible only through the transition look-ahead
    n_failed: np.ndarray = field(init=False)   # how many rules each service fails
    eligible: np.ndarray = field(init=False)   # fails none

    def __post_init__(self) -> None:
        n_failed = np.zeros(len(self.lookahead), dtype=np.int8)
        for mask in self.fails.values():
            n_failed += mask
        self.n_failed = n_failed
        self.eligible = n_failed == 0


def _area_ok(table: ServiceTable, district: str) -> np.ndarray:
    """True where a family in ``district`` may use the service: it lists the district (or, for
    a district like EC1V, its parent EC1), is national, or states no area.

    Uses the table's district -> rows index, so the cost is the number of services listing the
    district, not a scan over every district of every service.
    """
    keys = {district}
    if district[-1].isalpha():  # EC1V is inside an "EC1" service area
        keys.add(district[:-1])
    ok = table.area_open.copy()
    for key in keys:
        rows = table.area_rows.get(key)
        if rows is not None:
            ok[rows] = True
    return ok


@dataclass
class RuleResult:
    """What one rule finds over every service: ``fails`` where it excludes one, ``unknown``
    (named) where the data it needs is missing, and any arrays its reason is written from."""

    fails: np.ndarray
    unknown: dict[str, np.ndarray] = field(default_factory=dict)
    facts: dict[str, np.ndarray] = field(default_factory=dict)


def _none(table: ServiceTable) -> np.ndarray:
    return np.zeros(table.n, dtype=bool)


def rule_age(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
             cfg: MatchConfig) -> RuleResult:
    """Outside the service's ages, unless it is a setting or transition service of the
    destination phase that the family's move makes worth a look now (``lookahead``)."""
    age = query.age
    lo, hi = table.min_age, table.max_age
    unknown_lo, unknown_hi = np.isnan(lo), np.isnan(hi)
    in_range = (unknown_lo | (lo <= age)) & (unknown_hi | (hi >= age))
    # Look-ahead: settings and transition services of the destination phase, up to a year on.
    t = query.profile.transition
    lookahead = np.zeros(table.n, dtype=bool)
    if t and query.lookahead_age > age:
        phase = (table.cats[:, table.col("categories", "education")]
                 | table.cats[:, table.col("categories", "transition")]
                 | table.transitions[:, table.col("transitions", t)])
        ahead = (unknown_lo | (lo <= query.lookahead_age)) & (unknown_hi | (hi >= age))
        lookahead = phase & ahead & ~in_range
    return RuleResult(~(in_range | lookahead), {"age": unknown_lo & unknown_hi},
                      {"in_range": in_range, "lookahead": lookahead})


def rule_area(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
              cfg: MatchConfig) -> RuleResult:
    """The service lists areas and the family's district is not among them."""
    if query.district:
        return RuleResult(~_area_ok(table, query.district), {"area": table.area_unstated.copy()})
    return RuleResult(_none(table), {"area": ~table.area_open})


def rule_ehcp(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
              cfg: MatchConfig) -> RuleResult:
    """Only for children and young people with an EHC plan, and the family has none."""
    return RuleResult(table.ehcp_required & (not query.profile.has_ehcp))


def rule_parents_only(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
                      cfg: MatchConfig) -> RuleResult:
    """A young person asking for themselves is not offered a service for parents and carers."""
    return RuleResult(table.parents_only & (query.profile.who == "young_person"))


def rule_online_only(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
                     cfg: MatchConfig) -> RuleResult:
    """The family can only use services online or by phone, and this one is in person only."""
    if query.mode != "online_only":
        return RuleResult(_none(table))
    d = table.delivery
    reachable_remotely = (d[:, table.col("delivery", "online")]
                          | d[:, table.col("delivery", "phone")]
                          | d[:, table.col("delivery", "home_visit")])
    return RuleResult(~reachable_remotely)


def rule_free_only(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
                   cfg: MatchConfig) -> RuleResult:
    """The family asked for free services only, and this one states a charge."""
    if not query.profile.preferences.free_only:
        return RuleResult(_none(table))
    free = ((table.cost_free | table.cost_free_for_some)
            if cfg.eligibility.free_for_some_is_free else table.cost_free)
    return RuleResult(table.cost_stated & ~free, {"cost": ~table.cost_stated})


def rule_other_needs(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
                     cfg: MatchConfig) -> RuleResult:
    """The service states specific needs and none of the family's is among them."""
    if not (query.needs and cfg.need.exclude_other_needs) or needs is None:
        return RuleResult(_none(table))
    return RuleResult(table.stated_specific & ~needs.overlap & ~table.all_send)


def rule_need_excluded(table: ServiceTable, query: FamilyQuery, needs: NeedLevels | None,
                       cfg: MatchConfig) -> RuleResult:
    """The service's words rule out one of the family's needs (and it serves none by name)."""
    if not (query.needs and cfg.need.exclude_other_needs) or needs is None:
        return RuleResult(_none(table))
    return RuleResult(needs.excluded_any & ~needs.exact_any)


RuleCheck = Callable[[ServiceTable, FamilyQuery, "NeedLevels | None", MatchConfig], RuleResult]

#: The hard rules, in the order their reasons are given (the registry,
#: :mod:`matcher.engine.components`, pairs each with its reason).
RULE_CHECKS: dict[str, RuleCheck] = {
    "age": rule_age,
    "area": rule_area,
    "ehcp": rule_ehcp,
    "parents_only": rule_parents_only,
    "online_only": rule_online_only,
    "free_only": rule_free_only,
    "other_needs": rule_other_needs,
    "need_excluded": rule_need_excluded,
}
RULES = tuple(RULE_CHECKS)


def check_eligibility(table: ServiceTable, query: FamilyQuery, needs: NeedLevels,
                      cfg: MatchConfig,
                      rules: Mapping[str, RuleCheck] | None = None) -> Eligibility:
    """Apply every hard rule (``rules``, the registry's by default) to every service at once."""
    fails: dict[str, np.ndarray] = {}
    unknown: dict[str, np.ndarray] = {}
    lookahead = np.zeros(table.n, dtype=bool)
    for name, check in (rules if rules is not None else RULE_CHECKS).items():
        result = check(table, query, needs, cfg)
        fails[name] = result.fails
        unknown.update(result.unknown)
        if "lookahead" in result.facts:
            lookahead = result.facts["lookahead"]
    return Eligibility(fails=fails, unknown=unknown, lookahead=lookahead)
