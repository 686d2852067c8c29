"""A vehicle for every load, and the plan written out (PLANNER.md, "Vehicles for the loads").

Lowest cost is the second objective, so a load rides a cheapest type it fits; among equally cheap
types a max-flow spreads the loads to minimize the busiest vehicle; within a type, loads go
round-robin over its vehicles, heaviest first, and trips are numbered per vehicle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dispatch.loads.planner.model import (
    MANY,
    Bin,
    Fleet,
    Kinds,
    Line,
    Load,
    Plan,
    fits,
    single,
    utilization,
)


@dataclass(frozen=True)
class Trip:
    """A load before it has a vehicle: its type, and bulk kilograms or counts per kind."""

    type: int
    weight: float
    volume: float
    bulk_kg: int | None
    counts: tuple[tuple[int, int], ...]  # (kind, units), by kind


def schedule(fleet: Fleet, trips: list[Trip]) -> list[tuple[int, int, Trip]]:
    """(vehicle index, trip number, load): within a type, loads go round-robin over its vehicles
    (heaviest first), so a type with m vehicles and n loads has ceil(n/m) trips on its busiest."""
    per_type: dict[int, list[Trip]] = {}
    for trip in trips:
        per_type.setdefault(trip.type, []).append(trip)
    out: list[tuple[int, int, Trip]] = []
    for t, loads in per_type.items():
        vehicles = fleet.types[t].vehicles
        loads.sort(key=lambda x: (-x.weight, -x.volume, -(x.bulk_kg or 0), x.counts))
        for j, load in enumerate(loads):
            out.append((vehicles[j % len(vehicles)], j // len(vehicles) + 1, load))
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def _assign_types(fleet: Fleet, loads: Sequence[tuple[float, float]]) -> list[int]:
    """A type per load. Lowest cost is the second objective, so a load rides a cheapest type it
    fits; among equally cheap types the choice minimizes the busiest vehicle's trips: a binary
    search on that peak, each step a max-flow from load groups to types (capacity peak x vehicles)."""
    allowed: list[tuple[int, ...]] = []
    for weight, volume in loads:
        fitting = [t for t in fleet.by_cost if fits(weight, volume, fleet.types[t].kg, fleet.types[t].m3)]
        cheapest = fleet.types[fitting[0]].cost
        allowed.append(tuple(sorted(t for t in fitting if fleet.types[t].cost == cheapest)))
    groups: dict[tuple[int, ...], list[int]] = {}
    for index, choice in enumerate(allowed):
        groups.setdefault(choice, []).append(index)
    if all(len(choice) == 1 for choice in groups):
        return [choice[0] for choice in allowed]
    keys = sorted(groups)
    sizes = [len(groups[k]) for k in keys]
    low, high = 1, len(loads)
    best = _route(fleet, keys, sizes, high)
    while low < high:
        peak = (low + high) // 2
        routed = _route(fleet, keys, sizes, peak)
        if routed is None:
            low = peak + 1
        else:
            best, high = routed, peak
    assert best is not None
    chosen = [0] * len(loads)
    for key, counts in zip(keys, best, strict=True):
        members = iter(groups[key])
        for t, count in counts:
            for _ in range(count):
                chosen[next(members)] = t
    return chosen


def _route(
    fleet: Fleet, keys: list[tuple[int, ...]], sizes: list[int], peak: int
) -> list[list[tuple[int, int]]] | None:
    """Route every load group to its allowed types, at most peak x vehicles per type, or None."""
    types = sorted({t for key in keys for t in key})
    source, sink = 0, 1
    group_node = {g: 2 + g for g in range(len(keys))}
    type_node = {t: 2 + len(keys) + j for j, t in enumerate(types)}
    residual: dict[int, dict[int, int]] = {n: {} for n in range(2 + len(keys) + len(types))}

    def edge(a: int, b: int, capacity: int) -> None:
        residual[a][b] = residual[a].get(b, 0) + capacity
        residual[b].setdefault(a, 0)

    for g, key in enumerate(keys):
        edge(source, group_node[g], sizes[g])
        for t in key:
            edge(group_node[g], type_node[t], sizes[g])
    for t in types:
        edge(type_node[t], sink, peak * len(fleet.types[t].vehicles))
    if _max_flow(residual, source, sink) < sum(sizes):
        return None
    return [
        [(t, sizes[g] - residual[group_node[g]][type_node[t]]) for t in key] for g, key in enumerate(keys)
    ]


def _max_flow(residual: dict[int, dict[int, int]], source: int, sink: int) -> int:
    """Edmonds-Karp on a small graph (groups x types); `residual` is updated in place."""
    total = 0
    while True:
        parent = {source: source}
        queue = deque([source])
        while queue and sink not in parent:
            node = queue.popleft()
            for nxt, capacity in residual[node].items():
                if capacity > 0 and nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if sink not in parent:
            return total
        bottleneck = MANY
        node = sink
        while node != source:
            bottleneck = min(bottleneck, residual[parent[node]][node])
            node = parent[node]
        node = sink
        while node != source:
            residual[parent[node]][node] -= bottleneck
            residual[node][parent[node]] += bottleneck
            node = parent[node]
        total += bottleneck


def emit_items(
    lines: tuple[Line, ...], k: Kinds, fleet: Fleet, bins: list[Bin], lower: int, proved: bool, method: str
) -> Plan:
    """The item plan written out: a type per load, its vehicle and trip number, and its units given
    back to the order's lines (a kind's units fill its lines in input order)."""
    loads = single(bins)
    types = _assign_types(fleet, [(b.weight, b.volume) for b in loads])
    trips = [
        Trip(t, b.weight, b.volume, None, tuple(sorted(b.counts.items())))
        for t, b in zip(types, loads, strict=True)
    ]
    left = [line.count for line in lines]
    cursor = [0] * k.m  # per kind: its first line with units left (units go to lines in input order)

    def contents(trip: Trip) -> tuple[int | None, tuple[int, ...], float, float]:
        taken: dict[int, int] = {}
        for i, units in trip.counts:
            while units:
                line = k.lines[i][cursor[i]]
                take = min(units, left[line])
                taken[line] = taken.get(line, 0) + take
                left[line] -= take
                units -= take
                if not left[line]:
                    cursor[i] += 1
        items = [0] * len(lines)
        for line, c in taken.items():
            items[line] = c
        # Summed in line order over the non-zero counts: the same floats check() computes.
        weight = float(sum(items[j] * lines[j].unit_weight_kg for j in sorted(taken)))
        volume = float(sum(items[j] * lines[j].unit_volume_m3 for j in sorted(taken)))
        return None, tuple(items), weight, volume

    out, cost = write_out(fleet, trips, contents)
    assert not any(left)
    return Plan(out, len(out), cost, lower, proved or len(out) <= lower, method)


def write_out(
    fleet: Fleet,
    trips: list[Trip],
    contents: Callable[[Trip], tuple[int | None, tuple[int, ...], float, float]],
) -> tuple[tuple[Load, ...], int]:
    """The plan's loads on their vehicles, in schedule order, and their cost. `contents` says what
    a trip carries as the plan states it: (bulk kg or None, units per line, weight, volume)."""
    out = []
    cost = 0
    for vehicle, number, trip in schedule(fleet, trips):
        v = fleet.vehicles[vehicle]
        bulk_kg, items, weight, volume = contents(trip)
        cost += v.cost_per_trip
        out.append(Load(v.id, number, bulk_kg, items, weight, volume, *utilization(weight, volume, v)))
    return tuple(out), cost
