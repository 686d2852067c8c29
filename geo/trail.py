"""Trails: plausibility of consecutive fixes and simplification of long trails for display."""

from __future__ import annotations

import math
from collections.abc import Sequence

import shapely

from geo.coordinates import EARTH_RADIUS_M, Position, haversine_m

# Faster than any truck, slow enough to catch a fix from another continent or a (0, 0) glitch.
MAX_PLAUSIBLE_SPEED_MPS = 250 / 3.6


def implied_speed_mps(
    a: Position, a_accuracy_m: float, b: Position, b_accuracy_m: float, dt_s: float
) -> float:
    """The least speed that explains moving from fix a to fix b in dt_s seconds, giving each fix the
    benefit of its reported accuracy. Infinite when they are apart beyond their accuracies at dt 0."""
    distance = max(0.0, haversine_m(a, b) - a_accuracy_m - b_accuracy_m)
    if distance == 0.0:
        return 0.0
    return math.inf if dt_s <= 0 else distance / dt_s


def simplify(trail: Sequence[Position], tolerance_m: float) -> list[Position]:
    """Douglas-Peucker in a local equirectangular projection (metres, accurate for a regional trip):
    the shape is kept within `tolerance_m`, the first and last fixes always."""
    if len(trail) < 3:
        return list(trail)
    lat0 = math.radians(sum(p.lat for p in trail) / len(trail))
    kx = math.radians(1) * EARTH_RADIUS_M * math.cos(lat0)
    ky = math.radians(1) * EARTH_RADIUS_M
    line = shapely.LineString([(p.lon * kx, p.lat * ky) for p in trail])
    kept = shapely.simplify(line, tolerance_m, preserve_topology=False)
    return [Position(x / kx, y / ky) for x, y in kept.coords]
