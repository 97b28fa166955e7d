"""Great-circle distances, vectorised: arrays in, arrays out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EARTH_RADIUS_KM", "SpherePoints", "haversine_km", "haversine_km_from"]

#: Mean Earth radius (IUGG, R1 = (2a + b) / 3) in kilometres.
EARTH_RADIUS_KM = 6371.0088

# Degrees to radians. ``x * _RADIANS`` is the very operation ``np.radians`` performs (one
# multiplication by the double nearest pi / 180), so results are bit-for-bit the same, but a
# plain multiplication is several times faster on large arrays.
_RADIANS = np.pi / 180.0


def _as_radians(degrees: ArrayLike) -> np.ndarray:
    return np.asarray(degrees, dtype=np.float64) * _RADIANS


def _haversine(phi1: np.ndarray, lam1: np.ndarray, phi2: np.ndarray, lam2: np.ndarray,
               cos_phi2: np.ndarray) -> np.ndarray:
    """The haversine formula on radians, with ``cos(phi2)`` given (precomputed or not).

    Every step is the same floating-point operation, in the same order, whichever way the
    inputs were prepared, so :func:`haversine_km` and :func:`haversine_km_from` agree exactly.
    """
    half_dphi = (phi2 - phi1) * 0.5        # the same as "/ 2.0": halving is exact
    half_dlam = (lam2 - lam1) * 0.5
    sin_dphi = np.sin(half_dphi)
    sin_dlam = np.sin(half_dlam)
    a = np.square(sin_dphi) + np.cos(phi1) * cos_phi2 * np.square(sin_dlam)
    # Rounding can push ``a`` a hair above 1 for antipodal points; arcsin would then give NaN.
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))))


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> np.ndarray:
    """Great-circle distance in kilometres between points given in degrees.

    The four arguments are latitudes and longitudes in decimal degrees (WGS84; north and east
    positive). They may be scalars or arrays of any shapes that broadcast together with numpy's
    rules, e.g. one origin against many services: ``lat1`` shape ``()`` and ``lat2`` shape
    ``(n,)`` give shape ``(n,)``; column ``(m, 1)`` against row ``(n,)`` gives ``(m, n)``.

    Returns a float64 ``np.ndarray`` of the broadcast shape (0-d for four scalars), in
    kilometres, on a sphere of radius :data:`EARTH_RADIUS_KM`. A NaN in any input gives NaN
    at that position, so unknown locations stay unknown. The sphere differs from the WGS84
    ellipsoid by at most about 0.5%, which is far below what matters for travel to a service.

    Big Ben in London to Cardiff Castle, as the crow flies:

    >>> round(float(haversine_km(51.5007, -0.1246, 51.4822, -3.1812)), 1)
    211.6

    One origin (Big Ben) against two places (itself and Edinburgh Castle):

    >>> haversine_km(51.5007, -0.1246, [51.5007, 55.9486], [-0.1246, -3.1999]).round(1)
    array([  0. , 534.2])
    """
    phi2 = _as_radians(lat2)
    return _haversine(_as_radians(lat1), _as_radians(lon1), phi2, _as_radians(lon2), np.cos(phi2))


@dataclass(frozen=True)
class SpherePoints:
    """Fixed points (e.g. every service's venue) with the per-point work of the haversine
    formula done once: latitude and longitude in radians and the cosine of the latitude.

    Build once with :meth:`from_degrees`, then measure from any number of origins with
    :func:`haversine_km_from`. Arrays are float64, shape ``(n,)``; NaN marks an unknown place.
    """

    lat_rad: np.ndarray
    lon_rad: np.ndarray
    cos_lat: np.ndarray

    @classmethod
    def from_degrees(cls, lat: ArrayLike, lon: ArrayLike) -> SpherePoints:
        """Prepare points given in decimal degrees (arrays of the same shape)."""
        lat_rad, lon_rad = _as_radians(lat), _as_radians(lon)
        if lat_rad.shape != lon_rad.shape:
            raise ValueError(f"Latitudes {lat_rad.shape} and longitudes {lon_rad.shape} must have "
                             "the same shape: pass one latitude and one longitude per point.")
        for a in (lat_rad, lon_rad):
            a.setflags(write=False)
        cos_lat = np.cos(lat_rad)
        cos_lat.setflags(write=False)
        return cls(lat_rad, lon_rad, cos_lat)

    def __len__(self) -> int:
        return len(self.lat_rad)


def haversine_km_from(lat: float, lon: float, points: SpherePoints) -> np.ndarray:
    """Kilometres from one origin (degrees) to every prepared point, shape ``(len(points),)``.

    Exactly (bit for bit) ``haversine_km(lat, lon, lats, lons)`` for the points' degrees, in
    about two thirds of the time, since the points' radians and cosines are not recomputed.

    >>> castles = SpherePoints.from_degrees([51.4822, 55.9486], [-3.1812, -3.1999])
    >>> haversine_km_from(51.5007, -0.1246, castles).round(1)   # Big Ben to Cardiff, Edinburgh
    array([211.6, 534.2])
    """
    return _haversine(_as_radians(lat), _as_radians(lon), points.lat_rad, points.lon_rad,
                      points.cos_lat)
