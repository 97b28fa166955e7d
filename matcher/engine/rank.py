"""Rank: the top ``limit`` candidates, with diversity and deterministic ties."""

from __future__ import annotations

import numpy as np

from matcher.engine.config import MatchConfig

__all__ = ["rank"]


def _earlier_same(codes: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same code (a cumcount).

    >>> _earlier_same(np.array([5, 3, 5, 5, 3])).tolist()
    [0, 0, 1, 2, 1]
    """
    # A stable sort groups equal codes and keeps them in list order; within its group each
    # element's offset from the group's start is the number of copies before it.
    order = np.argsort(codes, kind="stable")
    grouped = codes[order]
    is_start = np.empty(len(grouped), dtype=bool)
    is_start[:1] = True
    np.not_equal(grouped[1:], grouped[:-1], out=is_start[1:])
    position = np.arange(len(grouped))
    group_start = np.maximum.accumulate(np.where(is_start, position, 0))
    out = np.empty(len(grouped), dtype=np.intp)
    out[order] = position - group_start
    return out


def rank(score: np.ndarray, eligible: np.ndarray, ids: np.ndarray, kind: np.ndarray,
         limit: int, cfg: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the top ``limit`` eligible services and their ranking scores.

    Services of the same kind (main category and organisation) beyond ``same_kind_allowance``
    lose ``same_kind_penalty`` of their score per extra copy, so the list is not ten of one
    kind. Ties break on the service id, so the same input always gives the same order.

    ``ids`` only has to sort like the ids and ``kind`` only to compare equal where the kinds do:
    the pipeline passes the table's integer ``id_rank`` and ``kind_code``, which sort and
    compare much faster than strings.
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
    # How many better-placed candidates share each one's kind.
    kinds = kind[cand]
    if not np.issubdtype(kinds.dtype, np.integer):
        kinds = np.unique(kinds.astype(str), return_inverse=True)[1].ravel()
    copies = _earlier_same(kinds)
    extra = np.maximum(0, copies + 1 - rc.same_kind_allowance)
    adjusted = score[cand] * (1.0 - rc.same_kind_penalty) ** extra
    final = np.lexsort((ids[cand], -adjusted))[:limit]
    return cand[final], adjusted[final]
