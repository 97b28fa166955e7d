"""Baselines the engine is measured against, on the same data and arrays.

Each takes the fitted :class:`ServiceTable`, a prepared query and a limit, and returns service
ids best first. They model what Local Offer directories do today. Their filters are the
engine's own hard rules, taken from its registry (:mod:`matcher.engine.components`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from matcher.engine.components import RULE_CHECKS
from matcher.engine.config import MatchConfig
from matcher.engine.features import ServiceTable
from matcher.engine.query import FamilyQuery
from matcher.geo.distance import haversine_km

__all__ = ["BASELINES", "nearest_first", "directory_search", "tfidf_only", "quick_rules"]


def _passes(rule: str, t: ServiceTable, q: FamilyQuery, cfg: MatchConfig) -> np.ndarray:
    """Where the engine's own hard rule ``rule`` (its registry entry) lets a service through."""
    return ~RULE_CHECKS[rule](t, q, None, cfg).fails


def _age_ok(t: ServiceTable, q: FamilyQuery, cfg: MatchConfig) -> np.ndarray:
    """The engine's age rule without its transition look-ahead (directories have none)."""
    return RULE_CHECKS["age"](t, q, None, cfg).facts["in_range"]


def _distance(t: ServiceTable, q: FamilyQuery) -> np.ndarray:
    if not q.has_location:
        return np.full(t.n, np.inf)
    return np.nan_to_num(haversine_km(q.lat, q.lon, t.lat, t.lon), nan=np.inf)


def _tfidf(t: ServiceTable, q: FamilyQuery) -> np.ndarray:
    """Plain TF-IDF cosine over each service's whole text, whatever the engine scores with."""
    index = t.text_index
    return getattr(index, "tfidf_", index).similarity(q.text)


def _order(key: np.ndarray, mask: np.ndarray, t: ServiceTable, limit: int) -> list[str]:
    idx = np.flatnonzero(mask)
    order = np.lexsort((t.ids[idx], key[idx]))
    return [str(t.ids[i]) for i in idx[order][:limit]]


def nearest_first(t: ServiceTable, q: FamilyQuery, cfg: MatchConfig, limit: int) -> list[str]:
    """Age filter, then distance order (services with no venue last)."""
    return _order(_distance(t, q), _age_ok(t, q, cfg), t, limit)


def directory_search(t: ServiceTable, q: FamilyQuery, cfg: MatchConfig, limit: int) -> list[str]:
    """Age filter, any of the family's need words in the service text, then distance order."""
    words = {w for phrase in q.profile.needs for w in re.findall(r"[a-z]{3,}", phrase.lower())}
    if not words:
        words = set(re.findall(r"[a-z]{5,}", q.profile.about.lower()))
    text = (t.frame["name"] + " " + t.frame["description"] + " " + t.frame["needs_raw"]).str.lower()
    pattern = r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")" if words else r"$^"
    hit = text.str.contains(pattern, regex=True).to_numpy(bool)
    return _order(_distance(t, q), _age_ok(t, q, cfg) & hit, t, limit)


def tfidf_only(t: ServiceTable, q: FamilyQuery, cfg: MatchConfig, limit: int) -> list[str]:
    """Age filter, then TF-IDF similarity order."""
    return _order(-_tfidf(t, q), _age_ok(t, q, cfg), t, limit)


def quick_rules(t: ServiceTable, q: FamilyQuery, cfg: MatchConfig, limit: int) -> list[str]:
    """Age, service-area and EHCP filters, then TF-IDF similarity minus a small distance penalty."""
    mask = _age_ok(t, q, cfg) & _passes("ehcp", t, q, cfg) & _passes("area", t, q, cfg)
    km = _distance(t, q)
    penalty = 0.01 * np.where(np.isinf(km), 0.0, km)
    return _order(-(_tfidf(t, q) - penalty), mask, t, limit)


BASELINES: dict[str, Callable[[ServiceTable, FamilyQuery, MatchConfig, int], list[str]]] = {
    "nearest_first": nearest_first,
    "directory_search": directory_search,
    "tfidf_only": tfidf_only,
    "quick_rules": quick_rules,
}
