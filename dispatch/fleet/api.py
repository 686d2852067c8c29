"""Fleet HTTP API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody

from dispatch.accounts import pairing
from dispatch.accounts.auth import requires
from dispatch.accounts.models import Pairing, PairingCreated
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

    # -- pairing a driver's phone (dispatch/accounts/pairing.py) --

    @post(
        "/drivers/{user_id:uuid}/pairings",
        operation_id="createPairing",
        summary="A one-time code (and its QR code) that pairs a phone with the driver",
        description=(
            "The code is in this answer only, valid for DISPATCH_PAIRING_MINUTES (10 by default), and "
            "works once: POST /driver/v1/pairing. pair_url (what the QR code holds) opens the app on "
            "this server and pairs it."
        ),
    )
    async def create_pairing(
        self, user_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, request: Request[Any, Any, Any]
    ) -> PairingCreated:
        return await pairing.create_pairing(
            runtime.db,
            p,
            user_id,
            secret=runtime.settings.secret_key,
            minutes=runtime.settings.pairing_minutes,
            base_url=str(request.base_url),
        )

    @get(
        "/drivers/{user_id:uuid}/pairings",
        operation_id="listPairings",
        summary="The driver's pairing codes that can still be redeemed (without the codes)",
    )
    async def pairings(self, user_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[Pairing]:
        return await pairing.list_pairings(runtime.db, p, user_id)

    @delete(
        "/drivers/{user_id:uuid}/pairings/{pairing_id:uuid}",
        operation_id="revokePairing",
        summary="Withdraw a pairing code that was not used yet",
    )
    async def revoke_pairing(
        self, user_id: FromPath[UUID], pairing_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> None:
        await pairing.revoke_pairing(runtime.db, p, user_id, pairing_id)
