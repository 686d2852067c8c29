"""Bulk cargo, closed form and optimal (PLANNER.md, "Bulk"): ceil(W / the most kilograms one
vehicle carries) trips; a small knapsack then moves the slack onto cheaper, smaller vehicles."""

from __future__ import annotations

import contextlib

from dispatch.loads.planner.assign import Trip, write_out
from dispatch.loads.planner.budget import Budget, OutOfWork
from dispatch.loads.planner.model import (
    MAX_TRIPS,
    Bulk,
    Fleet,
    InfeasibleCargo,
    Plan,
    bulk_volume,
    fits,
    fmt_kg,
    fmt_m3,
)


def bulk_capacity(bulk: Bulk, kg_cap: float, m3_cap: float) -> int:
    """Whole kilograms of this bulk a vehicle carries: its weight or its volume limit binds."""

    def carries(kg: int) -> bool:
        return fits(kg, bulk_volume(bulk, kg), kg_cap, m3_cap)

    most = kg_cap if bulk.volume_m3 <= 0 else min(kg_cap, m3_cap * bulk.weight_kg / bulk.volume_m3)
    kg = min(bulk.weight_kg, int(most))
    while kg > 0 and not carries(kg):  # float rounding, either way
        kg -= 1
    while kg < bulk.weight_kg and carries(kg + 1):
        kg += 1
    return kg


def plan_bulk(bulk: Bulk, fleet: Fleet, budget: Budget) -> Plan:
    """ceil(W / most) trips is optimal. Start with every trip on the cheapest type that carries the
    most, then a knapsack over the slack (trips x most - W) moves trips to cheaper smaller types,
    then equal-cost moves spread the trips; the kilograms fill the larger vehicles first."""
    carry = [bulk_capacity(bulk, t.kg, t.m3) for t in fleet.types]
    most = max(carry)
    if most == 0:
        raise InfeasibleCargo(
            "bulk_fits_no_vehicle",
            f"{bulk.description or 'The cargo'}: {fmt_kg(bulk.weight_kg)} in {fmt_m3(bulk.volume_m3)} "
            f"is so light for its volume that no vehicle carries even 1 kg of it.",
        )
    trips = -(-bulk.weight_kg // most)
    if trips > MAX_TRIPS:
        raise InfeasibleCargo("too_many_trips", f"The order needs at least {trips:,} trips with this fleet.")
    counts = _cheapest_bulk_mix(fleet, carry, trips, bulk.weight_kg, budget)
    _spread_bulk(fleet, carry, counts, bulk.weight_kg)
    capacities = sorted(
        ((carry[t], t) for t, n in enumerate(counts) for _ in range(n)), key=lambda x: (-x[0], x[1])
    )
    left = bulk.weight_kg
    loads: list[Trip] = []
    for capacity, t in capacities:
        kg = min(capacity, left)
        left -= kg
        loads.append(Trip(t, float(kg), bulk_volume(bulk, kg), kg, ()))
    assert left == 0
    out, cost = write_out(fleet, loads, lambda load: (load.bulk_kg, (), load.weight, load.volume))
    return Plan(out, len(out), cost, trips, True, "exact")


def _cheapest_bulk_mix(fleet: Fleet, carry: list[int], trips: int, weight: int, budget: Budget) -> list[int]:
    """Trips per type: `trips` trips carrying at least `weight` kg at the lowest cost. A downgrade
    from the base type to type t loses (most - carry_t) kg of slack and saves (base - cost_t): an
    integer knapsack over the slack, branch and bound with the fractional bound."""
    most = max(carry)
    base = min((t for t in range(len(carry)) if carry[t] == most), key=lambda t: (fleet.types[t].cost, t))
    slack = trips * most - weight
    options = [
        (most - carry[t], fleet.types[base].cost - fleet.types[t].cost, t)
        for t in range(len(carry))
        if 0 < carry[t] < most and fleet.types[t].cost < fleet.types[base].cost
    ]
    options.sort(key=lambda o: (-o[1] / o[0], o[2]))
    best_saving, best = 0, [0] * len(options)
    chosen = [0] * len(options)

    def search(i: int, slack_left: int, trips_left: int, saving: int) -> None:
        nonlocal best_saving, best
        if saving > best_saving:
            best_saving, best = saving, list(chosen)
        if i == len(options) or trips_left == 0:
            return
        # Options are sorted by gain per kg of slack: the first one bounds all the rest.
        bound = saving + slack_left * options[i][1] / options[i][0]
        if bound <= best_saving:
            return
        budget.charge(1)
        loss = options[i][0]
        for n in range(min(trips_left, slack_left // loss), -1, -1):
            chosen[i] = n
            search(i + 1, slack_left - n * loss, trips_left - n, saving + n * options[i][1])
        chosen[i] = 0

    with contextlib.suppress(OutOfWork):  # keep the best mix found so far
        search(0, slack, trips, 0)
    counts = [0] * len(carry)
    counts[base] = trips
    for n, (_, _, t) in zip(best, options, strict=True):
        counts[t] += n
        counts[base] -= n
    return counts


def _spread_bulk(fleet: Fleet, carry: list[int], counts: list[int], weight: int) -> None:
    """Move trips off the busiest vehicles onto equally cheap types while the kilograms still fit."""

    def busiest(t: int, n: int) -> int:
        return -(-n // len(fleet.types[t].vehicles))

    capacity = sum(n * c for n, c in zip(counts, carry, strict=True))
    for _ in range(sum(counts) * len(counts)):
        peak = max(busiest(t, n) for t, n in enumerate(counts) if n)
        move = None
        for t in (t for t, n in enumerate(counts) if n and busiest(t, n) == peak):
            targets = [
                (busiest(u, counts[u] + 1), -carry[u], u)
                for u in range(len(counts))
                if u != t
                and carry[u] > 0
                and fleet.types[u].cost == fleet.types[t].cost
                and capacity - carry[t] + carry[u] >= weight
                and busiest(u, counts[u] + 1) < peak
            ]
            if targets:
                move = (t, min(targets)[2])
                break
        if move is None:
            return
        t, u = move
        counts[t] -= 1
        counts[u] += 1
        capacity += carry[u] - carry[t]
