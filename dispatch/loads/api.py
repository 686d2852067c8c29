"""Loads HTTP API: the carrier's plan for an awarded job, its loads and their assignment."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, JSONBody

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.loads import service, swaps
from dispatch.loads.models import Assignment, Load, Plan, PlanEdit, PlanRequest, SwapApproval, SwapRefusal


class PlanController(Controller):
    path = "/jobs/{job_id:uuid}"
    tags = ["loads"]

    @post(
        "/plan",
        operation_id="proposePlan",
        guards=[requires(Permission.DISPATCH_LOADS)],
        summary="Split the awarded job into loads for the carrier's vehicles (fewest trips, then cost)",
    )
    async def propose(
        self, job_id: FromPath[UUID], data: JSONBody[PlanRequest], runtime: RuntimeDep, p: Caller
    ) -> Plan:
        return await service.make_plan(runtime.db, p, job_id, data.vehicle_ids)

    @get("/plan", operation_id="getPlan", guards=[requires(Permission.DISPATCH_LOADS)])
    async def get_plan(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Plan:
        return await service.get_plan(runtime.db, p, job_id)

    @put(
        "/plan",
        operation_id="editPlan",
        guards=[requires(Permission.DISPATCH_LOADS)],
        summary="Replace the plan's loads; refused with every broken rule named",
    )
    async def edit(
        self, job_id: FromPath[UUID], data: JSONBody[PlanEdit], runtime: RuntimeDep, p: Caller
    ) -> Plan:
        return await service.edit_plan(runtime.db, p, job_id, data)

    @post(
        "/plan/confirm",
        operation_id="confirmPlan",
        status_code=200,
        guards=[requires(Permission.DISPATCH_LOADS)],
        summary="Create the plan's loads (confirming again creates nothing new)",
    )
    async def confirm(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[Load]:
        return await service.confirm_plan(runtime.db, runtime.settings.secret_key, p, job_id)

    @get("/loads", operation_id="listJobLoads", summary="The job's loads, for its parties")
    async def loads(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[Load]:
        return await service.list_loads(runtime.db, runtime.settings.secret_key, p, job_id)


class LoadController(Controller):
    path = "/loads/{load_id:uuid}"
    tags = ["loads"]
    guards = [requires(Permission.DISPATCH_LOADS)]

    @get("", operation_id="getLoad")
    async def get_load(self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Load:
        return await service.get_load(runtime.db, runtime.settings.secret_key, p, load_id)

    @put(
        "/assignment",
        operation_id="assignLoad",
        summary="Assign or reassign the load's driver (and optionally its vehicle)",
    )
    async def assign(
        self, load_id: FromPath[UUID], data: JSONBody[Assignment], runtime: RuntimeDep, p: Caller
    ) -> Load:
        return await service.assign(
            runtime.db,
            runtime.settings.secret_key,
            p,
            load_id,
            data,
            broker=runtime.broker,
            tell=runtime.tell_drivers,
        )


class SwapDecisionController(Controller):
    """The goods owner's decision on a truck or driver swapped in that its authorization does not name."""

    path = "/loads/{load_id:uuid}/swap"
    tags = ["loads"]
    guards = [requires(Permission.AWARD_JOBS)]

    @post(
        "/approve",
        operation_id="approveLoadSwap",
        status_code=200,
        summary="Approve the load's swapped truck or driver: its pickup code then verifies at the gate",
    )
    async def approve(
        self, load_id: FromPath[UUID], data: JSONBody[SwapApproval], runtime: RuntimeDep, p: Caller
    ) -> Load:
        await swaps.decide(
            runtime.db, runtime.broker, runtime.tell_drivers, p, load_id, approve=True, seen=data
        )
        return await service.load_for_party(runtime.db, p, load_id)

    @post(
        "/refuse",
        operation_id="refuseLoadSwap",
        status_code=200,
        summary="Refuse the load's swapped truck or driver: the gate refuses them; the carrier is told",
    )
    async def refuse(
        self, load_id: FromPath[UUID], data: JSONBody[SwapRefusal], runtime: RuntimeDep, p: Caller
    ) -> Load:
        await swaps.decide(
            runtime.db, runtime.broker, runtime.tell_drivers, p, load_id, approve=False, seen=data
        )
        return await service.load_for_party(runtime.db, p, load_id)
