"""Loads use cases: plan a job's loads, edit the plan, confirm it into loads, assign drivers.

The planner (pure, the `planner` package) proposes; every edit is checked against the same rules; the
database keeps vehicles and drivers off overlapping jobs (exclusion constraints) and makes a
second confirmation a no-op (the job row is locked and existing loads are returned).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.authorizations import assignment_named, code_hash, load_code
from dispatch.db import Conn
from dispatch.errors import Conflict, NotFound, Unprocessable
from dispatch.fleet import service as fleet
from dispatch.fleet.models import Vehicle
from dispatch.loads import notices, planner, queries, swaps
from dispatch.loads.cargo import stored_to_planner
from dispatch.loads.models import Assignment, ItemCount, Load, Plan, PlanEdit, PlannedLoad
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker

# The load number is shared with the gate's code check (authorizations, a floor below loads).
from dispatch.types import load_number as load_number


def _as_planner_vehicle(v: Vehicle, *, name: str | None = None) -> planner.Vehicle:
    """The planner's view of a vehicle, known by its id (or by `name`, e.g. its plate, in messages)."""
    return planner.Vehicle(
        id=name or str(v.id),
        capacity_kg=v.capacity_kg,
        capacity_m3=v.capacity_m3,
        cost_per_trip=v.cost_per_trip_minor,
    )


async def _carrier_job(
    conn: Conn | asyncpg.Pool, p: Principal, job_id: UUID, *, lock: bool = False
) -> asyncpg.Record:
    job = await conn.fetchrow(
        queries.CARRIER_JOB_FOR_UPDATE if lock else queries.CARRIER_JOB, job_id, p.org_id
    )
    if job is None:
        raise NotFound("No such job awarded to your organization.", code="job_not_found")
    return job


async def _usable_vehicles(
    conn: Conn | asyncpg.Pool, p: Principal, job: asyncpg.Record, ids: list[UUID] | None
) -> list[Vehicle]:
    vehicles = await fleet.usable_vehicles(conn, p, job["vehicle_type"], ids)
    if ids is not None:
        missing = sorted(str(i) for i in set(ids) - {v.id for v in vehicles})
        if missing:
            raise Unprocessable(
                f"Not usable for this job (not in your fleet, inactive, or not a {job['vehicle_type']}): "
                f"{', '.join(missing)}.",
                code="vehicle_not_usable",
                vehicle_ids=missing,
            )
    if not vehicles:
        raise Unprocessable(
            f"Your fleet has no active {job['vehicle_type']} vehicle for this job.", code="no_vehicles"
        )
    return vehicles


def _require_plannable(job: asyncpg.Record) -> None:
    if job["status"] != "awarded":
        raise Conflict(
            f"The job is {job['status']}: loads are planned between award and dispatch.",
            code="job_not_plannable",
        )


def _stored_load(
    vehicle_id: str, trip: int, bulk_kg: int | None, items: Sequence[int], weight_kg: float, volume_m3: float
) -> dict[str, Any]:
    """One load of a plan as the plan row stores it (an element of its `loads` column)."""
    return {
        "vehicle_id": vehicle_id,
        "trip": trip,
        "bulk_kg": bulk_kg,
        "items": list(items) if bulk_kg is None else None,
        "weight_kg": weight_kg,
        "volume_m3": volume_m3,
    }


def _stored_edits(loads: list[tuple[str, int | None, tuple[int, ...], float, float]]) -> list[dict[str, Any]]:
    """An edited plan's loads as stored: trips numbered per vehicle in the order the loads are listed."""
    trips: Counter[str] = Counter()
    stored = []
    for vehicle_id, bulk_kg, items, weight, volume in loads:
        trips[vehicle_id] += 1
        stored.append(_stored_load(vehicle_id, trips[vehicle_id], bulk_kg, items, weight, volume))
    return stored


