"""Loads wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.types import Input

LoadStatus = Literal[
    "planned", "assigned", "booked", "at_gate", "loading", "in_transit", "arrived", "received", "cancelled"
]


class PlanRequest(Input, kw_only=True):
    # The vehicles to plan with; all the carrier's active vehicles of the job's type when absent.
    vehicle_ids: Annotated[list[UUID], Meta(min_length=1, max_length=500)] | None = None


class ItemCount(msgspec.Struct, kw_only=True):
    line: int
    description: str
    count: int


class PlannedLoad(msgspec.Struct, kw_only=True):
    vehicle_id: UUID
    plate: str
    trip: int
    bulk_kg: int | None
    items: list[ItemCount] | None
    weight_kg: float
    volume_m3: float
    weight_utilization: float
    volume_utilization: float


class Plan(msgspec.Struct, kw_only=True):
    job_id: UUID
    trips: int
    cost_minor: int
    lower_bound: int
    optimal: bool
    method: str
    edited: bool
    confirmed_at: datetime | None
    loads: list[PlannedLoad]


class LoadEdit(Input, kw_only=True):
    vehicle_id: UUID
    # Bulk cargo: kilograms in this load. Item cargo: units of each cargo line, in line order.
    # Bounded by the most a job's cargo may hold (dispatch.market.models), so that no number
    # reaches the planner's arithmetic or a bigint/integer column that could overflow it.
    bulk_kg: Annotated[int, Meta(gt=0, le=10_000_000)] | None = None
    items: Annotated[list[Annotated[int, Meta(ge=0, le=100_000)]], Meta(max_length=200)] | None = None


class PlanEdit(Input, kw_only=True):
    loads: Annotated[list[LoadEdit], Meta(min_length=1, max_length=500)]


class VehicleRef(msgspec.Struct, kw_only=True):
    id: UUID
    plate: str


class DriverRef(msgspec.Struct, kw_only=True):
    user_id: UUID
    name: str
    phone: str | None


class Load(msgspec.Struct, kw_only=True):
    id: UUID
    job_id: UUID
    seq: int
    status: LoadStatus
    vehicle: VehicleRef
    trip: int
    driver: DriverRef | None
    bulk_kg: int | None
    items: list[int] | None
    weight_kg: float
    volume_m3: float
    pickup_from: datetime
    pickup_until: datetime
    # Shown to the carrier (and its driver): what the gate scans. Bound to the vehicle and driver.
    pickup_code: str | None = None
    # Added for swaps, and absent unless set (so that a load never swapped reads as before):
    # a truck or driver swapped in that the job's authorization does not name, the goods owner's
    # decision (absent: none needed). Pending or refused, the gate refuses the load's code.
    approval: Literal["pending", "approved", "refused"] | UnsetType = UNSET
    approval_reason: str | UnsetType = UNSET
    # What the last swap replaced (absent before any).
    previous_vehicle: VehicleRef | UnsetType = UNSET
    previous_driver: DriverRef | UnsetType = UNSET


class Assignment(Input, kw_only=True):
    driver_user_id: UUID
    # Optionally move the load to another vehicle of the fleet (it must fit).
    vehicle_id: UUID | None = None


class SwapApproval(Input, kw_only=True):
    # The truck and driver the goods owner was shown: if the carrier swapped again meanwhile, the
    # decision is refused (409 `swap_changed`) rather than applied to a swap not seen.
    vehicle_id: UUID | None = None
    driver_user_id: UUID | None = None


class SwapRefusal(SwapApproval, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]
