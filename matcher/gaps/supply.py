"""The directory as the arrays a gap analysis needs: who each service serves, and where.

Built from the engine's :class:`~matcher.engine.features.ServiceTable`, so "serves autism",
ages, service areas and delivery mean exactly what they mean when matching a family.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from matcher.allowed import vocabulary_in_use
from matcher.engine.config import MatchConfig, load_config
from matcher.engine.features import AREAS, ServiceTable
from matcher.engine.text import ServiceTextIndex
from matcher.errors import MatcherError
from matcher.gaps.config import GapsConfig, load_gaps_config
from matcher.vocab import Vocabulary

__all__ = ["GapServices", "level_arrays", "level_matrices", "serves_matrix", "union_levels"]

_STATED = 1.0  # need_strength of a need the provider states (ServiceTable.build)


def level_matrices(table: ServiceTable, vocab: Vocabulary
                   ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Who each service serves at each level, separately.

    Returns ``(needs, areas, excluded)``: ``needs[level]`` is a bool array (n_services,
    len(table.need_ids)), ``areas[level]`` one of (n_services, 4) for the broad areas
    (``ci``, ``cl``, ``semh``, ``sp``), and ``excluded`` (n_services, n_needs) marks needs the
    description rules out. Levels are :data:`~matcher.gaps.config.SERVE_LEVELS`.
    """
    needs, areas = level_arrays(list(table.need_ids), table.need_strength, table.area_strength,
                                table.all_send, table.needs_unstated, vocab)
    return needs, areas, table.need_excluded.astype(bool)


