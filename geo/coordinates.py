"""Coordinate types shared by the wire and the code. Inside the code a position is (lon, lat)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, NamedTuple

import numpy as np
from msgspec import Meta

# NaN and infinities fail the range constraints, so they are rejected at the edge too.
Latitude = Annotated[float, Meta(ge=-90.0, le=90.0, description="WGS 84 latitude in degrees")]
Longitude = Annotated[float, Meta(ge=-180.0, le=180.0, description="WGS 84 longitude in degrees")]

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


class Position(NamedTuple):
    lon: float
    lat: float


SHORT_PATH_POINTS = 24  # up to this many points, path_length_m sums the legs in plain Python
_RADIANS = math.pi / 180.0  # what math.radians multiplies by: the same floats, without the calls


def haversine_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres on the mean-radius sphere (within 0.5% of the ellipsoid)."""
    # Written for speed (it runs a few times per GPS fix): indexing, no map or tuple of radians.
    lat1, lat2 = a[1] * _RADIANS, b[1] * _RADIANS
    dlon = b[0] * _RADIANS - a[0] * _RADIANS
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def path_length_m(points: Sequence[Position]) -> float:
    """The length of the polyline through the points: haversine_m of each leg, summed. A long path
    is computed for all legs at once (one numpy pass instead of a call per leg); a short one, a
    phone's batch of a few fixes, leg by leg: numpy's set-up costs more than that up to about 30
    legs (~16 us against ~44 us for 10 legs on this machine). Both agree to rounding."""
    if len(points) < 2:
        return 0.0
    if len(points) <= SHORT_PATH_POINTS:
        return math.fsum(map(haversine_m, points, points[1:]))
    lon = np.radians(np.array([p[0] for p in points]))
    lat = np.radians(np.array([p[1] for p in points]))
    h = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    return float(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h))).sum())


def initial_bearing_deg(a: Position, b: Position) -> float:
    """Initial great-circle bearing from a to b in degrees clockwise from true north, in [0, 360).

    0.0 when the points coincide. Spherical formula (atan2 form), on the same sphere as haversine_m.
    """
    lon1, lat1, lon2, lat2 = map(math.radians, (a.lon, a.lat, b.lon, b.lat))
    dlon = lon2 - lon1
    y = math.sin(dlon) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    bearing = math.degrees(math.atan2(y, x)) % 360.0
    # A tiny negative angle wraps to exactly 360.0 in floating point; report it as north.
    return 0.0 if bearing == 360.0 else bearing
