"""An earlier implementation of the gap analysis (a dense service-area matrix, a pandas join per
district group for the near misses of remote services), kept as a reference: the tests check
that :mod:`matcher.gaps.analysis` gives the same cells and near misses, in the same order. Only
the tests import it; its own description follows.

Supply per small area x need x age band, gaps, thin cells and near misses, all vectorised.

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


def _pairs(areas: AreaSet, services: GapServices, km: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (area, service, km) with the venue within ``km`` of the area's centre.

    Pairs come sorted by area. Distances are great-circle km (the ball tree's haversine
    metric on a sphere of :data:`~matcher.geo.distance.EARTH_RADIUS_KM`, as
    :func:`~matcher.geo.distance.haversine_km` computes them for the engine).
    """
    placed = np.flatnonzero(~np.isnan(services.lat) & ~np.isnan(services.lon))
    empty = np.zeros(0, np.int64)
    if len(placed) == 0 or len(areas) == 0 or km <= 0:
        return empty, empty, np.zeros(0)
    tree = BallTree(np.radians(np.column_stack([services.lat[placed], services.lon[placed]])),
                    metric="haversine")
    query = np.radians(np.column_stack([areas.lat, areas.lon]))
    found, dist = tree.query_radius(query, r=km / EARTH_RADIUS_KM, return_distance=True)
    lengths = np.fromiter((len(x) for x in found), dtype=np.int64, count=len(found))
    if lengths.sum() == 0:
        return empty, empty, np.zeros(0)
    pa = np.repeat(np.arange(len(areas), dtype=np.int64), lengths)
    pj = placed[np.concatenate(found).astype(np.int64)]
    return pa, pj, np.concatenate(dist) * EARTH_RADIUS_KM


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
    # the service-area matrix; column D (all False) stands for "not listed by anyone".
    D = len(services.area_districts)
    col = {d: i for i, d in enumerate(services.area_districts)}
    c1 = np.array([col.get(d, D) for d in areas.districts.tolist()], dtype=np.int64)
    c2 = np.array([col.get(parent_district(d), D) for d in areas.districts.tolist()],
                  dtype=np.int64)
    am = np.concatenate([services.area_matrix, np.zeros((N, 1), dtype=bool)], axis=1)
    everywhere = services.national.copy()
    if gaps.remote_unstated_area == "everywhere":
        everywhere |= services.area_unstated
    remote_all = services.remote & everywhere              # reaches every area
    remote_listed = services.remote & ~everywhere & services.area_matrix.any(axis=1)
    # Areas sharing a (district, parent) pair share their listed remote services.
    combo_keys, combo_of = np.unique(np.column_stack([c1, c2]), axis=0, return_inverse=True)
    combo_of = combo_of.reshape(-1)
    rl = np.flatnonzero(remote_listed)
    combo_listed = am[rl][:, combo_keys[:, 0]] | am[rl][:, combo_keys[:, 1]]  # (R, n_combos)

    # Pairs within the longest near-miss journey of any band.
    longest = max(limits.values()) * (gaps.near_time_factor if with_near_misses else 1.0)
    pa, pj, km = _pairs(areas, services,
                        km_within_minutes(longest, mode, match) * 1.0001 + 1e-6)
    pmin = travel_minutes(km, mode, match).astype(np.float32)
    listed = am[pj, c1[pa]] | am[pj, c2[pa]]
    area_ok = services.national[pj] | services.area_unstated[pj] | listed
    remote_reach = remote_all[pj] | (services.remote[pj] & listed)
    if gaps.remote_unstated_area == "nowhere":
        # Remote-only services with no service area are not counted by their venue either.
        pass_venue = ~(services.remote[pj] & services.area_unstated[pj])
    else:
        pass_venue = np.ones(len(pj), dtype=bool)
    venue_ok = area_ok & ~remote_reach & pass_venue  # counted through the journey

    near_inputs = _NearInputs(areas, services, pa, pj, pmin, area_ok, remote_reach, listed,
                              combo_keys, combo_of, rl, combo_listed, remote_all,
                              district_centroids) if with_near_misses else None

    frames, near_frames = [], []
    serve_f = serve.astype(np.float32)
    # Services open to any SEND that are not counted as serving the need (when the config
    # leaves "all_send" out of ``serves``): shown beside the count, never added to it.
    general_f = (general & ~serve).astype(np.float32)
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
                c = c + (combo_listed.T.astype(np.float32) @ mb[rl])[combo_of]
            return np.rint(c).astype(np.int32)

        counts = count(serve_f)
        general_counts = count(general_f) if general_f.any() else np.zeros((S, K), np.int32)
        status = np.where(counts == 0, 2, np.where(counts <= gaps.thin_max, 1, 0)).astype(np.int8)
        n_near = np.zeros((S, K), dtype=np.int32)
        if near_inputs is not None and gaps.near_miss_limit > 0 and (counts == 0).any():
            nm = near_inputs.find(b, limit, age_gap, serve, counts == 0, gaps, need_ids)
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


