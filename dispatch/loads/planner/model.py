"""The planner's model: its public types, the fleet's vehicle types, the kinds of an item order,
loads while packing, and the tolerance every stage checks capacities with (PLANNER.md, "Model").

Vehicles that share (capacity_kg, capacity_m3, cost_per_trip) form a *type*; item lines that share
a unit (weight, volume) form a *kind*. A load is a count of units per kind. Trips come first, so
while packing a load only has to fit one of the Pareto-maximal capacities (`Fleet.caps`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

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


MANY = 1 << 62  # "unlimited" units (a unit with zero weight or volume)
MAX_TRIPS = 100_000  # a plan is one row per trip: refuse absurd orders rather than build them


# -- the tolerance ----------------------------------------------------------------------------

# Float sums of exactly-full loads land a few ulps either side of the capacity: check() accepts a
# load up to capacity * (1 + REL_TOLERANCE). The planner packs within half of that, so that its own
# plans always pass check() whatever order the sums are taken in.
REL_TOLERANCE = 1e-9
PACK_TOLERANCE = REL_TOLERANCE / 2


def limit(capacity: float, tolerance: float = PACK_TOLERANCE) -> float:
    """The most a load may hold on `capacity`: a few ulps over it."""
    return capacity + capacity * tolerance


def within(amount: float, capacity: float, tolerance: float = PACK_TOLERANCE) -> bool:
    """One dimension of fits(): `amount` is at most `capacity`, up to the tolerance."""
    return amount <= capacity + capacity * tolerance


def fits(weight: float, volume: float, kg: float, m3: float, tolerance: float = PACK_TOLERANCE) -> bool:
    """A load of `weight` kg and `volume` m³ fits a capacity of `kg` and `m3` (up to the tolerance)."""
    return weight <= kg + kg * tolerance and volume <= m3 + m3 * tolerance


def fits_vehicle(weight_kg: float, volume_m3: float, vehicle: Vehicle) -> bool:
    """The capacity rule of check(): a load fits its vehicle up to REL_TOLERANCE."""
    return fits(weight_kg, volume_m3, vehicle.capacity_kg, vehicle.capacity_m3, REL_TOLERANCE)


def measure(cargo: Cargo, bulk_kg: int | None, items: Sequence[int]) -> tuple[float, float]:
    """(weight, volume) of one load: its bulk kilograms, or its units per line of an item order
    (summed in line order: the floats check() compares)."""
    if isinstance(cargo, Bulk):
        kg = bulk_kg or 0
        return float(kg), bulk_volume(cargo, kg)
    return (
        sum(c * line.unit_weight_kg for c, line in zip(items, cargo, strict=True)),
        sum(c * line.unit_volume_m3 for c, line in zip(items, cargo, strict=True)),
    )


def bulk_volume(bulk: Bulk, kg: int) -> float:
    """Bulk volume is proportional to its weight."""
    return bulk.volume_m3 * kg / bulk.weight_kg


# -- the fleet: vehicle types -----------------------------------------------------------------


@dataclass(frozen=True)
class VehicleType:
    kg: float
    m3: float
    cost: int
    vehicles: tuple[int, ...]  # indices into the input fleet, in input order


@dataclass(frozen=True)
class Fleet:
    vehicles: tuple[Vehicle, ...]
    types: tuple[VehicleType, ...]  # canonical order: more kg, then more m³, then cheaper first
    caps: tuple[tuple[float, float], ...]  # Pareto-maximal (kg, m³): all that matters for trips
    by_cost: tuple[int, ...]  # type indices, cheapest first

    def cheapest(self, weight: float, volume: float) -> int | None:
        for t in self.by_cost:
            kind = self.types[t]
            if fits(weight, volume, kind.kg, kind.m3):
                return t
        return None


def fleet_of(vehicles: Sequence[Vehicle]) -> Fleet:
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
    types = tuple(VehicleType(kg, m3, cost, tuple(groups[(kg, m3, cost)])) for kg, m3, cost in keys)
    caps: list[tuple[float, float]] = []
    most_m3 = -1.0
    for kg, m3 in sorted({(t.kg, t.m3) for t in types}, key=lambda c: (-c[0], -c[1])):
        if m3 > most_m3:  # not dominated by a vehicle with at least as many kg
            caps.append((kg, m3))
            most_m3 = m3
    by_cost = tuple(sorted(range(len(types)), key=lambda t: (types[t].cost, t)))
    return Fleet(tuple(vehicles), types, tuple(caps), by_cost)


# -- items: kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kinds:
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
        return fits(self.w[i], self.v[i], cap[0], cap[1])

    def room(self, i: int, weight: float, volume: float, caps: Sequence[tuple[float, float]]) -> int:
        """Units of kind i that fit on top of a load, in any of `caps` that the load fits."""
        w, v = self.w[i], self.v[i]
        best = 0
        for kg, m3 in caps:
            # limit(), inlined: room() is the first fit's innermost step.
            kg_limit, m3_limit = kg + kg * PACK_TOLERANCE, m3 + m3 * PACK_TOLERANCE
            if weight > kg_limit or volume > m3_limit:
                continue
            units = min(
                int((kg_limit - weight) / w) if w > 0 else MANY,
                int((m3_limit - volume) / v) if v > 0 else MANY,
            )
            # The division may round either way: settle on the exact count.
            while units > 0 and (weight + units * w > kg_limit or volume + units * v > m3_limit):
                units -= 1
            while (
                units < MANY and weight + (units + 1) * w <= kg_limit and volume + (units + 1) * v <= m3_limit
            ):
                units += 1
            best = max(best, units)
        return best


def kinds_of(lines: tuple[Line, ...], fleet: Fleet) -> Kinds:
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
        if not any(fits(line.unit_weight_kg, line.unit_volume_m3, kg, m3) for kg, m3 in fleet.caps):
            raise InfeasibleCargo("item_fits_no_vehicle", _no_fit_detail(index, line, fleet))
        groups.setdefault((float(line.unit_weight_kg), float(line.unit_volume_m3)), []).append(index)
    top_kg = max(kg for kg, _ in fleet.caps)
    top_m3 = max(m3 for _, m3 in fleet.caps)
    order = sorted(groups, key=lambda u: (-max(u[0] / top_kg, u[1] / top_m3), -u[0], -u[1]))
    return Kinds(
        w=tuple(u[0] for u in order),
        v=tuple(u[1] for u in order),
        n=tuple(sum(lines[i].count for i in groups[u]) for u in order),
        lines=tuple(tuple(groups[u]) for u in order),
        caps=fleet.caps,
    )


def _no_fit_detail(index: int, line: Line, fleet: Fleet) -> str:
    top_kg = max(kg for kg, _ in fleet.caps)
    top_m3 = max(m3 for _, m3 in fleet.caps)
    name = f"line {index + 1}" + (f" ({line.description})" if line.description else "")
    unit = f"{fmt_kg(line.unit_weight_kg)} and {fmt_m3(line.unit_volume_m3)} per unit"
    largest = f"the largest vehicles carry {fmt_kg(top_kg)} and {fmt_m3(top_m3)}"
    both = (
        " (but no single vehicle both)"
        if line.unit_weight_kg <= top_kg and line.unit_volume_m3 <= top_m3
        else ""
    )
    return f"{name}: {unit}; {largest}{both}."


# -- loads while packing ----------------------------------------------------------------------


@dataclass
class Bin:
    counts: dict[int, int]  # units per kind (sparse: orders can have hundreds of kinds)
    weight: float
    volume: float
    mult: int = 1  # identical copies: first fit keeps runs of equal loads together

    def copy(self, mult: int) -> Bin:
        return Bin(dict(self.counts), self.weight, self.volume, mult)

    def add(self, k: Kinds, i: int, units: int) -> None:
        count = self.counts.get(i, 0) + units
        if count:
            self.counts[i] = count
        else:
            del self.counts[i]
        self.weight += units * k.w[i]
        self.volume += units * k.v[i]


def bin_of(k: Kinds, counts: Sequence[int]) -> Bin:
    b = Bin({}, 0.0, 0.0)
    for i, c in enumerate(counts):
        if c:
            b.add(k, i, c)
    return b


def single(bins: list[Bin]) -> list[Bin]:
    return [b.copy(1) for b in bins for _ in range(b.mult)]


@dataclass
class Packing:
    bins: list[Bin]
    trips: int
    cost: int


def packing_of(fleet: Fleet, bins: list[Bin]) -> Packing:
    cost = 0
    for b in bins:
        t = fleet.cheapest(b.weight, b.volume)
        assert t is not None, "a load fits no vehicle"
        cost += b.mult * fleet.types[t].cost
    return Packing(bins, sum(b.mult for b in bins), cost)


def better(a: Packing | None, b: Packing) -> bool:
    return a is None or (b.trips, b.cost) < (a.trips, a.cost)


# -- for people -------------------------------------------------------------------------------


def fmt_kg(kg: float) -> str:
    return f"{kg:,.0f} kg" if abs(kg - round(kg)) < 1e-6 else f"{kg:,.1f} kg"


def fmt_m3(m3: float) -> str:
    text = f"{m3:,.3f}".rstrip("0").rstrip(".")
    return f"{text} m³"


def utilization(weight_kg: float, volume_m3: float, vehicle: Vehicle) -> tuple[float, float]:
    """(weight, volume) utilization of a load on a vehicle, 0..1 for a load that fits."""
    return weight_kg / vehicle.capacity_kg, volume_m3 / vehicle.capacity_m3
