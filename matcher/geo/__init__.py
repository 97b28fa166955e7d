"""Offline geography: the GB postcode gazetteer and great-circle distances."""

from __future__ import annotations

from matcher.geo.distance import EARTH_RADIUS_KM, haversine_km
from matcher.geo.postcodes import (
    Location,
    PostcodeIndex,
    codepoint_dir,
    default_cache_dir,
    get_postcode_index,
    normalise_postcode,
    postcode_district,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "Location",
    "PostcodeIndex",
    "codepoint_dir",
    "default_cache_dir",
    "get_postcode_index",
    "haversine_km",
    "normalise_postcode",
    "postcode_district",
]
