"""`dispatch plan`: the load planner from the command line. JSON in, JSON out, no database.

Input: {"cargo": <a job's cargo, as in the market API>, "vehicles": [{"id", "capacity_kg",
"capacity_m3", "cost_per_trip"}], "time_budget_ms": 150}. Exit 0 with the plan, 1 with
{"error", "detail"} when the cargo cannot be carried, 2 with a one-line message on bad input.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from dispatch.loads import planner
from dispatch.loads.cargo import to_planner
from dispatch.market.models import BulkCargo, Cargo, ItemsCargo
from dispatch.types import Input


class VehicleIn(Input, kw_only=True):
    id: Annotated[str, Meta(min_length=1, max_length=100)]
    capacity_kg: Annotated[float, Meta(gt=0, le=1_000_000)]
    capacity_m3: Annotated[float, Meta(gt=0, le=100_000)]
    cost_per_trip: Annotated[int, Meta(ge=0, le=10**12)] = 0


class PlanRequest(Input, kw_only=True):
    cargo: Cargo
    vehicles: Annotated[list[VehicleIn], Meta(min_length=1, max_length=500)]
    time_budget_ms: Annotated[float, Meta(gt=0, le=60_000)] = planner.DEFAULT_BUDGET_MS


def main(stdin_text: str) -> tuple[int, str]:
    """(exit code, output): 0 and the plan, 1 and the reason it is infeasible, 2 and what is wrong."""
    try:
        request = msgspec.json.decode(stdin_text, type=PlanRequest)
    except msgspec.ValidationError as exc:
        return 2, f"invalid request: {exc}"
    except msgspec.DecodeError as exc:
        return 2, f"invalid JSON: {exc}"
    seen: set[str] = set()
    for index, v in enumerate(request.vehicles):
        if v.id in seen:
            return 2, f"invalid request: duplicate vehicle id {v.id!r} - at `$.vehicles[{index}].id`"
        seen.add(v.id)
    vehicles = [
        planner.Vehicle(v.id, v.capacity_kg, v.capacity_m3, v.cost_per_trip) for v in request.vehicles
    ]
    try:
        result = planner.plan(to_planner(request.cargo), vehicles, time_budget_ms=request.time_budget_ms)
    except planner.InfeasibleCargo as exc:
        return 1, _json({"error": exc.code, "detail": exc.detail})
    except ValueError as exc:  # malformed beyond what the types say (the planner's own checks)
        return 2, f"invalid request: {exc}"
    return 0, _json(render(result, request.cargo))


def render(result: planner.Plan, cargo: BulkCargo | ItemsCargo) -> dict[str, Any]:
    """The plan as JSON-ready data (rounded for people: grams, millilitres, 0.01 %)."""
    loads = []
    for load in result.loads:
        out: dict[str, Any] = {
            "vehicle_id": load.vehicle_id,
            "trip": load.trip,
            "weight_kg": round(load.weight_kg, 3),
            "volume_m3": round(load.volume_m3, 6),
            "weight_utilization": round(load.weight_utilization, 4),
            "volume_utilization": round(load.volume_utilization, 4),
        }
        if isinstance(cargo, BulkCargo):
            out["bulk_kg"] = load.bulk_kg
        else:
            out["items"] = [
                {"line": i, "description": cargo.lines[i].description, "count": n}
                for i, n in enumerate(load.items)
                if n > 0
            ]
        loads.append(out)
    return {
        "trips": result.trips,
        "cost": result.cost,
        "lower_bound": result.lower_bound,
        "optimal": result.optimal,
        "method": result.method,
        "loads": loads,
    }


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
