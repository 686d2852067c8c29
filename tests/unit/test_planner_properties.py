"""Properties of the load planner on random orders and fleets: every plan keeps every rule (checked
here from scratch, and by check()), infeasible orders are refused with the right code exactly when
they are infeasible (decided here independently), bounds are valid, plans are deterministic, and
the heuristic stays within one trip of the exact optimum on small orders."""

import math
import random

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dispatch.loads.planner import Bulk, InfeasibleCargo, Line, Vehicle, check, lower_bound, plan
from tests.planner_support import TOLERANCE, assert_valid, naive_trips

BUDGET_MS = 20.0  # keeps the suite fast; correctness does not depend on it
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

capacity_kg = st.sampled_from([7_500.0, 12_000.0, 24_000.0, 25_000.0, 26_000.0, 40_000.0]) | st.floats(
    200, 40_000
)
capacity_m3 = st.sampled_from([35.0, 50.0, 80.0, 90.0, 100.0]) | st.floats(1, 120)
costs = st.integers(0, 100_000)


@st.composite
def fleets(draw: st.DrawFn) -> list[Vehicle]:
    size = draw(st.integers(1, 6))
    if draw(st.booleans()):  # one vehicle type
        kg, m3, cost = draw(capacity_kg), draw(capacity_m3), draw(costs)
        return [Vehicle(f"T-{j}", kg, m3, cost) for j in range(size)]
    return [Vehicle(f"V-{j}", draw(capacity_kg), draw(capacity_m3), draw(costs)) for j in range(size)]


unit_kg = st.sampled_from([25.0, 700.0, 1_500.0, 8_000.0, 12_500.0, 13_000.0, 24_000.0]) | st.floats(
    1, 30_000
)
unit_m3 = st.sampled_from([0.04, 1.2, 2.4, 3.2, 30.0]) | st.floats(0.001, 60)


@st.composite
def item_orders(draw: st.DrawFn, most: int = 60) -> tuple[Line, ...]:
    n_lines = draw(st.integers(1, 5))
    counts = draw(st.lists(st.integers(0, most), min_size=n_lines, max_size=n_lines))
    while sum(counts) > most:
        counts = [c // 2 for c in counts]
    return tuple(Line(c, draw(unit_kg), draw(unit_m3), f"line {j}") for j, c in enumerate(counts))


bulk_orders = st.builds(
    Bulk, weight_kg=st.integers(1, 2_000_000), volume_m3=st.floats(0.01, 5_000), description=st.just("bulk")
)


def carries(fleet: list[Vehicle], w: float, v: float, slack: float) -> bool:
    return any(w <= x.capacity_kg * (1 + slack) and v <= x.capacity_m3 * (1 + slack) for x in fleet)


def expected_refusal(order: Bulk | tuple[Line, ...], fleet: list[Vehicle]) -> str | None:
    """The code an infeasible order must be refused with, decided without the planner (inputs a
    float's breadth from a capacity are skipped: either answer is right there)."""
    if isinstance(order, Bulk):
        most = max(min(x.capacity_kg, x.capacity_m3 * order.weight_kg / order.volume_m3) for x in fleet)
        assume(abs(most - 1) > 1e-6)
        return "bulk_fits_no_vehicle" if most < 1 else None
    if sum(line.count for line in order) == 0:
        return "empty_order"
    for line in order:
        if line.count:
            strict = carries(fleet, line.unit_weight_kg, line.unit_volume_m3, 0.0)
            loose = carries(fleet, line.unit_weight_kg, line.unit_volume_m3, TOLERANCE)
            assume(strict == loose)
            if not strict:
                return "item_fits_no_vehicle"
    return None


def planned(order: Bulk | tuple[Line, ...], fleet: list[Vehicle], **options: object):
    refusal = expected_refusal(order, fleet)
    try:
        result = plan(order, fleet, time_budget_ms=BUDGET_MS, **options)  # type: ignore[arg-type]
    except InfeasibleCargo as exc:
        assert exc.code == refusal, exc.detail
        return None
    assert refusal is None
    return result


def assert_rules(order: Bulk | tuple[Line, ...], fleet: list[Vehicle], result) -> None:
    assert_valid(order, fleet, result)
    assert check(order, fleet, [(x.vehicle_id, x.bulk_kg, x.items) for x in result.loads]) == []
    # Bounds no plan can beat: total weight and volume over the largest capacities.
    if isinstance(order, Bulk):
        weight, volume = order.weight_kg, order.volume_m3
    else:
        weight = sum(line.count * line.unit_weight_kg for line in order)
        volume = sum(line.count * line.unit_volume_m3 for line in order)
        assert result.lower_bound <= naive_trips(order, fleet)  # the bound never exceeds a real plan
    top_kg = max(x.capacity_kg for x in fleet) * (1 + TOLERANCE)
    top_m3 = max(x.capacity_m3 for x in fleet) * (1 + TOLERANCE)
    assert result.trips >= math.ceil(weight / top_kg - 1e-9) and result.trips >= math.ceil(
        volume / top_m3 - 1e-9
    )


@SETTINGS
@given(item_orders(), fleets())
def test_item_plans_keep_every_rule(order, fleet):
    result = planned(order, fleet)
    if result is not None:
        assert_rules(order, fleet, result)
        assert result.lower_bound <= lower_bound(order, fleet) <= result.trips or result.optimal


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item_orders(most=400), fleets())
def test_larger_item_plans_keep_every_rule(order, fleet):
    result = planned(order, fleet)
    if result is not None:
        assert_rules(order, fleet, result)


@SETTINGS
@given(bulk_orders, fleets())
def test_bulk_plans_keep_every_rule_and_are_optimal(order, fleet):
    result = planned(order, fleet)
    if result is not None:
        assert_rules(order, fleet, result)
        most = max(
            math.floor(min(x.capacity_kg, x.capacity_m3 * order.weight_kg / order.volume_m3) + 1e-6)
            for x in fleet
        )
        assert result.trips == math.ceil(order.weight_kg / most) and result.optimal


@SETTINGS
@given(item_orders(most=40) | bulk_orders, fleets(), st.randoms(use_true_random=False))
def test_plans_are_deterministic_and_do_not_depend_on_the_fleet_order(order, fleet, rng: random.Random):
    first = planned(order, fleet)
    if first is None:
        return
    assert plan(order, fleet, time_budget_ms=BUDGET_MS) == first
    shuffled = list(fleet)
    rng.shuffle(shuffled)
    again = plan(order, shuffled, time_budget_ms=BUDGET_MS)
    assert (again.trips, again.cost, again.lower_bound) == (first.trips, first.cost, first.lower_bound)
    busiest = max(sum(1 for x in first.loads if x.vehicle_id == v.id) for v in fleet)
    assert busiest == max(sum(1 for x in again.loads if x.vehicle_id == v.id) for v in fleet)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(item_orders(most=14), fleets())
def test_exact_is_never_worse_and_the_heuristic_within_one_trip(order, fleet):
    exact = planned(order, fleet, exact=True)
    if exact is None:
        return
    heuristic = plan(order, fleet, time_budget_ms=BUDGET_MS, exact=False)
    default = plan(order, fleet, time_budget_ms=BUDGET_MS)
    assert exact.optimal and exact.trips <= min(heuristic.trips, default.trips)
    assert heuristic.trips <= exact.trips + 1 and default.trips <= exact.trips + 1
    assert exact.lower_bound <= exact.trips
    assert_rules(order, fleet, exact)
    assert_rules(order, fleet, heuristic)
