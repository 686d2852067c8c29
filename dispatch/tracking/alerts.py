"""Lateness and deviation alerts on the delivery trip, decided inside the GPS ingest's transaction
(README.md, "Alerts"). Pure: no I/O.

Kept apart from trip.py so the ingest's hot path gains one call (`on_the_road`) and nothing else:
per batch it is one comparison of the new ETA with the job's deliver-by, and one test of the
batch's newer fixes against the route's corridor (the job's planned route, else the straight
segment; a prepared shapely polygon built once per route and process; one call, ~20 µs whatever
the batch's size). What it decides goes out as the trip's other events do (the outbox, the
watchers) and its state is three columns of the trip row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import msgspec

from dispatch.settings import Settings
from dispatch.tracking.trip import Sample, TripEvent
from dispatch.tracking.trip_row import Trip, TripColumns
from geo import Position
from geo.corridor import Corridor, RouteWatch, watch_route
from geo.eta import Eta
from geo.lateness import judge

# The alerts' event types (their data: dispatch/events/schemas.py), as the timeline lists them.
ALERTS = ["load.late_for_slot", "load.late_delivery", "load.off_route", "load.back_on_route"]


def grace(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.late_grace_minutes)


def corridor(
    planned: str | None, origin: Position, destination: Position, min_width_m: float, share: float
) -> Corridor:
    """The expected route's corridor, built once per route and process: the job's planned route
    (`planned`, its stored JSON text) when the poster gave one, else the straight segment from the
    origin to the destination (there is no routing engine). The same width rules either way."""
    if planned is None:
        return _straight(origin, destination, min_width_m, share)
    return _planned(planned, min_width_m, share)


@functools.lru_cache(maxsize=1024)
def _straight(origin: Position, destination: Position, min_width_m: float, share: float) -> Corridor:
    return Corridor.around([origin, destination], min_width_m, share)


# Fewer kept: a planned route of thousands of points holds its line and its buffer (a few hundred KB),
# and takes ~0.1 s to build (5,000 points), once per process.
@functools.lru_cache(maxsize=128)
def _planned(planned: str, min_width_m: float, share: float) -> Corridor:
    points = msgspec.json.decode(planned, type=list[tuple[float, float]])
    return Corridor.around([Position(lon, lat) for lon, lat in points], min_width_m, share)


def on_the_road(
    trip: Trip, samples: Sequence[Sample], eta: Eta | None, columns: TripColumns, settings: Settings
) -> tuple[TripColumns, list[TripEvent]]:
    """The trip's columns and the alerts after a batch of stored fixes (`eta`: the batch's new ETA,
    None when no fix was newer than the last one). Only fixes newer than the last one count, as for
    the trip's other events; nothing is decided once the truck has arrived."""
    if eta is None or trip.arrived_at is not None or columns.arrived_at is not None:
        return columns, []
    newer = sorted(
        (s for s in samples if trip.last_recorded_at is None or s.at > trip.last_recorded_at),
        key=lambda s: s.at,
    )
    raised: list[TripEvent] = []
    load = str(trip.load_id)
    late = judge(eta.eta_at, trip.deliver_by, grace(settings), trip.late_alerted)
    if late.raise_now:
        data = _late_data(load, eta, late.late_by_s) | {"deliver_by": trip.deliver_by.isoformat()}
        raised.append(TripEvent("load.late_delivery", newer[-1].at, data))
    route = corridor(
        trip.planned_route,
        Position(trip.origin_lon, trip.origin_lat),
        Position(trip.destination_lon, trip.destination_lat),
        settings.corridor_min_km * 1000.0,
        settings.corridor_percent / 100,
    )
    watch, happened = watch_route(
        RouteWatch(trip.outside_count, trip.off_route),
        route.outside_each([s.position for s in newer]),
        settings.off_route_points,
    )
    for i, what in happened:
        fix = newer[i]
        if what == "off_route":
            distance = route.distances_m([fix.position])[0]  # measured for this one fix only
            where = {"distance_m": round(distance), "lon": fix.position.lon, "lat": fix.position.lat}
            raised.append(TripEvent("load.off_route", fix.at, {"load_id": load} | where))
        else:
            raised.append(TripEvent("load.back_on_route", fix.at, {"load_id": load}))
    moved = msgspec.structs.replace(
        columns, late_alerted=late.alerted, outside_count=watch.outside_count, off_route=watch.off_route
    )
    return moved, raised


def _late_data(load: str, eta: Eta, late_by_s: int) -> dict[str, Any]:
    return {"load_id": load, "eta_at": eta.eta_at.isoformat(), "late_by_s": late_by_s}
