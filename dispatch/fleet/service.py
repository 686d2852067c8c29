"""Fleet use cases: vehicles and drivers of the caller's (carrier) organization."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts import service as accounts
from dispatch.accounts.auth import require_party
from dispatch.accounts.passwords import Passwords
from dispatch.accounts.principal import Principal
from dispatch.db import Queryable
from dispatch.errors import Conflict, NotFound
from dispatch.fleet import queries
from dispatch.fleet.models import Driver, DriverCreate, DriverProfile, Vehicle, VehicleCreate, VehicleUpdate
from dispatch.plates import require_plate


def _vehicle(row: asyncpg.Record | None) -> Vehicle:
    if row is None:
        raise NotFound("No such vehicle in your fleet.", code="vehicle_not_found")
    return msgspec.convert(dict(row), Vehicle)


async def list_vehicles(db: Queryable, p: Principal) -> list[Vehicle]:
    return [_vehicle(r) for r in await db.fetch(queries.VEHICLES, p.org_id)]


async def usable_vehicles(
    db: Queryable, p: Principal, vehicle_type: str, ids: list[UUID] | None = None
) -> list[Vehicle]:
    """The organization's active vehicles of `vehicle_type` (of those in `ids`, when given), by plate."""
    return [_vehicle(r) for r in await db.fetch(queries.USABLE_VEHICLES, p.org_id, ids, vehicle_type)]


async def add_vehicle(db: asyncpg.Pool, p: Principal, body: VehicleCreate) -> Vehicle:
    require_party(p, "carrier", "keep a fleet")
    # A plate that does not say its country is read as one of the carrier's own country.
    country = (await accounts.own_organization(db, p)).country
    key = require_plate(body.plate, country=country)  # before anything is written
    async with db.acquire() as conn, conn.transaction():
        vehicle_id = await conn.fetchval(
            queries.INSERT_VEHICLE,
            p.org_id,
            key,
            body.plate.upper(),
            body.vehicle_type,
            body.capacity_kg,
            body.capacity_m3,
            body.cost_per_trip_minor,
            body.active,
        )
        if vehicle_id is None:
            raise Conflict(f"Your fleet already has a vehicle with plate {body.plate}.", code="plate_taken")
        await events.record(
            conn,
            "vehicle.added",
            org_ids=[p.org_id],
            subject_type="vehicle",
            subject_id=vehicle_id,
            actor_user_id=p.user_id,
            data={"plate": body.plate.upper()},
        )
        return _vehicle(await conn.fetchrow(queries.VEHICLE, p.org_id, vehicle_id))


async def update_vehicle(db: asyncpg.Pool, p: Principal, vehicle_id: UUID, body: VehicleUpdate) -> Vehicle:
    def given(value: object) -> object:
        return None if value is msgspec.UNSET else value

    async with db.acquire() as conn, conn.transaction():
        updated = await conn.fetchval(
            queries.UPDATE_VEHICLE,
            p.org_id,
            vehicle_id,
            given(body.vehicle_type),
            given(body.capacity_kg),
            given(body.capacity_m3),
            given(body.cost_per_trip_minor),
            given(body.active),
        )
        if updated is None:
            raise NotFound("No such vehicle in your fleet.", code="vehicle_not_found")
        await events.record(
            conn,
            "vehicle.updated",
            org_ids=[p.org_id],
            subject_type="vehicle",
            subject_id=vehicle_id,
            actor_user_id=p.user_id,
        )
        return _vehicle(await conn.fetchrow(queries.VEHICLE, p.org_id, vehicle_id))


async def list_drivers(db: asyncpg.Pool, p: Principal) -> list[Driver]:
    return [msgspec.convert(dict(r), Driver) for r in await db.fetch(queries.DRIVERS, p.org_id, None)]


async def add_driver(db: asyncpg.Pool, passwords: Passwords, p: Principal, body: DriverCreate) -> Driver:
    """A new user account in the carrier with the built-in driver role and a fleet profile."""
    require_party(p, "carrier", "keep a fleet")
    password_hash = await passwords.hash(body.password)
    async with db.acquire() as conn, conn.transaction():
        driver = await accounts.builtin_role(conn, "driver")
        user_id = await accounts.add_user(
            conn, p.org_id, email=body.email, name=body.name, password_hash=password_hash, role_ids=[driver]
        )
        await conn.execute(queries.UPSERT_PROFILE, p.org_id, user_id, body.phone, body.licence_number)
        await events.record(
            conn,
            "driver.added",
            org_ids=[p.org_id],
            subject_type="user",
            subject_id=user_id,
            actor_user_id=p.user_id,
        )
        row = await conn.fetchrow(queries.DRIVERS, p.org_id, user_id)
        return msgspec.convert(dict(row or {}), Driver)


async def set_driver_profile(db: asyncpg.Pool, p: Principal, user_id: UUID, body: DriverProfile) -> Driver:
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchrow(queries.DRIVERS, p.org_id, user_id) is None:
            raise NotFound("No member with the drive permission has that id.", code="driver_not_found")
        await conn.execute(queries.UPSERT_PROFILE, p.org_id, user_id, body.phone, body.licence_number)
        row = await conn.fetchrow(queries.DRIVERS, p.org_id, user_id)
        return msgspec.convert(dict(row or {}), Driver)
