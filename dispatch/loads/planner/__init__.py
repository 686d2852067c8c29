"""Load planner: split an order into truck loads by vehicle capacity. Pure code: no I/O, no asyncio.

A package of stages, one module each (PLANNER.md has a section per module, in this order):

- `pipeline`: `plan()` and `lower_bound()`, which run the stages below in order.
- `model`: the public types, the fleet's vehicle types, the item kinds, the tolerance and its check.
- `budget`: the time budget as deterministic work units (never the clock).
- `bulk`: bulk cargo, closed form and optimal.
- `bounds`: lower bounds on trips for items (dual vectors, big items).
- `lp`: the pattern LP by column generation (a better bound, and loads for rounding).
- `packing`: first fit decreasing and LP rounding.
- `search`: the exact search (bin completion) and large-neighbourhood repacking.
- `cost`: the same trips at a lower cost.
- `assign`: a vehicle and a trip number for each load, and the plan written out.
- `checking`: every rule but optimality, for any (hand-edited) plan.

The names below are the planner's public API: import them from `dispatch.loads.planner`, not from
its modules, whose other names are shared between the stages only.
"""

from dispatch.loads.planner.budget import (
    DEFAULT_BUDGET_MS,
    EXACT_COST_BUDGET_FACTOR,
    EXACT_MAX_ITEMS,
    WORK_UNITS_PER_MS,
)
from dispatch.loads.planner.checking import check
from dispatch.loads.planner.model import (
    MAX_TRIPS,
    REL_TOLERANCE,
    Bulk,
    Cargo,
    InfeasibleCargo,
    Line,
    Load,
    Plan,
    Vehicle,
    Violation,
    fits_vehicle,
    measure,
    utilization,
)
from dispatch.loads.planner.pipeline import lower_bound, plan

__all__ = [
    "DEFAULT_BUDGET_MS",
    "EXACT_COST_BUDGET_FACTOR",
    "EXACT_MAX_ITEMS",
    "MAX_TRIPS",
    "REL_TOLERANCE",
    "WORK_UNITS_PER_MS",
    "Bulk",
    "Cargo",
    "InfeasibleCargo",
    "Line",
    "Load",
    "Plan",
    "Vehicle",
    "Violation",
    "check",
    "fits_vehicle",
    "lower_bound",
    "measure",
    "plan",
    "utilization",
]
