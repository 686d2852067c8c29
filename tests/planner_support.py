"""Helpers for the planner tests (no tests here): an independent check of a plan (not
planner.check), and a naive planner whose trips no lower bound may exceed."""

from __future__ import annotations

import math
from collections import defaultdict

from dispatch.loads.planner import Bulk, Cargo, Line, Plan, Vehicle

TOLERANCE = 1e-9  # the documented one: a load may exceed a capacity by this fraction of it


def within(amount: float, capacity: float) -> bool:
    return amount <= capacity * (1 + TOLERANCE)


def assert_valid(cargo: Cargo, fleet: list[Vehicle], plan: Plan) -> None:
    """Every rule, recomputed from scratch."""
    by_id = {v.id: v for v in fleet}
    order = {v.id: i for i, v in enumerate(fleet)}
    assert plan.trips == len(plan.loads)
    assert plan.cost == sum(by_id[load.vehicle_id].cost_per_trip for load in plan.loads)
    assert plan.lower_bound <= plan.trips
    assert not plan.optimal or plan.method in {"exact", "bound"}
    # Loads in (trip, vehicle order) order; each vehicle's trips are 1..n.
    keys = [(load.trip, order[load.vehicle_id]) for load in plan.loads]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    trips: dict[str, list[int]] = defaultdict(list)
    for load in plan.loads:
        trips[load.vehicle_id].append(load.trip)
    assert all(sorted(t) == list(range(1, len(t) + 1)) for t in trips.values())
    if isinstance(cargo, Bulk):
        assert sum(load.bulk_kg or 0 for load in plan.loads) == cargo.weight_kg
        for load in plan.loads:
            v = by_id[load.vehicle_id]
            assert isinstance(load.bulk_kg, int) and load.bulk_kg > 0 and load.items == ()
            assert within(load.bulk_kg, v.capacity_kg)
            assert within(cargo.volume_m3 * load.bulk_kg / cargo.weight_kg, v.capacity_m3)
        return
    carried = [0] * len(cargo)
    for load in plan.loads:
        v = by_id[load.vehicle_id]
        assert load.bulk_kg is None and len(load.items) == len(cargo)
        assert all(isinstance(c, int) and c >= 0 for c in load.items) and any(load.items)
        weight = sum(c * line.unit_weight_kg for c, line in zip(load.items, cargo, strict=True))
        volume = sum(c * line.unit_volume_m3 for c, line in zip(load.items, cargo, strict=True))
        assert within(weight, v.capacity_kg) and within(volume, v.capacity_m3)
        assert math.isclose(load.weight_kg, weight, rel_tol=1e-12, abs_tol=1e-9)
        assert math.isclose(load.weight_utilization, weight / v.capacity_kg, rel_tol=1e-12)
        carried = [a + b for a, b in zip(carried, load.items, strict=True)]
    assert carried == [line.count for line in cargo]


def naive_trips(cargo: tuple[Line, ...], fleet: list[Vehicle]) -> int:
    """Item by item first fit; a trip may use any vehicle its contents still fit. A feasible plan,
    so no lower bound may exceed it."""
    trips: list[tuple[float, float]] = []
    for line in cargo:
        for _ in range(line.count):
            w, v = line.unit_weight_kg, line.unit_volume_m3
            for j, (tw, tv) in enumerate(trips):
                if any(tw + w <= x.capacity_kg and tv + v <= x.capacity_m3 for x in fleet):
                    trips[j] = (tw + w, tv + v)
                    break
            else:
                trips.append((w, v))
    return len(trips)
