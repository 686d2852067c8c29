"""Gate wire types: calendars, slots, bookings, check-in, queue tickets, the board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.plates import PlateText
from dispatch.types import Input, Location

Minutes = Annotated[int, Meta(ge=0, le=7 * 24 * 60)]


class CalendarSet(Input, kw_only=True):
    slot_minutes: Annotated[int, Meta(ge=5, le=480)]
    places_per_slot: Annotated[int, Meta(ge=1, le=200)]
    min_lead_minutes: Minutes = 0
    max_lead_days: Annotated[int, Meta(ge=1, le=365)] = 30
    cutoff_minutes: Minutes = 60
    grace_minutes: Minutes = 30
    late_tolerance_minutes: Minutes = 15
    closed_dates: Annotated[list[date], Meta(max_length=366)] = []


class Calendar(msgspec.Struct, kw_only=True):
    site_id: UUID
    slot_minutes: int
    places_per_slot: int
    min_lead_minutes: int
    max_lead_days: int
    cutoff_minutes: int
    grace_minutes: int
    late_tolerance_minutes: int
    closed_dates: list[date]


class SlotOut(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    places: int
    free: int


class BookingRequest(Input, kw_only=True):
    slot_start: datetime


class Booking(msgspec.Struct, kw_only=True):
    id: UUID
    load_id: UUID
    site_id: UUID
    slot_start: datetime
    slot_end: datetime
    status: Literal["booked", "checked_in", "served", "cancelled", "no_show"]


class DriverCheckIn(Input, kw_only=True):
    position: Location
    # The phone's reported horizontal accuracy (metres): a fix this close to the fence counts.
    accuracy_m: Annotated[float, Meta(ge=0, le=2000)] = 0.0


class StaffCheckIn(Input, kw_only=True):
    site_id: UUID
    code: Annotated[str, Meta(min_length=4, max_length=40)]
    plate: PlateText


class CallNext(Input, kw_only=True):
    dock_id: UUID


class DockRef(msgspec.Struct, kw_only=True):
    id: UUID
    name: str


class Ticket(msgspec.Struct, kw_only=True):
    id: UUID
    load_id: UUID
    site_id: UUID
    plate: str
    driver_name: str | None
    arrival: Literal["on_time", "early", "late", "walk_in"]
    slot_start: datetime | None
    arrived_at: datetime
    status: Literal["waiting", "called", "loading", "loaded", "departed"]
    dock: DockRef | None
    # For waiting trucks: 1 is next; None once called.
    position: int | None = None
    estimated_wait_minutes: int | None = None
    waiting_for_slot: bool = False


class Board(msgspec.Struct, kw_only=True):
    site_id: UUID
    site_name: str
    # The site's IANA time zone: slots are in it, and the board (a display at the site) shows its
    # times in it.
    site_timezone: str
    generated_at: datetime
    waiting: list[Ticket]
    at_docks: list[Ticket]
    docks: list[DockRef]
