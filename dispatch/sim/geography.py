"""Where the simulation happens: a steel works in Linz, a buyer's yard in Vienna's port, and the road
between them (the A1 motorway, as a polyline of real places), about 168 km by road, 160 km straight.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from typing import Any

from geo import Position, haversine_m, initial_bearing_deg

TIMEZONE = "Europe/Vienna"
MILL = Position(14.3290, 48.2905)  # the works' gate, Linz
YARD = Position(16.4850, 48.1560)  # the buyer's yard, Albern port, Vienna
# The A1 from Linz to Vienna through the towns it passes, then the port road.
ROAD = [
    MILL,
    Position(14.3600, 48.2650),
    Position(14.4700, 48.2120),  # Enns
    Position(14.6300, 48.1650),
    Position(14.8700, 48.1220),  # Amstetten
    Position(15.1000, 48.1600),
    Position(15.3300, 48.2150),  # Melk
    Position(15.6300, 48.2000),  # St. Pölten
    Position(15.9200, 48.1500),  # Altlengbach
    Position(16.2000, 48.1900),  # Vienna west
    Position(16.3500, 48.1700),
    Position(16.4400, 48.1620),
    YARD,
]


def square(at: Position, half_m: float = 400.0) -> dict[str, Any]:
    """A GeoJSON square geofence of 2 x half_m a side around a point."""
    dlat = half_m / 111_320
    dlon = half_m / (111_320 * math.cos(math.radians(at.lat)))
    ring = [
        [at.lon - dlon, at.lat - dlat],
        [at.lon + dlon, at.lat - dlat],
        [at.lon + dlon, at.lat + dlat],
        [at.lon - dlon, at.lat + dlat],
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@dataclass(frozen=True)
class Road:
    """A polyline with the distance from its start to each vertex, to place a truck at a distance."""

    points: list[Position]
    marks: list[float]

    @classmethod
    def of(cls, points: list[Position]) -> Road:
        marks = [0.0]
        for a, b in itertools.pairwise(points):
            marks.append(marks[-1] + haversine_m(a, b))
        return cls(points, marks)

    @property
    def length_m(self) -> float:
        return self.marks[-1]

    def at(self, distance_m: float) -> tuple[Position, float]:
        """The position `distance_m` along the road (clamped to its ends) and the heading there."""
        d = min(max(distance_m, 0.0), self.length_m)
        i = max(1, min(len(self.points) - 1, bisect.bisect_right(self.marks, d)))
        a, b = self.points[i - 1], self.points[i]
        span = self.marks[i] - self.marks[i - 1]
        f = 0.0 if span == 0 else (d - self.marks[i - 1]) / span
        here = Position(a.lon + (b.lon - a.lon) * f, a.lat + (b.lat - a.lat) * f)
        return here, initial_bearing_deg(a, b)


A1 = Road.of(ROAD)
