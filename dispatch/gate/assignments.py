"""The driver's loads as the phone shows them: each with its number, cargo, pickup site,
destination, pickup window, booking, pickup code and state, read in one query."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

import asyncpg
import msgspec

from dispatch.accounts.principal import Principal
from dispatch.errors import NotFound
from dispatch.gate import queries
from dispatch.gate.models import (
    Booking,
    CargoSummary,
    Destination,
    DriverAssignment,
    DriverState,
    OpeningPeriod,
    PickupSite,
    PickupWindow,
)
from dispatch.loads.models import ItemCount
from dispatch.loads.service import load_number, load_of_row
from dispatch.types import LocationOut


async def driver_assignments(db: asyncpg.Pool, secret: str, p: Principal) -> list[DriverAssignment]:
    """The device's driver's loads still to do (not received or cancelled), soonest first."""
    rows = await db.fetch(queries.DRIVER_ASSIGNMENTS, p.user_id, p.org_id, None)
    return [assignment_of_row(r, secret) for r in rows]


async def driver_assignment(db: asyncpg.Pool, secret: str, p: Principal, load_id: UUID) -> DriverAssignment:
    """One load of the device's driver, whatever its state (a received one shows how it ended)."""
    row = await db.fetchrow(queries.DRIVER_ASSIGNMENTS, p.user_id, p.org_id, load_id)
    if row is None:
        raise NotFound("No such load assigned to you.", code="load_not_found")
    return assignment_of_row(row, secret)


def assignment_of_row(row: asyncpg.Record, secret: str) -> DriverAssignment:
    load = load_of_row(row, secret)
    booking = (
        None
        if row["booking_id"] is None
        else Booking(
            id=row["booking_id"],
            load_id=row["id"],
            site_id=row["booking_site_id"],
            slot_start=row["slot_start"],
            slot_end=row["slot_end"],
            status=row["booking_status"],
        )
    )
    return DriverAssignment(
        **msgspec.structs.asdict(load),
        load_number=load_number(row["job_reference"], row["job_id"], row["seq"]),
        cargo=_cargo(row),
        pickup_site=PickupSite(
            id=row["site_id"],
            name=row["site_name"],
            address=row["site_address"],
            location=LocationOut(lat=row["site_lat"], lon=row["site_lon"]),
            geofence=row["geofence"],
            timezone=row["timezone"],
            opening_hours=msgspec.convert(row["opening_hours"], list[OpeningPeriod]),
        ),
        destination=Destination(
            id=row["destination_site_id"],
            name=row["destination_name"],
            address=row["destination_address"],
            location=LocationOut(lat=row["destination_lat"], lon=row["destination_lon"]),
        ),
        pickup_window=PickupWindow(from_=row["pickup_from"], until=row["pickup_until"]),
        booking=booking,
        state=_state(row["status"], row["ticket_status"]),
        dock=row["dock_name"],
    )


def _cargo(row: asyncpg.Record) -> CargoSummary:
    """This load's part of the job's cargo (stored in the market's wire format, tagged by `kind`)."""
    cargo: dict[str, Any] = row["cargo"]
    weight, volume = row["weight_kg"], round(row["volume_m3"], 6)
    if cargo["kind"] == "bulk":
        return CargoSummary(
            kind="bulk",
            description=cargo["description"],
            bulk_kg=row["bulk_kg"],
            items=None,
            weight_kg=weight,
            volume_m3=volume,
        )
    lines = cargo["lines"]
    items = [
        ItemCount(line=i, description=lines[i]["description"], count=n)
        for i, n in enumerate(row["items"] or [])
        if n > 0
    ]
    return CargoSummary(
        kind="items",
        description=", ".join(f"{x.count} × {x.description}" for x in items),  # noqa: RUF001 (the sign)
        bulk_kg=None,
        items=items,
        weight_kg=weight,
        volume_m3=volume,
    )


# A truck at the gate, by its ticket: in the queue, called to a dock, loading, loaded.
_AT_GATE: dict[str, DriverState] = {
    "waiting": "waiting",
    "called": "called",
    "loading": "loading",
    "loaded": "loaded",
}


def _state(status: str, ticket: str | None) -> DriverState:
    """The load's status, with the gate's part told by its ticket (the load stays `loading` while
    the ticket moves on to `loaded`)."""
    if status in ("at_gate", "loading") and ticket in _AT_GATE:
        return _AT_GATE[ticket]
    if status == "at_gate":  # checked in: a ticket is made in the same transaction
        return "waiting"
    return cast(DriverState, status)  # the other load statuses are states of their own
