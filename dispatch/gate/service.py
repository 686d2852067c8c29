"""Gate use cases: calendars, availability, bookings, check-in, the queue, docks, departure.

Every change to a site's yard publishes on the site's channel inside its transaction, so the
gate board and the drivers' phones recompute what they show (see `notifications`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.authorizations import check_load_code, retired_here
from dispatch.db import Conn
from dispatch.errors import Conflict, NotFound, Problem, Unprocessable
from dispatch.gate import calendar as cal
from dispatch.gate import queries
from dispatch.gate import queue as q
from dispatch.gate.inbox import tell_driver
from dispatch.gate.models import (
    Board,
    Booking,
    Calendar,
    CalendarSet,
    DockRef,
    SlotOut,
    StaffCheckIn,
    Ticket,
)
from dispatch.gate.notifications import in_sql, publish_driver, publish_site
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from dispatch.sites import service as sites
from dispatch.tracking import service as tracking
from dispatch.tracking.models import TimelineEntry
from dispatch.tracking.notifications import event_payload, track_channel
from geo import Position, contains, distance_to_m, parse_polygon


def _now() -> datetime:
    return datetime.now(UTC)


# -- the calendar -----------------------------------------------------------------------------


async def set_calendar(db: asyncpg.Pool, p: Principal, site_id: UUID, body: CalendarSet) -> Calendar:
    async with db.acquire() as conn, conn.transaction():
        if not await sites.owns_site(conn, p, site_id):
            raise NotFound("No such site of your organization.", code="site_not_found")
        docks = len(await conn.fetch(queries.ACTIVE_DOCKS, site_id))
        if body.places_per_slot > docks:
            raise Unprocessable(
                f"places_per_slot ({body.places_per_slot}) is more than the site's {docks} active "
                "dock(s) can serve at once.",
                code="places_exceed_docks",
            )
        await conn.execute(
            queries.UPSERT_CALENDAR,
            site_id,
            body.slot_minutes,
            body.places_per_slot,
            body.min_lead_minutes,
            body.max_lead_days,
            body.cutoff_minutes,
            body.grace_minutes,
            body.late_tolerance_minutes,
            sorted(set(body.closed_dates)),
        )
        await events.record(
            conn,
            "site.calendar_set",
            org_ids=[p.org_id],
            subject_type="site",
            subject_id=site_id,
            actor_user_id=p.user_id,
        )
        return await _calendar_out(conn, site_id)


async def _calendar_out(conn: Conn | asyncpg.Pool, site_id: UUID) -> Calendar:
    row = await conn.fetchrow(queries.CALENDAR, site_id)
    if row is None:
        raise NotFound("The site has no slot calendar: bookings are not taken there.", code="no_calendar")
    return msgspec.convert({k: row[k] for k in Calendar.__struct_fields__}, Calendar)


async def get_calendar(db: asyncpg.Pool, p: Principal, site_id: UUID) -> Calendar:
    if not await sites.sees_site(db, p, site_id):
        raise NotFound("No such site.", code="site_not_found")
    return await _calendar_out(db, site_id)


def _calendar_of(site: asyncpg.Record, row: asyncpg.Record) -> cal.Calendar:
    return cal.Calendar(
        timezone=site["timezone"],
        openings=cal.parse_hours(site["opening_hours"]),
        slot_minutes=row["slot_minutes"],
        closed_dates=frozenset(row["closed_dates"]),
    )


# -- loads as seen from the gate --------------------------------------------------------------


async def _load(conn: Conn | asyncpg.Pool, p: Principal, load_id: UUID) -> asyncpg.Record:
    """The load, for its carrier's staff or (device tokens) its own driver only."""
    driver = p.user_id if p.kind == "device" else None
    row = await conn.fetchrow(queries.LOAD_FOR_GATE, load_id, p.org_id, driver)
    if row is None:
        raise _load_not_found()
    return row


