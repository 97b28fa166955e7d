"""Small areas for a gap analysis: postcode sectors or districts, with their centroids.

The centroids come from the offline gazetteer (:class:`matcher.geo.postcodes.PostcodeIndex`),
which keeps every sector and district as a block of its sorted postcodes with a precomputed
mean position. :func:`area_centroids` reads those blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.errors import MatcherError, PostcodeNotFoundError
from matcher.geo.distance import haversine_km
from matcher.geo.postcodes import PostcodeIndex, postcode_district

__all__ = ["AreaSet", "area_centroids", "areas_in_districts", "areas_around",
           "district_centroids", "parent_district"]

_OUTWARD_WIDTH = 4  # the gazetteer pads outward codes to 4 characters in its keys


@dataclass(frozen=True)
class AreaSet:
    """Small areas as parallel arrays (one row per sector or district)."""

    level: str            # "sector" | "district"
    codes: np.ndarray     # formatted: "N7 8" or "N7" (object array of str)
    districts: np.ndarray  # district of each area: "N7" (object array of str)
    lat: np.ndarray       # centroid latitude, degrees
    lon: np.ndarray       # centroid longitude, degrees
    postcodes: np.ndarray  # postcodes behind each centroid

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, mask_or_index: np.ndarray) -> AreaSet:
        """A subset of the areas, in the given order."""
        return AreaSet(self.level, self.codes[mask_or_index], self.districts[mask_or_index],
                       self.lat[mask_or_index], self.lon[mask_or_index],
                       self.postcodes[mask_or_index])


def parent_district(district: str) -> str:
    """The district a service area may name instead: "EC1V" is inside "EC1" ("" if none)."""
    return district[:-1] if len(district) > 2 and district[-1].isalpha() else ""


def area_centroids(index: PostcodeIndex, level: str = "sector") -> AreaSet:
    """Every sector (or district) in Great Britain with its centroid and postcode count."""
    if level not in ("sector", "district"):
        raise MatcherError(f"Unknown area level '{level}'. Use 'sector' or 'district'.")
    blocks = getattr(index, "_blocks", None)  # the gazetteer's per-block centroids
    if blocks is None or level not in blocks:
        raise MatcherError("This postcode index has no sector or district centroids; rebuild "
                           "it with matcher.geo.postcodes.PostcodeIndex.load().")
    keys, _, counts, lats, lons = blocks[level]
    text = keys.astype(str)  # fixed-width ASCII keys: "N7  8", "N7  "
    outward = np.char.rstrip(np.char.ljust(text, _OUTWARD_WIDTH).astype(f"U{_OUTWARD_WIDTH}"))
    if level == "sector":
        inward = np.array([k[_OUTWARD_WIDTH:] for k in text.tolist()], dtype=object)
        codes = np.array([f"{o} {i}" for o, i in zip(outward.tolist(), inward.tolist(),
                                                      strict=True)], dtype=object)
    else:
        codes = outward.astype(object)
    return AreaSet(level, codes, outward.astype(object), np.asarray(lats, float),
                   np.asarray(lons, float), np.asarray(counts, np.int64))


def areas_in_districts(index: PostcodeIndex, districts: Sequence[str],
                       level: str = "sector") -> AreaSet:
    """The sectors (or the districts themselves) of the given postcode districts.

    Raises :class:`~matcher.errors.PostcodeNotFoundError` naming the first district that is
    not in the gazetteer (with suggestions).
    """
    wanted = []
    for d in districts:
        if not str(d).strip():
            continue
        name = postcode_district(d)
        if index.lookup(name).kind != "district":  # raises when unknown
            raise PostcodeNotFoundError(f"'{d}' is not a postcode district. Give districts "
                                        "such as N7 or EC1V.", value=str(d))
        wanted.append(name)
    if not wanted:
        raise MatcherError("No postcode districts were given. Give at least one, e.g. N7.")
    areas = area_centroids(index, level)
    return areas.take(np.isin(areas.districts, list(dict.fromkeys(wanted))))


def areas_around(index: PostcodeIndex, postcode: str, radius_km: float,
                 level: str = "sector") -> AreaSet:
    """The sectors (or districts) whose centre is within ``radius_km`` of a postcode."""
    if not radius_km > 0:
        raise MatcherError(f"The radius must be above 0 km (got {radius_km}).")
    here = index.lookup(postcode)
    areas = area_centroids(index, level)
    km = haversine_km(here.latitude, here.longitude, areas.lat, areas.lon)
    found = areas.take(km <= radius_km)
    if len(found) == 0:
        raise MatcherError(f"No postcode {level} has its centre within {radius_km} km of "
                           f"{here.postcode}. Use a larger --radius-km.")
    return found


def district_centroids(index: PostcodeIndex, districts: Sequence[str]
                       ) -> dict[str, tuple[float, float]]:
    """(lat, lon) of each postcode district the gazetteer knows, looked up in one call (the
    districts named in service areas, for near misses just outside a service area)."""
    districts = list(districts)
    if not districts:
        return {}
    lat, lon, found = index.lookup_many(districts)
    return {d: (float(lat[i]), float(lon[i])) for i, d in enumerate(districts) if found[i]}
