"""Rank: the top ``limit`` candidates, with diversity and deterministic ties."""

from __future__ import annotations

import numpy as np

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
    # Only the best few can reach the top after the penalty: bound the work. The pool does not
    # depend on `limit`, so a shorter list is always the start of a longer one.
    pool = min(idx.size, rc.pool)
    if idx.size > pool:
        # Keep every service scoring at least the pool-th best (ties included), then sort those.
        kth = np.partition(score[idx], idx.size - pool)[idx.size - pool]
        idx = idx[score[idx] >= kth]
    order = np.lexsort((ids[idx], -score[idx]))[:pool]
    cand = idx[order]
    # How many better-placed candidates share each one's kind (a vectorised cumcount).
    _, codes = np.unique(kind[cand].astype(str), return_inverse=True)
    same_before = (codes[None, :] == codes[:, None]) & np.tri(len(cand), k=-1, dtype=bool)
    copies = same_before.sum(axis=1)
    extra = np.maximum(0, copies + 1 - rc.same_kind_allowance)
    adjusted = score[cand] * (1.0 - rc.same_kind_penalty) ** extra
    final = np.lexsort((ids[cand], -adjusted))[:limit]
    return cand[final], adjusted[final]