async def _bookable(
    conn: Conn | asyncpg.Pool, load: asyncpg.Record
) -> tuple[cal.Calendar, asyncpg.Record, list[Any]]:
    row = await conn.fetchrow(queries.CALENDAR, load["site_id"])
    if row is None:
        raise Conflict(
            f"{load['site_name']} takes no slot bookings: arrive as a walk-in.", code="no_calendar"
        )
    docks = [
        d
        for d in await conn.fetch(queries.ACTIVE_DOCKS, load["site_id"])
        if not d["vehicle_types"] or load["vehicle_type"] in d["vehicle_types"]
    ]
    return _calendar_of(load, row), row, docks


def _bookable_range(load: asyncpg.Record, rules: asyncpg.Record, now: datetime) -> tuple[datetime, datetime]:
    start = max(
        load["window_from"],
        now + timedelta(minutes=rules["min_lead_minutes"]),
        now + timedelta(minutes=rules["cutoff_minutes"]),
    )
    end = min(load["window_until"], now + timedelta(days=rules["max_lead_days"]))
    return start, end


async def availability(
    db: asyncpg.Pool, p: Principal, load_id: UUID, start: datetime | None, end: datetime | None
) -> list[SlotOut]:
    load = await _load(db, p, load_id)
    calendar, rules, docks = await _bookable(db, load)
    if not docks:
        return []
    lo, hi = _bookable_range(load, rules, _now())
    lo, hi = max(lo, start or lo), min(hi, end or hi)
    if hi <= lo:
        return []
    booked = {
        r["slot_start"]: r["booked"] for r in await db.fetch(queries.SLOT_USAGE, load["site_id"], lo, hi)
    }
    places = rules["places_per_slot"]
    return [
        SlotOut(start=s.start, end=s.end, places=places, free=places - booked.get(s.start, 0))
        for s in cal.slots_between(calendar, lo, hi)
        if booked.get(s.start, 0) < places
    ]


async def book(
    db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID, slot_start: datetime
) -> Booking:
    """Book the load a slot, or move its booking to another slot (releasing the old place)."""
    async with db.acquire() as conn, conn.transaction():
        load = await _load(conn, p, load_id)
        await conn.fetchval(queries.LOCK_LOAD, load_id)
        calendar, rules, docks = await _bookable(conn, load)
        now = _now()
        current = await conn.fetchrow(queries.LIVE_BOOKING, load_id)
        if current is not None and current["status"] != "booked":
            raise Conflict("The truck has already checked in.", code="already_checked_in")
        if current is None and load["status"] not in ("assigned", "booked"):
            raise Conflict(f"The load is {load['status']}: it cannot be booked.", code="load_not_bookable")
        if current is not None:
            _check_cutoff(current["slot_start"], rules, now, "moved")
        slot = cal.slot_at(calendar, slot_start.astimezone(UTC))
        if slot is None:
            raise Unprocessable("There is no slot starting at that time at this site.", code="no_such_slot")
        lo, hi = _bookable_range(load, rules, now)
        if not (lo <= slot.start and slot.end <= hi):
            raise Unprocessable(
                f"The slot is outside what can be booked now: {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC "
                "(the load's "
                "pickup window, the lead times and the cut-off).",
                code="slot_not_bookable",
            )
        if not docks:
            raise Unprocessable(
                f"No dock at this site serves {load['vehicle_type']} vehicles.", code="no_dock_for_vehicle"
            )
        if current is not None and current["slot_start"] == slot.start:
            return msgspec.convert(dict(current), Booking)
        if (
            await conn.fetchval(queries.TAKE_PLACE, load["site_id"], slot.start, rules["places_per_slot"])
            is None
        ):
            raise Conflict("That slot is full.", code="slot_full")
        if current is None:
            booking = await conn.fetchrow(
                queries.INSERT_BOOKING, load_id, load["site_id"], slot.start, slot.end, p.user_id
            )
            await conn.execute(queries.SET_LOAD_STATUS, load_id, "booked")
        else:
            await conn.execute(queries.RELEASE_PLACE, load["site_id"], current["slot_start"])
            booking = await conn.fetchrow(queries.MOVE_BOOKING, current["id"], slot.start, slot.end)
        assert booking is not None
        await events.record(
            conn,
            "booking.moved" if current else "booking.created",
            org_ids=[p.org_id],
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
            data={"slot_start": slot.start.isoformat()},
        )
        await publish_driver(
            broker, conn, load["driver_user_id"], {"e": "assignment", "load_id": str(load_id)}
        )
        return msgspec.convert(dict(booking), Booking)


