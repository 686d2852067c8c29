"""Pickup authorizations: the goods owner's permission for the awarded carrier to collect, and the
gate's check of a pickup code (a job authorization's, or a load's own).

Each public function is one use case in one transaction, except the steps that run inside their
caller's: `AutomaticAuthorizer` (the market's award) and `check_load_code` (the gate's
check-in). The area sits above the market (it locks and reads jobs through the market's public
functions) and below the gate and the loads (the gate checks codes here; the loads derive theirs
with `codes.load_code`). The rules: dispatch/authorizations/README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.authorizations import codes, queries
from dispatch.authorizations.models import (
    Authorization,
    AuthorizationCreate,
    GateCheck,
    GateResult,
    GateVerdict,
)
from dispatch.db import Conn
from dispatch.errors import Conflict, Forbidden, NotFound, Unprocessable
from dispatch.market.awards import AutoAuthorizer, Grant
from dispatch.market.service import goods_owner_org, lock_job
from dispatch.parties import party_orgs
from dispatch.plates import plate_key, require_plate
from dispatch.types import load_number

# How long around the pickup window an authorization is valid by default: trucks come early and late.
AUTHORIZATION_GRACE = timedelta(hours=12)


def _now() -> datetime:
    return datetime.now(UTC)


async def _issue(
    conn: Conn,
    secret: str,
    job: asyncpg.Record,
    issuer: UUID,
    *,
    valid_from: datetime,
    valid_until: datetime,
    plates: list[str],
    drivers: list[UUID],
    actor: UUID | None,
) -> UUID:
    auth_id = uuid4()
    code = codes.authorization_code(secret, auth_id)
    stored = await conn.fetchval(
        queries.INSERT_AUTHORIZATION,
        auth_id,
        codes.code_hash(code),
        job["id"],
        issuer,
        job["carrier_org_id"],
        job["origin_site_id"],
        valid_from,
        valid_until,
        plates,
        drivers,
        actor,
    )
    if stored is None:
        raise Conflict(
            "The job already has an authorization in force; revoke it first.", code="authorization_exists"
        )
    await events.record(
        conn,
        "authorization.issued",
        org_ids=party_orgs(job),
        subject_type="authorization",
        subject_id=auth_id,
        actor_user_id=actor,
        data=_issued(job["id"], valid_from, valid_until),
    )
    return auth_id


def _issued(job_id: UUID, valid_from: datetime, valid_until: datetime) -> dict[str, Any]:
    """The data of `authorization.issued`."""
    return {
        "job_id": str(job_id),
        "valid_from": valid_from.isoformat(),
        "valid_until": valid_until.isoformat(),
    }


def _authorization(row: asyncpg.Record, secret: str) -> Authorization:
    code = None if row["revoked_at"] else codes.authorization_code(secret, row["id"])
    fields = {name: row[name] for name in Authorization.__struct_fields__ if name != "code"}
    return Authorization(**fields, code=code)


class AutomaticAuthorizer(AutoAuthorizer):
    """What the market runs in the awarding transaction when the goods owner authorizes
    automatically: any plate and driver of the carrier, from 12 h before the pickup window to 12 h
    after it."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def grant(self, job: Mapping[str, Any], owner: UUID) -> Grant:
        auth_id = uuid4()
        valid_from = job["pickup_from"] - AUTHORIZATION_GRACE
        valid_until = job["pickup_until"] + AUTHORIZATION_GRACE
        return Grant(
            id=auth_id,
            code_hash=codes.code_hash(codes.authorization_code(self._secret, auth_id)),
            issuer_org_id=owner,
            valid_from=valid_from,
            valid_until=valid_until,
            event=events.pending(
                "authorization.issued",
                org_ids=party_orgs(job),
                subject_type="authorization",
                subject_id=auth_id,
                actor_user_id=None,
                data=_issued(job["id"], valid_from, valid_until),
            ),
        )

    async def __call__(self, conn: Conn, job: asyncpg.Record, owner: UUID) -> None:
        await _issue(
            conn,
            self._secret,
            job,
            owner,
            valid_from=job["pickup_from"] - AUTHORIZATION_GRACE,
            valid_until=job["pickup_until"] + AUTHORIZATION_GRACE,
            plates=[],
            drivers=[],
            actor=None,
        )