def level_arrays(need_ids: list[str], strength: np.ndarray, area_strength: np.ndarray,
                 all_send: np.ndarray, needs_unstated: np.ndarray, vocab: Vocabulary
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """:func:`level_matrices` from the arrays themselves: ``strength`` (n, k) and
    ``area_strength`` (n, 4) as :class:`ServiceTable` holds them (1 for stated), ``all_send``
    and ``needs_unstated`` (n,)."""
    n, k = strength.shape
    stated = strength >= _STATED
    text = strength > 0
    area_stated = area_strength >= _STATED
    area_text = area_strength > 0
    col = {nid: i for i, nid in enumerate(need_ids)}
    broader = np.zeros((n, k), dtype=bool)
    by_area = np.zeros((n, k), dtype=bool)
    for nid, j in col.items():
        wider = [col[b] for b in vocab.broader_of(nid) if b in col]
        if wider:
            broader[:, j] = stated[:, wider].any(axis=1)
        cols = [AREAS.index(a) for a in vocab.areas_of(nid) if a in AREAS]
        if cols:
            by_area[:, j] = area_stated[:, cols].any(axis=1)
    areas_stated = area_stated.copy()
    areas_text = area_text.copy()
    for a_i, a in enumerate(AREAS):
        in_area = [col[nid] for nid in vocab.in_area(a) if nid in col]
        if in_area:
            areas_stated[:, a_i] |= stated[:, in_area].any(axis=1)
            areas_text[:, a_i] |= text[:, in_area].any(axis=1)
    all_send_k = np.repeat(all_send[:, None], k, axis=1)
    unstated = np.repeat(needs_unstated[:, None], k, axis=1)
    needs = {"stated": stated, "text": text, "broader": broader, "area": by_area,
             "all_send": all_send_k, "unstated": unstated}
    n_areas = len(AREAS)
    areas = {"stated": areas_stated, "text": areas_text,
             "broader": np.zeros((n, n_areas), dtype=bool), "area": area_stated,
             "all_send": np.repeat(all_send[:, None], n_areas, axis=1),
             "unstated": np.repeat(needs_unstated[:, None], n_areas, axis=1)}
    return needs, areas


def serves_matrix(table: ServiceTable, vocab: Vocabulary, levels: list[str] | tuple[str, ...]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Which services serve which need, and which broad area, at the allowed levels.

    Returns ``(needs, areas)``: bool arrays of shape (n_services, len(table.need_ids)) and
    (n_services, 4) (columns ``ci``, ``cl``, ``semh``, ``sp``). A need the description rules
    out ("not suitable for children with SLD") is never served, whatever the other levels say.
    """
    needs, areas, excluded = level_matrices(table, vocab)
    return union_levels(needs, areas, excluded, levels)


def union_levels(needs: dict[str, np.ndarray], areas: dict[str, np.ndarray], excluded: np.ndarray,
           levels: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    unknown = [lv for lv in levels if lv not in needs]
    if unknown:
        raise MatcherError(f"Unknown serving level(s) {', '.join(unknown)}. Use "
                           f"{', '.join(needs)}.")
    first = next(iter(needs.values()))
    out = np.zeros_like(first)
    out_a = np.zeros_like(next(iter(areas.values())))
    for lv in levels:
        out |= needs[lv]
        out_a |= areas[lv]
    return out & ~excluded, out_a


def _sparse_areas(matrix) -> sp.csr_array:
    """A service-area matrix as a sparse boolean CSR array (a service lists one or a few of
    thousands of districts)."""
    return sp.csr_array(matrix, dtype=bool)


@dataclass(frozen=True)
class GapServices:
    """Per-service arrays for :func:`matcher.gaps.analyse_gaps` (one row per service)."""

    ids: np.ndarray            # (n,) object: service ids
    names: np.ndarray          # (n,) object
    min_age: np.ndarray        # (n,) float, NaN = not stated (open)
    max_age: np.ndarray        # (n,) float, NaN = not stated (open)
    lat: np.ndarray            # (n,) float degrees, NaN = no location
    lon: np.ndarray            # (n,) float degrees
    remote: np.ndarray         # (n,) bool: online, phone or home visit
    area_districts: list[str]  # columns of area_matrix
    area_matrix: np.ndarray | sp.csr_array  # (n, d) bool, dense or sparse: lists this district
    national: np.ndarray       # (n,) bool: service area "national"
    area_unstated: np.ndarray  # (n,) bool: no service area stated
    ehcp_required: np.ndarray  # (n,) bool
    need_ids: list[str]        # columns of serves
    serves: np.ndarray         # (n, k) bool
    area_ids: tuple[str, ...]  # columns of serves_area: ("ci", "cl", "semh", "sp")
    serves_area: np.ndarray    # (n, 4) bool
    categories: np.ndarray     # (n, c) bool, columns category_ids
    level_needs: dict[str, np.ndarray] | None = None  # each serving level apart, (n, k)
    level_areas: dict[str, np.ndarray] | None = None  # ... and for broad areas, (n, 4)
    excluded: np.ndarray | None = None                # (n, k) needs the description rules out
    category_ids: tuple[str, ...] = ()  # columns of categories: the vocabulary's categories

    @property
    def n(self) -> int:
        return len(self.ids)

    @classmethod
    def from_table(cls, table: ServiceTable, vocab: Vocabulary,
                   gaps: GapsConfig | None = None) -> GapServices:
        """Read the engine's arrays and decide who each service serves (``gaps.serves``)."""
        gaps = gaps or load_gaps_config()
        level_needs, level_areas, excluded = level_matrices(table, vocab)
        needs, areas = union_levels(level_needs, level_areas, excluded, gaps.serves)
        d = table.delivery
        remote = np.zeros(table.n, dtype=bool)
        for mode in ("online", "phone", "home_visit"):
            remote |= d[:, table.col("delivery", mode)]
        return cls(
            ids=table.ids.astype(object), names=table.frame["name"].astype(str).to_numpy(object),
            min_age=table.min_age.astype(float), max_age=table.max_age.astype(float),
            lat=table.lat.astype(float), lon=table.lon.astype(float), remote=remote,
            area_districts=list(table.area_districts), area_matrix=_sparse_areas(table.area_matrix),
            national=table.area_national.astype(bool),
            area_unstated=table.area_unstated.astype(bool),
            ehcp_required=table.ehcp_required.astype(bool), need_ids=list(table.need_ids),
            serves=needs, area_ids=AREAS, serves_area=areas,
            categories=table.cats.astype(bool), level_needs=level_needs,
            level_areas=level_areas, excluded=excluded,
            category_ids=table.closed["categories"],
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, vocab: Vocabulary | None = None,
                   match: MatchConfig | None = None, gaps: GapsConfig | None = None
                   ) -> GapServices:
        """Build from a frame of :func:`matcher.services.records_to_frame` (no text index fit)."""
        vocab = vocab or vocabulary_in_use()
        match = match or load_config()
        # An unfitted text index: the gap analysis never scores text, so skip fitting TF-IDF.
        table = ServiceTable.build(frame, vocab, match, text_index=ServiceTextIndex())
        return cls.from_table(table, vocab, gaps)

    def take(self, index: np.ndarray, *, ids: np.ndarray | None = None,
             lat: np.ndarray | None = None, lon: np.ndarray | None = None) -> GapServices:
        """Rows ``index`` (repeats allowed), optionally with new ids and locations."""
        index = np.asarray(index)
        return replace(
            self,
            ids=self.ids[index] if ids is None else np.asarray(ids, dtype=object),
            names=self.names[index], min_age=self.min_age[index], max_age=self.max_age[index],
            lat=self.lat[index] if lat is None else np.asarray(lat, float),
            lon=self.lon[index] if lon is None else np.asarray(lon, float),
            remote=self.remote[index], area_matrix=self.area_matrix[index],
            national=self.national[index], area_unstated=self.area_unstated[index],
            ehcp_required=self.ehcp_required[index], serves=self.serves[index],
            serves_area=self.serves_area[index], categories=self.categories[index],
            level_needs=None if self.level_needs is None else
            {k: v[index] for k, v in self.level_needs.items()},
            level_areas=None if self.level_areas is None else
            {k: v[index] for k, v in self.level_areas.items()},
            excluded=None if self.excluded is None else self.excluded[index],
        )

    def serving(self, levels: list[str] | tuple[str, ...] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(needs, areas)`` served at these levels (default: the levels it was built with).

        A directory built without its level matrices (made by hand) only has its built ones.
        """
        if levels is None or self.level_needs is None or self.level_areas is None:
            return self.serves, self.serves_area
        excluded = self.excluded if self.excluded is not None else np.zeros_like(self.serves)
        return union_levels(self.level_needs, self.level_areas, excluded, levels)

    def without(self, service_ids: list[str] | set[str]) -> GapServices:
        """The same directory less some services (e.g. to see what closing one would do)."""
        keep = ~np.isin(self.ids, list(service_ids))
        return self.take(np.flatnonzero(keep))