async def make_plan(db: asyncpg.Pool, p: Principal, job_id: UUID, vehicle_ids: list[UUID] | None) -> Plan:
    job = await _carrier_job(db, p, job_id)
    _require_plannable(job)
    vehicles = await _usable_vehicles(db, p, job, vehicle_ids)
    cargo = stored_to_planner(job["cargo"])
    try:
        # Up to its time budget of CPU: off the event loop.
        result = await asyncio.to_thread(planner.plan, cargo, [_as_planner_vehicle(v) for v in vehicles])
    except planner.InfeasibleCargo as exc:
        raise Unprocessable(exc.detail, code=exc.code) from None
    stored = [
        _stored_load(load.vehicle_id, load.trip, load.bulk_kg, load.items, load.weight_kg, load.volume_m3)
        for load in result.loads
    ]
    return await _save_plan(
        db,
        p,
        job_id,
        stored,
        trips=result.trips,
        cost=result.cost,
        lower_bound=result.lower_bound,
        optimal=result.optimal,
        method=result.method,
        edited=False,
    )


async def edit_plan(db: asyncpg.Pool, p: Principal, job_id: UUID, body: PlanEdit) -> Plan:
    """Replace the plan by the carrier's own, if it keeps every rule (capacities, whole items, sums)."""
    job = await _carrier_job(db, p, job_id)
    _require_plannable(job)
    vehicles = await _usable_vehicles(db, p, job, sorted({e.vehicle_id for e in body.loads}))
    by_id = {str(v.id): v for v in vehicles}
    cargo = stored_to_planner(job["cargo"])
    edits = [(str(e.vehicle_id), e.bulk_kg, tuple(e.items or ())) for e in body.loads]
    # Checked under plates (unique in the fleet), so the planner's messages name the trucks people know.
    violations = planner.check(
        cargo,
        [_as_planner_vehicle(v, name=v.plate) for v in vehicles],
        [(by_id[vid].plate, bulk, items) for vid, bulk, items in edits],
    )
    if violations:
        raise Unprocessable(
            "The edited plan breaks the rules: " + "; ".join(v.detail for v in violations),
            code="plan_invalid",
            violations=[{"load": v.load, "code": v.code, "detail": v.detail} for v in violations],
        )
    measured = [(vid, bulk, items, *planner.measure(cargo, bulk, items)) for vid, bulk, items in edits]
    stored = _stored_edits(measured)
    trips = len(stored)
    cost = sum(by_id[vid].cost_per_trip_minor for vid, *_ in edits)
    lower = planner.lower_bound(cargo, [_as_planner_vehicle(v) for v in vehicles])
    return await _save_plan(
        db,
        p,
        job_id,
        stored,
        trips=trips,
        cost=cost,
        lower_bound=lower,
        optimal=trips <= lower,
        method="edited",
        edited=True,
    )


async def _save_plan(
    db: asyncpg.Pool,
    p: Principal,
    job_id: UUID,
    stored: list[dict[str, Any]],
    *,
    trips: int,
    cost: int,
    lower_bound: int,
    optimal: bool,
    method: str,
    edited: bool,
) -> Plan:
    async with db.acquire() as conn, conn.transaction():
        job = await _carrier_job(conn, p, job_id, lock=True)
        _require_plannable(job)
        saved = await conn.fetchval(
            queries.UPSERT_PLAN, job_id, p.org_id, stored, trips, cost, lower_bound, optimal, method, edited
        )
        if saved is None:
            raise Conflict("The plan is already confirmed into loads.", code="plan_confirmed")
        await events.record(
            conn,
            "plan.edited" if edited else "plan.proposed",
            org_ids=[p.org_id],
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={"trips": trips, "cost_minor": cost},
        )
        return await _plan_view(conn, p, job)


async def get_plan(db: asyncpg.Pool, p: Principal, job_id: UUID) -> Plan:
    job = await _carrier_job(db, p, job_id)
    return await _plan_view(db, p, job)


