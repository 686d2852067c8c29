"""An award withdrawn: the carrier gives the job back (until loading starts), or the poster cancels the
award. Either way, in one transaction: the carrier's loads are cancelled and its plan dropped, their
bookings cancelled (the places free again), trucks in the yard's queue sent away, the drivers' phones
told, the pickup authorization revoked with the cause (so the gate refuses its codes saying why),
and the job `returned`, the carrier left out of its re-tender (dispatch/market/tenders.py).

The area sits above the gate, the loads, the authorizations and the market, whose public steps it
runs in that order of locks: the job row, the yard's tickets, the loads.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.authorizations import revoke_for_withdrawn_award
from dispatch.db import Conn
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.gate.service import lock_yard_of_job, withdraw_from_yard
from dispatch.loads.service import withdraw_loads
from dispatch.market.service import lock_job
from dispatch.market.tenders import return_award
from dispatch.realtime.broker import Broker
from dispatch.withdrawals.models import AwardWithdrawn


def _require_awarded(job: asyncpg.Record) -> None:
    if job["status"] not in ("awarded", "dispatched"):
        raise Conflict(f"The job is {job['status']}: there is no award to withdraw.", code="job_not_awarded")


async def _withdraw(
    conn: Conn,
    broker: Broker,
    job: asyncpg.Record,
    by: Literal["carrier", "poster"],
    reason: str,
    actor: UUID | None,
) -> AwardWithdrawn:
    await lock_yard_of_job(conn, job["id"])
    loads = await withdraw_loads(conn, job)
    await withdraw_from_yard(conn, broker, loads)
    if by == "carrier":
        await revoke_for_withdrawn_award(conn, job, "award_given_back", reason, actor)
        await return_award(conn, job, given_back=True, reason=reason, actor=actor)
    else:
        await revoke_for_withdrawn_award(conn, job, "award_cancelled", reason, actor)
        await return_award(conn, job, given_back=False, reason=reason, actor=actor)
    return AwardWithdrawn(
        job_id=job["id"],
        status="returned",
        carrier_org_id=job["carrier_org_id"],
        by=by,
        reason=reason,
        loads_cancelled=len(loads),
    )


async def give_back(
    db: asyncpg.Pool, broker: Broker, p: Principal, job_id: UUID, reason: str
) -> AwardWithdrawn:
    """The awarded carrier walks away, until loading starts on one of its loads."""
    async with db.acquire() as conn, conn.transaction():
        job = await lock_job(conn, job_id)
        if job is None or job["carrier_org_id"] != p.org_id:
            raise NotFound("No such job awarded to your organization.", code="job_not_found")
        _require_awarded(job)
        return await _withdraw(conn, broker, job, "carrier", reason, p.user_id)


async def cancel_award(
    db: asyncpg.Pool, broker: Broker, p: Principal, job_id: UUID, reason: str
) -> AwardWithdrawn:
    """The poster withdraws the carrier's award, until loading starts on one of its loads."""
    async with db.acquire() as conn, conn.transaction():
        job = await lock_job(conn, job_id)
        if job is None or p.org_id not in (
            job["poster_org_id"],
            job["shipper_org_id"],
            job["consignee_org_id"],
        ):
            raise NotFound("No such job.", code="job_not_found")
        if job["poster_org_id"] != p.org_id:
            raise Forbidden(
                "Only the organization that posted the job cancels its award.", code="not_the_poster"
            )
        _require_awarded(job)
        return await _withdraw(conn, broker, job, "poster", reason, p.user_id)
