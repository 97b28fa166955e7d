"""Rank: the top ``limit`` candidates, with diversity and deterministic ties."""

from __future__ import annotations

import numpy as np
import pandas as pd

from matcher.engine.config import MatchConfig

__all__ = ["rank"]


def rank(score: np.ndarray, eligible: np.ndarray, ids: np.ndarray, kind: np.ndarray,
         limit: int, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the top ``limit`` eligible services and their ranking scores.

    Services of the same kind (main category and organisation) beyond ``same_kind_allowance``
    lose ``same_kind_penalty`` of their score per extra copy, so the list is not ten of one
    kind. Ties break on the service id, so the same input always gives the same order.
    """
    rc = cfg.rank
    idx = np.flatnonzero(eligible & (score >= rc.min_score))
    if idx.size == 0:
        return idx, np.zeros(0)
    # Only the best few times `limit` can reach the top after the penalty: bound the work.
    pool = min(idx.size, max(limit * 5, 50))
    order = np.lexsort((ids[idx], -score[idx]))[:pool]
    cand = idx[order]
    frame = pd.DataFrame({"kind": kind[cand]})
    copies = frame.groupby("kind", sort=False).cumcount().to_numpy()
    extra = np.maximum(0, copies + 1 - rc.same_kind_allowance)
    adjusted = score[cand] * (1.0 - rc.same_kind_penalty) ** extra
    final = np.lexsort((ids[cand], -adjusted))[:limit]
    return cand[final], adjusted[final]