async def issue_authorization(
    db: asyncpg.Pool, secret: str, p: Principal, job_id: UUID, body: AuthorizationCreate
) -> Authorization:
    async with db.acquire() as conn, conn.transaction():
        job = await lock_job(conn, job_id)
        if job is None or p.org_id not in party_orgs(job):
            raise NotFound("No such job.", code="job_not_found")
        if p.org_id != goods_owner_org(job):
            raise Forbidden(
                "Only the organization that owns the goods at pickup authorizes the carrier.",
                code="not_the_goods_owner",
            )
        if job["status"] not in ("awarded", "dispatched"):
            raise Conflict(
                f"The job is {job['status']}: there is no carrier to authorize.", code="job_not_awarded"
            )
        valid_from = body.valid_from or job["pickup_from"] - AUTHORIZATION_GRACE
        valid_until = body.valid_until or job["pickup_until"] + AUTHORIZATION_GRACE
        if valid_until <= valid_from:
            raise Unprocessable("valid_until must be after valid_from.", code="invalid_validity")
        if valid_until <= _now():
            raise Unprocessable("The validity window is already over.", code="validity_in_past")
        auth_id = await _issue(
            conn,
            secret,
            job,
            p.org_id,
            valid_from=valid_from,
            valid_until=valid_until,
            plates=[require_plate(x, f"$.allowed_plates[{i}]") for i, x in enumerate(body.allowed_plates)],
            drivers=list(body.allowed_driver_ids),
            actor=p.user_id,
        )
        row = await conn.fetchrow(queries.AUTHORIZATION, auth_id)
        assert row is not None
        return _authorization(row, secret)


async def get_authorization(db: asyncpg.Pool, secret: str, p: Principal, job_id: UUID) -> Authorization:
    row = await db.fetchrow(queries.AUTHORIZATION_OF_JOB, job_id, p.org_id)
    if row is None:
        raise NotFound(
            "No authorization of this job is visible to your organization.", code="authorization_not_found"
        )
    return _authorization(row, secret)


async def revoke_authorization(
    db: asyncpg.Pool, secret: str, p: Principal, job_id: UUID, reason: str
) -> Authorization:
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.REVOKE_AUTHORIZATION, job_id, p.org_id, reason)
        if row is None:
            raise NotFound(
                "Your organization has no authorization in force on this job.", code="authorization_not_found"
            )
        await events.record(
            conn,
            "authorization.revoked",
            org_ids=[row["issuer_org_id"], row["carrier_org_id"]],
            subject_type="authorization",
            subject_id=row["id"],
            actor_user_id=p.user_id,
            data={"job_id": str(job_id), "reason": reason},
        )
        return _authorization(row, secret)


async def revoke_for_withdrawn_award(
    conn: Conn, job: asyncpg.Record, cause: GateResult, reason: str, actor: UUID | None
) -> None:
    """The award behind the job's authorization was withdrawn (in the caller's transaction): the
    authorization in force is revoked with the cause, so the gate refuses its codes saying why."""
    row = await conn.fetchrow(queries.REVOKE_FOR_WITHDRAWN_AWARD, job["id"], reason, cause)
    if row is None:  # the owner authorized by hand and had not yet, or revoked it already
        return
    await events.record(
        conn,
        "authorization.revoked",
        org_ids=[row["issuer_org_id"], row["carrier_org_id"]],
        subject_type="authorization",
        subject_id=row["id"],
        actor_user_id=actor,
        data={"job_id": str(job["id"]), "reason": reason},
    )


_VERDICT_DETAIL: dict[GateResult, str] = {
    "valid": "The code is valid for this truck at this gate.",
    "unknown_code": "No authorization has this code.",
    "wrong_site": "The code is for pickup at another site.",
    "not_yet_valid": "The authorization is not valid yet.",
    "expired": "The authorization has expired.",
    "revoked": "The authorization was revoked by the goods owner.",
    "wrong_plate": "This truck's plate is not the authorized one.",
    "wrong_driver": "This driver is not the authorized one.",
    "awaiting_owner_approval": "The truck or driver was swapped: the goods owner has not approved it yet.",
    "swap_refused": "The goods owner refused the swapped truck or driver for this load.",
    "award_given_back": "The carrier gave the job back: this code no longer authorizes a pickup.",
    "award_cancelled": "The poster cancelled the carrier's award: this code no longer authorizes a pickup.",
}


_REASSIGNED_DETAIL = "This code was replaced: the load was reassigned to another truck or driver."

_WITHDRAWN = ("award_given_back", "award_cancelled")


def judge(
    auth: asyncpg.Record | None, site_id: UUID, plate: str, driver_id: UUID | None, now: datetime
) -> GateResult:
    """The gate's verdict on an authorization, first failing rule first."""
    if auth is None:
        return "unknown_code"
    if auth["site_id"] != site_id:
        return "wrong_site"
    if auth["revoked_at"] is not None:
        return auth["revoke_cause"] or "revoked"
    if now < auth["valid_from"]:
        return "not_yet_valid"
    if now >= auth["valid_until"]:
        return "expired"
    if auth["allowed_plates"] and plate_key(plate) not in auth["allowed_plates"]:
        return "wrong_plate"
    if auth["allowed_driver_ids"] and driver_id not in auth["allowed_driver_ids"]:
        return "wrong_driver"
    return "valid"


