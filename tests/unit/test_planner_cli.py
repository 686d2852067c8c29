"""`dispatch plan` without the command line: plan_cli.main(stdin text) -> (exit code, output)."""

import json

import pytest

from dispatch.loads.plan_cli import main

TRUCK = {"id": "B-XY 1", "capacity_kg": 25_000, "capacity_m3": 90, "cost_per_trip": 45_000}
COILS = {"kind": "items", "lines": [
    {"description": "coil", "count": 5, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2},
    {"description": "sheet", "count": 6, "unit_weight_kg": 1_500, "unit_volume_m3": 1.1},
]}  # fmt: skip
NOTHING = {
    "kind": "items",
    "lines": [{"description": "x", "count": 0, "unit_weight_kg": 1, "unit_volume_m3": 1}],
}


def run(request: dict) -> tuple[int, str]:
    return main(json.dumps(request))


def test_items_plan():
    code, out = run({"cargo": COILS, "vehicles": [TRUCK, {**TRUCK, "id": "B-XY 2"}], "time_budget_ms": 50})
    assert code == 0
    plan = json.loads(out)
    assert out.startswith('{\n  "trips": 6,')  # pretty, two-space indent
    assert {k: plan[k] for k in ("trips", "cost", "lower_bound", "optimal")} == {
        "trips": 6, "cost": 270_000, "lower_bound": 6, "optimal": True,
    }  # fmt: skip
    trips = [(x["vehicle_id"], x["trip"]) for x in plan["loads"][:3]]
    assert trips == [("B-XY 1", 1), ("B-XY 2", 1), ("B-XY 1", 2)]
    first = plan["loads"][0]
    assert set(first) == {
        "vehicle_id", "trip", "weight_kg", "volume_m3", "weight_utilization", "volume_utilization", "items",
    }  # fmt: skip
    assert first["items"] == [{"line": 0, "description": "coil", "count": 1}]
    sheets = [i for load in plan["loads"] for i in load["items"] if i["line"] == 1]
    assert sum(i["count"] for i in sheets) == 6


def test_bulk_plan():
    cargo = {"kind": "bulk", "description": "wheat", "weight_kg": 60_000, "volume_m3": 80.0}
    code, out = run({"cargo": cargo, "vehicles": [TRUCK]})
    assert code == 0
    plan = json.loads(out)
    assert [x["bulk_kg"] for x in plan["loads"]] == [25_000, 25_000, 10_000]
    assert "items" not in plan["loads"][0] and plan["method"] == "exact"


def test_infeasible_is_exit_1_with_the_cause():
    cargo = {"kind": "items", "lines": [{"description": "slab", "count": 1, "unit_weight_kg": 30_000,
                                         "unit_volume_m3": 4}]}  # fmt: skip
    code, out = run({"cargo": cargo, "vehicles": [TRUCK]})
    assert code == 1
    error = json.loads(out)
    assert error["error"] == "item_fits_no_vehicle" and "slab" in error["detail"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"vehicles": [{**TRUCK, "capacity_kg": "heavy"}]}, "$.vehicles[0].capacity_kg"),
        ({"vehicles": [{**TRUCK, "capacity_m3": 0}]}, "$.vehicles[0].capacity_m3"),
        ({"vehicles": [{**TRUCK, "cost_per_trip": -1}]}, "$.vehicles[0].cost_per_trip"),
        ({"vehicles": [TRUCK, TRUCK]}, "$.vehicles[1].id"),
        ({"vehicles": []}, "$.vehicles"),
        ({"vehicles": [TRUCK] * 501}, "$.vehicles"),
        ({"cargo": {"kind": "liquid"}}, "$.cargo"),
        ({"cargo": NOTHING}, "$.cargo.lines[0].count"),
        ({"time_budget_ms": "soon"}, "$.time_budget_ms"),
        ({"speed": 3}, "speed"),
    ],
)
def test_bad_input_is_exit_2_naming_the_field(change, named):
    code, out = run({"cargo": COILS, "vehicles": [TRUCK]} | change)
    assert code == 2 and named in out and "\n" not in out


def test_bad_json_is_exit_2():
    code, out = main("{not json")
    assert code == 2 and out.startswith("invalid JSON")
