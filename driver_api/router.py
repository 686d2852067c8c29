"""Router for /driver/v1: device-token authentication only."""

from __future__ import annotations

from litestar import Router, get

from dispatch.accounts import service
from dispatch.accounts.auth import credential_kinds
from dispatch.accounts.models import Me
from dispatch.deps import Caller, RuntimeDep


@get("/me", operation_id="driverGetMe", summary="The driver and carrier this device token acts for")
async def driver_me(runtime: RuntimeDep, p: Caller) -> Me:
    return await service.me(runtime.db, p)


def driver_router() -> Router:
    return Router(
        path="/driver/v1", route_handlers=[driver_me], guards=[credential_kinds("device")], tags=["driver"]
    )
