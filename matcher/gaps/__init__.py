"""Gaps in provision for commissioners: need x age band x small area coverage.

>>> from matcher.gaps import analyse_gaps, areas_in_districts, GapServices  # doctest: +SKIP
"""

from __future__ import annotations

from matcher.gaps.analysis import CRITERIA, GapReport, analyse_gaps, km_within_minutes
from matcher.gaps.areas import AreaSet, area_centroids, areas_around, areas_in_districts
from matcher.gaps.config import AgeBand, GapsConfig, load_gaps_config, parse_gaps_config
from matcher.gaps.supply import GapServices, serves_matrix

__all__ = [
    "AgeBand",
    "AreaSet",
    "CRITERIA",
    "GapReport",
    "GapServices",
    "GapsConfig",
    "analyse_gaps",
    "area_centroids",
    "areas_around",
    "areas_in_districts",
    "km_within_minutes",
    "load_gaps_config",
    "parse_gaps_config",
    "serves_matrix",
]
