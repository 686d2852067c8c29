"""`plan()` and `lower_bound()`: the stages in order (PLANNER.md, "Rules, objective and the
pipeline"). Bulk goes to its closed form; items go through bounds, first fit, the pattern LP and its
rounding, the exact search or repacking, then the cost phase, and are written out."""

from __future__ import annotations

import math
from collections.abc import Sequence

from dispatch.loads.planner.assign import emit_items
from dispatch.loads.planner.bounds import root_bounds
from dispatch.loads.planner.budget import (
    DEFAULT_BUDGET_MS,
    EXACT_COST_BUDGET_FACTOR,
    EXACT_MAX_ITEMS,
    WORK_UNITS_PER_MS,
    Budget,
)
from dispatch.loads.planner.bulk import bulk_capacity, plan_bulk
from dispatch.loads.planner.cost import lower_cost
from dispatch.loads.planner.lp import pattern_lp
from dispatch.loads.planner.model import (
    MAX_TRIPS,
    Bulk,
    Cargo,
    Fleet,
    InfeasibleCargo,
    Line,
    Plan,
    Vehicle,
    better,
    fleet_of,
    kinds_of,
    packing_of,
    single,
)
from dispatch.loads.planner.packing import best_first_fit, round_lp
from dispatch.loads.planner.search import repack, search_trips


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
    fleet = fleet_of(vehicles)
    units = max(0.0, time_budget_ms) * WORK_UNITS_PER_MS
    budget = Budget(None if exact is True else units)
    if isinstance(cargo, Bulk):
        return plan_bulk(cargo, fleet, budget)
    cost_budget = Budget(units * EXACT_COST_BUDGET_FACTOR) if exact is True else budget
    return _plan_items(tuple(cargo), fleet, budget, exact, cost_budget)


def lower_bound(cargo: Cargo, vehicles: Sequence[Vehicle]) -> int:
    """A valid lower bound on the trips of any plan (the same bounds plan() reports)."""
    _check_cargo_not_empty(cargo)
    fleet = fleet_of(vehicles)
    if isinstance(cargo, Bulk):
        most = max(bulk_capacity(cargo, t.kg, t.m3) for t in fleet.types)
        if most == 0:
            raise InfeasibleCargo("bulk_fits_no_vehicle", "No vehicle carries even 1 kg of this cargo.")
        return -(-cargo.weight_kg // most)
    k = kinds_of(tuple(cargo), fleet)
    bounds = root_bounds(k, Budget(None))
    lp, _ = pattern_lp(k, Budget(DEFAULT_BUDGET_MS * WORK_UNITS_PER_MS / 2), None)
    return max(bounds.value, lp.bound)


def _check_cargo_not_empty(cargo: Cargo) -> None:
    if isinstance(cargo, Bulk):
        if cargo.weight_kg <= 0:
            raise InfeasibleCargo("empty_order", "The order weighs nothing.")
        if not math.isfinite(cargo.volume_m3) or cargo.volume_m3 < 0:
            raise ValueError("bulk volume_m3 must be a number >= 0")
    elif not cargo or all(line.count == 0 for line in cargo):
        raise InfeasibleCargo("empty_order", "The order has no items.")


def _plan_items(
    lines: tuple[Line, ...], fleet: Fleet, budget: Budget, exact: bool | None, cost_budget: Budget
) -> Plan:
    """Bounds; first fit decreasing; if it misses the bound, the pattern LP (a better bound, and
    LP rounding); if it still misses and the order is small (or exact=True), the exact search; then
    the cost phase (exact search when small, else local search) within `cost_budget`."""
    k = kinds_of(lines, fleet)
    bounds = root_bounds(k, budget)
    if bounds.value > MAX_TRIPS:
        raise InfeasibleCargo(
            "too_many_trips", f"The order needs at least {bounds.value:,} trips with this fleet."
        )
    lower = bounds.value
    # Writing the plan out is not optional: set its cost aside (one row per trip, one count per line).
    budget.spend(lower * (20 + len(lines) / 2) + sum(k.n) * 2)
    best = best_first_fit(k, fleet, k.n, budget)
    proved = best.trips <= lower
    if not proved:
        lp, usable = pattern_lp(k, budget.part(0.6), best.trips, best.bins)
        lower = max(lower, lp.bound)
        bounds.duals = lp.duals + bounds.duals
        proved = best.trips <= lower
        if not proved and usable:
            rounded = round_lp(k, fleet, lp, budget.part(0.6), bounds.duals)
            if better(best, rounded):
                best = rounded
            proved = best.trips <= lower
    searched = False
    small = sum(k.n) <= EXACT_MAX_ITEMS
    if not proved and (exact is True or (exact is None and small)):
        found, done = search_trips(k, k.n, bounds.duals, lower, best.trips, budget.part(0.9))
        if found is not None:
            best = packing_of(fleet, found)
        proved = searched = done
    if not proved and best.trips <= 5000:
        best = repack(k, fleet, single(best.bins), bounds.duals, lower, budget.part(0.8))
        proved = best.trips <= lower
    bins = single(best.bins) if best.trips <= 5000 else best.bins
    if len({t.cost for t in fleet.types}) > 1:
        bins = lower_cost(
            k, fleet, best.trips, bins, bounds.duals, cost_budget, exact is True or (exact is None and small)
        )
    method = "exact" if searched else ("bound" if proved else "heuristic")
    return emit_items(lines, k, fleet, bins, lower, proved, method)
