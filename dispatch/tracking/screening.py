"""Judging the points of a GPS batch one by one. Pure: no I/O.

A batch is already well-formed (the wire types checked its structure); here each point is accepted
or rejected with a reason, so one bad fix never costs the phone the rest of its buffer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from dispatch.tracking.models import PointIn, Rejection
from geo import Position
from geo.trail import MAX_PLAUSIBLE_SPEED_MPS, implied_speed_mps

MAX_ACCURACY_M = 1000.0
# A truck's reported speed is as bounded as its movement (the jump check's 250 km/h), and a heading
# is a compass bearing. Besides judging the fix, the bounds keep every value storable: `positions`
# keeps speed and heading as `real`, which cannot hold what a float64 can (1e39 fails the whole
# statement, not just its point).
MAX_SPEED_MPS = MAX_PLAUSIBLE_SPEED_MPS
MAX_HEADING_DEG = 360.0
CLOCK_SKEW = timedelta(minutes=2)
BEFORE_TRIP_SLACK = timedelta(minutes=15)
MAX_AGE = timedelta(days=7)


# Anchor and GoodPoint are built per point: Structs, about 3x cheaper to make than frozen dataclasses.
class Anchor(msgspec.Struct, frozen=True):
    """A fix known to be right, that later fixes must be reachable from."""

    at: datetime
    position: Position
    accuracy_m: float


class GoodPoint(msgspec.Struct, frozen=True):
    """A point that passed the checks of its own values (its numbers are all there and finite)."""

    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float
    speed_mps: float | None
    heading_deg: float | None
    battery_pct: int | None
    moving: bool | None


@dataclass(frozen=True, slots=True)
class Screened:
    accepted: list[tuple[int, GoodPoint]]  # (index in the batch, point), in time order
    rejected: list[Rejection]
    duplicates: int  # repeated within the batch itself


def _known(value: float | None) -> float | None:
    """A negative speed or heading is how iOS (CLLocation) says "unknown": stored as unknown, as the
    apps already in the field send it (only values beyond the bounds reject a point)."""
    return None if value is not None and -math.inf < value < 0 else value


def _plainly_good(p: PointIn, latest: datetime, earliest: datetime) -> GoodPoint | None:
    """The common case in one test, with the batch's time bounds worked out once: exactly the points
    _judge_alone accepts (every value there, in range and finite; recorded between `earliest`, the
    later of the trip's start less the slack and now less the maximum age, and `latest`, now plus the
    clock skew). None: let _judge_alone find the reason."""
    lon, lat, accuracy = p.lon, p.lat, p.accuracy_m
    speed, heading = _known(p.speed_mps), _known(p.heading_deg)
    if (
        lon is not None
        and lat is not None
        and accuracy is not None
        and -180 <= lon <= 180  # NaN and infinities fail the ranges
        and -90 <= lat <= 90
        and 0 <= accuracy <= MAX_ACCURACY_M
        and (speed is None or 0 <= speed <= MAX_SPEED_MPS)  # NaN fails these too
        and (heading is None or 0 <= heading <= MAX_HEADING_DEG)
        and earliest <= p.recorded_at <= latest
    ):
        return GoodPoint(p.recorded_at, lon, lat, accuracy, speed, heading, p.battery_pct, p.moving)
    return None


def _judge_alone(p: PointIn, now: datetime, trip_started: datetime) -> GoodPoint | tuple[str, str]:
    for name, value in (("lon", p.lon), ("lat", p.lat), ("accuracy_m", p.accuracy_m)):
        if value is None:
            return "not_finite", f"{name} is null (how JSON carries NaN)"
    for name, value in (("speed_mps", p.speed_mps), ("heading_deg", p.heading_deg)):
        if value is not None and not math.isfinite(value):
            return "not_finite", f"{name} is {value}"
    assert p.lon is not None and p.lat is not None and p.accuracy_m is not None
    if not -90 <= p.lat <= 90:
        return "latitude_out_of_range", f"lat {p.lat} is outside [-90, 90]"
    if not -180 <= p.lon <= 180:
        return "longitude_out_of_range", f"lon {p.lon} is outside [-180, 180]"
    if not 0 <= p.accuracy_m <= MAX_ACCURACY_M:
        return "inaccurate", f"accuracy_m {p.accuracy_m:g} is not within 0 to {MAX_ACCURACY_M:g} m"
    speed, heading = _known(p.speed_mps), _known(p.heading_deg)
    if speed is not None and speed > MAX_SPEED_MPS:
        return "speed_out_of_range", f"speed_mps {speed:g} is above {MAX_SPEED_MPS:.1f} (250 km/h)"
    if heading is not None and heading > MAX_HEADING_DEG:
        return "heading_out_of_range", f"heading_deg {heading:g} is above 360"
    if p.recorded_at > now + CLOCK_SKEW:
        ahead = (p.recorded_at - now).total_seconds()
        return "in_future", f"recorded {ahead:,.0f} s ahead of the server's clock (2 min allowed)"
    if p.recorded_at < trip_started - BEFORE_TRIP_SLACK:
        return "too_old", f"recorded before the trip started at {trip_started:%Y-%m-%d %H:%M:%S} UTC"
    if p.recorded_at < now - MAX_AGE:
        return "too_old", "recorded more than 7 days ago"
    return GoodPoint(p.recorded_at, p.lon, p.lat, p.accuracy_m, speed, heading, p.battery_pct, p.moving)


def screen(
    points: Sequence[PointIn],
    *,
    now: datetime,
    trip_started: datetime,
    anchor: Anchor | None,
    time_scale: float = 1.0,
) -> Screened:
    """Accept or reject each point; `anchor` is the newest stored fix (or the origin at departure).
    `time_scale` > 1 (demos only) counts each second between fixes as that many seconds of driving.

    The jump check walks the accepted points in time order, each against the previous accepted one,
    switching to the anchor at its time: a late point is checked against its neighbours in the
    batch, a newer one against the stored trail."""
    rejected: list[Rejection] = []
    seen: set[datetime] = set()
    duplicates = 0
    candidates: list[tuple[int, GoodPoint]] = []
    latest, earliest = now + CLOCK_SKEW, max(trip_started - BEFORE_TRIP_SLACK, now - MAX_AGE)
    for index, raw in enumerate(points):
        judged = _plainly_good(raw, latest, earliest) or _judge_alone(raw, now, trip_started)
        if isinstance(judged, tuple):
            rejected.append(Rejection(index=index, reason=judged[0], detail=judged[1]))
        elif judged.recorded_at in seen:
            duplicates += 1
        else:
            seen.add(judged.recorded_at)
            candidates.append((index, judged))
    candidates.sort(key=lambda c: c[1].recorded_at)
    accepted: list[tuple[int, GoodPoint]] = []
    previous: Anchor | None = None
    anchor_used = anchor is None
    for index, p in candidates:
        if not anchor_used and anchor is not None and anchor.at <= p.recorded_at:
            previous, anchor_used = anchor, True
        if previous is not None:
            speed = implied_speed_mps(
                previous.position,
                previous.accuracy_m,
                Position(p.lon, p.lat),
                p.accuracy_m,
                (p.recorded_at - previous.at).total_seconds() * time_scale,
            )
            if speed > MAX_PLAUSIBLE_SPEED_MPS:
                rejected.append(
                    Rejection(
                        index=index,
                        reason="impossible_jump",
                        detail=(
                            f"reaching it from the fix at {previous.at:%H:%M:%S} needs "
                            f"{'an instant' if math.isinf(speed) else f'{speed * 3.6:,.0f} km/h'}"
                        ),
                    )
                )
                continue
        accepted.append((index, p))
        previous = Anchor(p.recorded_at, Position(p.lon, p.lat), p.accuracy_m)
    rejected.sort(key=lambda r: r.index)
    return Screened(accepted=accepted, rejected=rejected, duplicates=duplicates)


def next_interval_s(*, remaining_m: float | None, speed_mps: float | None, battery_pct: int | None) -> int:
    """How often the phone should report next: often near the destination, rarely when standing
    still or low on battery."""
    if remaining_m is not None and remaining_m < 5000:
        return 5
    if (battery_pct is not None and battery_pct < 20) or (speed_mps is not None and speed_mps < 1.0):
        return 30
    return 10


def point_arrays(points: Sequence[GoodPoint]) -> list[list[Any]]:
    """Points as the named arrays the storing statements unnest, in their column order: recorded_at,
    lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct, moving (INSERT_POINTS, STORE_BATCH,
    INSERT_APPROACH_POINTS)."""
    return [
        [p.recorded_at for p in points],
        [p.lon for p in points],
        [p.lat for p in points],
        [p.accuracy_m for p in points],
        [p.speed_mps for p in points],
        [p.heading_deg for p in points],
        [p.battery_pct for p in points],
        [p.moving for p in points],
    ]