async def _plan_view(conn: Conn | asyncpg.Pool, p: Principal, job: asyncpg.Record) -> Plan:
    row = await conn.fetchrow(queries.PLAN, job["id"], p.org_id)
    if row is None:
        raise NotFound("No plan yet: ask for one first.", code="plan_not_found")
    vehicles = {str(v.id): v for v in await fleet.list_vehicles(conn, p)}
    lines = job["cargo"].get("lines", [])
    loads = []
    for stored in row["loads"]:
        vehicle = vehicles[stored["vehicle_id"]]
        items = (
            None
            if stored["items"] is None
            else [
                ItemCount(line=i, description=lines[i]["description"], count=n)
                for i, n in enumerate(stored["items"])
                if n > 0
            ]
        )
        loads.append(
            PlannedLoad(
                vehicle_id=vehicle.id,
                plate=vehicle.plate,
                trip=stored["trip"],
                bulk_kg=stored["bulk_kg"],
                items=items,
                weight_kg=stored["weight_kg"],
                volume_m3=round(stored["volume_m3"], 6),
                weight_utilization=round(stored["weight_kg"] / vehicle.capacity_kg, 4),
                volume_utilization=round(stored["volume_m3"] / vehicle.capacity_m3, 4),
            )
        )
    return Plan(
        job_id=job["id"],
        trips=row["trips"],
        cost_minor=row["cost_minor"],
        lower_bound=row["lower_bound"],
        optimal=row["optimal"],
        method=row["method"],
        edited=row["edited"],
        confirmed_at=row["confirmed_at"],
        loads=loads,
    )


# -- loads ------------------------------------------------------------------------------------


_SWAP_FIELDS = ("approval", "approval_reason", "previous_vehicle", "previous_driver")


def load_of_row(row: asyncpg.Record, secret: str | None) -> Load:
    """A Load from a row holding its columns (as `queries._LOAD_COLUMNS` selects them), with its
    pickup code when the carrier's secret is given."""
    # The swap's fields are left out when null or not selected (they are absent, not null).
    present = set(row.keys())
    fields = {
        k: row[k]
        for k in Load.__struct_fields__
        if k != "pickup_code" and k in present and (k not in _SWAP_FIELDS or row[k] is not None)
    }
    code = load_code(secret, row["id"], row["assignment_version"]) if secret else None
    return (
        msgspec.convert(fields, Load)
        if code is None
        else msgspec.convert(fields | {"pickup_code": code}, Load)
    )


async def confirm_plan(db: asyncpg.Pool, secret: str, p: Principal, job_id: UUID) -> list[Load]:
    """Create the plan's loads. Confirming again returns the same loads and creates nothing."""
    async with db.acquire() as conn, conn.transaction():
        job = await _carrier_job(conn, p, job_id, lock=True)  # concurrent confirmations take turns here
        if await conn.fetch(queries.LIVE_LOADS_OF_CARRIER, job_id, p.org_id):
            return [load_of_row(r, secret) for r in await conn.fetch(queries.LOADS_OF_JOB, job_id, p.org_id)]
        _require_plannable(job)
        plan = await conn.fetchrow(queries.PLAN, job_id, p.org_id)
        if plan is None:
            raise NotFound("No plan yet: ask for one first.", code="plan_not_found")
        first = await conn.fetchval(queries.LAST_SEQ, job_id) + 1  # after a failed carrier's loads
        try:
            async with conn.transaction():  # a savepoint: a busy vehicle refuses the whole plan
                for seq, stored in enumerate(plan["loads"], start=first):
                    load_id = await conn.fetchval(
                        queries.INSERT_LOAD,
                        job_id,
                        p.org_id,
                        seq,
                        UUID(stored["vehicle_id"]),
                        stored["trip"],
                        stored["bulk_kg"],
                        stored["items"],
                        stored["weight_kg"],
                        stored["volume_m3"],
                        job["pickup_from"],
                        job["pickup_until"],
                    )
                    await conn.execute(
                        queries.SET_LOAD_CODE, load_id, code_hash(load_code(secret, load_id, 0))
                    )
        except asyncpg.ExclusionViolationError:
            busy = await conn.fetch(
                queries.BUSY_VEHICLES,
                [UUID(x["vehicle_id"]) for x in plan["loads"]],
                job_id,
                job["pickup_from"],
                job["pickup_until"],
            )
            plates = ", ".join(sorted({r["plate"] for r in busy})) or "a vehicle"
            raise Conflict(
                f"{plates} is already on a load of another job whose pickup window overlaps; "
                "plan with other vehicles.",
                code="vehicle_busy",
            ) from None
        await conn.execute(queries.CONFIRM_PLAN, job_id)
        parties = party_orgs(job)
        await events.record(
            conn,
            "loads.confirmed",
            org_ids=parties,
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={"loads": len(plan["loads"])},
        )
        return [load_of_row(r, secret) for r in await conn.fetch(queries.LOADS_OF_JOB, job_id, p.org_id)]


