"""Fleet HTTP API."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, JSONBody

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.fleet import service
from dispatch.fleet.models import Driver, DriverCreate, DriverProfile, Vehicle, VehicleCreate, VehicleUpdate


class FleetController(Controller):
    path = "/fleet"
    tags = ["fleet"]
    guards = [requires(Permission.MANAGE_FLEET)]

    @get("/vehicles", operation_id="listVehicles")
    async def vehicles(self, runtime: RuntimeDep, p: Caller) -> list[Vehicle]:
        return await service.list_vehicles(runtime.db, p)

    @post("/vehicles", operation_id="addVehicle")
    async def add_vehicle(self, data: JSONBody[VehicleCreate], runtime: RuntimeDep, p: Caller) -> Vehicle:
        return await service.add_vehicle(runtime.db, p, data)

    @patch("/vehicles/{vehicle_id:uuid}", operation_id="updateVehicle")
    async def update_vehicle(
        self, vehicle_id: FromPath[UUID], data: JSONBody[VehicleUpdate], runtime: RuntimeDep, p: Caller
    ) -> Vehicle:
        return await service.update_vehicle(runtime.db, p, vehicle_id, data)

    @get(
        "/drivers",
        operation_id="listDrivers",
        summary="Members with the drive permission, with their profiles",
    )
    async def drivers(self, runtime: RuntimeDep, p: Caller) -> list[Driver]:
        return await service.list_drivers(runtime.db, p)

    @post(
        "/drivers",
        operation_id="addDriver",
        summary="Create a driver's account (built-in driver role) with phone and licence",
    )
    async def add_driver(self, data: JSONBody[DriverCreate], runtime: RuntimeDep, p: Caller) -> Driver:
        return await service.add_driver(runtime.db, runtime.passwords, p, data)

    @put("/drivers/{user_id:uuid}/profile", operation_id="setDriverProfile")
    async def set_profile(
        self, user_id: FromPath[UUID], data: JSONBody[DriverProfile], runtime: RuntimeDep, p: Caller
    ) -> Driver:
        return await service.set_driver_profile(runtime.db, p, user_id, data)
