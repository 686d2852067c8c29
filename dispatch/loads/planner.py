"""Load planner: split an order into truck loads by vehicle capacity. Pure code: no I/O, no asyncio.

The method in short (the details, the bounds and the measured quality: PLANNER.md):

- Model. Vehicles that share (capacity_kg, capacity_m3, cost_per_trip) form a *type*; item lines
  that share a unit (weight, volume) form a *kind*. A load is a count of units per kind. Trips come
  first, so while packing a load only has to fit one of the Pareto-maximal capacities; afterwards
  each load rides the cheapest type it fits, and the work is spread over equally cheap vehicles.
- Bulk is closed form: ceil(W / the most kilograms one vehicle carries) trips, which is optimal;
  a small knapsack then moves the slack onto cheaper, smaller vehicles.
- Items: lower bounds are dual vectors (capacity LP, dual-feasible functions, big items, and the
  pattern LP by column generation); first fit decreasing and LP rounding give plans; a bin-
  completion branch and bound proves small ones optimal, and repacks a few loads at a time of
  larger ones; a cost search or local search then lowers the cost at the same trips.
- Work is counted in deterministic units derived from the time budget (never the clock), so the
  same input always gives the same plan, byte for byte.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "REL_TOLERANCE",
    "Bulk",
    "Cargo",
    "InfeasibleCargo",
    "Line",
    "Load",
    "Plan",
    "Vehicle",
    "Violation",
    "check",
    "lower_bound",
    "plan",
    "utilization",
]

# -- public types -----------------------------------------------------------------------------


class InfeasibleCargo(ValueError):
    """The order cannot be carried by this fleet. `code` names the cause, `detail` explains it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Vehicle:
    id: str  # opaque (a UUID string or a plate)
    capacity_kg: float
    capacity_m3: float
    cost_per_trip: int = 0  # minor currency units


@dataclass(frozen=True)
class Line:
    """One line of discrete items: `count` indivisible units."""

    count: int
    unit_weight_kg: float
    unit_volume_m3: float
    description: str = ""


@dataclass(frozen=True)
class Bulk:
    """Divisible cargo: split by whole kilograms, volume proportional to weight."""

    weight_kg: int
    volume_m3: float
    description: str = ""


Cargo: TypeAlias = Bulk | tuple[Line, ...]


@dataclass(frozen=True)
class Load:
    vehicle_id: str
    trip: int  # 1-based, per vehicle
    bulk_kg: int | None  # bulk cargo: kilograms in this load; None for items
    items: tuple[int, ...]  # items cargo: units of each line (index-aligned with the lines); () for bulk
    weight_kg: float
    volume_m3: float
    weight_utilization: float  # weight_kg / capacity_kg, 0..1
    volume_utilization: float


@dataclass(frozen=True)
class Plan:
    loads: tuple[Load, ...]  # ordered by (trip, vehicle order in the input)
    trips: int
    cost: int
    lower_bound: int  # a valid lower bound on trips for this input (from the bounds, not the search)
    optimal: bool  # proved optimal in trips: trips == lower_bound, or the exact search finished
    method: str  # "exact" (bulk, or the search proved it), "bound" (meets the bound), "heuristic"


@dataclass(frozen=True)
class Violation:
    load: int | None  # index into the loads checked (0-based); None for whole-plan problems
    code: str  # overweight | overvolume | unknown_vehicle | negative_quantity | items_mismatch | ...
    detail: str  # for people: loads and lines are numbered from 1 here


# -- tolerances, work budget ------------------------------------------------------------------

# Float sums of exactly-full loads land a few ulps either side of the capacity: check() accepts a
# load up to capacity * (1 + REL_TOLERANCE). The planner packs within half of that, so that its own
# plans always pass check() whatever order the sums are taken in.
REL_TOLERANCE = 1e-9
_PACK_TOLERANCE = 5e-10
# Dual vectors are shrunk by this much so that float noise can never make a bound invalid.
_DUAL_SHRINK = 1.0 - 1e-8
_MANY = 1 << 62  # "unlimited" units (a unit with zero weight or volume)

# The time budget becomes work units, never a clock: same input, same plan. One unit is roughly a
# microsecond of CPython on the development machine (calibrated with bench/planner.py).
WORK_UNITS_PER_MS = 1000.0
DEFAULT_BUDGET_MS = 150.0
EXACT_MAX_ITEMS = 30  # exact=None: the exact search is tried up to this many items
EXACT_COST_BUDGET_FACTOR = 10  # exact=True: trips are proved whatever it takes; cost gets 10x the budget
_RUNS_MAX_KINDS = 40  # first fit on runs of equal loads up to this many kinds, a segment tree beyond
_SEARCH_MAX_DEPTH = 600  # the exact searches recurse once per load and per kind: stay clear of the limit
_LP_MAX_KINDS = 60  # the pattern LP on the kinds themselves up to this many, on rounded-down classes beyond
MAX_TRIPS = 100_000  # a plan is one row per trip: refuse absurd orders rather than build them


def _within(amount: float, capacity: float, tolerance: float = _PACK_TOLERANCE) -> bool:
    return amount <= capacity + capacity * tolerance


class _OutOfWork(Exception):
    """The search spent its budget (unwinds a deep recursion at once)."""


class _Budget:
    """Deterministic work accounting: one counter (at the root) and, per phase, an absolute
    deadline on it; `part()` hands a phase a share of what is left."""

    def __init__(self, total: float | None, parent: _Budget | None = None) -> None:
        self.root: _Budget = self if parent is None else parent.root
        self.spent = 0.0  # meaningful at the root
        limit = math.inf if total is None else self.root.spent + total
        self.deadline: float = limit if parent is None else min(parent.deadline, limit)

    def spend(self, units: float) -> None:
        self.root.spent += units

    @property
    def exhausted(self) -> bool:
        return self.root.spent >= self.deadline

    def part(self, fraction: float) -> _Budget:
        if self.deadline == math.inf:
            return _Budget(None, self)
        return _Budget(max(0.0, (self.deadline - self.root.spent) * fraction), self)

    def charge(self, units: float) -> None:
        """Spend, and stop the search when nothing is left."""
        root = self.root
        root.spent += units
        if root.spent >= self.deadline:
            raise _OutOfWork


# -- the fleet --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Type:
    kg: float
    m3: float
    cost: int
    vehicles: tuple[int, ...]  # indices into the input fleet, in input order


@dataclass(frozen=True)
class _Fleet:
    vehicles: tuple[Vehicle, ...]
    types: tuple[_Type, ...]  # canonical order: more kg, then more m³, then cheaper first
    caps: tuple[tuple[float, float], ...]  # Pareto-maximal (kg, m³): all that matters for trips
    by_cost: tuple[int, ...]  # type indices, cheapest first

    def cheapest(self, weight: float, volume: float) -> int | None:
        for t in self.by_cost:
            kind = self.types[t]
            if _within(weight, kind.kg) and _within(volume, kind.m3):
                return t
        return None


def _fleet(vehicles: Sequence[Vehicle]) -> _Fleet:
    """Group the vehicles into types, in an order that does not depend on the input order."""
    if not vehicles:
        raise InfeasibleCargo("no_vehicles", "There is no vehicle to plan with.")
    seen: set[str] = set()
    groups: dict[tuple[float, float, int], list[int]] = {}
    for index, v in enumerate(vehicles):
        if v.id in seen:
            raise ValueError(f"duplicate vehicle id {v.id!r}")
        seen.add(v.id)
        for name, value in (("capacity_kg", v.capacity_kg), ("capacity_m3", v.capacity_m3)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"vehicle {v.id!r}: {name} must be a positive number, not {value!r}")
        if v.cost_per_trip < 0:
            raise ValueError(f"vehicle {v.id!r}: cost_per_trip must not be negative")
        key = (float(v.capacity_kg), float(v.capacity_m3), int(v.cost_per_trip))
        groups.setdefault(key, []).append(index)
    keys = sorted(groups, key=lambda k: (-k[0], -k[1], k[2]))
    types = tuple(_Type(kg, m3, cost, tuple(groups[(kg, m3, cost)])) for kg, m3, cost in keys)
    caps: list[tuple[float, float]] = []
    most_m3 = -1.0
    for kg, m3 in sorted({(t.kg, t.m3) for t in types}, key=lambda c: (-c[0], -c[1])):
        if m3 > most_m3:  # not dominated by a vehicle with at least as many kg
            caps.append((kg, m3))
            most_m3 = m3
    by_cost = tuple(sorted(range(len(types)), key=lambda t: (types[t].cost, t)))
    return _Fleet(tuple(vehicles), types, tuple(caps), by_cost)


def _fmt_kg(kg: float) -> str:
    return f"{kg:,.0f} kg" if abs(kg - round(kg)) < 1e-6 else f"{kg:,.1f} kg"


def _fmt_m3(m3: float) -> str:
    text = f"{m3:,.3f}".rstrip("0").rstrip(".")
    return f"{text} m³"


