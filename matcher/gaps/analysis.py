"""Supply per small area x need x age band, gaps, thin cells and near misses, all vectorised.

For every cell (small area, need, band) the analysis counts the services a child living at
the area's centre could use:

* the service serves the need (:func:`matcher.gaps.supply.serves_matrix`),
* its age range overlaps the band (an unstated end is open, as in the engine),
* its service area lets the area in (the engine's rule: listed, national or not stated), and
* it is reachable: its venue within the band's time limit by the chosen mode, using the
  engine's own travel model (:func:`matcher.engine.scorers.travel_minutes`), or it is an
  online, phone or home-visit service whose service area covers the area.

Services near an area are found once with a ball tree (haversine metric) on the venues; each
band's counts are one sparse (areas x services) by dense (services x needs) product, plus the
remote services, which are counted per service-area district rather than per pair. No Python
loop runs over services.

A cell is a **gap** when no service is reachable and **thin** when at most ``thin_max`` are.
For each gap, **near misses** are services that fail exactly one criterion by a little: a
journey within ``near_time_factor`` x the limit, an age range ``near_age_years`` outside the
band, or a service area that leaves the area out (for remote services: one that lists a
district whose centre is within ``near_area_km``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.neighbors import BallTree

from matcher.allowed import vocabulary_in_use
from matcher.engine.config import MatchConfig, load_config
from matcher.engine.scorers import travel_minutes
from matcher.errors import MatcherError
from matcher.gaps.areas import AreaSet, parent_district
from matcher.gaps.config import GapsConfig, load_gaps_config
from matcher.gaps.supply import GapServices
from matcher.geo.distance import EARTH_RADIUS_KM, haversine_km
from matcher.vocab import AREA_PREFIX, Vocabulary

__all__ = ["GapReport", "analyse_gaps", "km_within_minutes", "CRITERIA"]

#: Near-miss criteria, in the order they are listed for a gap.
CRITERIA = ("time", "age", "area")
_CHUNK_AREAS = 256  # areas per block of the near-miss search
_PAIR_BLOCK = 512   # areas per query of the spatial index


def km_within_minutes(minutes: float, mode: str, cfg: MatchConfig) -> float:
    """Largest straight-line km whose door-to-door time is at most ``minutes`` (inverse of
    :func:`~matcher.engine.scorers.travel_minutes`; 0 when the overhead alone is longer)."""
    m = cfg.travel.modes[mode]  # type: ignore[index]
    return max(0.0, (minutes - m.overhead_min) * m.speed_kmh / (60.0 * m.route_factor))


@dataclass
class GapReport:
    """The result of :func:`analyse_gaps`.

    ``cells``: one row per area x need x band with ``services`` (the count of reachable
    eligible services, shown exactly: it counts public services, not people), ``status``
    (``gap``, ``thin`` or ``ok``) and ``near_misses`` (how many are listed for a gap).
    ``near_misses``: one row per gap and near-miss service (at most ``near_miss_limit`` per
    gap), with the criterion it fails and by how much.
    """

    cells: pd.DataFrame
    near_misses: pd.DataFrame
    mode: str
    level: str
    config: GapsConfig
    notes: list[str] = field(default_factory=list)

    def gaps(self) -> pd.DataFrame:
        """The gap cells only."""
        return self.cells[self.cells["status"] == "gap"]


def _columns(services: GapServices, vocab: Vocabulary, by: str, needs: Sequence[str] | None,
             levels: list[str]) -> tuple[list[str], list[str], np.ndarray]:
    """Need ids (or ``area:x`` ids), their labels and the (n_services, k) serves matrix."""
    serve_needs, serve_areas = services.serving(levels)
    if by == "need":
        ids, matrix = list(services.need_ids), serve_needs
    elif by == "area":
        ids = [AREA_PREFIX + a for a in services.area_ids]
        matrix = serve_areas
    else:
        raise MatcherError(f"Unknown grouping '{by}'. Use 'need' (canonical needs) or 'area' "
                           "(broad areas of need).")
    if needs:
        wanted = [n if n in ids or n.startswith(AREA_PREFIX) or by == "need"
                  else AREA_PREFIX + n for n in needs]
        unknown = [n for n in wanted if n not in ids]
        if unknown:
            raise MatcherError(f"Unknown need(s) {', '.join(unknown)} for grouping by {by}. "
                               f"Use ids such as {', '.join(ids[:4])}.")
        idx = [ids.index(n) for n in wanted]
        ids, matrix = [ids[i] for i in idx], matrix[:, idx]
    labels = [vocab.label_of(n) for n in ids]
    return ids, labels, matrix


def _general(services: GapServices, vocab: Vocabulary, by: str, need_ids: list[str],
             gaps: GapsConfig) -> np.ndarray:
    """(n_services, k): open to any SEND, when ``all_send`` is not one of the serving levels."""
    if "all_send" in gaps.serves:
        return np.zeros((services.n, len(need_ids)), dtype=bool)
    ids, _, matrix = _columns(services, vocab, by, None, ["all_send"])
    return matrix[:, [ids.index(n) for n in need_ids]]


def _age_gap(services: GapServices, lo: int, hi: int) -> np.ndarray:
    """Years between each service's age range and the band (0 when they overlap or unstated)."""
    below = np.nan_to_num(services.min_age - hi, nan=0.0)   # service starts above the band
    above = np.nan_to_num(lo - services.max_age, nan=0.0)   # service ends below the band
    return np.maximum(np.maximum(below, above), 0.0)


