"""Receipt HTTP API: the consignee confirms receipt of a load; the job's parties read it."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.receipts import service
from dispatch.receipts.models import Receipt, ReceiptIn


class ReceiptController(Controller):
    path = "/loads/{load_id:uuid}/receipt"
    tags = ["receipts"]

    @post(
        "/",
        operation_id="confirmReceipt",
        guards=[requires(Permission.CONFIRM_RECEIPT)],
        summary="Confirm receipt (proof of delivery): ends the tracking; the last load completes the job",
    )
    async def confirm(
        self, load_id: FromPath[UUID], data: JSONBody[ReceiptIn], runtime: RuntimeDep, p: Caller
    ) -> Receipt:
        return await service.confirm(runtime.db, runtime.broker, p, load_id, data)

    @get("/", operation_id="getReceipt", summary="The load's receipt, for the job's parties")
    async def get(self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Receipt:
        return await service.get(runtime.db, p, load_id)
