"""The corridor around a trip's expected route, and the off-route rule. Pure: no I/O.

There is no routing engine: the expected route is the job's own route when the poster gave one, else
the straight segment from the origin to the destination. The corridor is every place within
`corridor_width_m` of that route; its width grows with the trip (a long trip's roads stray further
from the straight line) and never goes under a floor (a short trip's roads still wind).

Distances are measured in a local flat projection (equirectangular, centred on the route): metres
east and north of the route's middle. Over a trip of a few hundred kilometres this is within a
fraction of a percent of the great-circle distance, which is far finer than a corridor tens of
kilometres wide needs; shapely measures each fix's distance to the route line, a batch in one call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from geo.coordinates import EARTH_RADIUS_M, Position, path_length_m

# The corridor is at least this wide either side of the route, and at least this share of the trip.
DEFAULT_MIN_WIDTH_M = 10_000.0
DEFAULT_WIDTH_SHARE = 0.2
# A truck is off route after this many fixes in a row outside the corridor (one stray fix is GPS noise).
DEFAULT_POINTS_OUTSIDE = 3
QUAD_SEGS = 16


def corridor_width_m(
    route_length_m: float, min_width_m: float = DEFAULT_MIN_WIDTH_M, share: float = DEFAULT_WIDTH_SHARE
) -> float:
    """How far either side of the route the corridor reaches: max(min_width_m, share x the route's length)."""
    return max(min_width_m, share * route_length_m)


class Corridor:
    """The corridor around a route (a polyline of at least two positions, in driving order)."""

    def __init__(self, route: Sequence[Position], width_m: float) -> None:
        if len(route) < 2:
            raise ValueError("a route needs at least two positions")
        self.route = list(route)
        self.width_m = width_m
        lons = [p.lon for p in self.route]
        lats = [p.lat for p in self.route]
        self._lon0 = (min(lons) + max(lons)) / 2
        self._lat0 = (min(lats) + max(lats)) / 2
        self._x_per_deg = EARTH_RADIUS_M * math.radians(1) * math.cos(math.radians(self._lat0))
        self._y_per_deg = EARTH_RADIUS_M * math.radians(1)
        self._line = shapely.LineString(self._project(self.route))
        # The corridor as a polygon in degrees, for testing a batch's fixes in one vectorized call
        # without projecting them: the buffer is taken in metres and brought back by the inverse of
        # the projection, which is affine, so its edges stay straight and the shape is the same.
        # The buffer's round ends are polygons of QUAD_SEGS segments per quarter circle: inside the
        # true corridor by at most 0.5 % of its width.
        ring = shapely.get_coordinates(shapely.buffer(self._line, width_m, quad_segs=QUAD_SEGS))
        ring[:, 0] = ring[:, 0] / self._x_per_deg + self._lon0
        ring[:, 1] = ring[:, 1] / self._y_per_deg + self._lat0
        self._area = shapely.Polygon(ring)
        shapely.prepare(self._area)

    @classmethod
    def around(
        cls,
        route: Sequence[Position],
        min_width_m: float = DEFAULT_MIN_WIDTH_M,
        share: float = DEFAULT_WIDTH_SHARE,
    ) -> Corridor:
        """The corridor of the settings' width around `route`."""
        return cls(route, corridor_width_m(path_length_m(route), min_width_m, share))

    def _project(self, positions: Sequence[Position]) -> np.ndarray:
        xy = np.array([(p[0], p[1]) for p in positions], dtype=float).reshape(-1, 2)
        xy[:, 0] = (xy[:, 0] - self._lon0) * self._x_per_deg
        xy[:, 1] = (xy[:, 1] - self._lat0) * self._y_per_deg
        return xy

    def distances_m(self, positions: Sequence[Position]) -> list[float]:
        """Each position's distance to the route, in metres (0 on it)."""
        if not positions:
            return []
        points = shapely.points(self._project(positions))
        return [float(d) for d in shapely.distance(self._line, points)]

    def outside_each(self, positions: Sequence[Position]) -> list[bool]:
        """Whether each position is outside the corridor, in one call (a prepared polygon: the cost
        is nearly all the call's, ~20 µs, whatever the batch's size, where measuring each fix's
        distance costs about 1 µs a fix more)."""
        if not positions:
            return []
        # Columns from lists: numpy converting a list of tuples is several times slower.
        lon = np.array([p[0] for p in positions], dtype=float)
        lat = np.array([p[1] for p in positions], dtype=float)
        inside: list[bool] = shapely.intersects_xy(self._area, lon, lat).tolist()
        return [not x for x in inside]


@dataclass(frozen=True, slots=True)
class RouteWatch:
    """The off-route detector's state: fixes in a row outside the corridor, and whether the truck is
    off route (`load.off_route` raised and `load.back_on_route` not yet)."""

    outside_count: int = 0
    off_route: bool = False


def watch_route(
    state: RouteWatch, outside: Sequence[bool], points_outside: int = DEFAULT_POINTS_OUTSIDE
) -> tuple[RouteWatch, list[tuple[int, str]]]:
    """Move the detector over fixes in time order (True: outside the corridor). Returns the new
    state and what happened, as (index of the fix, "off_route" | "back_on_route"):

    - off route once `points_outside` fixes in a row are outside (raised once, on the last of them);
    - back on route at the first fix inside the corridor after that.
    """
    count, off = state.outside_count, state.off_route
    happened: list[tuple[int, str]] = []
    for i, out in enumerate(outside):
        if out:
            count += 1
            if not off and count >= points_outside:
                off = True
                happened.append((i, "off_route"))
        else:
            count = 0
            if off:
                off = False
                happened.append((i, "back_on_route"))
    return RouteWatch(count, off), happened