async def standing_booking(db: asyncpg.Pool, p: Principal, load_id: UUID) -> Booking:
    """The load's booking: the live one, or the one served once the truck left."""
    await _load(db, p, load_id)
    row = await db.fetchrow(queries.STANDING_BOOKING, load_id)
    if row is None:
        raise NotFound("The load has no booking.", code="booking_not_found")
    return msgspec.convert(dict(row), Booking)


def _check_cutoff(slot_start: datetime, rules: asyncpg.Record, now: datetime, verb: str) -> None:
    cutoff = slot_start - timedelta(minutes=rules["cutoff_minutes"])
    if now >= cutoff:
        raise Conflict(
            f"The booking can no longer be {verb}: the cut-off was {cutoff:%Y-%m-%d %H:%M} UTC.",
            code="past_cutoff",
        )


async def cancel_booking(db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID) -> Booking:
    async with db.acquire() as conn, conn.transaction():
        load = await _load(conn, p, load_id)
        current = await conn.fetchrow(queries.LIVE_BOOKING, load_id)
        if current is None or current["status"] != "booked":
            raise NotFound("The load has no booking to cancel.", code="booking_not_found")
        rules = await conn.fetchrow(queries.CALENDAR, load["site_id"])
        assert rules is not None
        _check_cutoff(current["slot_start"], rules, _now(), "cancelled")
        await conn.execute(queries.RELEASE_PLACE, load["site_id"], current["slot_start"])
        await conn.execute(queries.SET_BOOKING_STATUS, current["id"], "cancelled")
        await conn.execute(queries.SET_LOAD_STATUS, load_id, "assigned")
        await events.record(
            conn,
            "booking.cancelled",
            org_ids=[p.org_id],
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
        )
        await publish_driver(
            broker, conn, load["driver_user_id"], {"e": "assignment", "load_id": str(load_id)}
        )
        return msgspec.convert(dict(current) | {"status": "cancelled"}, Booking)


async def release_no_shows(db: asyncpg.Pool, broker: Broker, *, batch: int = 50) -> int:
    """One round of the no-show loop (FOR UPDATE SKIP LOCKED: safe with several workers)."""
    async with db.acquire() as conn, conn.transaction():
        due = await conn.fetch(queries.CLAIM_NO_SHOWS, batch)
        for b in due:
            await conn.execute(queries.SET_BOOKING_STATUS, b["id"], "no_show")
            await conn.execute(queries.RELEASE_PLACE, b["site_id"], b["slot_start"])
            await conn.execute(queries.SET_LOAD_STATUS, b["load_id"], "assigned")
            await events.record(
                conn,
                "booking.no_show",
                org_ids=[b["carrier_org_id"]],
                subject_type="load",
                subject_id=b["load_id"],
                actor_user_id=None,
                data={"slot_start": b["slot_start"].isoformat()},
            )
        # The drivers are told in the order of their ids: each message locks its driver's inbox, and
        # two workers' batches taking two drivers' locks in opposite orders would deadlock.
        for b in sorted(due, key=lambda b: (b["driver_user_id"], b["slot_start"])):
            await tell_driver(
                conn,
                broker,
                driver=b["driver_user_id"],
                load_id=b["load_id"],
                kind="no_show",
                event={"e": "assignment", "load_id": str(b["load_id"])},
            )
        return len(due)


