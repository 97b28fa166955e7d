"""Great-circle distances, vectorised: arrays in, arrays out."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EARTH_RADIUS_KM", "haversine_km"]

#: Mean Earth radius (IUGG, R1 = (2a + b) / 3) in kilometres.
EARTH_RADIUS_KM = 6371.0088


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
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlambda = np.radians(np.asarray(lon2, dtype=np.float64)) - np.radians(
        np.asarray(lon1, dtype=np.float64)
    )
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2.0) ** 2
    # Rounding can push ``a`` a hair above 1 for antipodal points; arcsin would then give NaN.
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))))