def _pairs(areas: AreaSet, services: GapServices, km: float, mode: str, cfg: MatchConfig
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (area, service, minutes) with the venue within ``km`` of the area's centre, and
    the journey's door-to-door minutes (float32) by ``mode``.

    Pairs come sorted by area, then journey time (ties in the spatial index's order).
    Distances are great-circle km (the ball tree's haversine metric on a sphere of
    :data:`~matcher.geo.distance.EARTH_RADIUS_KM`, as :func:`~matcher.geo.distance.haversine_km`
    computes them for the engine). Areas are queried a block at a time, so only one block's
    distances are held at once.
    """
    placed = np.flatnonzero(~np.isnan(services.lat) & ~np.isnan(services.lon))
    empty = np.zeros(0, np.int64)
    if len(placed) == 0 or len(areas) == 0 or km <= 0:
        return empty, empty, np.zeros(0, np.float32)
    tree = BallTree(np.radians(np.column_stack([services.lat[placed], services.lon[placed]])),
                    metric="haversine")
    query = np.radians(np.column_stack([areas.lat, areas.lon]))
    parts_a, parts_j, parts_m = [], [], []
    for lo in range(0, len(areas), _PAIR_BLOCK):
        found, dist = tree.query_radius(query[lo:lo + _PAIR_BLOCK], r=km / EARTH_RADIUS_KM,
                                        return_distance=True)
        lengths = np.fromiter((len(x) for x in found), dtype=np.int64, count=len(found))
        if lengths.sum() == 0:
            continue
        pa = np.repeat(np.arange(lo, lo + len(found), dtype=np.int64), lengths)
        minutes = travel_minutes(np.concatenate(dist) * EARTH_RADIUS_KM, mode,
                                 cfg).astype(np.float32)
        # By area, then minutes: one stable sort of (area in block, the minutes' float32 bits),
        # which order as the minutes do since no minutes are negative.
        key = ((pa - lo) << 32) | minutes.view(np.uint32).astype(np.int64)
        order = np.argsort(key, kind="stable")
        parts_a.append(pa[order])
        parts_j.append(placed[np.concatenate(found).astype(np.int64)[order]])
        parts_m.append(minutes[order])
    if not parts_a:
        return empty, empty, np.zeros(0, np.float32)
    return np.concatenate(parts_a), np.concatenate(parts_j), np.concatenate(parts_m)


def analyse_gaps(
    areas: AreaSet,
    services: GapServices,
    *,
    by: str = "need",
    needs: Sequence[str] | None = None,
    bands: Sequence[str] | None = None,
    mode: str | None = None,
    minutes: float | None = None,
    categories: Sequence[str] | None = None,
    with_near_misses: bool = True,
    gaps: GapsConfig | None = None,
    match: MatchConfig | None = None,
    vocab: Vocabulary | None = None,
    district_centroids: dict[str, tuple[float, float]] | None = None,
) -> GapReport:
    """Count reachable eligible services for every area x need x band; find gaps.

    ``by``: ``"need"`` (canonical needs) or ``"area"`` (the four broad areas). ``needs`` and
    ``bands`` restrict the columns (default: all). ``mode`` and ``minutes`` override the
    configured travel mode and every band's time limit. ``categories`` counts only services in
    one of these categories (e.g. ``["short_breaks"]``). ``district_centroids`` maps the
    districts named in service areas to (lat, lon); it is needed only for near misses of remote
    services just outside their service area (without it those are not looked for).
    """
    gaps = gaps or load_gaps_config()
    match = match or load_config()
    vocab = vocab or vocabulary_in_use()
    mode = mode or gaps.mode
    if mode not in match.travel.modes:
        raise MatcherError(f"Unknown travel mode '{mode}'. Use one of "
                           f"{', '.join(match.travel.modes)}.")
    band_names = list(bands) if bands else list(gaps.bands)
    unknown = [b for b in band_names if b not in gaps.bands]
    if unknown:
        raise MatcherError(f"Unknown age band(s) {', '.join(unknown)}. Use "
                           f"{', '.join(gaps.bands)} (see [gaps.bands] in the config).")
    if minutes is not None and not 0 < minutes <= 240:
        raise MatcherError(f"The travel time must be between 0 and 240 minutes (got {minutes}).")
    limits = {b: float(minutes if minutes is not None else gaps.bands[b].max_minutes)
              for b in band_names}

    need_ids, need_labels, serve = _columns(services, vocab, by, needs, list(gaps.serves))
    general = _general(services, vocab, by, need_ids, gaps)
    if not gaps.include_ehcp_required:
        serve = serve & ~services.ehcp_required[:, None]
        general = general & ~services.ehcp_required[:, None]
    if categories:
        known = list(services.category_ids)  # the vocabulary's categories, the table's columns
        bad = [c for c in categories if c not in known]
        if bad:
            raise MatcherError(f"Unknown categor{'y' if len(bad) == 1 else 'ies'} "
                               f"{', '.join(bad)}. Use {', '.join(known)}.")
        in_cat = services.categories[:, [known.index(c) for c in categories]].any(axis=1)
        serve = serve & in_cat[:, None]
        general = general & in_cat[:, None]
    S, N, K = len(areas), services.n, len(need_ids)

    # Service-area lookups: each area's district (and parent, EC1V -> EC1) as a column of
    # the service-area matrix (sparse: a service lists one or a few of thousands of districts);
    # column D (empty) stands for "not listed by anyone".
    D = len(services.area_districts)
    col = {d: i for i, d in enumerate(services.area_districts)}
    c1 = np.array([col.get(d, D) for d in areas.districts.tolist()], dtype=np.int64)
    c2 = np.array([col.get(parent_district(d), D) for d in areas.districts.tolist()],
                  dtype=np.int64)
    am = _area_csr(services.area_matrix, N, D + 1)
    everywhere = services.national.copy()
    if gaps.remote_unstated_area == "everywhere":
        everywhere |= services.area_unstated
    remote_all = services.remote & everywhere              # reaches every area
    remote_listed = services.remote & ~everywhere & (np.diff(am.indptr) > 0)
    # Areas sharing a (district, parent) pair share their listed remote services.
    combo_keys, combo_of = np.unique(np.column_stack([c1, c2]), axis=0, return_inverse=True)
    combo_of = combo_of.reshape(-1)
    rl = np.flatnonzero(remote_listed)
    am_rl = am[rl]
    combo_listed = _combo_listed(am_rl, combo_keys)  # (R, n_combos) sparse 0/1

    # Pairs within the longest near-miss journey of any band, by area then journey time.
    longest = max(limits.values()) * (gaps.near_time_factor if with_near_misses else 1.0)
    pa, pj, pmin = _pairs(areas, services,
                          km_within_minutes(longest, mode, match) * 1.0001 + 1e-6, mode, match)
    listed = _lookup(am, pj, c1[pa]) | _lookup(am, pj, c2[pa])
    area_ok = services.national[pj] | services.area_unstated[pj] | listed
    remote_reach = remote_all[pj] | (services.remote[pj] & listed)
    if gaps.remote_unstated_area == "nowhere":
        # Remote-only services with no service area are not counted by their venue either.
        pass_venue = ~(services.remote[pj] & services.area_unstated[pj])
    else:
        pass_venue = np.ones(len(pj), dtype=bool)
    venue_ok = area_ok & ~remote_reach & pass_venue  # counted through the journey

    near_inputs = _NearInputs(areas, services, pa, pj, pmin, area_ok, remote_reach, am_rl,
                              combo_keys, combo_of, rl, combo_listed, remote_all,
                              district_centroids) if with_near_misses else None

    frames, near_frames = [], []
    serve_f = serve.astype(np.float32)
    # Services open to any SEND that are not counted as serving the need (when the config
    # leaves "all_send" out of ``serves``): shown beside the count, never added to it.
    general_f = (general & ~serve).astype(np.float32)
    combo_listed_t = combo_listed.T.tocsr()
    for b in band_names:
        band = gaps.bands[b]
        limit = limits[b]
        age_gap = _age_gap(services, band.min_age, band.max_age)
        age_ok = age_gap == 0
        sel = venue_ok & (pmin <= limit) & age_ok[pj]
        reach = _sparse_rows(pa[sel], pj[sel], S, N) if sel.any() else None

        def count(matrix: np.ndarray, reach=reach, age_ok=age_ok) -> np.ndarray:
            mb = matrix * age_ok[:, None]
            c = reach @ mb if reach is not None else np.zeros((S, K))
            c = np.asarray(c) + mb[remote_all].sum(axis=0)[None, :]
            if len(rl):
                c = c + np.asarray(combo_listed_t @ mb[rl])[combo_of]
            return np.rint(c).astype(np.int32)

        counts = count(serve_f)
        general_counts = count(general_f) if general_f.any() else np.zeros((S, K), np.int32)
        status = np.where(counts == 0, 2, np.where(counts <= gaps.thin_max, 1, 0)).astype(np.int8)
        n_near = np.zeros((S, K), dtype=np.int32)
        if near_inputs is not None and gaps.near_miss_limit > 0 and (counts == 0).any():
            nm = near_inputs.find(b, limit, age_gap, serve, counts == 0, gaps)
            if len(nm):
                np.add.at(n_near, (nm["_a"].to_numpy(), nm["_k"].to_numpy()), 1)
                near_frames.append(nm)
        frames.append(pd.DataFrame({
            "_a": np.repeat(np.arange(S), K), "_k": np.tile(np.arange(K), S),
            "band": b, "max_minutes": limit,
            "services": counts.reshape(-1), "_status": status.reshape(-1),
            "general_services": general_counts.reshape(-1),
            "near_misses": n_near.reshape(-1),
        }))

    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    area_codes = pd.Categorical(areas.codes)
    need_cat = pd.Categorical.from_codes(np.arange(K), categories=need_ids)
    cells.insert(0, "area", area_codes[cells["_a"].to_numpy()])
    cells.insert(1, "district", pd.Categorical(areas.districts)[cells["_a"].to_numpy()])
    cells.insert(2, "need", need_cat[cells["_k"].to_numpy()])
    cells.insert(3, "need_label", pd.Categorical(
        np.asarray(need_labels, dtype=object)[cells["_k"].to_numpy()]))
    cells["band"] = pd.Categorical(cells["band"], categories=band_names)
    cells["status"] = pd.Categorical.from_codes(cells["_status"].to_numpy(),
                                                categories=["ok", "thin", "gap"])
    cells["mode"] = mode
    cells = cells.drop(columns=["_status"])
    cells = cells[["area", "district", "need", "need_label", "band", "mode", "max_minutes",
                   "services", "status", "general_services", "near_misses", "_a", "_k"]]

    near = _near_table(near_frames, areas, services, need_ids, gaps)
    cells = cells.drop(columns=["_a", "_k"])
    notes = _notes(services, areas)
    return GapReport(cells=cells, near_misses=near, mode=mode, level=areas.level, config=gaps,
                     notes=notes)


def _sparse_rows(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> sp.csr_array:
    """A 0/1 CSR matrix from (row, col) pairs already sorted by row."""
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    data = np.ones(len(cols), dtype=np.float32)
    return sp.csr_array((data, cols.astype(np.int64), indptr), shape=(n_rows, n_cols))


def _area_csr(matrix: np.ndarray | sp.sparray | sp.spmatrix, n_rows: int,
              n_cols: int) -> sp.csr_array:
    """The service-area matrix as a 0/1 CSR array of ``n_cols`` columns (the extra ones empty),
    with sorted indices and no stored zeros."""
    m = sp.csr_array(matrix, dtype=np.float32)
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    data = np.ones(len(m.indices), dtype=np.float32)
    return sp.csr_array((data, m.indices.astype(np.int64), m.indptr.astype(np.int64)),
                        shape=(n_rows, n_cols))


def _lookup(matrix: sp.csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows, cols] != 0`` for a CSR array with sorted indices, as a bool array.

    A row with one stored entry (a service listing one district) is compared directly; the
    pairs of rows with more are looked up by binary search in the sorted (row, column) keys.
    """
    out = np.zeros(len(rows), dtype=bool)
    if matrix.nnz == 0 or len(rows) == 0:
        return out
    per_row = np.diff(matrix.indptr)
    n = per_row[rows]
    one = np.flatnonzero(n == 1)
    first = matrix.indices[np.minimum(matrix.indptr[:-1], matrix.nnz - 1)]
    out[one] = first[rows[one]] == cols[one]
    many = np.flatnonzero(n > 1)
    if len(many):
        width = np.int64(matrix.shape[1])
        stored = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), per_row) * width \
            + matrix.indices
        wanted = rows[many].astype(np.int64) * width + cols[many]
        pos = np.minimum(np.searchsorted(stored, wanted), len(stored) - 1)
        out[many] = stored[pos] == wanted
    return out