async def list_loads(db: asyncpg.Pool, secret: str, p: Principal, job_id: UUID) -> list[Load]:
    """The job's loads for any of its parties; pickup codes only for the carrier. Others get 404,
    as for an unknown job (not an empty list, which told them the job exists)."""
    rows = await db.fetch(queries.LOADS_OF_JOB, job_id, p.org_id)
    if not rows and await db.fetchval(queries.JOB_OF_PARTY, job_id, p.org_id) is None:
        raise NotFound("No such job, or it is not visible to your organization.", code="job_not_found")
    return [load_of_row(r, secret if r["carrier_org_id"] == p.org_id else None) for r in rows]


async def get_load(db: asyncpg.Pool, secret: str, p: Principal, load_id: UUID) -> Load:
    row = await db.fetchrow(queries.LOAD_OF_CARRIER, load_id, p.org_id)
    if row is None:
        raise NotFound("No such load of your organization.", code="load_not_found")
    return load_of_row(row, secret)


async def load_for_party(db: asyncpg.Pool, p: Principal, load_id: UUID) -> Load:
    """A load as any party of its job sees it (the pickup code only for its carrier, never here)."""
    row = await db.fetchrow(queries.LOAD_OF_PARTY, load_id, p.org_id)
    if row is None:
        raise NotFound("No such load.", code="load_not_found")
    return load_of_row(row, None)


# A truck or driver can change until the truck reaches the gate: a checked-in truck holds a queue
# ticket for its plate, and loading follows.
_REASSIGNABLE = ("planned", "assigned", "booked")


async def assign(
    db: asyncpg.Pool,
    secret: str,
    p: Principal,
    load_id: UUID,
    body: Assignment,
    *,
    broker: Broker,
    tell: notices.DriverNotices,
) -> Load:
    """Assign the load's driver (and optionally its truck), or swap them on a load already assigned:
    the old code is retired, the goods owner asked to approve when the authorization names others,
    `load.reassigned` written and both drivers told (dispatch/loads/swaps.py)."""
    async with db.acquire() as conn, conn.transaction():
        load = await conn.fetchrow(queries.LOAD_FOR_UPDATE, load_id, p.org_id)
        if load is None:
            raise NotFound("No such load of your organization.", code="load_not_found")
        if load["status"] not in _REASSIGNABLE:
            raise Conflict(
                f"The load is {load['status']}: its truck and driver can be changed only until the truck "
                "reaches the gate.",
                code="load_in_progress",
                load_status=load["status"],
            )
        if await conn.fetchval(queries.DRIVER_OF_CARRIER, p.org_id, body.driver_user_id) is None:
            raise NotFound(
                "No driver with a fleet profile has that id in your organization.", code="driver_not_found"
            )
        vehicle_id = body.vehicle_id or load["vehicle_id"]
        if vehicle_id != load["vehicle_id"]:
            await _check_vehicle_fits(conn, p, load, vehicle_id)
        try:
            async with conn.transaction():  # a savepoint: the exclusion check may refuse the update
                await conn.execute(queries.RETIRE_CODE, load_id)
                version = await conn.fetchval(
                    queries.ASSIGN, load_id, p.org_id, body.driver_user_id, vehicle_id
                )
        except asyncpg.ExclusionViolationError as exc:
            what = "driver" if "driver" in (exc.constraint_name or "") else "vehicle"
            raise Conflict(
                f"The {what} is already on a load of another job whose pickup window overlaps "
                f"{load['pickup_window'].lower:%Y-%m-%d %H:%M} to {load['pickup_window'].upper:%H:%M} UTC.",
                code=f"{what}_busy",
            ) from None
        await conn.execute(queries.SET_LOAD_CODE, load_id, code_hash(load_code(secret, load_id, version)))
        await events.record(
            conn,
            "load.assigned",
            org_ids=[p.org_id],
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
            data={"driver_user_id": str(body.driver_user_id), "vehicle_id": str(vehicle_id)},
        )
        swapped = load["driver_user_id"] is not None and (
            vehicle_id != load["vehicle_id"] or body.driver_user_id != load["driver_user_id"]
        )
        if swapped:
            await _follow_swap(conn, broker, tell, p, load, vehicle_id, body.driver_user_id)
        if await conn.fetchval(queries.UNASSIGNED_LOADS, load["job_id"]) == 0:
            job = await conn.fetchrow(queries.DISPATCH_JOB, load["job_id"])
            if job is not None:
                parties = party_orgs(job)
                await events.record(
                    conn,
                    "job.dispatched",
                    org_ids=parties,
                    subject_type="job",
                    subject_id=job["id"],
                    actor_user_id=p.user_id,
                )
        row = await conn.fetchrow(queries.LOAD_OF_CARRIER, load_id, p.org_id)
        assert row is not None
        return load_of_row(row, secret)


