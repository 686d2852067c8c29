"""The gate queue's order and waiting-time estimate, pure code.

Order of waiting trucks (DESIGN.md §2):
1. on time for their slot (arrived no later than slot start + late tolerance) and the slot has
   begun: by slot start, then arrival;
2. late arrivals and walk-ins (no booking): by arrival time;
3. early arrivals whose slot has not begun: they wait for it, by slot start, and cannot be called.

Estimated wait of the truck at (eligible) position k, counting from 0, with D docks in use at the
site and S the mean service time of the site's recent loadings (called → loading complete; 30 min
before there is any history): the k trucks ahead are served D at a time, so the truck's turn comes
after floor(k / D) full rounds plus the time until a dock frees (the least remaining service time
of the trucks being served now, S minus how long each has been at its dock, if every dock is busy).
An early truck waits at least until its slot begins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

DEFAULT_SERVICE = timedelta(minutes=30)


@dataclass(frozen=True)
class Waiting:
    id: UUID
    arrived_at: datetime
    slot_start: datetime | None
    vehicle_type: str


def group(t: Waiting, now: datetime, late_tolerance: timedelta) -> int:
    if t.slot_start is not None and t.arrived_at <= t.slot_start + late_tolerance:
        return 0 if now >= t.slot_start else 2
    return 1


def order(tickets: Sequence[Waiting], now: datetime, late_tolerance: timedelta) -> list[Waiting]:
    def key(t: Waiting) -> tuple[int, datetime, datetime, str]:
        g = group(t, now, late_tolerance)
        first = t.slot_start if g in (0, 2) and t.slot_start is not None else t.arrived_at
        return (g, first, t.arrived_at, str(t.id))

    return sorted(tickets, key=key)


def callable_now(t: Waiting, now: datetime, late_tolerance: timedelta) -> bool:
    return group(t, now, late_tolerance) != 2


def mean_service(recent: Sequence[timedelta]) -> timedelta:
    return sum(recent, timedelta()) / len(recent) if recent else DEFAULT_SERVICE


def estimated_wait(
    position: int,
    docks: int,
    service: timedelta,
    busy_elapsed: Sequence[timedelta],
    now: datetime,
    slot_start: datetime | None,
) -> timedelta:
    """See the module docstring. `busy_elapsed`: how long each truck now at a dock has been there."""
    docks = max(docks, 1)
    rounds = position // docks
    if len(busy_elapsed) >= docks:
        first_free = min(max(service - elapsed, timedelta()) for elapsed in busy_elapsed)
    else:
        first_free = timedelta()
    wait = rounds * service + first_free
    if slot_start is not None and slot_start > now:
        wait = max(wait, slot_start - now)
    return wait
