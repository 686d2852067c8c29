"""Geofences: GeoJSON polygons validated into shapely, measured on the sphere.

Positions are (lon, lat) degrees. An edge between two positions is the straight line in (lon, lat), as
RFC 7946 §3.1.1 defines it and as shapely computes point-in-polygon; every measurement here is taken on
that same shape, so area, distance and membership never disagree about where the fence is. Polygons
crossing the antimeridian are not supported (parse_polygon rejects them).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.validation import explain_validity

from geo.coordinates import EARTH_RADIUS_M, Position, haversine_m

DEFAULT_MAX_GEOFENCE_M2: float = 50_000_000.0  # 50 km²: a site geofence larger than this is absurd
MAX_POSITIONS = 1000

# GEOS validity reasons (shapely.validation.explain_validity) in the words a dispatcher would use.
_INVALID_REASONS = {
    "Self-intersection": "the polygon's edges cross or overlap each other",
    "Ring Self-intersection": "a ring touches itself",
    "Hole lies outside shell": "a hole lies outside the outer ring",
    "Holes are nested": "a hole lies inside another hole",
    "Interior is disconnected": "the holes cut the polygon into separate pieces",
    "Nested shells": "one outer ring lies inside another",
    "Duplicate Rings": "two rings are the same",
    "Too few points in geometry component": "a ring has fewer than 3 distinct positions",
}
_REASON_AT = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


class GeometryError(ValueError):
    """A geometry that cannot be used; the message says what is wrong, in plain words."""


def parse_polygon(geojson: object, *, max_area_m2: float = DEFAULT_MAX_GEOFENCE_M2) -> shapely.Polygon:
    """Validate a GeoJSON Polygon dict into a shapely Polygon in (lon, lat) degrees.

    Rejected with GeometryError (message in plain words): not a Polygon object, malformed coordinates,
    non-finite or out-of-range numbers, rings not closed or shorter than 4 positions, more than
    MAX_POSITIONS positions, an invalid polygon (crossing edges, stray holes...), zero area, a span of
    more than 180° of longitude (antimeridian), or a geodesic area above max_area_m2. A third number
    in a position (altitude) is dropped. Ring orientation is kept as given (either is accepted).
    """
    if not max_area_m2 > 0:
        raise ValueError(f"max_area_m2 must be positive, not {max_area_m2!r}")
    if not isinstance(geojson, dict):
        raise GeometryError(f"a polygon must be a GeoJSON object, not {type(geojson).__name__}")
    if geojson.get("type") != "Polygon":
        raise GeometryError(f"the geometry type must be 'Polygon', not {geojson.get('type')!r}")
    rings = geojson.get("coordinates")
    if not isinstance(rings, list | tuple) or not rings:
        raise GeometryError("coordinates must be a non-empty list of rings (the outer ring, then holes)")
    if not all(isinstance(ring, list | tuple) for ring in rings):
        raise GeometryError("coordinates must be a list of rings, each a list of [lon, lat] positions")
    total = sum(len(ring) for ring in rings)
    if total > MAX_POSITIONS:
        raise GeometryError(f"the polygon has {total} positions; at most {MAX_POSITIONS} are allowed")
    shell, *holes = [_parse_ring(r, f"hole {i}" if i else "the outer ring") for i, r in enumerate(rings)]
    polygon = shapely.Polygon(shell, holes)

    lons = [lon for lon, _ in shell]
    if max(lons) - min(lons) > 180:
        raise GeometryError(
            f"the polygon spans {max(lons) - min(lons):.1f}° of longitude; polygons wider than 180° or"
            " crossing the antimeridian (±180°) are not supported"
        )
    if not polygon.is_valid:
        if shapely.convex_hull(polygon).area == 0:
            raise GeometryError("the polygon has zero area: its positions all lie on one line")
        raise GeometryError(_explain_invalid(polygon))
    area = geodesic_area_m2(polygon)
    if area == 0:  # a valid polygon of a few nanodegrees underflows to nothing on the sphere
        raise GeometryError("the polygon has zero area")
    if area > max_area_m2:
        raise GeometryError(
            f"the polygon's area is {_km2(area)} km², above the limit of {_km2(max_area_m2)} km²"
        )
    return polygon


def _parse_ring(ring: list[Any] | tuple[Any, ...], name: str) -> list[tuple[float, float]]:
    positions = [_parse_position(p, f"{name}, position {i}") for i, p in enumerate(ring, start=1)]
    if len(positions) < 4:
        raise GeometryError(
            f"{name} has {len(positions)} positions; a ring needs at least 4 (the first repeated as the last)"
        )
    if positions[0] != positions[-1]:
        raise GeometryError(f"{name} is not closed: its last position must repeat the first")
    return positions


def _parse_position(position: object, where: str) -> tuple[float, float]:
    if not isinstance(position, list | tuple) or len(position) not in (2, 3):
        raise GeometryError(f"{where}: a position must be [lon, lat] (or [lon, lat, altitude])")
    # bool is an int subclass, and true/false in a coordinate is a client bug, not 1/0.
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in position):
        raise GeometryError(f"{where}: coordinates must be numbers")
    lon, lat = float(position[0]), float(position[1])
    if not all(math.isfinite(n) for n in position):
        raise GeometryError(f"{where}: coordinates must be finite numbers (not NaN or infinity)")
    if not -180 <= lon <= 180:
        raise GeometryError(f"{where}: longitude {lon:g} is outside [-180, 180]")
    if not -90 <= lat <= 90:
        raise GeometryError(f"{where}: latitude {lat:g} is outside [-90, 90]")
    return lon, lat


def _explain_invalid(polygon: shapely.Polygon) -> str:
    explanation = str(explain_validity(polygon))
    match = _REASON_AT.match(explanation)
    if match is None:
        return f"the polygon is not valid ({explanation})"
    reason = match["reason"]
    words = _INVALID_REASONS.get(reason, f"the polygon is not valid ({reason.lower()})")
    return f"{words}, near lon {float(match['x']):g}, lat {float(match['y']):g}"


def _km2(area_m2: float) -> str:
    km2 = area_m2 / 1e6
    return f"{km2:,.0f}" if km2 >= 100 else f"{km2:.3g}"


def polygon_to_geojson(polygon: shapely.Polygon) -> dict[str, object]:
    """The GeoJSON Polygon dict for a shapely Polygon (lists, not tuples); the inverse of parse_polygon."""
    rings = [polygon.exterior, *polygon.interiors]
    return {"type": "Polygon", "coordinates": [[[c[0], c[1]] for c in ring.coords] for ring in rings]}


def square(center: Position, half_deg: float = 0.004) -> dict[str, object]:
    """A GeoJSON square geofence around a point, `half_deg` degrees to each side (the default is
    about 900 m a side at mid latitudes): how tests, benchmarks and examples draw a site."""
    lon, lat = center.lon, center.lat
    ring = [
        [lon - half_deg, lat - half_deg],
        [lon + half_deg, lat - half_deg],
        [lon + half_deg, lat + half_deg],
        [lon - half_deg, lat + half_deg],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def geodesic_area_m2(polygon: shapely.Polygon) -> float:
    """Area in m² on the sphere of radius EARTH_RADIUS_M, holes subtracted.

    Method: Green's theorem in the Lambert cylindrical equal-area projection (x = λ, y = sin φ), where
    area is R² times planar area. Along an edge that is straight in (λ, φ), ∫ sin φ dλ has the closed
    form Δλ · sin φ_mid · sinc(Δφ / 2), so the result is exact for the RFC 7946 shape (up to rounding):
    a 1° x 1° cell gives R²·Δλ·(sin φ2 - sin φ1). The WGS 84 ellipsoid's curvature makes the same
    polygon 0.4% smaller at the equator and 0.6% larger at 60°; great-circle edges (PostGIS
    geography) differ from straight (λ, φ) edges by ~1e-5 at 10 km and ~2% for a 300 km triangle at 60°.
    """
    rings = [polygon.exterior, *polygon.interiors]
    shell, *holes = (abs(_ring_integral(ring.coords)) for ring in rings)
    return max(0.0, shell - sum(holes)) * EARTH_RADIUS_M**2


def _ring_integral(coords: Any) -> float:
    total = 0.0
    points = [(math.radians(lon), math.radians(lat)) for lon, lat, *_ in coords]
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(points):
        half = (lat2 - lat1) / 2
        sinc = math.sin(half) / half if half else 1.0
        total += (lon2 - lon1) * math.sin(lat1 + half) * sinc
    return total


def distance_to_m(polygon: shapely.Polygon, point: Position) -> float:
    """Metres from the point to the polygon; 0.0 when the point is inside or on the boundary.

    Method: the nearest boundary point is found in a local equirectangular plane centred on the point
    (x = Δlon·cos lat, y = Δlat), then the distance to it is measured with haversine. The plane's scale
    error only moves the foot of the perpendicular a little along the edge, where the distance is
    stationary, so the error is second order: well under 0.1% up to ~50 km and under 0.5% up to a few
    hundred km at mid latitudes (first order only in near-ties between two far-apart edges). Longitudes
    are not wrapped, consistent with antimeridian polygons being unsupported.
    """
    if shapely.intersects_xy(polygon, point.lon, point.lat):
        return 0.0
    # Clamped so a point at a pole still has an invertible plane; there every foot is equally good.
    k = max(math.cos(math.radians(point.lat)), 1e-12)
    plane = shapely.transform(polygon.boundary, lambda c: (c - (point.lon, point.lat)) * (k, 1.0))
    x, y = shapely.shortest_line(shapely.Point(0.0, 0.0), plane).coords[1]
    return haversine_m(point, Position(point.lon + x / k, point.lat + y))


def contains(polygon: shapely.Polygon, point: Position, *, accuracy_m: float = 0.0) -> bool:
    """True when the point is inside or on the polygon, or within accuracy_m metres of it.

    accuracy_m is a GPS accuracy radius: a fix whose uncertainty circle touches the fence counts as in.
    """
    if not accuracy_m >= 0:
        raise ValueError(f"accuracy_m must be zero or positive, not {accuracy_m!r}")
    return contains_each(polygon, [point], [accuracy_m])[0]


def contains_each(
    polygon: shapely.Polygon, points: Sequence[Position], accuracies_m: Sequence[float] | None = None
) -> list[bool]:
    """For each point, whether it is inside or on the polygon or within its accuracy radius of it
    (0 when accuracies_m is None), in one vectorized pass: a batch of GPS fixes against a geofence
    costs about one call, not ~13 µs a fix. Exact distances are measured one by one, only for the
    fixes outside the polygon whose accuracy circle may reach it. contains() is this for one point."""
    if not points:
        return []
    minx, miny, maxx, maxy = _bounds(polygon)
    if len(points) <= _FEW and _all_far(points, accuracies_m, (minx, miny, maxx, maxy)):
        return [False] * len(points)
    # Columns from lists: numpy converting a list of tuples is several times slower.
    lon = np.array([p[0] for p in points], dtype=float)
    lat = np.array([p[1] for p in points], dtype=float)
    accuracy = np.zeros(len(lon)) if accuracies_m is None else np.array(accuracies_m, dtype=float)
    if not (accuracy >= 0).all():  # NaN fails too
        raise ValueError(f"accuracies_m must be zero or positive, not {list(accuracy)!r}")
    # Far outside the fence's bounding box (a truck on the road): no exact distance needed. Safe: a
    # degree of latitude is at least 110,574 m, a degree of longitude at least that times cos(lat).
    dlat = accuracy / 110_000.0
    dlon = dlat / np.maximum(np.cos(np.radians(lat)), 1e-6)
    near = (minx - dlon <= lon) & (lon <= maxx + dlon) & (miny - dlat <= lat) & (lat <= maxy + dlat)
    inside = np.zeros(len(lon), dtype=bool)
    if near.any():
        inside[near] = shapely.intersects_xy(polygon, lon[near], lat[near])
    result: list[bool] = inside.tolist()
    for i in np.flatnonzero(near & ~inside & (accuracy > 0)).tolist():
        result[i] = distance_to_m(polygon, Position(float(lon[i]), float(lat[i]))) <= accuracy[i]
    return result


# A phone's batch of a few fixes: numpy's set-up costs more than the points (a 10-fix batch on the
# road: ~10x faster in plain Python). Up to this many fixes, those all far from the fence's bounding
# box (the same test as below) are answered without it.
_FEW = 32
# The bounding boxes of the fences in use (shapely computes them on each `.bounds`), by identity;
# the polygon is kept with its box, so its id cannot be reused while the entry lives.
_BOUNDS: dict[int, tuple[shapely.Polygon, tuple[float, float, float, float]]] = {}
_BOUNDS_MAX = 4096


def _bounds(polygon: shapely.Polygon) -> tuple[float, float, float, float]:
    kept = _BOUNDS.get(id(polygon))
    if kept is not None and kept[0] is polygon:
        return kept[1]
    if len(_BOUNDS) >= _BOUNDS_MAX:
        _BOUNDS.clear()
    minx, miny, maxx, maxy = polygon.bounds
    box = (float(minx), float(miny), float(maxx), float(maxy))
    _BOUNDS[id(polygon)] = (polygon, box)
    return box


def _all_far(
    points: Sequence[Position], accuracies_m: Sequence[float] | None, box: tuple[float, float, float, float]
) -> bool:
    """Whether every point is beyond its accuracy of the box, by contains_each's test (then none is
    inside or near the fence). False for a negative or NaN accuracy: contains_each refuses it."""
    minx, miny, maxx, maxy = box
    for i, p in enumerate(points):
        accuracy = 0.0 if accuracies_m is None else accuracies_m[i]
        if not accuracy >= 0:
            return False
        dlat = accuracy / 110_000.0
        dlon = dlat / max(math.cos(math.radians(p[1])), 1e-6)
        if minx - dlon <= p[0] <= maxx + dlon and miny - dlat <= p[1] <= maxy + dlat:
            return False
    return True


def circle(center: Position, radius_m: float, *, segments: int = 64) -> shapely.Polygon:
    """A polygon inscribed in the geodesic circle: `segments` vertices at exactly radius_m (great-circle
    destination formula), counterclockwise as RFC 7946 asks. Its area falls short of the circle's by the
    polygon factor n·sin(2π/n)/2π (0.16% at 64). Longitudes are left unwrapped near the antimeridian.
    Raises GeometryError when the circle would reach a pole.
    """
    if not (radius_m > 0 and math.isfinite(radius_m)):
        raise ValueError(f"radius_m must be a positive finite number, not {radius_m!r}")
    if segments < 3:
        raise ValueError(f"a circle needs at least 3 segments, not {segments}")
    delta = radius_m / EARTH_RADIUS_M
    lon1, lat1 = math.radians(center.lon), math.radians(center.lat)
    if delta >= math.pi / 2 - abs(lat1):
        raise GeometryError(f"a circle of {radius_m / 1000:g} km around {center} reaches a pole")
    ring = []
    for i in range(segments):
        bearing = -2 * math.pi * i / segments
        lat2 = math.asin(
            math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(bearing)
        )
        dlon = math.atan2(
            math.sin(bearing) * math.sin(delta) * math.cos(lat1),
            math.cos(delta) - math.sin(lat1) * math.sin(lat2),
        )
        ring.append((math.degrees(lon1 + dlon), math.degrees(lat2)))
    return shapely.Polygon(ring)


def centroid(polygon: shapely.Polygon) -> Position:
    """The planar centroid in (lon, lat) degrees: for site-sized polygons within metres of the
    spherical one; meant for labels and map centring, not for measurement."""
    c = polygon.centroid
    return Position(float(c.x), float(c.y))


@dataclass(frozen=True, slots=True)
class Area:
    """A carrier's area of interest: a circle (center + radius_m) or a polygon. Build it with
    Area.around or Area.of_polygon; contains() is a few microseconds either way."""

    center: Position | None = None
    radius_m: float = 0.0
    polygon: Any = None  # shapely.Polygon, prepared

    def __post_init__(self) -> None:
        if (self.center is None) == (self.polygon is None):
            raise ValueError("an Area is a circle or a polygon: build it with Area.around or Area.of_polygon")

    @classmethod
    def around(cls, center: Position, radius_m: float) -> Area:
        if not (radius_m > 0 and math.isfinite(radius_m)):
            raise ValueError(f"radius_m must be a positive finite number, not {radius_m!r}")
        return cls(center=Position(float(center.lon), float(center.lat)), radius_m=float(radius_m))

    @classmethod
    def of_polygon(cls, polygon: shapely.Polygon) -> Area:
        if not isinstance(polygon, shapely.Polygon) or polygon.is_empty:
            raise GeometryError("an area needs a non-empty polygon")
        shapely.prepare(polygon)  # in place and idempotent: later point tests use the prepared index
        return cls(polygon=polygon)

    def contains(self, point: Position) -> bool:
        """Circle: haversine_m(center, point) <= radius_m. Polygon: inside or on the boundary."""
        if self.polygon is not None:
            return bool(shapely.intersects_xy(self.polygon, point.lon, point.lat))
        assert self.center is not None
        return haversine_m(self.center, point) <= self.radius_m