# -- check-in ---------------------------------------------------------------------------------


async def check_in_driver(
    db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID, at: Position, accuracy_m: float
) -> Ticket:
    async with db.acquire() as conn, conn.transaction():
        load = await _load(conn, p, load_id)
        fence = parse_polygon(load["geofence"])
        if not contains(fence, at, accuracy_m=accuracy_m):
            distance = distance_to_m(fence, at)
            raise Unprocessable(
                f"You are {distance:,.0f} m outside {load['site_name']}'s gate area (reported accuracy "
                f"{accuracy_m:,.0f} m). Check in when you are at the gate.",
                code="outside_geofence",
                params={"distance_m": round(distance), "site": load["site_name"]},
                distance_m=round(distance),
            )
        return await _admit(conn, broker, load, by="driver")


async def check_in_by_staff(db: asyncpg.Pool, broker: Broker, p: Principal, body: StaffCheckIn) -> Ticket:
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchrow(queries.OWN_SITE, p.org_id, body.site_id) is None:
            raise NotFound("No such site of your organization.", code="site_not_found")
        found, result = await check_load_code(conn, body.code, body.site_id, body.plate)
        if found is None and await retired_here(conn, body.code, body.site_id):
            raise Unprocessable(
                "Check-in refused: the load was reassigned and this code replaced.", code="code_reassigned"
            )
        if found is None or result != "valid":
            raise Unprocessable(f"Check-in refused: {result.replace('_', ' ')}.", code=f"code_{result}")
        load = await conn.fetchrow(queries.LOAD_FOR_GATE, found["id"], found["carrier_org_id"], None)
        assert load is not None
        return await _admit(conn, broker, load, by="staff")


async def _admit(conn: Conn, broker: Broker, load: asyncpg.Record, *, by: str) -> Ticket:
    """Give the load a queue ticket, classified against its booking (the caller holds a transaction)."""
    locked = await conn.fetchrow(queries.LOCK_LOAD, load["id"])
    assert locked is not None  # the caller read the load
    status, approval = locked["status"], locked["approval"]
    if status not in ("assigned", "booked"):
        raise Conflict(f"The load is {status}: it cannot check in.", code="load_not_expected")
    # A swapped truck or driver the authorization does not name waits for the goods owner (the staff's
    # code check says so first; the phone's check-in has no code).
    if approval == "pending":
        raise Conflict(
            "The truck or driver was swapped: the goods owner has not approved it yet.",
            code="awaiting_owner_approval",
        )
    if approval == "refused":
        raise Conflict(
            "The goods owner refused the swapped truck or driver for this load.", code="swap_refused"
        )
    booking = await conn.fetchrow(queries.LIVE_BOOKING, load["id"])
    minutes = load["late_tolerance_minutes"]
    tolerance = timedelta(minutes=15 if minutes is None else minutes)
    now = _now()
    if booking is None:
        arrival = "walk_in"
    elif now < booking["slot_start"]:
        arrival = "early"
    elif now <= booking["slot_start"] + tolerance:
        arrival = "on_time"
    else:
        arrival = "late"
    channel = in_sql(broker, load["site_id"])
    checked_in = events.pending(
        "load.checked_in",
        org_ids=party_orgs(load),
        subject_type="load",
        subject_id=load["id"],
        actor_user_id=None,
        data={"arrival": arrival, "by": by},
    )
    ticket_id = await conn.fetchval(  # the ticket, the booking checked in, the load at the gate, the event
        queries.ADMIT,
        load["site_id"],
        load["id"],
        booking["id"] if booking else None,
        booking["slot_start"] if booking else None,
        now,
        arrival,
        by,
        load["vehicle_type"],
        channel,
        *checked_in,
    )
    if channel is None:
        await publish_site(broker, conn, load["site_id"])
    return await ticket_view(conn, ticket_id)


# -- the queue --------------------------------------------------------------------------------


