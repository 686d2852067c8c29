"""The load planner on hand-made cases: splits, costs, repeat trips, infeasible orders, check()."""

import json
import os
import subprocess
import sys

import pytest

from dispatch.loads import planner
from dispatch.loads.planner import Bulk, InfeasibleCargo, Line, Vehicle, check, lower_bound, plan
from tests.planner_support import assert_valid

TRUCK = Vehicle("B-XY 1", 25_000, 90, 45_000)


def coils(count: int, kg: float = 24_000, m3: float = 3.2) -> tuple[Line, ...]:
    return (Line(count, kg, m3, "hot-rolled coil"),)


def test_120_t_of_24_t_coils_on_25_t_trucks_is_5_trips():
    fleet = [TRUCK, Vehicle("B-XY 2", 25_000, 90, 45_000)]
    result = plan(coils(5), fleet)
    assert (result.trips, result.lower_bound, result.optimal) == (5, 5, True)
    assert all(load.items == (1,) for load in result.loads)
    assert result.cost == 5 * 45_000
    assert_valid(coils(5), fleet, result)


def test_sheets_that_cannot_ride_with_24_t_coils_need_their_own_trip():
    # 24 t + 1.5 t is over 25 t: the 9 t of sheet bundles go on a sixth trip, and the bound knows it.
    order = (Line(5, 24_000, 3.2, "coil"), Line(6, 1_500, 1.1, "sheet bundle"))
    result = plan(order, [TRUCK])
    assert (result.trips, result.lower_bound, result.optimal) == (6, 6, True)
    assert_valid(order, [TRUCK], result)


def test_bulk_100_t_on_a_25_t_truck_is_4_full_trips_numbered_1_to_4():
    order = Bulk(100_000, 130.0, "wheat")
    result = plan(order, [TRUCK])
    assert [load.bulk_kg for load in result.loads] == [25_000] * 4
    assert [load.trip for load in result.loads] == [1, 2, 3, 4]
    assert all(load.weight_utilization == 1.0 for load in result.loads)
    assert (result.trips, result.lower_bound, result.optimal, result.method) == (4, 4, True, "exact")
    assert_valid(order, [TRUCK], result)


def test_light_bulk_is_limited_by_volume():
    # 200 kg/m3 wood chips: 90 m3 hold 18 t, under the 25 t limit.
    order = Bulk(40_000, 200.0, "wood chips")
    result = plan(order, [TRUCK])
    assert [load.bulk_kg for load in result.loads] == [18_000, 18_000, 4_000]
    assert result.loads[0].volume_utilization == pytest.approx(1.0)
    assert result.loads[0].weight_utilization == pytest.approx(0.72)
    assert_valid(order, [TRUCK], result)


def test_bulk_too_light_for_any_vehicle_is_refused_only_if_no_vehicle_takes_a_kilogram():
    fluff = Bulk(1_000, 1_000_000.0, "foam flakes")  # 1 g per m3: 90 m3 hold 90 g
    with pytest.raises(InfeasibleCargo) as raised:
        plan(fluff, [TRUCK])
    assert raised.value.code == "bulk_fits_no_vehicle"
    big = Vehicle("silo", 25_000, 2_000, 0)  # 2 kg per trip
    result = plan(fluff, [TRUCK, big])
    assert result.trips == 500 and {load.vehicle_id for load in result.loads} == {"silo"}


def test_a_line_that_fits_no_vehicle_is_named_with_its_sizes_and_the_largest_capacities():
    order = (Line(2, 1_000, 1.0, "pallet"), Line(1, 30_000, 4.0, "slab"))
    with pytest.raises(InfeasibleCargo) as raised:
        plan(order, [TRUCK, Vehicle("small", 12_000, 50, 0)])
    assert raised.value.code == "item_fits_no_vehicle"
    assert "line 2 (slab)" in raised.value.detail
    assert "30,000 kg" in raised.value.detail and "25,000 kg" in raised.value.detail
    assert "90 m³" in raised.value.detail


def test_a_unit_within_each_largest_capacity_but_no_single_vehicle():
    fleet = [Vehicle("heavy", 40_000, 40, 0), Vehicle("mega", 24_000, 100, 0)]
    with pytest.raises(InfeasibleCargo) as raised:
        plan((Line(1, 30_000, 60.0, "transformer"),), fleet)
    assert raised.value.code == "item_fits_no_vehicle" and "no single vehicle" in raised.value.detail


@pytest.mark.parametrize("order", [(), (Line(0, 1_000, 1.0),), Bulk(0, 1.0)])
def test_an_empty_order_is_refused(order):
    with pytest.raises(InfeasibleCargo) as raised:
        plan(order, [TRUCK])
    assert raised.value.code == "empty_order"


