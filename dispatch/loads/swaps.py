"""A truck or driver swapped mid-job: what follows a reassignment, and the goods owner's decision.

A reassignment (`service.assign` on a load that already has a driver, to another truck or driver)
retires the old pickup code (kept by its hash, so the gate can say `reassigned`), asks the goods
owner to approve when the job's authorization names plates or drivers and not these, writes
`load.reassigned` for the job's parties and tells both drivers' phones. The rules:
dispatch/loads/README.md "Swapping a truck or driver".

The drivers' phones are the gate's (their messages, `dispatch/gate/inbox.py`), a floor above the
loads: the composition root hands the loads the step that tells them (`Runtime.tell_drivers`, a
`DriverNotices` of `notices.py`), as the market is handed the automatic authorization.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.loads import queries
from dispatch.loads.models import SwapApproval, SwapRefusal
from dispatch.loads.notices import DriverNotice, DriverNotices, NoticeKind
from dispatch.market.service import goods_owner_org
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker

Approval = Literal["not_needed", "pending", "approved"]


def notices_of_swap(
    load_id: UUID, *, driver: UUID, previous_driver: UUID | None, vehicle_changed: bool, plate: str
) -> list[DriverNotice]:
    """Who is told what when a load changes hands: a new driver gets the load and the old one loses
    it; the same driver with another truck is told the truck (and so the code) changed."""
    if previous_driver is not None and previous_driver != driver:
        return [
            DriverNotice(load_id, driver, "load_assigned", plate),
            DriverNotice(load_id, previous_driver, "load_unassigned", plate),
        ]
    if vehicle_changed:
        return [DriverNotice(load_id, driver, "truck_changed", plate)]
    return []


async def record_reassigned(
    conn: Conn, p: Principal, load: asyncpg.Record, job: asyncpg.Record, approval: Approval
) -> None:
    """`load.reassigned` for the job's parties, from the load's row as it now stands."""
    await events.record(
        conn,
        "load.reassigned",
        org_ids=party_orgs(job),
        subject_type="load",
        subject_id=load["id"],
        actor_user_id=p.user_id,
        data={
            "load_id": str(load["id"]),
            "job_id": str(load["job_id"]),
            "vehicle_id": str(load["vehicle_id"]),
            "plate_display": load["plate_display"],
            "driver_user_id": str(load["driver_user_id"]),
            "previous_vehicle_id": str(load["previous_vehicle_id"]),
            "previous_driver_user_id": str(load["previous_driver_user_id"]),
            "approval": approval,
        },
    )


async def _job_of_pending_swap(conn: Conn, p: Principal, load_id: UUID, seen: SwapApproval) -> asyncpg.Record:
    """The job of a load whose swap waits for the goods owner `p` (the load locked for the decision)."""
    load = await conn.fetchrow(queries.LOAD_FOR_DECISION, load_id)
    job = await conn.fetchrow(queries.JOB_OF_LOAD, load["job_id"]) if load else None
    if load is None or job is None or p.org_id not in party_orgs(job):
        raise NotFound("No such load.", code="load_not_found")
    if p.org_id != goods_owner_org(job):
        raise Forbidden(
            "Only the organization that owns the goods at pickup decides on a swapped truck or driver.",
            code="not_the_goods_owner",
        )
    if load["approval"] != "pending":
        raise Conflict(
            "No swap of this load waits for your approval.",
            code="no_swap_pending",
            approval=load["approval"] or "not_needed",
        )
    if (seen.vehicle_id is not None and seen.vehicle_id != load["vehicle_id"]) or (
        seen.driver_user_id is not None and seen.driver_user_id != load["driver_user_id"]
    ):
        raise Conflict(
            "The carrier changed the load's truck or driver since you looked: look again and decide.",
            code="swap_changed",
        )
    return job


async def decide(
    db: asyncpg.Pool,
    broker: Broker,
    tell: DriverNotices,
    p: Principal,
    load_id: UUID,
    *,
    approve: bool,
    seen: SwapApproval,
) -> asyncpg.Record:
    """The goods owner approves or refuses the load's swapped truck or driver. Approved: the load's
    code verifies at the gate. Refused: the load keeps the truck and driver, but the gate refuses
    them (`swap_refused`) until the carrier assigns ones the authorization names (or the owner widens
    it); the carrier is told (`load.swap_refused`) and so is the driver."""
    async with db.acquire() as conn, conn.transaction():
        job = await _job_of_pending_swap(conn, p, load_id, seen)
        reason = seen.reason if isinstance(seen, SwapRefusal) else None
        await conn.execute(
            queries.DECIDE_SWAP, load_id, "approved" if approve else "refused", None if approve else reason
        )
        row = await conn.fetchrow(queries.LOAD_SWAP_FACTS, load_id)
        assert row is not None
        if approve:
            await record_reassigned(conn, p, row, job, "approved")
        else:
            await events.record(
                conn,
                "load.swap_refused",
                org_ids=party_orgs(job),
                subject_type="load",
                subject_id=load_id,
                actor_user_id=p.user_id,
                data={
                    "load_id": str(load_id),
                    "job_id": str(row["job_id"]),
                    "vehicle_id": str(row["vehicle_id"]),
                    "driver_user_id": str(row["driver_user_id"]),
                    "reason": reason or "",
                },
            )
        kind: NoticeKind = "swap_approved" if approve else "swap_refused"
        await tell(conn, broker, [DriverNotice(load_id, row["driver_user_id"], kind, row["plate_display"])])
        return row