def _ticket(row: asyncpg.Record, **extra: Any) -> Ticket:
    dock = DockRef(id=row["dock_id"], name=row["dock_name"]) if row["dock_id"] else None
    fields = {
        k: row[k]
        for k in (
            "id",
            "load_id",
            "site_id",
            "plate",
            "driver_name",
            "arrival",
            "slot_start",
            "arrived_at",
            "status",
        )
    }
    return Ticket(**fields, dock=dock, **extra)


async def _queue_rules(conn: Conn | asyncpg.Pool, site_id: UUID) -> tuple[timedelta, int, timedelta]:
    """What the order and the waits depend on besides the tickets: the late tolerance, the number of
    active docks and the mean service time."""
    rules = await conn.fetchrow(queries.CALENDAR, site_id)
    tolerance = timedelta(minutes=rules["late_tolerance_minutes"] if rules else 15)
    docks = len(await conn.fetch(queries.ACTIVE_DOCKS, site_id))
    service = q.mean_service([r["took"] for r in await conn.fetch(queries.RECENT_SERVICE, site_id)])
    return tolerance, docks, service


async def _places(
    conn: Conn | asyncpg.Pool, site_id: UUID, rows: Sequence[asyncpg.Record]
) -> list[tuple[q.Waiting, dict[str, Any]]]:
    """The site's waiting tickets among `rows` (the site's tickets in the yard) in queue order, each
    with its place: position, estimated wait, waiting for its slot."""
    tolerance, docks, service = await _queue_rules(conn, site_id)
    now = _now()
    busy = [now - r["called_at"] for r in rows if r["status"] != "waiting" and r["called_at"]]
    ordered = q.order(
        [
            q.Waiting(r["id"], r["arrived_at"], r["slot_start"], r["vehicle_type"])
            for r in rows
            if r["status"] == "waiting"
        ],
        now,
        tolerance,
    )
    return [
        (
            t,
            {
                "position": i + 1,
                "estimated_wait_minutes": round(
                    q.estimated_wait(i, docks, service, busy, now, t.slot_start).total_seconds() / 60
                ),
                "waiting_for_slot": not q.callable_now(t, now, tolerance),
            },
        )
        for i, t in enumerate(ordered)
    ]


async def _yard(conn: Conn | asyncpg.Pool, site_id: UUID) -> tuple[list[Ticket], list[Ticket]]:
    """The site's waiting trucks in queue order (with position and estimated wait), and those at docks."""
    rows = await conn.fetch(queries.SITE_TICKETS, site_id)
    by_id = {r["id"]: r for r in rows}
    waiting = [_ticket(by_id[t.id], **place) for t, place in await _places(conn, site_id, rows)]
    at_docks = sorted((r for r in rows if r["status"] != "waiting"), key=lambda r: r["called_at"])
    return waiting, [_ticket(r) for r in at_docks]


async def ticket_view(conn: Conn | asyncpg.Pool, ticket_id: UUID) -> Ticket:
    """One ticket; a waiting one with its place (every check-in and every phone in the yard asks this
    on each change): one statement, the position counted in SQL (`queries.TICKET_VIEW`), not the
    whole yard sorted here."""
    now = _now()
    row = await conn.fetchrow(queries.TICKET_VIEW, ticket_id, now)
    if row is None:
        raise NotFound("No such ticket.", code="ticket_not_found")
    return placed_ticket(row, now)


def placed_ticket(row: asyncpg.Record, now: datetime) -> Ticket:
    """A ticket from a row of TICKET_VIEW or SITE_QUEUE_VIEW read at `now`: a waiting one with its
    place and estimated wait."""
    if row["position"] is None:
        return _ticket(row)
    wait = q.estimated_wait(
        row["position"] - 1,
        row["active_docks"],
        q.mean_service(row["recent_service"] or []),
        [now - called for called in row["at_docks_since"] or []],
        now,
        row["slot_start"],
    )
    return _ticket(
        row,
        position=row["position"],
        estimated_wait_minutes=round(wait.total_seconds() / 60),
        waiting_for_slot=row["waiting_for_slot"],
    )