def test_no_vehicles_is_refused():
    for order in (coils(1), Bulk(1_000, 1.0)):
        with pytest.raises(InfeasibleCargo) as raised:
            plan(order, [])
        assert raised.value.code == "no_vehicles"


def test_cost_breaks_the_tie_with_the_cheaper_vehicle_for_the_last_small_load():
    # Five 10 t coils: two per 25 t truck, so three trips; the fifth coil fits the cheap 12 t truck.
    fleet = [TRUCK, Vehicle("small", 12_000, 50, 20_000)]
    result = plan(coils(5, 10_000), fleet)
    assert result.trips == 3 and result.cost == 2 * 45_000 + 20_000
    assert sorted(load.vehicle_id for load in result.loads) == ["B-XY 1", "B-XY 1", "small"]
    assert_valid(coils(5, 10_000), fleet, result)


def test_equal_trips_are_rebalanced_for_the_cheaper_vehicle():
    # Four 8 t coils in two trips: 3 + 1 needs the 25 t truck; 2 + 2 rides two cheap 16 t trucks.
    fleet = [Vehicle("big", 25_000, 90, 100), Vehicle("mid", 16_000, 50, 60)]
    result = plan(coils(4, 8_000), fleet)
    assert (result.trips, result.cost) == (2, 120)


def test_bulk_slack_goes_to_a_cheaper_smaller_vehicle():
    fleet = [TRUCK, Vehicle("small", 12_000, 50, 20_000)]
    result = plan(Bulk(110_000, 130.0, "wheat"), fleet)
    assert result.trips == 5 and result.cost == 4 * 45_000 + 20_000
    assert_valid(Bulk(110_000, 130.0, "wheat"), fleet, result)


def test_repeat_trips_are_numbered_per_vehicle_and_spread_over_the_fleet():
    fleet = [Vehicle("A", 25_000, 90), Vehicle("B", 25_000, 90)]
    result = plan(coils(5), fleet)
    assert [(load.vehicle_id, load.trip) for load in result.loads] == [
        ("A", 1), ("B", 1), ("A", 2), ("B", 2), ("A", 3),
    ]  # fmt: skip
    one = plan(coils(4), [TRUCK])
    assert [load.trip for load in one.loads] == [1, 2, 3, 4]


def test_equally_cheap_vehicles_of_different_sizes_share_the_work():
    fleet = [Vehicle("big", 25_000, 90, 100), Vehicle("small", 12_000, 50, 100)]
    result = plan(coils(4, 11_000), fleet)  # two per 25 t truck, one per 12 t truck
    assert result.trips == 2 and result.cost == 200
    plan_of_three = plan(coils(3, 11_000), fleet)  # 2 trips: big carries 2, small carries 1
    assert {load.vehicle_id for load in plan_of_three.loads} == {"big", "small"}


def test_lines_with_the_same_unit_and_empty_lines_keep_their_place():
    order = (Line(3, 8_000, 2.0, "a"), Line(0, 5.0, 0.1, "none"), Line(2, 8_000, 2.0, "b"))
    result = plan(order, [TRUCK])
    assert result.trips == 2
    assert (
        sum(load.items[0] for load in result.loads) == 3 and sum(load.items[2] for load in result.loads) == 2
    )
    assert all(load.items[1] == 0 for load in result.loads)
    assert_valid(order, [TRUCK], result)


def test_many_small_units_are_planned_in_runs():
    order = (Line(100_000, 25.0, 0.04, "sack"), Line(500, 900.0, 1.5, "big bag"))
    result = plan(order, [TRUCK])
    assert result.trips == result.lower_bound == 118  # (2,500,000 + 450,000) kg / 25 t: every truck full
    assert_valid(order, [TRUCK], result)


def test_a_plan_is_the_same_under_another_hash_seed():
    request = {
        "cargo": {"kind": "items", "lines": [
            {"description": "coil", "count": 7, "unit_weight_kg": 13_000, "unit_volume_m3": 2.5},
            {"description": "pallet", "count": 23, "unit_weight_kg": 700, "unit_volume_m3": 1.8},
            {"description": "pipe", "count": 5, "unit_weight_kg": 3_000, "unit_volume_m3": 9.0},
        ]},
        "vehicles": [
            {"id": "A", "capacity_kg": 25_000, "capacity_m3": 90, "cost_per_trip": 500},
            {"id": "B", "capacity_kg": 12_000, "capacity_m3": 50, "cost_per_trip": 300},
            {"id": "C", "capacity_kg": 40_000, "capacity_m3": 60, "cost_per_trip": 700},
        ],
    }  # fmt: skip
    code = "import sys; from dispatch.loads.plan_cli import main; print(main(sys.stdin.read())[1])"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            check=True,
            env=os.environ | {"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "4242")
    }
    assert len(outputs) == 1 and json.loads(outputs.pop())["trips"] > 0


