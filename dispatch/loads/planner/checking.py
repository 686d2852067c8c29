"""Checking a (hand-edited) plan: every rule but optimality (PLANNER.md, "Checking a plan")."""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.loads.planner.model import (
    REL_TOLERANCE,
    Bulk,
    Cargo,
    Line,
    Vehicle,
    Violation,
    fmt_kg,
    fmt_m3,
    measure,
    within,
)


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
        return *measure(bulk, bulk_kg, ()), []
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
    return *measure(lines, None, counts), counts


def _capacity_violations(
    index: int, name: str, vehicle: Vehicle, weight: float, volume: float
) -> list[Violation]:
    out = []
    if not within(weight, vehicle.capacity_kg, REL_TOLERANCE):
        out.append(
            Violation(
                index,
                "overweight",
                f"{name}: {fmt_kg(weight)} is over its {fmt_kg(vehicle.capacity_kg)} limit",
            )
        )
    if not within(volume, vehicle.capacity_m3, REL_TOLERANCE):
        out.append(
            Violation(
                index,
                "overvolume",
                f"{name}: {fmt_m3(volume)} is over its {fmt_m3(vehicle.capacity_m3)} limit",
            )
        )
    return out
