"""Combine: a weighted sum of the scorers' values. Contributions add up to the score.

The components are those of the engine's registry (:mod:`matcher.engine.components`), in
its order; each one's weight is ``[weights] <name>`` of the match configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.engine.config import MatchConfig
from matcher.engine.scorers import Scored

__all__ = ["Combined", "combine"]



@dataclass
class Combined:
    """``points[c]`` = normalised weight x value, per service; ``score`` is their sum."""

    weights: dict[str, float]     # normalised over the components that apply to this family
    values: dict[str, np.ndarray]
    points: dict[str, np.ndarray]
    score: np.ndarray


def combine(scored: dict[str, Scored], cfg: MatchConfig) -> Combined:
    """Weighted sum over the components that apply; weights rescaled to add up to 1."""
    raw = cfg.weights.model_dump()
    applies = {c: s for c, s in scored.items() if s.applies and raw.get(c, 0) > 0}
    total = sum(raw[c] for c in applies)
    weights = {c: raw[c] / total for c in applies}
    n = len(next(iter(scored.values())).values)
    points = {c: weights[c] * applies[c].values for c in applies}
    score = np.zeros(n)
    for c in scored:  # the registry's order: the same input always adds up the same way
        if c in points:
            score = score + points[c]
    return Combined(weights, {c: s.values for c, s in applies.items()}, points, score)