async def _follow_swap(
    conn: Conn,
    broker: Broker,
    tell: notices.DriverNotices,
    p: Principal,
    before: asyncpg.Record,
    vehicle_id: UUID,
    driver: UUID,
) -> None:
    """What follows a swap (the new assignment is stored): the owner's approval when the
    authorization does not name the new truck and driver, the event, the drivers' phones."""
    plate = await conn.fetchrow(queries.VEHICLE_PLATE, vehicle_id)
    assert plate is not None
    named = await assignment_named(conn, before["job_id"], plate["plate"], driver)
    await conn.execute(
        queries.SET_SWAP,
        before["id"],
        None if named else "pending",
        before["vehicle_id"],
        before["driver_user_id"],
    )
    job = await conn.fetchrow(queries.JOB_OF_LOAD, before["job_id"])
    facts = await conn.fetchrow(queries.LOAD_SWAP_FACTS, before["id"])
    assert job is not None and facts is not None
    await swaps.record_reassigned(conn, p, facts, job, "not_needed" if named else "pending")
    notices = swaps.notices_of_swap(
        before["id"],
        driver=driver,
        previous_driver=before["driver_user_id"],
        vehicle_changed=vehicle_id != before["vehicle_id"],
        plate=plate["plate_display"],
    )
    await tell(conn, broker, notices)


async def _check_vehicle_fits(conn: Conn, p: Principal, load: asyncpg.Record, vehicle_id: UUID) -> None:
    job = await conn.fetchrow("SELECT vehicle_type FROM jobs WHERE id = $1", load["job_id"])
    assert job is not None
    vehicle = await _usable_vehicles(conn, p, job, [vehicle_id])
    v = vehicle[0]
    if not planner.fits_vehicle(load["weight_kg"], load["volume_m3"], _as_planner_vehicle(v)):
        raise Unprocessable(
            f"Load {load['seq']} ({load['weight_kg']:,.0f} kg, {load['volume_m3']:.1f} m³) "
            "does not fit vehicle "
            f"{v.plate} ({v.capacity_kg:,.0f} kg, {v.capacity_m3:.1f} m³).",
            code="vehicle_too_small",
        )


# -- an award withdrawn -----------------------------------------------------------------------

# Once a truck is loading, the goods are on their way: the award can no longer be withdrawn.
LOADING_STARTED = ("loading", "in_transit", "arrived", "received")


async def withdraw_loads(conn: Conn, job: asyncpg.Record) -> list[asyncpg.Record]:
    """The award of a locked job is withdrawn (in the caller's transaction): its carrier's loads are
    cancelled and its plan dropped, unless loading started on one (409 `loading_started`). The loads
    as they stood (status, driver), for the gate and the drivers' phones."""
    loads = await conn.fetch(queries.LIVE_LOADS_FOR_UPDATE, job["id"], job["carrier_org_id"])
    started = [r for r in loads if r["status"] in LOADING_STARTED]
    if started:
        numbers = ", ".join(load_number(job["reference"], job["id"], r["seq"]) for r in started)
        raise Conflict(
            f"Loading has started ({numbers}): the award can no longer be withdrawn.",
            code="loading_started",
            load_ids=[str(r["id"]) for r in started],
        )
    await conn.execute(queries.CANCEL_LOADS, job["id"], job["carrier_org_id"])
    await conn.execute(queries.DELETE_PLAN, job["id"], job["carrier_org_id"])
    return list(loads)
