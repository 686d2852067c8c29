"""WGS-84 <-> GCJ-02: the datum shift of maps in mainland China.

Phones report WGS-84; map tiles served in mainland China (AMap/Gaode, Tencent) are drawn in GCJ-02,
a WGS-84 position moved by an obfuscating offset of up to a few hundred metres. The formulas are the
published ones (the "eviltransform" / "coordtransform" family, on the Krasovsky 1940 ellipsoid):
outside a bounding box of mainland China there is no shift. The forward transform has no closed
inverse; gcj02_to_wgs84 solves it by fixed-point iteration to well below 1e-6 degrees.

dispatch/web/static/datum.js is the same transform for the tracking page; the tests hold them equal.
Positions are (lon, lat) in degrees, as everywhere in geo.
"""

from __future__ import annotations

import math

from geo.coordinates import Position

# Krasovsky 1940: semi-major axis (m) and first eccentricity squared.
_A = 6378245.0
_EE = 0.00669342162296594323

# The inverse stops when the forward image of its guess is this close to the GCJ-02 input (degrees).
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_STEPS = 30


def out_of_china(lon: float, lat: float) -> bool:
    """True outside the box where GCJ-02 applies (the published bounds): no shift there."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset(lon: float, lat: float) -> tuple[float, float]:
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS-84 position inside China."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x)) + common
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x)) + common
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    # Metres of the offset to degrees on the Krasovsky ellipsoid at this latitude.
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: float, lat: float) -> Position:
    """A WGS-84 position as GCJ-02 tiles draw it (unchanged outside China)."""
    if out_of_china(lon, lat):
        return Position(lon, lat)
    dlon, dlat = _offset(lon, lat)
    return Position(lon + dlon, lat + dlat)


def gcj02_to_wgs84(lon: float, lat: float) -> Position:
    """The WGS-84 position whose GCJ-02 image is (lon, lat): the inverse of wgs84_to_gcj02.

    Fixed-point iteration: the offset changes slowly with position (its gradient is far below 1),
    so each step subtracts the residual of the last guess and it converges in a few steps.
    """
    guess_lon, guess_lat = lon, lat
    for _ in range(_INVERSE_MAX_STEPS):
        image = wgs84_to_gcj02(guess_lon, guess_lat)
        err_lon, err_lat = image.lon - lon, image.lat - lat
        if abs(err_lon) < _INVERSE_TOLERANCE_DEG and abs(err_lat) < _INVERSE_TOLERANCE_DEG:
            break
        guess_lon, guess_lat = guess_lon - err_lon, guess_lat - err_lat
    return Position(guess_lon, guess_lat)
