"""Authorizations HTTP API: the goods owner's pickup authorization of a job, the gate's code check.

`POST /gate/verify` is a route of its own: the yard's other `/gate` routes (check-in, the board,
the docks) are the gate's controller (dispatch/gate/api.py).
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.authorizations import service
from dispatch.authorizations.models import (
    Authorization,
    AuthorizationCreate,
    AuthorizationRevoke,
    GateCheck,
    GateVerdict,
)
from dispatch.deps import Caller, RuntimeDep


class AuthorizationController(Controller):
    path = "/jobs/{job_id:uuid}/authorization"
    tags = ["jobs"]

    @get(
        "",
        operation_id="getAuthorization",
        summary="The pickup authorization and its code, for the goods owner and the carrier",
    )
    async def authorization(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Authorization:
        return await service.get_authorization(runtime.db, runtime.settings.secret_key, p, job_id)

    @post(
        "",
        operation_id="issueAuthorization",
        guards=[requires(Permission.AWARD_JOBS)],
        summary="Authorize the awarded carrier to collect the goods",
    )
    async def issue_authorization(
        self, job_id: FromPath[UUID], data: JSONBody[AuthorizationCreate], runtime: RuntimeDep, p: Caller
    ) -> Authorization:
        return await service.issue_authorization(runtime.db, runtime.settings.secret_key, p, job_id, data)

    @post(
        "/revoke",
        operation_id="revokeAuthorization",
        status_code=200,
        guards=[requires(Permission.AWARD_JOBS)],
    )
    async def revoke_authorization(
        self, job_id: FromPath[UUID], data: JSONBody[AuthorizationRevoke], runtime: RuntimeDep, p: Caller
    ) -> Authorization:
        return await service.revoke_authorization(
            runtime.db, runtime.settings.secret_key, p, job_id, data.reason
        )


@post(
    "/gate/verify",
    operation_id="verifyPickupCode",
    status_code=200,
    tags=["gate"],
    guards=[requires(Permission.OPERATE_GATE)],
    summary="Check a pickup code and plate at the caller's site; every check is logged",
)
async def verify_pickup_code(data: JSONBody[GateCheck], runtime: RuntimeDep, p: Caller) -> GateVerdict:
    return await service.verify_at_gate(runtime.db, p, data)