def test_lower_bound_matches_the_plans():
    assert lower_bound(coils(5), [TRUCK]) == 5
    assert lower_bound(Bulk(100_001, 10.0), [TRUCK]) == 5
    # 2.4 m3 pallets: 37 to a 90 m3 truck, not 37.5: 1,000 need 28 trips, not 27.
    pallets = (Line(1_000, 400.0, 2.4, "pallet"),)
    assert lower_bound(pallets, [TRUCK]) == plan(pallets, [TRUCK]).trips == 28


def test_malformed_input_is_a_value_error():
    with pytest.raises(ValueError, match="duplicate"):
        plan(coils(1), [TRUCK, TRUCK])
    with pytest.raises(ValueError, match="capacity_kg"):
        plan(coils(1), [Vehicle("x", 0, 90)])
    with pytest.raises(ValueError, match="negative"):
        plan((Line(-1, 1.0, 1.0),), [TRUCK])


# -- check() ----------------------------------------------------------------------------------


def test_check_names_the_overweight_load_its_vehicle_and_the_limit():
    order = (Line(5, 24_000, 3.2, "coil"), Line(6, 1_500, 1.1, "sheet"))
    loads = [("B-XY 1", None, [2, 6]), *[("B-XY 1", None, [1, 0]) for _ in range(3)]]
    problems = check(order, [TRUCK], loads)
    assert [(p.load, p.code) for p in problems] == [(0, "overweight")]
    assert "B-XY 1" in problems[0].detail and "25,000 kg" in problems[0].detail
    assert "57,000 kg" in problems[0].detail and problems[0].detail.startswith("load 1 ")


def test_check_accepts_a_valid_plan_and_exactly_full_loads():
    order = (Line(3, 0.1, 0.1, "box"),)  # 3 x 0.1 is 0.30000000000000004 in floats
    assert check(order, [Vehicle("v", 0.3, 0.3)], [("v", None, [3])]) == []
    result = plan(coils(5), [TRUCK])
    assert check(coils(5), [TRUCK], [(x.vehicle_id, x.bulk_kg, x.items) for x in result.loads]) == []


def test_check_finds_every_kind_of_broken_rule():
    order = (Line(2, 1_000, 1.0, "pallet"), Line(1, 500, 50.0, "foam"))
    problems = check(
        order,
        [TRUCK],
        [("B-XY 1", None, [1, 1]), ("ghost", None, [1, 0]), ("B-XY 1", None, [1, -1]), ("B-XY 1", 5, [])],
    )
    assert {(p.load, p.code) for p in problems} == {
        (1, "unknown_vehicle"),
        (2, "negative_quantity"),
        (3, "wrong_cargo_kind"),
    }
    short = check(order, [TRUCK], [("B-XY 1", None, [1, 1])])
    assert [(p.load, p.code) for p in short] == [(None, "items_mismatch")] and "1 of 2" in short[0].detail
    wrong_length = check(order, [TRUCK], [("B-XY 1", None, [2])])
    assert (wrong_length[0].load, wrong_length[0].code) == (0, "items_mismatch")
    bulky = check(order, [Vehicle("van", 5_000, 40)], [("van", None, [2, 1])])
    assert [(p.load, p.code) for p in bulky] == [(0, "overvolume")]


def test_check_bulk():
    wheat = Bulk(60_000, 80.0, "wheat")
    assert (
        check(wheat, [TRUCK], [("B-XY 1", 25_000, []), ("B-XY 1", 25_000, []), ("B-XY 1", 10_000, [])]) == []
    )
    problems = check(wheat, [TRUCK], [("B-XY 1", 30_000, []), ("B-XY 1", 25_000, []), ("B-XY 1", None, [1])])
    assert {(p.load, p.code) for p in problems} == {
        (0, "overweight"),
        (2, "wrong_cargo_kind"),
        (None, "bulk_mismatch"),
    }


def test_plans_of_every_method_pass_check():
    fleet = [TRUCK, Vehicle("small", 12_000, 50, 20_000)]
    order = tuple(Line(1, 5_000 + 900 * i, 2.0 + i / 10, f"coil {i}") for i in range(18))
    for exact in (None, True, False):
        result = plan(order, fleet, exact=exact)
        assert check(order, fleet, [(x.vehicle_id, x.bulk_kg, x.items) for x in result.loads]) == []
        assert_valid(order, fleet, result)


def test_the_budget_bounds_the_work():
    # Two hundred individually weighed coils: planned well within the default budget.
    order = tuple(Line(1, 5_000 + (i * 7_919) % 19_000, 2.5, f"coil {i}") for i in range(200))
    result = plan(order, [TRUCK, Vehicle("B-XY 2", 26_000, 92, 46_000)], time_budget_ms=30)
    assert result.trips <= result.lower_bound * 1.05
    assert planner.WORK_UNITS_PER_MS > 0
