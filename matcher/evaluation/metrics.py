"""Ranking metrics over one case's ranked list and graded judgments."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["ndcg", "recall_at", "violation", "hit_rate"]


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], n: int = 10) -> float:
    """NDCG@n with graded gain 2^g - 1; NaN when the case has no relevant services.

    >>> round(ndcg(["a", "b"], {"b": 3, "a": 1}), 4)
    0.7098
    """
    ideal = sorted(relevant.values(), reverse=True)[:n]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg == 0:
        return math.nan
    dcg = sum((2 ** relevant.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(ranked[:n]))
    return dcg / idcg


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], grade: int = 3, n: int = 10) -> float:
    """Share of services graded ``grade`` that appear in the top ``n``; NaN if there are none."""
    wanted = {s for s, g in relevant.items() if g == grade}
    if not wanted:
        return math.nan
    return len(wanted & set(ranked[:n])) / len(wanted)


def violation(ranked: Sequence[str], must_not: Sequence[str], n: int = 10) -> float:
    """1.0 if any ``must_not`` service is in the top ``n``, else 0.0."""
    return 1.0 if set(must_not) & set(ranked[:n]) else 0.0


def hit_rate(ranked: Sequence[str], relevant: Mapping[str, int], n: int = 5) -> float:
    """Hit@n: 1.0 if any relevant service is in the top ``n``; NaN with no relevant services."""
    if not relevant:
        return math.nan
    return 1.0 if set(relevant) & set(ranked[:n]) else 0.0