async def my_ticket(db: asyncpg.Pool, p: Principal, load_id: UUID) -> Ticket:
    async with db.acquire() as conn:
        load = await _load(conn, p, load_id)
        if load["live_ticket_id"] is None:
            raise NotFound("The load has not checked in.", code="ticket_not_found")
        return await ticket_view(conn, load["live_ticket_id"])


async def board(db: asyncpg.Pool | Conn, p: Principal, site_id: UUID) -> Board:
    site = await db.fetchrow(queries.OWN_SITE, p.org_id, site_id)
    if site is None:
        raise NotFound("No such site of your organization.", code="site_not_found")
    waiting, at_docks = await _yard(db, site_id)
    docks = [DockRef(id=d["id"], name=d["name"]) for d in await db.fetch(queries.ACTIVE_DOCKS, site_id)]
    return Board(
        site_id=site_id,
        site_name=site["name"],
        site_timezone=site["timezone"],
        generated_at=_now(),
        waiting=waiting,
        at_docks=at_docks,
        docks=docks,
    )


async def claim_next(
    conn: Conn, broker: Broker, site_id: UUID, dock_id: UUID, org_id: UUID
) -> asyncpg.Record | None:
    """Call the first truck in queue order that may be called now and that the dock can serve, in
    the caller's transaction (`queries.CALL_NEXT`): the called ticket, as TICKET with the message's
    facts; None when a call that chose the same truck committed first. Then the caller ends its
    transaction (which frees the row lock PostgreSQL took on that truck before re-checking it) and
    tries again in a new one, which sees that call."""
    channel = in_sql(broker, site_id)
    try:  # no savepoint: a dock called at the same time ends this call
        row = await conn.fetchrow(queries.CALL_NEXT, site_id, _now(), dock_id, org_id, channel)
    except asyncpg.UniqueViolationError:
        raise Conflict("The dock is still serving a truck.", code="dock_busy") from None
    assert row is not None
    if not row["site_found"]:
        raise NotFound("No such site of your organization.", code="site_not_found")
    if row["dock_name"] is None:
        raise NotFound("No such active dock at this site.", code="dock_not_found")
    if row["dock_busy"]:
        raise Conflict(f"Dock {row['dock_name']} is still serving a truck.", code="dock_busy")
    if row["head_id"] is None:
        raise Conflict("No truck that this dock can serve is waiting.", code="queue_empty")
    if row["id"] is None:
        return None
    if channel is None:
        await publish_site(broker, conn, site_id)
    return row


async def call_next(db: asyncpg.Pool, broker: Broker, p: Principal, site_id: UUID, dock_id: UUID) -> Ticket:
    """Call the next truck to the dock, and tell its driver."""
    async with db.acquire() as conn:
        while True:
            async with conn.transaction():
                row = await claim_next(conn, broker, site_id, dock_id, p.org_id)
                if row is None:
                    continue  # lost the truck to a call that committed first: a new transaction
                if row["driver_user_id"] is not None:
                    await tell_driver(
                        conn,
                        broker,
                        driver=row["driver_user_id"],
                        load_id=row["load_id"],
                        kind="dock_call",
                        dock=row["dock_name"],
                        event={"e": "called", "load_id": str(row["load_id"]), "dock": row["dock_name"]},
                        about=row,
                    )
                return _ticket(row)


# The state a ticket must be in to move to each next one.
_NEXT = {"loading": "called", "loaded": "loading"}


