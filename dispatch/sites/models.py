"""Sites wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.types import Input, Location, LocationOut, PolygonGeoJSON, VehicleType

# "HH:MM" in the site's time zone; "24:00" closes at midnight.
# [0-9], not \d: Python's \d takes any Unicode digit, the document's (ECMA) only ASCII ones.
ClockTime = Annotated[str, Meta(pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
TimeZoneName = Annotated[str, Meta(min_length=1, max_length=64, examples=["Europe/Berlin"])]


class OpeningHours(Input, kw_only=True):
    weekday: Annotated[int, Meta(ge=0, le=6, description="0 = Monday")]
    opens: ClockTime
    closes: ClockTime


class DockCreate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=50)]
    # Empty: the dock serves any vehicle type.
    vehicle_types: Annotated[list[VehicleType], Meta(max_length=20)] = []


class Dock(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    vehicle_types: list[str]
    active: bool


class SiteCreate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    address: Annotated[str, Meta(min_length=1, max_length=500)]
    location: Location
    geofence: PolygonGeoJSON
    timezone: TimeZoneName
    opening_hours: Annotated[list[OpeningHours], Meta(max_length=21)] = []
    shared: bool = False
    docks: Annotated[list[DockCreate], Meta(max_length=100)] = []


class SiteUpdate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    address: Annotated[str, Meta(min_length=1, max_length=500)] | UnsetType = UNSET
    location: Location | UnsetType = UNSET
    geofence: PolygonGeoJSON | UnsetType = UNSET
    timezone: TimeZoneName | UnsetType = UNSET
    opening_hours: Annotated[list[OpeningHours], Meta(max_length=21)] | UnsetType = UNSET
    shared: bool | UnsetType = UNSET


class Site(msgspec.Struct, kw_only=True):
    id: UUID
    org_id: UUID
    name: str
    address: str
    location: LocationOut
    geofence: dict[str, Any]
    timezone: str
    opening_hours: list[dict[str, Any]]
    shared: bool
    docks: list[Dock]
    created_at: datetime
