"""Progress and ETA of a trip from geodesic distance and recent speed (the method is written down in
dispatch/tracking/README.md, and here):

- remaining road distance = great-circle distance to the destination x CIRCUITY (road distance over
  straight-line distance; 1.2 to 1.4 for European trucking, 1.3 taken);
- speed = an exponentially weighted average over batches of the speed observed along each batch
  (path length over elapsed time, stops included), weight SPEED_WEIGHT, started at DEFAULT_SPEED_MPS
  and kept within [MIN_SPEED_MPS, MAX_SPEED_MPS] so one traffic jam or one fast stretch does not
  swing the ETA by hours;
- ETA = time of the last fix + remaining road distance / speed;
- progress = 1 - remaining straight-line distance / origin-to-destination straight-line distance.

`time_scale` (1 except in demos and simulations that play a trip faster than real time) is how many
seconds of driving one second between fixes stands for: speeds are measured in driving time, and the
ETA is converted back to the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from geo.coordinates import Position, haversine_m, path_length_m

CIRCUITY = 1.3
DEFAULT_SPEED_MPS = 65 / 3.6
MIN_SPEED_MPS = 15 / 3.6
MAX_SPEED_MPS = 90 / 3.6
SPEED_WEIGHT = 0.3
# Below this much elapsed time a batch says too little about speed to move the estimate.
MIN_OBSERVED_S = 20.0


class Fix(msgspec.Struct, frozen=True):  # one per GPS fix: a Struct is about 3x cheaper to build
    at: datetime
    position: Position


@dataclass(frozen=True, slots=True)
class Eta:
    eta_at: datetime
    remaining_m: float
    progress: float
    speed_mps: float


def observed_speed_mps(path: Sequence[Fix], time_scale: float = 1.0) -> float | None:
    """Path length over elapsed time for fixes in time order; None when they span too little time."""
    if len(path) < 2:
        return None
    elapsed = (path[-1].at - path[0].at).total_seconds() * time_scale
    if elapsed < MIN_OBSERVED_S:
        return None
    length = path_length_m([f.position for f in path])
    return length / elapsed


def update_speed(previous_mps: float | None, path: Sequence[Fix], time_scale: float = 1.0) -> float:
    """The new speed estimate after a batch whose newer fixes (with the last known one first) are `path`."""
    current = DEFAULT_SPEED_MPS if previous_mps is None else previous_mps
    observed = observed_speed_mps(path, time_scale)
    if observed is not None:
        current = SPEED_WEIGHT * observed + (1 - SPEED_WEIGHT) * current
    return min(MAX_SPEED_MPS, max(MIN_SPEED_MPS, current))


def estimate(
    last: Fix, origin: Position, destination: Position, speed_mps: float, time_scale: float = 1.0
) -> Eta:
    straight = haversine_m(last.position, destination)
    total = haversine_m(origin, destination)
    remaining = straight * CIRCUITY
    progress = 1.0 if total == 0 else min(1.0, max(0.0, 1 - straight / total))
    speed = min(MAX_SPEED_MPS, max(MIN_SPEED_MPS, speed_mps))
    return Eta(
        eta_at=last.at + timedelta(seconds=remaining / speed / time_scale),
        remaining_m=remaining,
        progress=progress,
        speed_mps=speed,
    )