async def advance(db: asyncpg.Pool, broker: Broker, p: Principal, ticket_id: UUID, to: str) -> Ticket:
    """Gate staff: loading started (called → loading), loading complete (loading → loaded).

    One statement when the broker publishes in SQL (`queries.ADVANCE_AT_OWN_SITE`: one round trip,
    no transaction of its own), else step by step; both write the same rows and answer alike
    (tests/integration/test_gate_advance.py)."""
    if not broker.publishes_in_sql:
        return await _advance_step_by_step(db, broker, p, ticket_id, to)
    before = _NEXT[to]
    load_status = "loading" if to == "loading" else None
    return await _move_in_one_statement(
        db,
        queries.ADVANCE_AT_OWN_SITE,
        (ticket_id, p.org_id, before, to, load_status, p.user_id),
        before=before,
        not_found=_ticket_not_found,
        refused=lambda status: _wrong_ticket_state(status, before),
    )


async def _move_in_one_statement(
    db: asyncpg.Pool,
    query: str,
    args: tuple[Any, ...],
    *,
    before: str,
    not_found: Callable[[], Problem],
    refused: Callable[[str], Problem],
) -> Ticket:
    """A one-statement move (ADVANCE_AT_OWN_SITE, DEPART): the ticket as moved, or the refusal of the
    state its snapshot found. Found `before` but not moved, the ticket changed while the statement
    waited for its row (its snapshot still saw it `before`): a new statement, with a new snapshot,
    answers from the change, as the step-by-step way's locked read does."""
    async with db.acquire() as conn:
        while True:
            row = await conn.fetchrow(query, *args)
            if row is None:
                raise not_found()
            if row["id"] is not None:
                return _ticket(row)
            if row["found_status"] != before:
                raise refused(row["found_status"])


def _ticket_not_found() -> NotFound:
    return NotFound("No such ticket at your sites.", code="ticket_not_found")


def _wrong_ticket_state(status: str, before: str) -> Conflict:
    return Conflict(f"The truck is {status}, not {before}.", code="wrong_ticket_state")


def _load_not_found() -> NotFound:
    return NotFound("No such load assigned to you.", code="load_not_found")


def _not_loaded() -> Conflict:
    return Conflict("The truck can leave once its loading is complete.", code="not_loaded")


async def _advance_step_by_step(
    db: asyncpg.Pool, broker: Broker, p: Principal, ticket_id: UUID, to: str
) -> Ticket:
    """`advance` for a broker that cannot publish in SQL: the ticket locked, then moved on, in a
    transaction."""
    before = _NEXT[to]
    async with db.acquire() as conn, conn.transaction():
        t = await conn.fetchrow(queries.TICKET_AT_OWN_SITE_FOR_UPDATE, ticket_id, p.org_id)
        if t is None:
            raise _ticket_not_found()
        if t["status"] != before:
            raise _wrong_ticket_state(t["status"], before)
        # The ticket moves on (and the load is loading once its loading starts).
        channel = in_sql(broker, t["site_id"])
        load_status = "loading" if to == "loading" else None
        moved = events.pending(
            f"load.{to}",
            # The job's parties (the consignee follows its goods too) and the gate's organization.
            org_ids=party_orgs(t, p.org_id),
            subject_type="load",
            subject_id=t["load_id"],
            actor_user_id=p.user_id,
        )
        row = await conn.fetchrow(queries.ADVANCE, ticket_id, to, load_status, None, channel, *moved)
        assert row is not None
        if channel is None:
            await publish_site(broker, conn, t["site_id"])
        return _ticket(row)


async def depart(db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID) -> Ticket:
    """The loaded truck leaves (the driver starts the trip): the load is in transit.

    One statement when the broker publishes in SQL (`queries.DEPART`: one round trip, no
    transaction of its own), else step by step; both write the same rows and answer alike
    (tests/integration/test_gate_advance.py)."""
    if not broker.publishes_in_sql:
        return await _depart_step_by_step(db, broker, p, load_id)
    driver = p.user_id if p.kind == "device" else None
    departed_at = _now()
    trip = TimelineEntry(type="load.departed", at=departed_at)
    notified = track_channel(load_id), event_payload(load_id, trip, "in_transit")
    return await _move_in_one_statement(
        db,
        queries.DEPART,
        (load_id, p.org_id, driver, p.user_id, departed_at, *notified),
        before="loaded",
        not_found=_load_not_found,
        refused=lambda _status: _not_loaded(),
    )


