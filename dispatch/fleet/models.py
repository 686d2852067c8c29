"""Fleet wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.accounts.models import Email, NewPassword, PersonName
from dispatch.plates import PlateText
from dispatch.types import Input, VehicleType

CapacityKg = Annotated[float, Meta(gt=0, le=100_000)]
CapacityM3 = Annotated[float, Meta(gt=0, le=500)]
Cost = Annotated[int, Meta(ge=0, le=10**10)]
Phone = Annotated[str, Meta(pattern=r"^\+?[0-9 ()-]{5,25}$")]
Licence = Annotated[str, Meta(min_length=3, max_length=40)]


class VehicleCreate(Input, kw_only=True):
    plate: PlateText
    vehicle_type: VehicleType
    capacity_kg: CapacityKg
    capacity_m3: CapacityM3
    cost_per_trip_minor: Cost = 0
    active: bool = True


class VehicleUpdate(Input, kw_only=True):
    vehicle_type: VehicleType | UnsetType = UNSET
    capacity_kg: CapacityKg | UnsetType = UNSET
    capacity_m3: CapacityM3 | UnsetType = UNSET
    cost_per_trip_minor: Cost | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class Vehicle(msgspec.Struct, kw_only=True):
    id: UUID
    plate: str
    vehicle_type: str
    capacity_kg: float
    capacity_m3: float
    cost_per_trip_minor: int
    active: bool
    created_at: datetime


class DriverCreate(Input, kw_only=True):
    email: Email
    name: PersonName
    password: NewPassword
    phone: Phone
    licence_number: Licence


class DriverProfile(Input, kw_only=True):
    phone: Phone
    licence_number: Licence


class Driver(msgspec.Struct, kw_only=True):
    user_id: UUID
    name: str
    email: str
    phone: str | None
    licence_number: str | None
