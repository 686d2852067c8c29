"""A job's cargo as the planner's input: the one conversion from the market's wire format, used
to plan a job's loads (service.py) and by `dispatch plan` (plan_cli.py)."""

from __future__ import annotations

import msgspec

from dispatch.loads import planner
from dispatch.market.models import BulkCargo, Cargo, ItemsCargo


def to_planner(cargo: BulkCargo | ItemsCargo) -> planner.Cargo:
    """The job cargo wire format as the planner's input."""
    if isinstance(cargo, BulkCargo):
        return planner.Bulk(cargo.weight_kg, cargo.volume_m3, cargo.description)
    return tuple(
        planner.Line(line.count, line.unit_weight_kg, line.unit_volume_m3, line.description)
        for line in cargo.lines
    )


def stored_to_planner(stored: object) -> planner.Cargo:
    """The planner's input for a job's `cargo` column, which holds the wire format (tagged by `kind`)."""
    return to_planner(msgspec.convert(stored, Cargo))