async def _depart_step_by_step(db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID) -> Ticket:
    """`depart` for a broker that cannot publish in SQL, in a transaction."""
    async with db.acquire() as conn, conn.transaction():
        load = await _load(conn, p, load_id)
        if load["live_ticket_status"] != "loaded":
            raise _not_loaded()
        # The ticket departed, the load in transit, its booking (if any) served, the event written.
        channel = in_sql(broker, load["site_id"])
        left = events.pending(
            "load.departed",
            org_ids=party_orgs(load),
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
        )
        departed = await conn.fetchrow(
            queries.ADVANCE, load["live_ticket_id"], "departed", "in_transit", "served", channel, *left
        )
        assert departed is not None
        if channel is None:
            await publish_site(broker, conn, load["site_id"])
        await tracking.start_trip(conn, broker, load_id, _now())
        return _ticket(departed)


async def message_driver(db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID, text: str) -> None:
    async with db.acquire() as conn, conn.transaction():
        load = await _load(conn, p, load_id)
        if load["driver_user_id"] is None:
            raise Conflict("The load has no driver yet.", code="no_driver")
        await events.record(
            conn,
            "driver.messaged",
            org_ids=[p.org_id],
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
            data={"text": text},
        )
        await tell_driver(
            conn,
            broker,
            driver=load["driver_user_id"],
            load_id=load_id,
            kind="dispatcher",
            event={"e": "message", "load_id": str(load_id), "text": text},
            text=text,
        )


async def driver_sites(db: asyncpg.Pool, p: Principal) -> list[UUID]:
    return [r[0] for r in await db.fetch(queries.DRIVER_SITES, p.user_id, p.org_id)]


async def driver_tickets(db: asyncpg.Pool, p: Principal) -> list[Ticket]:
    """The driver's trucks in yards now: place, estimated wait, or dock."""
    return [
        await ticket_view(db, r["id"]) for r in await db.fetch(queries.DRIVER_TICKETS, p.user_id, p.org_id)
    ]


# -- an award withdrawn -----------------------------------------------------------------------


async def lock_yard_of_job(conn: Conn, job_id: UUID) -> None:
    """Lock the yard's live tickets of the job's loads, before the loads are locked (the order a
    dock's loading start takes), in the caller's transaction."""
    await conn.fetch(queries.LIVE_TICKETS_OF_JOB_FOR_UPDATE, job_id)


async def withdraw_from_yard(conn: Conn, broker: Broker, loads: Sequence[asyncpg.Record]) -> None:
    """Withdrawn loads (as they stood, now cancelled), in the caller's transaction: their bookings
    are cancelled and their places freed, trucks waiting or called leave the queue, and each driver's
    phone is told and drops the load from its list."""
    sites_changed: set[UUID] = set()
    for load in loads:
        booking = await conn.fetchrow(queries.LIVE_BOOKING, load["id"])
        if booking is not None:
            await conn.execute(queries.RELEASE_PLACE, booking["site_id"], booking["slot_start"])
            await conn.execute(queries.SET_BOOKING_STATUS, booking["id"], "cancelled")
            sites_changed.add(booking["site_id"])
        sites_changed.update(r["site_id"] for r in await conn.fetch(queries.SEND_AWAY, load["id"]))
    for site_id in sorted(sites_changed):
        await publish_site(broker, conn, site_id)
    # In the order of the drivers' ids: each message locks its driver's inbox (as the no-show loop).
    told = [x for x in loads if x["driver_user_id"] is not None]
    for load in sorted(told, key=lambda x: (x["driver_user_id"], x["seq"])):
        await tell_driver(
            conn,
            broker,
            driver=load["driver_user_id"],
            load_id=load["id"],
            kind="load_withdrawn",
            event={"e": "assignment", "load_id": str(load["id"])},
        )