def _combo_listed(am_rl: sp.csr_array, combo_keys: np.ndarray) -> sp.csr_array:
    """(R, n_combos) 0/1: the listed remote service lists the combo's district or parent."""
    csc = am_rl.tocsc()
    both = csc[:, combo_keys[:, 0]] + csc[:, combo_keys[:, 1]]
    out = sp.csr_array(both)
    out.eliminate_zeros()
    out.sort_indices()
    out.data = np.ones(len(out.data), dtype=np.float32)
    return out


def _bits(matrix: np.ndarray) -> np.ndarray:
    """Each row of a bool (n, k) matrix as bits: (n, ceil(k / 64)) uint64 words."""
    n, k = matrix.shape
    words = max(1, -(-k // 64))
    packed = np.packbits(matrix, axis=1, bitorder="little")
    out = np.zeros((n, words * 8), dtype=np.uint8)
    out[:, :packed.shape[1]] = packed
    return out.view(np.uint64)


def _runs(keys: np.ndarray) -> np.ndarray:
    """Rank of each element within its run of equal consecutive ``keys`` (0, 1, 2, ...)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    return np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))


def _join(cell_group: np.ndarray, cell_k: np.ndarray, cand_group: np.ndarray,
          cand_k: np.ndarray, n_k: int) -> tuple[np.ndarray, np.ndarray]:
    """For cells (group, need) and candidates sorted by (group, need): the pairs (cell, candidate)
    with the same group and need, by cell and then in the candidates' order."""
    cand_key = cand_group.astype(np.int64) * n_k + cand_k
    cell_key = cell_group.astype(np.int64) * n_k + cell_k
    lo = np.searchsorted(cand_key, cell_key, side="left")
    hi = np.searchsorted(cand_key, cell_key, side="right")
    n = hi - lo
    cell = np.repeat(np.arange(len(cell_key)), n)
    first = np.cumsum(n) - n
    cand = np.arange(int(n.sum())) - np.repeat(first - lo, n)
    return cell, cand


def _notes(services: GapServices, areas: AreaSet) -> list[str]:
    unplaced = ~services.remote & np.isnan(services.lat)
    notes = []
    if unplaced.any():
        notes.append(f"{int(unplaced.sum())} in-person service(s) have no location and cannot "
                     "be reached from any area: add their postcodes.")
    if len(areas) == 0:
        notes.append("No areas were analysed.")
    return notes


_Found = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # a, k, j, crit, min


@dataclass
class _NearInputs:
    """Everything the near-miss search reuses across bands."""

    areas: AreaSet
    services: GapServices
    pa: np.ndarray
    pj: np.ndarray
    pmin: np.ndarray
    area_ok: np.ndarray
    remote_reach: np.ndarray
    am_rl: sp.csr_array
    combo_keys: np.ndarray
    combo_of: np.ndarray
    rl: np.ndarray
    combo_listed: sp.csr_array
    remote_all: np.ndarray
    district_centroids: dict[str, tuple[float, float]] | None
    a_fail: np.ndarray = field(init=False, repr=False)   # pairs whose service area fails
    _pair_lists: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def __post_init__(self) -> None:
        self.a_fail = ~self.area_ok

    def find(self, band: str, limit: float, age_gap: np.ndarray, serve: np.ndarray,
             gap: np.ndarray, cfg: GapsConfig) -> pd.DataFrame:
        """Near misses of one band's gap cells (``gap``: (S, K) bool), at most
        ``near_miss_limit`` each: first the venues by journey time, then the remote services
        reaching every area, then those listed for the area's district, then those listed for
        a district nearby (each list cut at the limit before services found twice are
        dropped)."""
        parts = [self._local(limit, age_gap, serve, gap, cfg), *self._remote(age_gap, serve,
                                                                              gap, cfg)]
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return pd.DataFrame()
        a, k, j, crit, minutes = (np.concatenate([p[i] for p in parts]) for i in range(5))
        part = np.concatenate([np.full(len(p[0]), i, dtype=np.int8) for i, p in enumerate(parts)])
        seq = np.concatenate([np.arange(len(p[0])) for p in parts])
        order = np.lexsort((seq, part, k, a))
        a, k, j, crit, minutes = a[order], k[order], j[order], crit[order], minutes[order]
        # A service found twice for a cell keeps its first place.
        pos = np.arange(len(a))
        by_j = np.lexsort((pos, j, k, a))
        same = np.r_[False, (a[by_j][1:] == a[by_j][:-1]) & (k[by_j][1:] == k[by_j][:-1])
                     & (j[by_j][1:] == j[by_j][:-1])]
        keep = np.ones(len(a), dtype=bool)
        keep[by_j[same]] = False
        a, k, j, crit, minutes = a[keep], k[keep], j[keep], crit[keep], minutes[keep]
        cell = a.astype(np.int64) * gap.shape[1] + k
        keep = _runs(cell) < cfg.near_miss_limit
        return pd.DataFrame({"_a": a[keep], "_k": k[keep], "_j": j[keep],
                             "criterion": crit[keep], "minutes": minutes[keep],
                             "band": band, "limit": limit})

    def _local(self, limit: float, age_gap: np.ndarray, serve: np.ndarray, gap: np.ndarray,
               cfg: GapsConfig) -> _Found:
        """Near misses among the venues found by the spatial index, by journey time."""
        pa, pj, pmin = self.pa, self.pj, self.pmin
        # Only gaps in needs some service serves can have near misses.
        needs = np.flatnonzero((gap & serve.any(axis=0)).any(axis=0))
        if len(needs) == 0:
            return _empty_found()
        gap_n = gap[:, needs]
        # Per service: 0 ages fit the band, 1 a little outside (a near miss), 2 further out.
        ages = np.where(age_gap == 0, 0, np.where(age_gap <= cfg.near_age_years, 1, 2))
        g = ages.astype(np.int8)[pj]
        g_fail = g > 0
        t_fail = (pmin > limit) & ~self.remote_reach
        n_fail = t_fail.astype(np.int8) + g_fail + self.a_fail
        near = (n_fail == 1) & ((t_fail & (pmin <= limit * cfg.near_time_factor)) | (g == 1)
                                | self.a_fail)
        # Only pairs whose service serves a need that is a gap in the area (needs as bits).
        serve_bits, gap_bits = _bits(serve[:, needs]), _bits(gap_n)
        has_gap = gap_bits.any(axis=1)
        near &= has_gap[pa]
        idx = np.flatnonzero(near)
        hit = np.zeros(len(idx), dtype=bool)
        for w in range(serve_bits.shape[1]):
            hit |= (serve_bits[pj[idx], w] & gap_bits[pa[idx], w]) != 0
        idx = idx[hit]                       # pairs come by area, then journey time
        if len(idx) == 0:
            return _empty_found()
        crit = np.where(t_fail[idx], 0, np.where(g_fail[idx], 1, 2)).astype(np.int8)
        serve_t = np.ascontiguousarray(serve[:, needs].T)   # (needs, services)
        gap_t = np.ascontiguousarray(gap_n.T)               # (needs, areas)
        rows_a, rows_k, rows_p = [], [], []
        bounds = np.searchsorted(pa[idx], np.arange(0, len(self.areas) + _CHUNK_AREAS,
                                                    _CHUNK_AREAS))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if hi <= lo:
                continue
            sub = idx[lo:hi]
            mask = serve_t[:, pj[sub]] & gap_t[:, pa[sub]]   # (needs, pairs)
            ks, ps = np.nonzero(mask)                        # by need, then pair (area, minutes)
            if len(ks) == 0:
                continue
            key = ks.astype(np.int64) * len(self.areas) + pa[sub][ps]
            keep = _runs(key) < cfg.near_miss_limit
            rows_a.append(pa[sub][ps[keep]])
            rows_k.append(needs[ks[keep]])
            rows_p.append(lo + ps[keep])
        if not rows_a:
            return _empty_found()
        p = np.concatenate(rows_p)
        return (np.concatenate(rows_a).astype(np.int64), np.concatenate(rows_k).astype(np.int64),
                pj[idx[p]].astype(np.int64), crit[p], pmin[idx[p]].astype(float))

    def _remote(self, age_gap: np.ndarray, serve: np.ndarray, gap: np.ndarray,
                cfg: GapsConfig) -> list[_Found]:
        """Near misses among online, phone and home-visit services (by service area)."""
        n_keep, n_k = cfg.near_miss_limit, gap.shape[1]
        g_near = (age_gap > 0) & (age_gap <= cfg.near_age_years)
        gap_a, gap_k = np.nonzero(gap)
        if len(gap_a) == 0:
            return []
        out = []
        # 1. Reaching every area, a year or so outside the band: the same for every area.
        cand = np.flatnonzero(self.remote_all & g_near)
        if len(cand):
            r, k = np.nonzero(serve[cand])
            j = cand[r]
            order = np.lexsort((j, k))
            j, k = j[order], k[order]
            keep = _runs(k) < n_keep
            j, k = j[keep], k[keep]
            cell, at = _join(np.zeros(len(gap_a), np.int64), gap_k, np.zeros(len(k), np.int64),
                             k, n_k)
            out.append((gap_a[cell], gap_k[cell], j[at], np.ones(len(at), np.int8),
                        np.full(len(at), np.nan)))
        # 2. Listed for the area's district, a year or so outside the band: per district combo.
        # 3. Listed for a district near the area's, right ages: per district combo.
        if len(self.rl):
            gap_c = self.combo_of[gap_a]
            combo_gap = np.zeros((len(self.combo_keys), n_k), dtype=bool)
            combo_gap[gap_c, gap_k] = True
            with_gaps = combo_gap.any(axis=1)
            lr, lc, nr, nc = self._lists(cfg)
            sel1 = g_near[self.rl][lr] & with_gaps[lc]
            sel2 = (age_gap[self.rl] == 0)[nr] & with_gaps[nc]
            c = np.concatenate([lc[sel1], nc[sel2]])
            r = np.concatenate([lr[sel1], nr[sel2]])
            crit = np.concatenate([np.ones(int(sel1.sum()), np.int8),
                                   np.full(int(sel2.sum()), 2, np.int8)])
            rows, k = np.nonzero(serve[self.rl[r]] & combo_gap[c])
            c, j, crit = c[rows], self.rl[r[rows]], crit[rows]
            order = np.lexsort((j, crit, k, c))
            c, j, crit, k = c[order], j[order], crit[order], k[order]
            keep = _runs((c.astype(np.int64) * n_k + k) * 3 + crit) < n_keep
            c, j, crit, k = c[keep], j[keep], crit[keep], k[keep]
            cell, at = _join(gap_c, gap_k, c, k, n_k)
            if len(cell):
                out.append((gap_a[cell], gap_k[cell], j[at], crit[at], np.full(len(at), np.nan)))
        return out

    def _lists(self, cfg: GapsConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(remote row, combo) pairs: listed for the combo's districts; listed for a district
        within ``near_area_km`` of the combo's district and not for its own (worked out once)."""
        if self._pair_lists is None:
            listed = self.combo_listed.tocoo()
            lr, lc = listed.row.astype(np.int64), listed.col.astype(np.int64)
            near = self._near_districts(cfg)
            if near is None:
                nr = nc = np.zeros(0, dtype=np.int64)
            else:
                hit = sp.csr_array(self.am_rl @ near)
                hit.eliminate_zeros()
                hit = hit.tocoo()
                nr, nc = hit.row.astype(np.int64), hit.col.astype(np.int64)
                own = _lookup(self.combo_listed, nr, nc)
                nr, nc = nr[~own], nc[~own]
            self._pair_lists = (lr, lc, nr, nc)
        return self._pair_lists

    def _near_districts(self, cfg: GapsConfig) -> sp.csr_array | None:
        """(districts + 1, n_combos) 0/1: the service-area columns of districts within
        near_area_km of each district combo's district (its own columns left out)."""
        if not self.district_centroids or cfg.near_area_km <= 0:
            return None
        names = self.services.area_districts
        known = np.array([i for i, d in enumerate(names) if d in self.district_centroids],
                         dtype=np.int64)
        if not len(known):
            return None
        lat = np.array([self.district_centroids[names[i]][0] for i in known])
        lon = np.array([self.district_centroids[names[i]][1] for i in known])
        first_area = np.zeros(len(self.combo_keys), dtype=np.int64)
        first_area[self.combo_of[::-1]] = np.arange(len(self.combo_of))[::-1]
        rows, cols = [], []
        for c in range(len(self.combo_keys)):
            here = self.district_centroids.get(self.areas.districts[first_area[c]])
            if here is None:
                continue
            km = haversine_km(here[0], here[1], lat, lon)
            found = known[km <= cfg.near_area_km]
            found = found[~np.isin(found, self.combo_keys[c])]
            rows.append(found)
            cols.append(np.full(len(found), c, dtype=np.int64))
        n_rows = self.am_rl.shape[1]
        if not rows:
            return sp.csr_array((n_rows, len(self.combo_keys)), dtype=np.float32)
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sp.csr_array((np.ones(len(r), np.float32), (r, c)),
                            shape=(n_rows, len(self.combo_keys)))


def _empty_found() -> _Found:
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty, empty, np.zeros(0, np.int8), np.zeros(0)


def _near_table(frames: list[pd.DataFrame], areas: AreaSet, services: GapServices,
                need_ids: list[str], cfg: GapsConfig) -> pd.DataFrame:
    columns = ["area", "need", "band", "service_id", "service_name", "criterion", "minutes",
               "limit", "min_age", "max_age"]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    nm = pd.concat(frames, ignore_index=True)
    j = nm["_j"].to_numpy()
    out = pd.DataFrame({
        "area": areas.codes[nm["_a"].to_numpy()],
        "need": np.asarray(need_ids, dtype=object)[nm["_k"].to_numpy()],
        "band": nm["band"].to_numpy(),
        "service_id": services.ids[j],
        "service_name": services.names[j],
        "criterion": np.asarray(CRITERIA, dtype=object)[nm["criterion"].to_numpy()],
        "minutes": nm["minutes"].round(1).to_numpy(),
        "limit": nm["limit"].to_numpy(),
        "min_age": services.min_age[j],
        "max_age": services.max_age[j],
    })
    return out
