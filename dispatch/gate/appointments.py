"""The day's appointments at a site: which carrier, truck and driver comes when, for the site's own
staff (site managers and gate staff). Pickups come from the slot bookings and the yard's tickets,
deliveries from tracking (their ETA is the one tracking computes from the truck's positions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.errors import BadRequest, NotFound
from dispatch.gate import queries
from dispatch.gate.models import Appointment, Appointments, CarrierRef, DriverRef, SlotRef, VehicleRef
from dispatch.loads.service import load_number


def parse_day(text: str | None, zone: ZoneInfo) -> date:
    """The `date` query parameter (YYYY-MM-DD), or today in the site's time zone."""
    if text is None:
        return datetime.now(zone).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        reason = f"{text!r} is not a day of the calendar (YYYY-MM-DD)"
        raise BadRequest(
            f"date: {reason}",
            code="validation_failed",
            params={"fields": ["date"]},
            errors=[{"field": "date", "reason": reason, "source": "query"}],
        ) from None


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Local midnight to local midnight: 23 or 25 hours on the days daylight saving changes.
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _appointment(row: asyncpg.Record) -> Appointment:
    return Appointment(
        load_id=row["load_id"],
        load_number=load_number(row["job_reference"], row["job_id"], row["seq"]),
        job_id=row["job_id"],
        direction=row["direction"],
        carrier=CarrierRef(id=row["carrier_org_id"], name=row["carrier_name"]),
        vehicle=None if row["vehicle_id"] is None else VehicleRef(id=row["vehicle_id"], plate=row["plate"]),
        driver=(
            None
            if row["driver_user_id"] is None
            else DriverRef(user_id=row["driver_user_id"], name=row["driver_name"])
        ),
        slot=None
        if row["slot_start"] is None
        else SlotRef(starts_at=row["slot_start"], ends_at=row["slot_end"]),
        kind=row["kind"],
        state=row["state"],
        eta=row["eta"],
        late=row["late"],
        arrived_at=row["arrived_at"],
        ticket_id=row["ticket_id"],
    )


async def appointments(db: asyncpg.Pool, p: Principal, site_id: UUID, day_text: str | None) -> Appointments:
    """The site's appointments on one day of its time zone (default today). Only the site's own
    organization sees them: another's site, shared or not, is not found."""
    site = await db.fetchrow(queries.OWN_SITE, p.org_id, site_id)
    if site is None:
        raise NotFound("No such site of your organization.", code="site_not_found")
    zone = ZoneInfo(site["timezone"])
    day = parse_day(day_text, zone)
    start, end = _day_bounds(day, zone)
    rows = await db.fetch(queries.SITE_APPOINTMENTS, site_id, start, end)
    return Appointments(
        site_id=site_id, date=day, timezone=site["timezone"], items=[_appointment(r) for r in rows]
    )