def utilization(weight_kg: float, volume_m3: float, vehicle: Vehicle) -> tuple[float, float]:
    """(weight, volume) utilization of a load on a vehicle, 0..1 for a load that fits."""
    return weight_kg / vehicle.capacity_kg, volume_m3 / vehicle.capacity_m3


# -- emitting a plan --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trip:
    """A load before it has a vehicle: its type, and bulk kilograms or counts per kind."""

    type: int
    weight: float
    volume: float
    bulk_kg: int | None
    counts: tuple[tuple[int, int], ...]  # (kind, units), by kind


def _schedule(fleet: _Fleet, trips: list[_Trip]) -> list[tuple[int, int, _Trip]]:
    """(vehicle index, trip number, load): within a type, loads go round-robin over its vehicles
    (heaviest first), so a type with m vehicles and n loads has ceil(n/m) trips on its busiest."""
    per_type: dict[int, list[_Trip]] = {}
    for trip in trips:
        per_type.setdefault(trip.type, []).append(trip)
    out: list[tuple[int, int, _Trip]] = []
    for t, loads in per_type.items():
        vehicles = fleet.types[t].vehicles
        loads.sort(key=lambda x: (-x.weight, -x.volume, -(x.bulk_kg or 0), x.counts))
        for j, load in enumerate(loads):
            out.append((vehicles[j % len(vehicles)], j // len(vehicles) + 1, load))
    out.sort(key=lambda x: (x[1], x[0]))
    return out


def _assign_types(fleet: _Fleet, loads: Sequence[tuple[float, float]]) -> list[int]:
    """A type per load. Lowest cost is the second objective, so a load rides a cheapest type it
    fits; among equally cheap types the choice minimizes the busiest vehicle's trips: a binary
    search on that peak, each step a max-flow from load groups to types (capacity peak x vehicles)."""
    allowed: list[tuple[int, ...]] = []
    for weight, volume in loads:
        fitting = [
            t
            for t in fleet.by_cost
            if _within(weight, fleet.types[t].kg) and _within(volume, fleet.types[t].m3)
        ]
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
    fleet: _Fleet, keys: list[tuple[int, ...]], sizes: list[int], peak: int
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
        bottleneck = _MANY
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


# -- bulk -------------------------------------------------------------------------------------


def _bulk_volume(bulk: Bulk, kg: int) -> float:
    return bulk.volume_m3 * kg / bulk.weight_kg


def _bulk_capacity(bulk: Bulk, kg_cap: float, m3_cap: float) -> int:
    """Whole kilograms of this bulk a vehicle carries: its weight or its volume limit binds."""

    def fits(kg: int) -> bool:
        return _within(kg, kg_cap) and _within(_bulk_volume(bulk, kg), m3_cap)

    limit = kg_cap if bulk.volume_m3 <= 0 else min(kg_cap, m3_cap * bulk.weight_kg / bulk.volume_m3)
    kg = min(bulk.weight_kg, int(limit))
    while kg > 0 and not fits(kg):  # float rounding, either way
        kg -= 1
    while kg < bulk.weight_kg and fits(kg + 1):
        kg += 1
    return kg


def _plan_bulk(bulk: Bulk, fleet: _Fleet, budget: _Budget) -> Plan:
    """ceil(W / most) trips is optimal. Start with every trip on the cheapest type that carries the
    most, then a knapsack over the slack (trips x most - W) moves trips to cheaper smaller types,
    then equal-cost moves spread the trips; the kilograms fill the larger vehicles first."""
    carry = [_bulk_capacity(bulk, t.kg, t.m3) for t in fleet.types]
    most = max(carry)
    if most == 0:
        raise InfeasibleCargo(
            "bulk_fits_no_vehicle",
            f"{bulk.description or 'The cargo'}: {_fmt_kg(bulk.weight_kg)} in {_fmt_m3(bulk.volume_m3)} "
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
    loads: list[_Trip] = []
    for capacity, t in capacities:
        kg = min(capacity, left)
        left -= kg
        loads.append(_Trip(t, float(kg), _bulk_volume(bulk, kg), kg, ()))
    assert left == 0
    out = []
    cost = 0
    for vehicle, number, load in _schedule(fleet, loads):
        v = fleet.vehicles[vehicle]
        cost += v.cost_per_trip
        out.append(
            Load(
                v.id,
                number,
                load.bulk_kg,
                (),
                load.weight,
                load.volume,
                *utilization(load.weight, load.volume, v),
            )
        )
    return Plan(tuple(out), len(out), cost, trips, True, "exact")


def _cheapest_bulk_mix(
    fleet: _Fleet, carry: list[int], trips: int, weight: int, budget: _Budget
) -> list[int]:
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

    with contextlib.suppress(_OutOfWork):  # keep the best mix found so far
        search(0, slack, trips, 0)
    counts = [0] * len(carry)
    counts[base] = trips
    for n, (_, _, t) in zip(best, options, strict=True):
        counts[t] += n
        counts[base] -= n
    return counts


def _spread_bulk(fleet: _Fleet, carry: list[int], counts: list[int], weight: int) -> None:
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


# -- items: the instance ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Kinds:
    """Distinct units of an item order, biggest first (relative to the largest capacities)."""

    w: tuple[float, ...]
    v: tuple[float, ...]
    n: tuple[int, ...]
    lines: tuple[tuple[int, ...], ...]  # the input lines of each kind, in input order
    caps: tuple[tuple[float, float], ...]

    @property
    def m(self) -> int:
        return len(self.n)

    def fits(self, i: int, cap: tuple[float, float]) -> bool:
        return _within(self.w[i], cap[0]) and _within(self.v[i], cap[1])

    def room(self, i: int, weight: float, volume: float, caps: Sequence[tuple[float, float]]) -> int:
        """Units of kind i that fit on top of a load, in any of `caps` that the load fits."""
        w, v = self.w[i], self.v[i]
        best = 0
        for kg, m3 in caps:
            kg_limit, m3_limit = kg + kg * _PACK_TOLERANCE, m3 + m3 * _PACK_TOLERANCE
            if weight > kg_limit or volume > m3_limit:
                continue
            units = min(
                int((kg_limit - weight) / w) if w > 0 else _MANY,
                int((m3_limit - volume) / v) if v > 0 else _MANY,
            )
            # The division may round either way: settle on the exact count.
            while units > 0 and (weight + units * w > kg_limit or volume + units * v > m3_limit):
                units -= 1
            while (
                units < _MANY
                and weight + (units + 1) * w <= kg_limit
                and volume + (units + 1) * v <= m3_limit
            ):
                units += 1
            best = max(best, units)
        return best


def _kinds(lines: tuple[Line, ...], fleet: _Fleet) -> _Kinds:
    if not lines or all(line.count == 0 for line in lines):
        raise InfeasibleCargo("empty_order", "The order has no items.")
    groups: dict[tuple[float, float], list[int]] = {}
    for index, line in enumerate(lines):
        if line.count < 0:
            raise ValueError(f"line {index + 1}: count must not be negative")
        for name, value in (("unit_weight_kg", line.unit_weight_kg), ("unit_volume_m3", line.unit_volume_m3)):
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"line {index + 1}: {name} must be a number >= 0, not {value!r}")
        if line.count == 0:
            continue
        if not any(
            _within(line.unit_weight_kg, kg) and _within(line.unit_volume_m3, m3) for kg, m3 in fleet.caps
        ):
            raise InfeasibleCargo("item_fits_no_vehicle", _no_fit_detail(index, line, fleet))
        groups.setdefault((float(line.unit_weight_kg), float(line.unit_volume_m3)), []).append(index)
    top_kg = max(kg for kg, _ in fleet.caps)
    top_m3 = max(m3 for _, m3 in fleet.caps)
    order = sorted(groups, key=lambda u: (-max(u[0] / top_kg, u[1] / top_m3), -u[0], -u[1]))
    return _Kinds(
        w=tuple(u[0] for u in order),
        v=tuple(u[1] for u in order),
        n=tuple(sum(lines[i].count for i in groups[u]) for u in order),
        lines=tuple(tuple(groups[u]) for u in order),
        caps=fleet.caps,
    )


def _no_fit_detail(index: int, line: Line, fleet: _Fleet) -> str:
    top_kg = max(kg for kg, _ in fleet.caps)
    top_m3 = max(m3 for _, m3 in fleet.caps)
    name = f"line {index + 1}" + (f" ({line.description})" if line.description else "")
    unit = f"{_fmt_kg(line.unit_weight_kg)} and {_fmt_m3(line.unit_volume_m3)} per unit"
    largest = f"the largest vehicles carry {_fmt_kg(top_kg)} and {_fmt_m3(top_m3)}"
    both = (
        " (but no single vehicle both)"
        if line.unit_weight_kg <= top_kg and line.unit_volume_m3 <= top_m3
        else ""
    )
    return f"{name}: {unit}; {largest}{both}."


# -- items: lower bounds ----------------------------------------------------------------------
#
# A dual vector u (one value per kind) is *valid* when every load that fits a vehicle has
# sum(u_i * a_i) <= 1; then ceil(sum(u_i * n_i)) is a lower bound on trips (Farley). All bounds
# but the big-items one are such vectors, so the exact search reuses them at every node.


def _bound(u: Sequence[float], r: Sequence[int]) -> int:
    return math.ceil(sum(a * b for a, b in zip(u, r, strict=True)) - 1e-7)


def _capacity_duals(k: _Kinds) -> list[list[float]]:
    """The vertices (a, b) of {a*kg_t + b*m3_t <= 1 for every vehicle}: u_i = a*w_i + b*v_i.
    Their best is the LP 'total weight and volume over capacities' bound for a mixed fleet."""
    caps = k.caps
    points = {(1.0 / max(c[0] for c in caps), 0.0), (0.0, 1.0 / max(c[1] for c in caps))}
    pairs = (
        [(i, j) for i in range(len(caps)) for j in range(i + 1, len(caps))]
        if len(caps) <= 20
        else [(i, i + 1) for i in range(len(caps) - 1)]
    )
    for i, j in pairs:
        (w1, v1), (w2, v2) = caps[i], caps[j]
        det = w1 * v2 - w2 * v1
        if det == 0:
            continue
        a, b = (v2 - v1) / det, (w1 - w2) / det
        if a >= 0 and b >= 0 and all(a * w + b * v <= 1 + 1e-12 for w, v in caps):
            points.add((a, b))
    return [
        [(a * k.w[i] + b * k.v[i]) * _DUAL_SHRINK for i in range(k.m)]
        for a, b in sorted(points)  # sorted: set order must never leak into results
    ]


def _dff_duals(k: _Kinds) -> list[list[float]]:
    """Dual-feasible functions (Fekete & Schepers) per dimension and vehicle: u_i is the smallest
    f(size_i / capacity) over the vehicles the unit fits. Families: u^(k) (k = units per vehicle,
    catches '37 pallets per truck, not 37.5') and U^(eps) (units over half a truck count whole)."""
    out: list[list[float]] = []
    per_family = 40 if k.m <= 50 else max(3, 1500 // k.m)  # each costs O(kinds x vehicles)
    for sizes, dim in ((k.w, 0), (k.v, 1)):
        # size/capacity per kind and fitting vehicle, shrunk a hair: float noise must not count.
        fracs = [[sizes[i] / cap[dim] * (1 - 2e-9) for cap in k.caps if k.fits(i, cap)] for i in range(k.m)]
        weight_of: dict[tuple[str, float], float] = {}
        for i, xs in enumerate(fracs):
            for x in xs:
                if x <= 0:
                    continue
                if 1 / x < 1e6:
                    key = ("k", float(math.floor(1 / x)))
                    weight_of[key] = weight_of.get(key, 0.0) + k.n[i] * x
                eps = ("e", x) if x <= 0.5 else ("e", min(0.5, 1 - x + 1e-7))
                weight_of[eps] = weight_of.get(eps, 0.0) + k.n[i] * x
        for family in ("k", "e"):
            params = sorted((p for p in weight_of if p[0] == family), key=lambda p: (-weight_of[p], p[1]))
            for _, p in params[:per_family]:
                out.append([min(_dff(family, p, x) for x in xs) * _DUAL_SHRINK for xs in fracs])
    return out


def _dff(family: str, p: float, x: float) -> float:
    if family == "k":  # u^(k)(x) = floor((k+1)x)/k, rounded down so float noise never inflates it
        return math.floor((p + 1) * x * (1 - 1e-12)) / p
    if x > 1 - p:  # U^(eps)
        return 1.0
    return x if x >= p else 0.0


def _big_items_bound(k: _Kinds) -> int:
    """Martello-Toth L2 for two dimensions and a mixed fleet: units that pairwise fit no vehicle
    together each need their own trip; the rest must fit in the room those trips leave or in new
    trips. Tried for every prefix of the (greedy) set of such units, biggest first."""
    limits = [(kg + kg * _PACK_TOLERANCE, m3 + m3 * _PACK_TOLERANCE) for kg, m3 in k.caps]
    top_kg = max(c[0] for c in limits)
    top_m3 = max(c[1] for c in limits)
    # Members that no other member undercuts in both kg and m3: a unit shares a vehicle with some
    # member iff it does with one of these (erring towards "shares": the bound stays valid).
    floor_set: list[tuple[float, float]] = []
    clique: list[int] = []
    for i in range(k.m):
        w, v = k.w[i], k.v[i]
        if k.n[i] > 1 and any(w + w <= kg and v + v <= m3 for kg, m3 in limits):
            continue
        if any(
            fw <= kg - w + kg * 1e-12 and fv <= m3 - v + m3 * 1e-12
            for kg, m3 in limits
            for fw, fv in floor_set
        ):
            continue
        clique.append(i)
        if not any(fw <= w and fv <= v for fw, fv in floor_set):
            floor_set = [(fw, fv) for fw, fv in floor_set if not (w <= fw and v <= fv)] + [(w, v)]
    rest_w = sum(k.n[i] * k.w[i] for i in range(k.m))
    rest_v = sum(k.n[i] * k.v[i] for i in range(k.m))
    alone = spare_w = spare_v = 0.0
    best = 0
    for i in clique:
        alone += k.n[i]
        rest_w -= k.n[i] * k.w[i]
        rest_v -= k.n[i] * k.v[i]
        spare_w += k.n[i] * max(
            lim[0] - k.w[i] for lim, c in zip(limits, k.caps, strict=True) if k.fits(i, c)
        )
        spare_v += k.n[i] * max(
            lim[1] - k.v[i] for lim, c in zip(limits, k.caps, strict=True) if k.fits(i, c)
        )
        more = max(0.0, (rest_w - spare_w) / top_kg, (rest_v - spare_v) / top_m3)
        best = max(best, int(alone) + math.ceil(more * _DUAL_SHRINK - 1e-7))
    return best


@dataclass
class _Bounds:
    value: int  # the best lower bound on trips
    duals: list[list[float]]  # valid dual vectors, best first, for the search's node bounds


def _root_bounds(k: _Kinds, budget: _Budget) -> _Bounds:
    candidates = _capacity_duals(k) + _dff_duals(k)
    budget.spend(len(candidates) * k.m * (1 + len(k.caps)) * 0.5 + k.m * 8)
    scored = [(_bound(u, k.n), u) for u in candidates]
    scored.sort(key=lambda s: -s[0])  # stable: ties keep their (deterministic) order
    duals = [u for _, u in scored[:8]]
    return _Bounds(max(scored[0][0], _big_items_bound(k), 1), duals)


# -- items: the pattern LP (column generation) ------------------------------------------------


def _knapsack(
    values: Sequence[float],
    k: _Kinds,
    cap: tuple[float, float],
    limit: Sequence[int],
    budget: _Budget,
    nodes: int | None = None,
) -> tuple[float, tuple[int, ...], float]:
    """max sum(values_i a_i) over loads a that fit `cap`, 0 <= a_i <= limit_i: depth-first branch
    and bound over kinds by value per surrogate size; the bound is the smaller of the weight-only
    and volume-only fractional knapsacks. Returns (best value, its load, an upper bound on the
    optimum: the best value when the search finished, else the root bound). `nodes` caps the
    search (a quick, greedy-like answer)."""
    kg = cap[0] * (1 + _PACK_TOLERANCE)
    m3 = cap[1] * (1 + _PACK_TOLERANCE)
    items = [i for i in range(k.m) if values[i] > 1e-12 and limit[i] > 0]
    if not items:
        return 0.0, (0,) * k.m, 0.0
    order = sorted(items, key=lambda i: (-values[i] / max(k.w[i] / kg + k.v[i] / m3, 1e-300), i))
    rank = {i: p for p, i in enumerate(order)}
    by_w = sorted(order, key=lambda i: (-(values[i] / k.w[i]) if k.w[i] > 0 else -math.inf, rank[i]))
    by_v = sorted(order, key=lambda i: (-(values[i] / k.v[i]) if k.v[i] > 0 else -math.inf, rank[i]))

    # Per dimension and depth: the kinds still free, by value per size, as running totals of size
    # and value, so a fractional bound is one bisection (built when a depth is first reached).
    tables: dict[tuple[int, int], tuple[float, list[float], list[float], list[float]]] = {}

    def table(dim: int, start: int) -> tuple[float, list[float], list[float], list[float]]:
        if (dim, start) not in tables:
            sizes = k.w if dim == 0 else k.v
            free, size, value = 0.0, 0.0, 0.0
            cum_size, cum_value, ratio = [], [], []
            for i in by_w if dim == 0 else by_v:
                if rank[i] < start:
                    continue
                if sizes[i] <= 0:
                    free += values[i] * limit[i]
                    continue
                size += limit[i] * sizes[i]
                value += limit[i] * values[i]
                cum_size.append(size)
                cum_value.append(value)
                ratio.append(values[i] / sizes[i])
            tables[(dim, start)] = (free, cum_size, cum_value, ratio)
        return tables[(dim, start)]

    def fractional(dim: int, room: float, start: int) -> float:
        free, cum_size, cum_value, ratio = table(dim, start)
        j = bisect.bisect_right(cum_size, room)
        if j == len(cum_size):
            return free + (cum_value[-1] if cum_value else 0.0)
        before_size, before_value = (cum_size[j - 1], cum_value[j - 1]) if j else (0.0, 0.0)
        return free + before_value + (room - before_size) * ratio[j]

    def upper(start: int, kg_left: float, m3_left: float) -> float:
        return min(fractional(0, kg_left, start), fractional(1, m3_left, start))

    root = upper(0, kg, m3)
    best_value, best = 0.0, [0] * k.m
    counts = [0] * k.m
    cost = 6 + len(items) / 20  # units per node: fitted on bench/planner.py instances

    visits = 0

    def search(p: int, kg_left: float, m3_left: float, value: float) -> None:
        nonlocal best_value, best, visits
        if value > best_value:
            best_value, best = value, list(counts)
        if p == len(order) or value + upper(p, kg_left, m3_left) <= best_value * (1 + 1e-12) + 1e-12:
            return
        visits += 1
        if nodes is not None and visits > nodes:
            raise _Capped
        budget.charge(cost)
        i = order[p]
        most = min(limit[i], _count_within(k.w[i], kg_left), _count_within(k.v[i], m3_left))
        for c in range(most, -1, -1):
            counts[i] = c
            search(p + 1, kg_left - c * k.w[i], m3_left - c * k.v[i], value + c * values[i])
        counts[i] = 0

    try:
        search(0, kg, m3, 0.0)
        bound = best_value
    except _Capped:
        bound = root
    return best_value, tuple(best), max(bound, best_value)


class _Capped(Exception):
    """The knapsack search reached its node cap."""


def _count_within(unit: float, room: float) -> int:
    """The most units with unit * count <= room (exactly, whatever the division rounds to)."""
    if unit <= 0:
        return _MANY
    if room < 0:
        return 0
    count = int(room / unit)
    while count > 0 and count * unit > room:
        count -= 1
    while (count + 1) * unit <= room:
        count += 1
    return count


@dataclass
class _LP:
    bound: int  # ceil of the best Farley bound found
    value: float  # the last primal objective (an upper bound on the LP optimum)
    columns: list[tuple[tuple[int, ...], float]]  # basic loads with their (fractional) use
    duals: list[list[float]]  # valid dual vectors (y / max pattern value)


def _column_generation(
    k: _Kinds, budget: _Budget, enough: int | None, seed: Sequence[tuple[int, ...]] = ()
) -> _LP:
    """Gilmore-Gomory: min sum(x_p) s.t. sum_p a_p x_p >= n over all loads p, by a revised simplex
    (dense basis inverse). Entering columns come from a pool of loads met so far (seeded with the
    heuristic's), else from the exact knapsack, which also certifies the bound: any dual y gives
    the valid bound y.n / max_p y.a_p (Farley), sound even when the budget stops the LP early or
    the simplex drifts. Stops once ceil(bound) reaches `enough` (the incumbent: nothing left to
    prove) or the rounded-up LP value."""
    m = k.m
    limits = [[min(k.n[i], k.room(i, 0.0, 0.0, [cap])) for i in range(m)] for cap in k.caps]
    # The starting basis: one homogeneous load per kind (diagonal, so its inverse is trivial).
    height = [max(limits[c][i] for c in range(len(k.caps))) for i in range(m)]
    basis: list[tuple[int, ...] | None] = [
        tuple(height[i] if j == i else 0 for j in range(m)) for i in range(m)
    ]
    inverse = [[(1.0 / height[i] if i == j else 0.0) for j in range(m)] for i in range(m)]
    x = [k.n[i] / height[i] for i in range(m)]
    best = 0.0
    best_duals: list[list[float]] = []
    pool: list[tuple[int, ...]] = []
    pooled: set[tuple[int, ...]] = set()

    def remember(column: tuple[int, ...]) -> None:
        if column not in pooled:
            pooled.add(column)
            pool.append(column)

    def value(y: list[float], column: tuple[int, ...]) -> float:
        return sum(y[i] * c for i, c in enumerate(column) if c)

    def certify(y: list[float]) -> tuple[int, ...] | None:
        """Exact pricing: updates the bound; the best load, or None when nothing is left to do."""
        nonlocal best, best_duals
        priced = [_knapsack(y, k, cap, limits[c], budget) for c, cap in enumerate(k.caps)]
        z, z_upper = max(p[0] for p in priced), max(p[2] for p in priced)
        if z_upper > 0:
            farley = sum(max(0.0, y[i]) * k.n[i] for i in range(m)) / z_upper
            if farley > best:
                best = farley
                best_duals = [[max(0.0, y[i]) / z_upper * _DUAL_SHRINK for i in range(m)]]
        rounded = math.ceil(best * _DUAL_SHRINK - 1e-7)
        primal = sum(x[r] for r in range(m) if basis[r] is not None)
        if z <= 1 + 1e-9 or (enough is not None and rounded >= enough) or rounded >= math.ceil(primal - 1e-9):
            return None
        return max(priced, key=lambda p: p[0])[1]

    for column in seed:
        remember(column)
    pivot_cost = 3 + m * m / 8
    try:
        for _ in range(20 * m + 200):
            if budget.exhausted:
                break
            cost_b = [1.0 if col is not None else 0.0 for col in basis]
            y = [sum(cost_b[r] * inverse[r][j] for r in range(m)) for j in range(m)]
            budget.spend(pivot_cost + len(pool) * m / 4)
            negative = min(range(m), key=lambda j: (y[j], j))
            entering: tuple[int, ...] | None = None
            if y[negative] < -1e-9:  # a surplus column enters: keeps the duals non-negative
                dense = [-1.0 if j == negative else 0.0 for j in range(m)]
            else:
                entering = max(pool, key=lambda a: value(y, a), default=None)
                if entering is None or value(y, entering) <= 1 + 1e-6:
                    entering = certify(y)
                    if entering is None:
                        break
                remember(entering)
                dense = [float(c) for c in entering]
            if not _pivot(inverse, x, basis, dense, entering):
                break
    except _OutOfWork:
        pass
    columns = [(col, x[r]) for r, col in enumerate(basis) if col is not None and x[r] > 1e-9]
    primal = sum(x for _, x in columns)
    return _LP(math.ceil(best * _DUAL_SHRINK - 1e-7), primal, columns, best_duals)


def _grouped(k: _Kinds) -> tuple[_Kinds, list[int]]:
    """Linear grouping: the kinds in size order cut into at most _LP_MAX_KINDS runs of about
    equal units; a class's unit is the componentwise smallest of its members. Shrunk units keep
    every load a load, so the LP of the classes is still a lower bound, and its duals (a class's,
    given to each member) stay valid. Returns (classes, the class of each kind)."""
    target = -(-sum(k.n) // _LP_MAX_KINDS)
    groups: list[list[int]] = [[]]
    units = 0
    for i in range(k.m):  # kinds come biggest first
        if units >= target and len(groups) < _LP_MAX_KINDS:
            groups.append([])
            units = 0
        groups[-1].append(i)
        units += k.n[i]
    w = tuple(min(k.w[i] for i in g) for g in groups)
    v = tuple(min(k.v[i] for i in g) for g in groups)
    classes = _Kinds(
        w=w,
        v=v,
        n=tuple(sum(k.n[i] for i in g) for g in groups),
        lines=tuple(() for _ in groups),
        caps=k.caps,
    )
    return classes, [c for c, g in enumerate(groups) for _ in g]


def _lp(k: _Kinds, budget: _Budget, enough: int | None, seed: Sequence[_Bin] = ()) -> tuple[_LP, bool]:
    """The pattern LP of the kinds, or of rounded-down classes when there are too many kinds
    (then its loads are not loads of the order: the flag says whether they can be rounded).
    `seed`: loads of a plan, a warm start (still loads once their units shrink to their class's)."""
    if k.m <= _LP_MAX_KINDS:
        columns = sorted({tuple(b.counts.get(i, 0) for i in range(k.m)) for b in seed})
        return _column_generation(k, budget, enough, columns), True
    classes, class_of = _grouped(k)
    grouped: set[tuple[int, ...]] = set()
    for b in seed:
        counts = [0] * classes.m
        for i, c in b.counts.items():
            counts[class_of[i]] += c
        grouped.add(tuple(counts))
    lp = _column_generation(classes, budget, enough, sorted(grouped))
    lp.duals = [[u[class_of[i]] for i in range(k.m)] for u in lp.duals]
    return lp, False


def _pivot(
    inverse: list[list[float]],
    x: list[float],
    basis: list[tuple[int, ...] | None],
    column: list[float],
    entering: tuple[int, ...] | None,
) -> bool:
    """One simplex pivot: the ratio test picks the leaving row, then the basis inverse is updated."""
    m = len(x)
    d = [sum(inverse[r][j] * column[j] for j in range(m) if column[j]) for r in range(m)]
    leaving, ratio = -1, math.inf
    for r in range(m):
        if d[r] > 1e-11:
            t = x[r] / d[r]
            if t < ratio - 1e-12:
                leaving, ratio = r, t
    if leaving < 0:
        return False
    pivot_row = inverse[leaving]
    scale = 1.0 / d[leaving]
    for j in range(m):
        pivot_row[j] *= scale
    for r in range(m):
        if r != leaving and d[r]:
            factor = d[r]
            row = inverse[r]
            for j in range(m):
                row[j] -= factor * pivot_row[j]
            x[r] -= factor * ratio
            if x[r] < 0:
                x[r] = 0.0
    x[leaving] = ratio
    basis[leaving] = entering
    return True


# -- items: heuristics ------------------------------------------------------------------------


@dataclass
class _Bin:
    counts: dict[int, int]  # units per kind (sparse: orders can have hundreds of kinds)
    weight: float
    volume: float
    mult: int = 1  # identical copies: first fit keeps runs of equal loads together

    def copy(self, mult: int) -> _Bin:
        return _Bin(dict(self.counts), self.weight, self.volume, mult)

    def add(self, k: _Kinds, i: int, units: int) -> None:
        count = self.counts.get(i, 0) + units
        if count:
            self.counts[i] = count
        else:
            del self.counts[i]
        self.weight += units * k.w[i]
        self.volume += units * k.v[i]


def _first_fit(
    k: _Kinds, order: Sequence[int], n: Sequence[int], bins: list[_Bin], budget: _Budget
) -> list[_Bin]:
    """First fit, kind by kind in `order`, on runs of identical loads: the same result as item-by-
    item first fit, in O(kinds x runs) however many units there are. Appends to `bins`."""
    for i in order:
        left = n[i]
        j = 0
        budget.spend(len(bins) * (1 + len(k.caps)) * 0.8)
        while left and j < len(bins):
            b = bins[j]
            fit = min(k.room(i, b.weight, b.volume, k.caps), left)
            if fit:
                if fit * b.mult <= left:
                    b.add(k, i, fit)
                    left -= fit * b.mult
                else:
                    full, rest = divmod(left, fit)
                    runs = []
                    if full:
                        runs.append(b.copy(full))
                        runs[-1].add(k, i, fit)
                    if rest:
                        runs.append(b.copy(1))
                        runs[-1].add(k, i, rest)
                    untouched = b.mult - full - (1 if rest else 0)
                    if untouched:
                        runs.append(b.copy(untouched))
                    bins[j : j + 1] = runs
                    left = 0
            j += 1
        if left:
            per_load = min(k.room(i, 0.0, 0.0, k.caps), left)
            full, rest = divmod(left, per_load)
            for units, mult in ((per_load, full), (rest, 1)):
                if units and mult:
                    b = _Bin({}, 0.0, 0.0, mult)
                    b.add(k, i, units)
                    bins.append(b)
    return bins


def _first_fit_tree(
    k: _Kinds, order: Sequence[int], n: Sequence[int], start: Sequence[_Bin], budget: _Budget
) -> list[_Bin]:
    """The same first fit for orders of many kinds (where runs of equal loads are rare): single
    loads, and the first one that takes a unit found in O(log loads) by a segment tree of the most
    kg and m³ each load still has free, instead of a scan over every load."""
    bins = [b.copy(1) for b in start for _ in range(b.mult)]
    limits = [(kg + kg * _PACK_TOLERANCE, m3 + m3 * _PACK_TOLERANCE) for kg, m3 in k.caps]
    slack = 1e-9 * max(max(c) for c in limits)  # the tree only filters: room() decides
    size = 1
    while size < len(bins) + 1:
        size *= 2
    free_w, free_v = [-1.0] * (2 * size), [-1.0] * (2 * size)

    def update(j: int) -> None:
        b = bins[j]
        fitting = [(kg - b.weight, m3 - b.volume) for kg, m3 in limits if b.weight <= kg and b.volume <= m3]
        p = size + j
        free_w[p] = max((f[0] for f in fitting), default=-1.0)
        free_v[p] = max((f[1] for f in fitting), default=-1.0)
        p //= 2
        while p:
            w, v = max(free_w[2 * p], free_w[2 * p + 1]), max(free_v[2 * p], free_v[2 * p + 1])
            if free_w[p] == w and free_v[p] == v:
                break  # nothing changes further up
            free_w[p], free_v[p] = w, v
            p //= 2

    def first(i: int) -> int | None:
        need_w, need_v = k.w[i] - slack, k.v[i] - slack
        stack = [1]
        while stack:
            p = stack.pop()
            if free_w[p] < need_w or free_v[p] < need_v:
                continue
            if p >= size:
                j = p - size
                if k.room(i, bins[j].weight, bins[j].volume, k.caps):
                    return j
                continue
            stack.append(2 * p + 1)
            stack.append(2 * p)  # the left subtree first: the first load that fits
        return None

    for o in range(len(bins)):
        update(o)
    for i in order:
        left = n[i]
        while left:
            found = first(i)
            j = len(bins) if found is None else found
            if found is None:
                bins.append(_Bin({}, 0.0, 0.0))
                if j >= size:  # grow the tree: double it and refill
                    size *= 2
                    free_w, free_v = [-1.0] * (2 * size), [-1.0] * (2 * size)
                    for o in range(j):
                        update(o)
            units = min(left, k.room(i, bins[j].weight, bins[j].volume, k.caps))
            bins[j].add(k, i, units)
            left -= units
            update(j)
            budget.spend(15 + 3 * len(k.caps))
    return bins


def _orders(k: _Kinds) -> list[list[int]]:
    """Kind orders for first fit decreasing: by the larger, the sum, weight, volume (relative)."""
    top_kg = max(c[0] for c in k.caps)
    top_m3 = max(c[1] for c in k.caps)
    keys: list[Callable[[int], float]] = [
        lambda i: max(k.w[i] / top_kg, k.v[i] / top_m3),
        lambda i: k.w[i] / top_kg + k.v[i] / top_m3,
        lambda i: k.w[i],
        lambda i: k.v[i],
    ]
    orders: list[list[int]] = []
    for key in keys:
        order = sorted(range(k.m), key=lambda i: (-key(i), i))
        if order not in orders:
            orders.append(order)
    return orders


@dataclass
class _Packing:
    bins: list[_Bin]
    trips: int
    cost: int


def _packing(fleet: _Fleet, bins: list[_Bin]) -> _Packing:
    cost = 0
    for b in bins:
        t = fleet.cheapest(b.weight, b.volume)
        assert t is not None, "a load fits no vehicle"
        cost += b.mult * fleet.types[t].cost
    return _Packing(bins, sum(b.mult for b in bins), cost)


def _better(a: _Packing | None, b: _Packing) -> bool:
    return a is None or (b.trips, b.cost) < (a.trips, a.cost)


def _best_first_fit(
    k: _Kinds, fleet: _Fleet, n: Sequence[int], budget: _Budget, start: Sequence[_Bin] = ()
) -> _Packing:
    best: _Packing | None = None
    for order in _orders(k):
        if k.m <= _RUNS_MAX_KINDS:
            bins = _first_fit(k, order, n, [b.copy(b.mult) for b in start], budget)
        else:
            bins = _first_fit_tree(k, order, n, start, budget)
        candidate = _packing(fleet, bins)
        if _better(best, candidate):
            best = candidate
    assert best is not None
    return best


def _rounded(k: _Kinds, lp: _LP) -> tuple[list[tuple[tuple[int, ...], int]], list[int]]:
    """floor(x_p) copies of each basic load, then one more of the most fractional ones, while the
    units last: (load, copies) and the units left over."""
    left = list(k.n)
    out: list[tuple[tuple[int, ...], int]] = []
    columns = sorted(lp.columns, key=lambda c: (-c[1], c[0]))
    extra = sorted(columns, key=lambda c: (-(c[1] - math.floor(c[1] + 1e-9)), c[0]))
    for pattern, copies in [(p, math.floor(x + 1e-9)) for p, x in columns] + [(p, 1) for p, _ in extra]:
        use = min(copies, min((left[i] // c for i, c in enumerate(pattern) if c), default=0))
        b = _bin_of(k, pattern)
        if use and any(_within(b.weight, kg) and _within(b.volume, m3) for kg, m3 in k.caps):
            # (a load the LP found: checked again here, a plan must never trust the floats)
            for i, c in enumerate(pattern):
                left[i] -= c * use
            out.append((pattern, use))
    return out, left


def _round_lp(k: _Kinds, fleet: _Fleet, lp: _LP, budget: _Budget, duals: list[list[float]]) -> _Packing:
    """LP rounding: the rounded LP's loads, then the residual: first fit into the room left (or,
    when small, the exact search on its own)."""
    rounded, left = _rounded(k, lp)
    bins = []
    for pattern, copies in rounded:
        b = _bin_of(k, pattern)
        b.mult = copies
        bins.append(b)
    best = _best_first_fit(k, fleet, left, budget, bins)
    if sum(left) and not budget.exhausted:
        alone = _best_first_fit(k, fleet, left, budget)
        lower = max(1, max((_bound(u, left) for u in duals), default=1))
        if alone.trips > lower:
            found, _ = _search_trips(k, left, duals, lower, alone.trips, budget)
            if found is not None:
                alone = _packing(fleet, found)
        candidate = _packing(fleet, [b.copy(b.mult) for b in bins] + alone.bins)
        if _better(best, candidate):
            best = candidate
    return best


# -- items: exact search (bin completion) -----------------------------------------------------


def _patterns(
    k: _Kinds, r: Sequence[int], first: int, caps: Sequence[tuple[float, float]], budget: _Budget
) -> Iterator[tuple[int, ...]]:
    """Loads that hold at least one unit of kind `first` and are maximal (no remaining unit fits
    on top), largest counts first. Only maximal loads need trying: moving units from later loads
    into an earlier one never adds a trip, nor (with a fixed vehicle type) any cost. A count below
    the most that fits is only tried while the kinds after it could still fill the room it leaves."""
    kinds = [i for i in range(first, k.m) if r[i]]
    counts = [0] * k.m
    tail_w, tail_v = [0.0] * (len(kinds) + 1), [0.0] * (len(kinds) + 1)
    for p in range(len(kinds) - 1, -1, -1):
        tail_w[p] = tail_w[p + 1] + r[kinds[p]] * k.w[kinds[p]]
        tail_v[p] = tail_v[p + 1] + r[kinds[p]] * k.v[kinds[p]]
    limits = [(kg + kg * _PACK_TOLERANCE, m3 + m3 * _PACK_TOLERANCE) for kg, m3 in caps]
    node_cost = 1 + len(caps)

    def fill(p: int, weight: float, volume: float) -> Iterator[tuple[int, ...]]:
        budget.charge(node_cost)
        if p == len(kinds):
            budget.charge(len(kinds) * node_cost)
            if all(r[i] == counts[i] or k.room(i, weight, volume, caps) == 0 for i in kinds):
                yield tuple(counts)
            return
        i = kinds[p]
        most = min(r[i], k.room(i, weight, volume, caps))
        for c in range(most, 0 if p == 0 else -1, -1):
            w, v = weight + c * k.w[i], volume + c * k.v[i]
            if c < most and any(
                w + k.w[i] + tail_w[p + 1] <= kg and v + k.v[i] + tail_v[p + 1] <= m3 for kg, m3 in limits
            ):
                break  # one more unit of i would fit whatever follows: never maximal
            counts[i] = c
            yield from fill(p + 1, w, v)
        counts[i] = 0

    yield from fill(0, 0.0, 0.0)


def _search_trips(
    k: _Kinds, n: Sequence[int], duals: list[list[float]], lower: int, upper: int, budget: _Budget
) -> tuple[list[_Bin] | None, bool]:
    """Fewest trips by bin completion: for K = lower, lower+1, ... < upper, a depth-first search
    whose every load holds the first remaining (biggest) kind and is maximal; nodes are cut by the
    dual bounds and by a table of remainders already refuted. Returns (a packing into fewer than
    `upper` loads or None, whether its size - or `upper` when None - is proved minimal)."""
    if upper + k.m > _SEARCH_MAX_DEPTH:
        return None, False  # one recursion level per load and per kind: too deep for Python
    refuted: dict[tuple[int, ...], int] = {}

    def node_bound(r: list[int]) -> int:
        return max((_bound(u, r) for u in duals), default=1)

    def search(r: list[int], left: int, out: list[tuple[int, ...]]) -> bool:
        first = next((i for i, c in enumerate(r) if c), None)
        if first is None:
            return True
        key = tuple(r)
        if left == 0 or refuted.get(key, -1) >= left:
            return False
        budget.charge(2 + len(duals) * k.m / 4)
        if node_bound(r) > left:
            refuted[key] = max(refuted.get(key, -1), left)
            return False
        for pattern in _patterns(k, r, first, k.caps, budget):
            for i, c in enumerate(pattern):
                r[i] -= c
            done = search(r, left - 1, out)
            for i, c in enumerate(pattern):
                r[i] += c
            if done:
                out.append(pattern)
                return True
        refuted[key] = max(refuted.get(key, -1), left)
        return False

    for trips in range(max(lower, 1), upper):
        out: list[tuple[int, ...]] = []
        try:
            if search(list(n), trips, out):
                return [_bin_of(k, p) for p in reversed(out)], True
        except _OutOfWork:
            return None, False
    return None, True


def _bin_of(k: _Kinds, counts: Sequence[int]) -> _Bin:
    b = _Bin({}, 0.0, 0.0)
    for i, c in enumerate(counts):
        if c:
            b.add(k, i, c)
    return b


def _cost_types(fleet: _Fleet) -> list[_Type]:
    """Types worth paying for: none with at most the capacity of a type that costs no more."""
    useful = []
    for t in fleet.types:
        dominated = any(
            (o.kg, o.m3, o.cost) != (t.kg, t.m3, t.cost)
            and o.kg >= t.kg
            and o.m3 >= t.m3
            and o.cost <= t.cost
            for o in fleet.types
        )
        if not dominated:
            useful.append(t)
    return sorted(useful, key=lambda t: (t.cost, -t.kg, -t.m3))


def _search_cost(
    k: _Kinds, fleet: _Fleet, trips: int, duals: list[list[float]], incumbent: int, budget: _Budget
) -> tuple[list[_Bin] | None, bool]:
    """Cheapest packing into `trips` loads: bin completion over (type, load maximal for that type
    and fitting no cheaper type). Cost bounds: per-unit shares cost_t * (l*w/kg_t + (1-l)*v/m3_t)
    for l in 0, 1/2, 1; and tiers: the units no vehicle cheaper than c takes need at least their
    trips bound of trips costing c or more, the rest of the trips cost at least the cheapest.
    Returns (a cheaper packing or None, whether the result is proved cheapest)."""
    if trips + k.m > _SEARCH_MAX_DEPTH:
        return None, False
    types = _cost_types(fleet)
    cheapest = types[0].cost
    shares = []
    for lam in (0.0, 0.5, 1.0):
        share = []
        for i in range(k.m):
            options = [
                t.cost * (lam * k.w[i] / t.kg + (1 - lam) * k.v[i] / t.m3)
                for t in types
                if _within(k.w[i], t.kg) and _within(k.v[i], t.m3)
            ]
            share.append(min(options) * (1 - 1e-9))
        shares.append(share)

    floor_cost = [
        min(t.cost for t in types if _within(k.w[i], t.kg) and _within(k.v[i], t.m3)) for i in range(k.m)
    ]
    tiers = sorted({c for c in floor_cost if c > cheapest}, reverse=True)

    def cost_bound(r: list[int], trips_needed: int) -> float:
        by_share = max(sum(s * c for s, c in zip(sh, r, strict=True)) for sh in shares)
        layered, forced = 0.0, 0
        for tier in tiers:  # dearest first: each tier's forced trips include the dearer tiers'
            units = [c if floor_cost[i] >= tier else 0 for i, c in enumerate(r)]
            now = max(forced, max((_bound(u, units) for u in duals), default=0))
            layered += (now - forced) * tier
            forced = now
        layered += max(0, trips_needed - forced) * cheapest
        return max(by_share, layered)

    best_cost = incumbent
    best: list[tuple[int, ...]] | None = None
    refuted: dict[tuple[tuple[int, ...], int], float] = {}
    chosen: list[tuple[int, ...]] = []

    def search(r: list[int], left: int, spent: int) -> None:
        nonlocal best_cost, best
        first = next((i for i, c in enumerate(r) if c), None)
        if first is None:
            if spent < best_cost:
                best_cost, best = spent, list(chosen)
            return
        allowance = best_cost - spent
        key = (tuple(r), left)
        if left == 0 or refuted.get(key, -math.inf) >= allowance:
            return
        budget.charge(2 + len(duals) * k.m / 4)
        needed = max((_bound(u, r) for u in duals), default=1)
        if needed > left or cost_bound(r, needed) >= allowance - 1e-9:
            refuted[key] = max(refuted.get(key, -math.inf), allowance)
            return
        for j, t in enumerate(types):
            if t.cost >= allowance:
                break
            cheaper = [(o.kg, o.m3) for o in types[:j] if o.cost < t.cost]
            for pattern in _patterns(k, r, first, [(t.kg, t.m3)], budget):
                weight = sum(c * k.w[i] for i, c in enumerate(pattern))
                volume = sum(c * k.v[i] for i, c in enumerate(pattern))
                budget.charge(2 + k.m)
                if any(_within(weight, kg) and _within(volume, m3) for kg, m3 in cheaper):
                    continue  # the same load on a cheaper vehicle is tried there
                for i, c in enumerate(pattern):
                    r[i] -= c
                chosen.append(pattern)
                search(r, left - 1, spent + t.cost)
                chosen.pop()
                for i, c in enumerate(pattern):
                    r[i] += c
        refuted[key] = max(refuted.get(key, -math.inf), allowance)

    try:
        search(list(k.n), trips, 0)
        finished = True
    except _OutOfWork:
        finished = False
    return (None if best is None else [_bin_of(k, p) for p in best]), finished


def _cheapen(k: _Kinds, fleet: _Fleet, bins: list[_Bin], budget: _Budget) -> None:
    """Local search for cost: make a load fit a cheaper vehicle by moving some of its units into
    other loads that stay on vehicles no dearer than before. Loads are single (mult 1)."""
    types = _cost_types(fleet)
    envelopes: dict[int, list[tuple[float, float]]] = {}

    def caps_upto(cost: int) -> list[tuple[float, float]]:
        if cost not in envelopes:
            envelopes[cost] = [(t.kg, t.m3) for t in types if t.cost <= cost]
        return envelopes[cost]

    def cost_of(b: _Bin) -> int:
        t = fleet.cheapest(b.weight, b.volume)
        assert t is not None, "a load fits no vehicle"
        return fleet.types[t].cost

    def spare(o: int) -> tuple[float, float]:
        """Upper bounds on the kg and m³ load o can still take without a dearer vehicle."""
        b = bins[o]
        fitting = [
            (kg, m3) for kg, m3 in caps_upto(costs[o]) if _within(b.weight, kg) and _within(b.volume, m3)
        ]
        return max(kg - b.weight for kg, _ in fitting), max(m3 - b.volume for _, m3 in fitting)

    costs = [cost_of(b) for b in bins]
    spares = [spare(o) for o in range(len(bins))]
    budget.spend(len(bins) * (1 + len(types)))
    improved = True
    while improved and not budget.exhausted:
        improved = False
        total_w = sum(s[0] for s in spares)
        total_v = sum(s[1] for s in spares)
        for j in sorted(range(len(bins)), key=lambda j: (-costs[j], j)):
            # The least saving first: the smallest change is the likeliest to work.
            for target in sorted(
                (t for t in types if t.cost < costs[j]), key=lambda t: (-t.cost, -t.kg, -t.m3)
            ):
                budget.spend(1)
                if (
                    bins[j].weight - target.kg > total_w - spares[j][0]
                    or bins[j].volume - target.m3 > total_v - spares[j][1]
                ):
                    continue  # the other loads cannot take the excess between them
                moves = _unloading(k, bins, costs, j, target, caps_upto, budget)
                if budget.exhausted:
                    return
                if moves is not None:
                    for i, receiver in moves:
                        bins[receiver].add(k, i, 1)
                        bins[j].add(k, i, -1)
                    costs[j] = cost_of(bins[j])
                    for o in {j, *(receiver for _, receiver in moves)}:
                        spares[o] = spare(o)
                    total_w = sum(s[0] for s in spares)
                    total_v = sum(s[1] for s in spares)
                    improved = True
                    break


def _unloading(
    k: _Kinds,
    bins: list[_Bin],
    costs: list[int],
    j: int,
    target: _Type,
    caps_upto: Callable[[int], list[tuple[float, float]]],
    budget: _Budget,
) -> list[tuple[int, int]] | None:
    """Moves (kind, receiving load) that make bins[j] fit `target`, smallest units first, each unit
    to the first load that takes it within vehicles no dearer than that load's; None if none."""
    b = bins[j]
    weight, volume = b.weight, b.volume
    extra: dict[int, tuple[float, float]] = {}
    moves: list[tuple[int, int]] = []
    kinds = sorted(b.counts, key=lambda i: (k.w[i] / target.kg + k.v[i] / target.m3, i))
    for i in kinds:
        for _ in range(b.counts[i]):
            if _within(weight, target.kg) and _within(volume, target.m3):
                return moves
            receiver = None
            for o, other in enumerate(bins):
                if o == j:
                    continue
                dw, dv = extra.get(o, (0.0, 0.0))
                w, v = other.weight + dw + k.w[i], other.volume + dv + k.v[i]
                if any(_within(w, kg) and _within(v, m3) for kg, m3 in caps_upto(costs[o])):
                    receiver = o
                    break
            budget.spend(1 + (len(bins) if receiver is None else receiver) * 1.2)
            if receiver is None or budget.exhausted:
                return None
            dw, dv = extra.get(receiver, (0.0, 0.0))
            extra[receiver] = (dw + k.w[i], dv + k.v[i])
            weight -= k.w[i]
            volume -= k.v[i]
            moves.append((i, receiver))
    return moves if _within(weight, target.kg) and _within(volume, target.m3) else None


# -- items: the planning pipeline -------------------------------------------------------------


def _single(bins: list[_Bin]) -> list[_Bin]:
    return [b.copy(1) for b in bins for _ in range(b.mult)]


def _plan_items(
    lines: tuple[Line, ...], fleet: _Fleet, budget: _Budget, exact: bool | None, cost_budget: _Budget
) -> Plan:
    """Bounds; first fit decreasing; if it misses the bound, the pattern LP (a better bound, and
    LP rounding); if it still misses and the order is small (or exact=True), the exact search; then
    the cost phase (exact search when small, else local search) within `cost_budget`."""
    k = _kinds(lines, fleet)
    bounds = _root_bounds(k, budget)
    if bounds.value > MAX_TRIPS:
        raise InfeasibleCargo(
            "too_many_trips", f"The order needs at least {bounds.value:,} trips with this fleet."
        )
    lower = bounds.value
    # Writing the plan out is not optional: set its cost aside (one row per trip, one count per line).
    budget.spend(lower * (20 + len(lines) / 2) + sum(k.n) * 2)
    best = _best_first_fit(k, fleet, k.n, budget)
    proved = best.trips <= lower
    if not proved:
        lp, usable = _lp(k, budget.part(0.6), best.trips, best.bins)
        lower = max(lower, lp.bound)
        bounds.duals = lp.duals + bounds.duals
        proved = best.trips <= lower
        if not proved and usable:
            rounded = _round_lp(k, fleet, lp, budget.part(0.6), bounds.duals)
            if _better(best, rounded):
                best = rounded
            proved = best.trips <= lower
    searched = False
    small = sum(k.n) <= EXACT_MAX_ITEMS
    if not proved and (exact is True or (exact is None and small)):
        found, done = _search_trips(k, k.n, bounds.duals, lower, best.trips, budget.part(0.9))
        if found is not None:
            best = _packing(fleet, found)
        proved = searched = done
    if not proved and best.trips <= 5000:
        best = _repack(k, fleet, _single(best.bins), bounds.duals, lower, budget.part(0.8))
        proved = best.trips <= lower
    bins = _single(best.bins) if best.trips <= 5000 else best.bins
    if len({t.cost for t in fleet.types}) > 1:
        bins = _lower_cost(
            k, fleet, best.trips, bins, bounds.duals, cost_budget, exact is True or (exact is None and small)
        )
    method = "exact" if searched else ("bound" if proved else "heuristic")
    return _emit_items(lines, k, fleet, bins, lower, proved, method)


def _repack(
    k: _Kinds, fleet: _Fleet, bins: list[_Bin], duals: list[list[float]], lower: int, budget: _Budget
) -> _Packing:
    """Large neighbourhood search: a few loads (the emptiest, then random picks from a fixed seed,
    so still deterministic) are re-packed by the exact search into one load fewer, while the budget
    lasts and the plan is above the bound."""
    rng = random.Random(len(bins))  # noqa: S311 - not for secrets: a fixed seed, the same input takes the same steps
    top_kg = max(c[0] for c in k.caps)
    top_m3 = max(c[1] for c in k.caps)
    failures = 0
    while len(bins) > lower and failures < 40 and not budget.exhausted:
        size = min(len(bins), 3 + failures % 4)
        by_room = sorted(
            range(len(bins)), key=lambda j: (max(bins[j].weight / top_kg, bins[j].volume / top_m3), j)
        )
        if failures < 4:
            picked = by_room[:size]
        else:  # the emptiest load and some others
            picked = [by_room[0], *rng.sample(by_room[1:], size - 1)]
        merged: dict[int, int] = {}
        for j in picked:
            for i, c in bins[j].counts.items():
                merged[i] = merged.get(i, 0) + c
        kinds = sorted(merged)  # a small instance of just these units (kinds keep their order)
        sub = _Kinds(
            w=tuple(k.w[i] for i in kinds),
            v=tuple(k.v[i] for i in kinds),
            n=tuple(merged[i] for i in kinds),
            lines=tuple(() for _ in kinds),
            caps=k.caps,
        )
        sub_duals = [[u[i] for i in kinds] for u in duals]
        floor = max(1, max((_bound(u, sub.n) for u in sub_duals), default=1))
        found = None
        if floor < size:
            found, _ = _search_trips(sub, sub.n, sub_duals, size - 1, size, budget.part(0.25))
        if found is None:
            failures += 1
            continue
        keep = [b for j, b in enumerate(bins) if j not in set(picked)]
        bins = keep + [_Bin({kinds[i]: c for i, c in b.counts.items()}, b.weight, b.volume) for b in found]
    return _packing(fleet, bins)


def _lower_cost(
    k: _Kinds,
    fleet: _Fleet,
    trips: int,
    bins: list[_Bin],
    duals: list[list[float]],
    budget: _Budget,
    search: bool,
) -> list[_Bin]:
    """Same trips, lower cost: the exact cost search when `search`, the local search otherwise."""
    incumbent = _packing(fleet, bins).cost
    if search:
        found, _ = _search_cost(k, fleet, trips, duals, incumbent, budget.part(0.9))
        if found is not None:
            return found
    if all(b.mult == 1 for b in bins):
        _cheapen(k, fleet, bins, budget.part(0.9))
    return bins


def _emit_items(
    lines: tuple[Line, ...], k: _Kinds, fleet: _Fleet, bins: list[_Bin], lower: int, proved: bool, method: str
) -> Plan:
    loads = _single(bins)
    types = _assign_types(fleet, [(b.weight, b.volume) for b in loads])
    trips = [
        _Trip(t, b.weight, b.volume, None, tuple(sorted(b.counts.items())))
        for t, b in zip(types, loads, strict=True)
    ]
    left = [line.count for line in lines]
    cursor = [0] * k.m  # per kind: its first line with units left (units go to lines in input order)
    out = []
    cost = 0
    for vehicle, number, trip in _schedule(fleet, trips):
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
        v = fleet.vehicles[vehicle]
        cost += v.cost_per_trip
        out.append(Load(v.id, number, None, tuple(items), weight, volume, *utilization(weight, volume, v)))
    assert not any(left)
    return Plan(tuple(out), len(out), cost, lower, proved or len(out) <= lower, method)


# -- the API ----------------------------------------------------------------------------------


def plan(
    cargo: Cargo,
    vehicles: Sequence[Vehicle],
    *,
    time_budget_ms: float = DEFAULT_BUDGET_MS,
    exact: bool | None = None,
) -> Plan:
    """The plan with the fewest trips, then the lowest cost, then the least busy busiest vehicle.

    exact=None: the exact search when affordable (up to EXACT_MAX_ITEMS items), the heuristics
    (first fit decreasing, LP rounding, cost local search) beyond; time_budget_ms bounds the work
    (counted in deterministic units, see WORK_UNITS_PER_MS). exact=True: the trips search runs to
    the end (may be slow); the cost search gets EXACT_COST_BUDGET_FACTOR times the budget.
    exact=False: heuristics only. Raises InfeasibleCargo (empty_order, no_vehicles,
    item_fits_no_vehicle, bulk_fits_no_vehicle, too_many_trips); ValueError on malformed input
    (duplicate vehicle ids, non-positive capacities, negative counts)."""
    _check_cargo_not_empty(cargo)
    fleet = _fleet(vehicles)
    units = max(0.0, time_budget_ms) * WORK_UNITS_PER_MS
    budget = _Budget(None if exact is True else units)
    if isinstance(cargo, Bulk):
        return _plan_bulk(cargo, fleet, budget)
    cost_budget = _Budget(units * EXACT_COST_BUDGET_FACTOR) if exact is True else budget
    return _plan_items(tuple(cargo), fleet, budget, exact, cost_budget)


def lower_bound(cargo: Cargo, vehicles: Sequence[Vehicle]) -> int:
    """A valid lower bound on the trips of any plan (the same bounds plan() reports)."""
    _check_cargo_not_empty(cargo)
    fleet = _fleet(vehicles)
    if isinstance(cargo, Bulk):
        most = max(_bulk_capacity(cargo, t.kg, t.m3) for t in fleet.types)
        if most == 0:
            raise InfeasibleCargo("bulk_fits_no_vehicle", "No vehicle carries even 1 kg of this cargo.")
        return -(-cargo.weight_kg // most)
    k = _kinds(tuple(cargo), fleet)
    bounds = _root_bounds(k, _Budget(None))
    lp, _ = _lp(k, _Budget(DEFAULT_BUDGET_MS * WORK_UNITS_PER_MS / 2), None)
    return max(bounds.value, lp.bound)


def _check_cargo_not_empty(cargo: Cargo) -> None:
    if isinstance(cargo, Bulk):
        if cargo.weight_kg <= 0:
            raise InfeasibleCargo("empty_order", "The order weighs nothing.")
        if not math.isfinite(cargo.volume_m3) or cargo.volume_m3 < 0:
            raise ValueError("bulk volume_m3 must be a number >= 0")
    elif not cargo or all(line.count == 0 for line in cargo):
        raise InfeasibleCargo("empty_order", "The order has no items.")


# -- checking a (hand-edited) plan ------------------------------------------------------------


def check(
    cargo: Cargo, vehicles: Sequence[Vehicle], loads: Sequence[tuple[str, int | None, Sequence[int]]]
) -> list[Violation]:
    """Every rule but optimality, for a plan given as (vehicle_id, bulk_kg or None, item counts per
    line) per load: known vehicles, whole non-negative quantities of the right cargo kind, each load
    within its vehicle's weight and volume (up to REL_TOLERANCE), and the loads adding up to the
    order exactly. An empty list means the plan is valid."""
    by_id = {v.id: v for v in vehicles}
    problems: list[Violation] = []
    bulk = cargo if isinstance(cargo, Bulk) else None
    lines: tuple[Line, ...] = () if isinstance(cargo, Bulk) else tuple(cargo)
    carried = [0] * len(lines)
    bulk_total = 0
    for index, (vehicle_id, bulk_kg, items) in enumerate(loads):
        name = f"load {index + 1}"
        vehicle = by_id.get(vehicle_id)
        if vehicle is None:
            problems.append(
                Violation(index, "unknown_vehicle", f"{name}: vehicle {vehicle_id} is not in the fleet")
            )
        name = f"{name} (vehicle {vehicle_id})"
        measured = _measure_load(index, name, bulk, lines, bulk_kg, items, problems)
        if measured is None:
            continue
        weight, volume, counts = measured
        if bulk is not None:
            bulk_total += bulk_kg or 0
        else:
            carried = [a + b for a, b in zip(carried, counts, strict=True)]
        if vehicle is not None:
            problems.extend(_capacity_violations(index, name, vehicle, weight, volume))
    if bulk is not None and bulk_total != bulk.weight_kg:
        problems.append(
            Violation(
                None,
                "bulk_mismatch",
                f"the loads carry {bulk_total:,} kg of the order's {bulk.weight_kg:,} kg",
            )
        )
    for i, line in enumerate(lines):
        if carried[i] != line.count:
            label = f"line {i + 1}" + (f" ({line.description})" if line.description else "")
            problems.append(
                Violation(
                    None, "items_mismatch", f"{label}: the loads carry {carried[i]:,} of {line.count:,} units"
                )
            )
    return problems


def _measure_load(
    index: int,
    name: str,
    bulk: Bulk | None,
    lines: tuple[Line, ...],
    bulk_kg: int | None,
    items: Sequence[int],
    problems: list[Violation],
) -> tuple[float, float, list[int]] | None:
    """(weight, volume, counts) of one load, or None after recording why it cannot be measured."""
    if bulk is not None:
        if bulk_kg is None or len(items):
            problems.append(
                Violation(index, "wrong_cargo_kind", f"{name}: the order is bulk: give kilograms, not items")
            )
            return None
        if isinstance(bulk_kg, bool) or not isinstance(bulk_kg, int):
            problems.append(
                Violation(index, "bulk_mismatch", f"{name}: {bulk_kg!r} is not a whole number of kg")
            )
            return None
        if bulk_kg < 0:
            problems.append(Violation(index, "negative_quantity", f"{name}: {bulk_kg:,} kg is negative"))
            return None
        return float(bulk_kg), _bulk_volume(bulk, bulk_kg), []
    if bulk_kg is not None:
        problems.append(
            Violation(index, "wrong_cargo_kind", f"{name}: the order is items: give counts per line, not kg")
        )
        return None
    if len(items) != len(lines):
        problems.append(
            Violation(
                index, "items_mismatch", f"{name}: {len(items)} counts for the order's {len(lines)} lines"
            )
        )
        return None
    counts = list(items)
    for i, c in enumerate(counts):
        if isinstance(c, bool) or not isinstance(c, int):
            problems.append(
                Violation(
                    index, "items_mismatch", f"{name}, line {i + 1}: {c!r} is not a whole number of units"
                )
            )
            return None
        if c < 0:
            problems.append(
                Violation(index, "negative_quantity", f"{name}, line {i + 1}: {c:,} units is negative")
            )
            return None
    weight = sum(c * line.unit_weight_kg for c, line in zip(counts, lines, strict=True))
    volume = sum(c * line.unit_volume_m3 for c, line in zip(counts, lines, strict=True))
    return weight, volume, counts


def _capacity_violations(
    index: int, name: str, vehicle: Vehicle, weight: float, volume: float
) -> list[Violation]:
    out = []
    if not _within(weight, vehicle.capacity_kg, REL_TOLERANCE):
        out.append(
            Violation(
                index,
                "overweight",
                f"{name}: {_fmt_kg(weight)} is over its {_fmt_kg(vehicle.capacity_kg)} limit",
            )
        )
    if not _within(volume, vehicle.capacity_m3, REL_TOLERANCE):
        out.append(
            Violation(
                index,
                "overvolume",
                f"{name}: {_fmt_m3(volume)} is over its {_fmt_m3(vehicle.capacity_m3)} limit",
            )
        )
    return out