def _notes(services: GapServices, areas: AreaSet) -> list[str]:
    unplaced = ~services.remote & np.isnan(services.lat)
    notes = []
    if unplaced.any():
        notes.append(f"{int(unplaced.sum())} in-person service(s) have no location and cannot "
                     "be reached from any area: add their postcodes.")
    if len(areas) == 0:
        notes.append("No areas were analysed.")
    return notes


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
    listed: np.ndarray
    combo_keys: np.ndarray
    combo_of: np.ndarray
    rl: np.ndarray
    combo_listed: np.ndarray
    remote_all: np.ndarray
    district_centroids: dict[str, tuple[float, float]] | None
    _near_cols: dict[int, list[int]] | None = None
    _near_done: bool = False

    def find(self, band: str, limit: float, age_gap: np.ndarray, serve: np.ndarray,
             gap: np.ndarray, cfg: GapsConfig, need_ids: list[str]) -> pd.DataFrame:
        """Near misses of one band's gap cells (``gap``: (S, K) bool), at most ``limit`` each."""
        n_keep = cfg.near_miss_limit
        parts = [self._local(limit, age_gap, serve, gap, cfg)]
        parts.extend(self._remote(age_gap, serve, gap, cfg))
        parts = [p for p in parts if len(p)]
        if not parts:
            return pd.DataFrame()
        out = pd.concat(parts, ignore_index=True)
        out = out.sort_values(["_a", "_k", "_prio", "minutes"], kind="stable")
        out = out.drop_duplicates(["_a", "_k", "_j"], keep="first")
        out = out[out.groupby(["_a", "_k"], sort=False).cumcount() < n_keep]
        out["band"] = band
        out["limit"] = limit
        return out.drop(columns="_prio")

    def _local(self, limit: float, age_gap: np.ndarray, serve: np.ndarray, gap: np.ndarray,
               cfg: GapsConfig) -> pd.DataFrame:
        """Near misses among the venues found by the spatial index."""
        pa, pj, pmin = self.pa, self.pj, self.pmin
        t_fail = (pmin > limit) & ~self.remote_reach
        t_near = pmin <= limit * cfg.near_time_factor
        g = age_gap[pj]
        g_fail = g > 0
        a_fail = ~self.area_ok
        n_fail = t_fail.astype(np.int8) + g_fail + a_fail
        near = (n_fail == 1) & ((t_fail & t_near) | (g_fail & (g <= cfg.near_age_years)) | a_fail)
        near &= gap.any(axis=1)[pa]          # only areas with a gap in this band
        idx = np.flatnonzero(near)
        if len(idx) == 0:
            return pd.DataFrame()
        order = np.lexsort((pmin[idx], pa[idx]))   # by area, then journey time
        idx = idx[order]
        crit = np.where(t_fail[idx], 0, np.where(g_fail[idx], 1, 2)).astype(np.int8)
        rows_a, rows_k, rows_p = [], [], []
        bounds = np.searchsorted(pa[idx], np.arange(0, len(self.areas) + _CHUNK_AREAS,
                                                    _CHUNK_AREAS))
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if hi <= lo:
                continue
            sub = idx[lo:hi]
            mask = serve[pj[sub]] & gap[pa[sub]]          # (pairs, K)
            ks, ps = np.nonzero(mask.T)                    # by need, then pair (area, minutes)
            if len(ks) == 0:
                continue
            key = ks.astype(np.int64) * len(self.areas) + pa[sub][ps]
            start = np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]
            rank = np.arange(len(key)) - np.repeat(start, np.diff(np.r_[start, len(key)]))
            keep = rank < cfg.near_miss_limit
            rows_a.append(pa[sub][ps[keep]])
            rows_k.append(ks[keep])
            rows_p.append(lo + ps[keep])
        if not rows_a:
            return pd.DataFrame()
        p = np.concatenate(rows_p)
        return pd.DataFrame({
            "_a": np.concatenate(rows_a), "_k": np.concatenate(rows_k), "_j": pj[idx[p]],
            "criterion": crit[p], "minutes": pmin[idx[p]].astype(float),
            "_prio": np.zeros(len(p), dtype=np.int8),
        })

    def _remote(self, age_gap: np.ndarray, serve: np.ndarray, gap: np.ndarray,
                cfg: GapsConfig) -> list[pd.DataFrame]:
        """Near misses among online, phone and home-visit services (by service area)."""
        s = self.services
        g_near = (age_gap > 0) & (age_gap <= cfg.near_age_years)
        out = []
        # 1. Reaching every area, a year or so outside the band: the same for every area.
        cand = np.flatnonzero(self.remote_all & g_near)
        # 2. Listed for the area's district, a year or so outside the band: per district combo.
        # 3. Listed for a district near the area's, right ages: per district combo.
        combo_rows = []
        gap_a, gap_k = np.nonzero(gap)
        if len(self.rl):
            rl_age = g_near[self.rl]
            with_gaps = np.unique(self.combo_of[gap_a])   # district combos that have a gap
            for c in with_gaps.tolist():
                hit = self.rl[self.combo_listed[:, c] & rl_age]
                if len(hit):
                    combo_rows.append((c, hit, 1))
            if not self._near_done:
                self._near_cols = self._near_districts(cfg)
                self._near_done = True
            if self._near_cols is not None:
                ok_age = age_gap[self.rl] == 0
                am_rl = s.area_matrix[self.rl]
                for c in with_gaps.tolist():
                    cols = self._near_cols.get(c)
                    if not cols:
                        continue
                    hit_mask = am_rl[:, cols].any(axis=1) & ~self.combo_listed[:, c]
                    hit = self.rl[hit_mask & ok_age]
                    if len(hit):
                        combo_rows.append((c, hit, 2))
        if len(cand):
            out.append(self._expand(gap_a, gap_k, np.zeros(len(gap_a), np.int64),
                                    [(0, cand, 1)], serve, cfg))
        if combo_rows:
            out.append(self._expand(gap_a, gap_k, self.combo_of[gap_a], combo_rows, serve, cfg))
        return [o for o in out if len(o)]

    def _expand(self, gap_a: np.ndarray, gap_k: np.ndarray, gap_group: np.ndarray,
                rows: list[tuple[int, np.ndarray, int]], serve: np.ndarray,
                cfg: GapsConfig) -> pd.DataFrame:
        """Join candidate services per group (and need) onto the gap cells of that group."""
        cand = []
        for group, js, crit in rows:
            js = np.sort(js)
            sk_j, sk_k = np.nonzero(serve[js])
            frame = pd.DataFrame({"_g": group, "_k": sk_k, "_j": js[sk_j], "criterion": crit})
            frame = frame.sort_values(["_k", "_j"], kind="stable")
            cand.append(frame[frame.groupby("_k").cumcount() < cfg.near_miss_limit])
        cands = pd.concat(cand, ignore_index=True)
        cells = pd.DataFrame({"_a": gap_a, "_k": gap_k, "_g": gap_group})
        joined = cells.merge(cands, on=["_g", "_k"], how="inner").drop(columns="_g")
        joined["minutes"] = np.nan
        joined["criterion"] = joined["criterion"].astype(np.int8)
        joined["_prio"] = np.int8(1)
        return joined

    def _near_districts(self, cfg: GapsConfig) -> dict[int, list[int]] | None:
        """For each district combo, the service-area columns of districts within near_area_km."""
        if not self.district_centroids or cfg.near_area_km <= 0:
            return None
        names = self.services.area_districts
        known = [i for i, d in enumerate(names) if d in self.district_centroids]
        if not known:
            return None
        lat = np.array([self.district_centroids[names[i]][0] for i in known])
        lon = np.array([self.district_centroids[names[i]][1] for i in known])
        out: dict[int, list[int]] = {}
        first_area = np.zeros(len(self.combo_keys), dtype=np.int64)
        first_area[self.combo_of[::-1]] = np.arange(len(self.combo_of))[::-1]
        for c in range(len(self.combo_keys)):
            d = self.areas.districts[first_area[c]]
            here = self.district_centroids.get(d)
            if here is None:
                continue
            km = haversine_km(here[0], here[1], lat, lon)
            own = set(self.combo_keys[c].tolist())
            out[c] = [known[i] for i in np.flatnonzero(km <= cfg.near_area_km)
                      if known[i] not in own]
        return out


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
