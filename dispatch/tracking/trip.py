"""A trip's running state, advanced by each batch of accepted fixes. Pure: no I/O.

Only fixes newer than the last known one move the state (a late fix from a phone's offline buffer
is stored and shown, but cannot un-arrive a truck or restart a stop). Events are decided in time
order over those fixes:

- `load.left_origin`: the first fix outside the origin site's geofence;
- `load.arrived`: the first fix whose accuracy circle touches the destination geofence;
- `load.stopped`: the truck has stayed within STOP_RADIUS_M of one place for `stop_after`, outside
  both geofences (queues at the sites are not alerts); `load.moving` when it leaves that place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import shapely
from msgspec.structs import replace

from geo import Position, contains_each, haversine_m
from geo.eta import Eta, Fix, estimate, update_speed

STOP_RADIUS_M = 150.0
# A fix this inaccurate still counts for arriving only up to this much benefit of the doubt.
ARRIVAL_ACCURACY_CAP_M = 100.0


def at_destination_each(
    fence: shapely.Polygon, positions: Sequence[Position], accuracies_m: Sequence[float]
) -> list[bool]:
    """Whether each fix counts as at the destination (arriving, and confirming receipt there): its
    accuracy circle touches the fence, with at most ARRIVAL_ACCURACY_CAP_M of benefit of the doubt."""
    return contains_each(fence, positions, [min(a, ARRIVAL_ACCURACY_CAP_M) for a in accuracies_m])


def at_destination(fence: shapely.Polygon, position: Position, accuracy_m: float) -> bool:
    return at_destination_each(fence, [position], [accuracy_m])[0]


class Sample(msgspec.Struct, frozen=True):
    """An accepted fix as the trip sees it (a Struct: built per fix, about 3x cheaper than a frozen
    dataclass)."""

    at: datetime
    position: Position
    accuracy_m: float
    speed_mps: float | None = None
    heading_deg: float | None = None


@dataclass(frozen=True, slots=True)
class TripEvent:
    type: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


class TripState(msgspec.Struct, frozen=True):
    """The trip's state between batches (a Struct: moved on per fix by `advance`, and a Struct's
    `replace` is several times cheaper than a frozen dataclass's)."""

    last: Sample | None = None
    speed_mps: float | None = None
    left_origin_at: datetime | None = None
    arrived_at: datetime | None = None
    still_at: Position | None = None
    still_since: datetime | None = None
    stop_alerted: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    origin: Position
    origin_fence: shapely.Polygon
    destination: Position
    destination_fence: shapely.Polygon


def advance(
    state: TripState,
    samples: Sequence[Sample],
    route: Route,
    stop_after: timedelta,
    time_scale: float = 1.0,
) -> tuple[TripState, list[TripEvent], Eta | None]:
    """The state after `samples` (any order), the events they raise, and the new ETA (None when no
    fix is newer than the last known one). `time_scale` > 1 (demos only): each second between fixes
    stands for that many seconds of driving."""
    newer = sorted((s for s in samples if state.last is None or s.at > state.last.at), key=lambda s: s.at)
    if not newer:
        return state, [], None
    events: list[TripEvent] = []
    s = state
    positions = [x.position for x in newer]
    at_origin = contains_each(route.origin_fence, positions)
    at_dest = at_destination_each(route.destination_fence, positions, [x.accuracy_m for x in newer])
    for sample, inside_origin, inside_destination in zip(newer, at_origin, at_dest, strict=True):
        if s.left_origin_at is None and not inside_origin:
            s = replace(s, left_origin_at=sample.at)
            events.append(TripEvent("load.left_origin", sample.at, _where(sample)))
        if s.arrived_at is None and inside_destination:
            s = replace(s, arrived_at=sample.at)
            events.append(TripEvent("load.arrived", sample.at, _where(sample)))
        s = _stop_detector(s, sample, inside_origin or inside_destination, stop_after / time_scale, events)
    path = [Fix(x.at, x.position) for x in ([state.last] if state.last else []) + newer]
    speed = update_speed(state.speed_mps, path, time_scale)
    last = newer[-1]
    s = replace(s, last=last, speed_mps=speed)
    eta = estimate(Fix(last.at, last.position), route.origin, route.destination, speed, time_scale)
    return s, events, eta


def _stop_detector(
    s: TripState, sample: Sample, at_a_site: bool, stop_after: timedelta, events: list[TripEvent]
) -> TripState:
    if s.still_at is None or s.still_since is None:
        return replace(s, still_at=sample.position, still_since=sample.at, stop_alerted=False)
    if haversine_m(s.still_at, sample.position) <= STOP_RADIUS_M:
        if not s.stop_alerted and not at_a_site and sample.at - s.still_since >= stop_after:
            events.append(
                TripEvent(
                    "load.stopped",
                    sample.at,
                    {
                        "since": s.still_since.isoformat(),
                        "minutes": round((sample.at - s.still_since).total_seconds() / 60),
                        "lon": s.still_at.lon,
                        "lat": s.still_at.lat,
                    },
                )
            )
            return replace(s, stop_alerted=True)
        return s
    if s.stop_alerted:
        events.append(
            TripEvent(
                "load.moving",
                sample.at,
                {"stopped_minutes": round((sample.at - s.still_since).total_seconds() / 60)},
            )
        )
    return replace(s, still_at=sample.position, still_since=sample.at, stop_alerted=False)


def _where(sample: Sample) -> dict[str, Any]:
    return {"lon": sample.position.lon, "lat": sample.position.lat}