def judge_load(
    load: asyncpg.Record, site_id: UUID, plate: str, driver_id: UUID | None, now: datetime
) -> GateResult:
    """A load's code is valid under its job's authorization, for its own truck and driver only."""
    if load["site_id"] != site_id:
        return "wrong_site"
    if load["revoke_cause"] is not None:  # the award behind it was withdrawn: say so
        return load["revoke_cause"]  # type: ignore[no-any-return]
    if load["authorization_id"] is None or load["revoked_at"] is not None or load["status"] == "cancelled":
        return "revoked"
    if now < load["valid_from"]:
        return "not_yet_valid"
    if now >= load["valid_until"]:
        return "expired"
    if plate_key(plate) != load["plate"]:
        return "wrong_plate"
    if driver_id is not None and driver_id != load["driver_user_id"]:
        return "wrong_driver"
    # The right truck and driver, swapped in against an authorization that names others.
    if load["approval"] == "pending":
        return "awaiting_owner_approval"
    if load["approval"] == "refused":
        return "swap_refused"
    return "valid"


async def check_load_code(
    conn: Conn, code: str, site_id: UUID, plate: str, driver_id: UUID | None = None
) -> tuple[asyncpg.Record | None, GateResult]:
    """A load's own pickup code at a gate: the load it names (None: no load has it) and the verdict."""
    load = await conn.fetchrow(queries.LOAD_BY_CODE, codes.code_hash(code))
    if load is None:
        return None, "unknown_code"
    return load, judge_load(load, site_id, plate, driver_id, _now())


async def retired_here(conn: Conn, code: str, site_id: UUID) -> bool:
    """Whether an unknown code is one a reassignment of a load picked up at this site retired (the
    gate then says why it opens nothing; another site's retired code stays anonymous)."""
    retired = await conn.fetchrow(queries.RETIRED_LOAD_CODE, codes.code_hash(code))
    return retired is not None and retired["site_id"] == site_id


async def assignment_named(conn: Conn, job_id: UUID, plate: str, driver_id: UUID) -> bool:
    """Whether the job's authorization in force covers this truck (its plate key) and driver: it
    names none (the carrier as a whole is authorized) or names them. No authorization in force
    covers nothing to approve: the gate refuses every code of the job anyway (`revoked`)."""
    auth = await conn.fetchrow(queries.AUTHORIZATION_IN_FORCE, job_id)
    if auth is None:
        return True
    plates, drivers = auth["allowed_plates"], auth["allowed_driver_ids"]
    return (not plates or plate in plates) and (not drivers or driver_id in drivers)


async def verify_at_gate(db: asyncpg.Pool, p: Principal, body: GateCheck) -> GateVerdict:
    """Check a job authorization's code, or a load's own code, at one of the caller's sites.

    No transaction: the lookups only read, and the one write (the log) checks that the site is the
    caller's own in its statement; a site that is not answers `site_not_found` with nothing logged
    (the lookups before it change nothing and say nothing)."""
    async with db.acquire() as conn:
        auth = await conn.fetchrow(queries.AUTHORIZATION_BY_CODE, codes.code_hash(body.code))
        if auth is not None:
            load, result = None, judge(auth, body.site_id, body.plate, body.driver_id, _now())
        else:
            load, result = await check_load_code(conn, body.code, body.site_id, body.plate, body.driver_id)
        reassigned = result == "unknown_code" and await retired_here(conn, body.code, body.site_id)
        # Only a code for this site names what it authorizes; others stay anonymous.
        known = (load or auth) if result not in ("unknown_code", "wrong_site") else None
        authorization_id = (
            known["authorization_id"] if load is not None and known else known["id"] if known else None
        )
        logged = await conn.fetchval(
            queries.LOG_GATE_CHECK,
            body.site_id,
            p.user_id,
            authorization_id,
            plate_key(body.plate),
            body.driver_id,
            result,
            p.org_id,
        )
        if logged is None:
            raise NotFound("No such site of your organization.", code="site_not_found")
    verdict = GateVerdict(
        valid=result == "valid",
        result=result,
        detail=_REASSIGNED_DETAIL if reassigned else _VERDICT_DETAIL[result],
        reason="reassigned" if reassigned else None,
        authorization_id=authorization_id,
        job_id=known["job_id"] if known else None,
        carrier_org_id=known["carrier_org_id"] if known else None,
        valid_until=known["valid_until"] if known else None,
        carrier_name=known["carrier_name"] if known else None,
        revoke_reason=known["revoke_reason"] if known and result in _WITHDRAWN else None,
    )
    if load is not None and known:
        verdict.load_id, verdict.plate, verdict.driver_name = load["id"], load["plate"], load["driver_name"]
        verdict.load_number = load_number(load["job_reference"], load["job_id"], load["seq"])
        verdict.plate_display = load["plate_display"]
    return verdict
