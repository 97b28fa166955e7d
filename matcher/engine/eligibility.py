"""Eligibility: the hard rules. Vectorised masks, each with the reason it excludes a service.

A service is a candidate when it fails no rule. Missing data never fails a rule: it is
recorded as "unknown" so the reasons can say so ("age range not stated").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.engine.features import ServiceTable
from matcher.engine.query import FamilyQuery
from matcher.engine.scorers import NeedLevels

__all__ = ["Eligibility", "RULES", "check_eligibility"]

RULES = ("age", "area", "ehcp", "parents_only", "online_only", "free_only", "other_needs",
         "need_excluded")


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


def check_eligibility(table: ServiceTable, query: FamilyQuery, needs: NeedLevels,
                      cfg: MatchConfig) -> Eligibility:
    """Apply every hard rule to every service at once."""
    n = table.n
    age = query.age
    lo, hi = table.min_age, table.max_age
    unknown_lo, unknown_hi = np.isnan(lo), np.isnan(hi)
    in_range = (unknown_lo | (lo <= age)) & (unknown_hi | (hi >= age))
    # Look-ahead: settings and transition services of the destination phase, up to a year on.
    t = query.profile.transition
    lookahead = np.zeros(n, dtype=bool)
    if t and query.lookahead_age > age:
        phase = (table.cats[:, table.col("categories", "education")]
                 | table.cats[:, table.col("categories", "transition")]
                 | table.transitions[:, table.col("transitions", t)])
        ahead = (unknown_lo | (lo <= query.lookahead_age)) & (unknown_hi | (hi >= age))
        lookahead = phase & ahead & ~in_range
    fails = {"age": ~(in_range | lookahead)}
    unknown = {"age": unknown_lo & unknown_hi}

    if query.district:
        fails["area"] = ~_area_ok(table, query.district)
        unknown["area"] = table.area_unstated.copy()
    else:
        fails["area"] = np.zeros(n, dtype=bool)
        unknown["area"] = ~table.area_open

    fails["ehcp"] = table.ehcp_required & (not query.profile.has_ehcp)
    # A young person asking for themselves is not offered a service for parents and carers.
    fails["parents_only"] = table.parents_only & (query.profile.who == "young_person")

    d = table.delivery
    reachable_remotely = (d[:, table.col("delivery", "online")]
                          | d[:, table.col("delivery", "phone")]
                          | d[:, table.col("delivery", "home_visit")])
    fails["online_only"] = ~reachable_remotely if query.mode == "online_only" else np.zeros(n, bool)

    if query.profile.preferences.free_only:
        free = ((table.cost_free | table.cost_free_for_some)
                if cfg.eligibility.free_for_some_is_free else table.cost_free)
        fails["free_only"] = table.cost_stated & ~free
        unknown["cost"] = ~table.cost_stated
    else:
        fails["free_only"] = np.zeros(n, dtype=bool)

    if query.needs and cfg.need.exclude_other_needs:
        fails["other_needs"] = table.stated_specific & ~needs.overlap & ~table.all_send
        fails["need_excluded"] = needs.excluded_any & ~needs.exact_any
    else:
        fails["other_needs"] = np.zeros(n, dtype=bool)
        fails["need_excluded"] = np.zeros(n, dtype=bool)
    return Eligibility(fails=fails, unknown=unknown, lookahead=lookahead)
