"""HTTP API of withdrawn awards: the carrier's give-back and the poster's cancel of the award."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, post
from litestar.params import FromPath, JSONBody

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.withdrawals import service
from dispatch.withdrawals.models import AwardWithdrawn, Withdrawal


class WithdrawalController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post(
        "/{job_id:uuid}/give-back",
        operation_id="giveJobBack",
        status_code=200,
        guards=[requires(Permission.DISPATCH_LOADS)],
        summary="The awarded carrier gives the job back (a reason is required) until loading starts",
    )
    async def give_back(
        self, job_id: FromPath[UUID], data: JSONBody[Withdrawal], runtime: RuntimeDep, p: Caller
    ) -> AwardWithdrawn:
        return await service.give_back(runtime.db, runtime.broker, p, job_id, data.reason)

    @post(
        "/{job_id:uuid}/cancel-award",
        operation_id="cancelJobAward",
        status_code=200,
        guards=[requires(Permission.POST_JOBS)],
        summary="The poster cancels the carrier's award (a reason is required) until loading starts",
    )
    async def cancel_award(
        self, job_id: FromPath[UUID], data: JSONBody[Withdrawal], runtime: RuntimeDep, p: Caller
    ) -> AwardWithdrawn:
        return await service.cancel_award(runtime.db, runtime.broker, p, job_id, data.reason)
