"""Sites wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.accounts.regional import CountryCode
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


# A part of an address holds something besides spaces. Bounded so that the composed line fits the
# 500 characters of `address` (dispatch/sites/addresses.py).
_VISIBLE = "[^ \\t\\n\\r\\u3000]"
AreaName = Annotated[str, Meta(min_length=1, max_length=80, pattern=_VISIBLE)]
StreetName = Annotated[str, Meta(min_length=1, max_length=200, pattern=_VISIBLE)]
ShortPart = Annotated[str, Meta(min_length=1, max_length=20, pattern=_VISIBLE)]
OneLineAddress = Annotated[str, Meta(min_length=1, max_length=500)]


class AddressPartsInput(Input, kw_only=True):
    """An address in parts. Chinese order: province, city, district, street, number, postcode;
    European: street, number, postcode, city, country. The country decides how the one-line
    `address` is composed from them; it defaults to the organization's country."""

    country: CountryCode | None = None
    province: Annotated[AreaName | None, Meta(description="省 / state or region")] = None
    city: AreaName
    district: Annotated[AreaName | None, Meta(description="区 / 县")] = None
    street: StreetName
    number: Annotated[ShortPart | None, Meta(description="house number (号)")] = None
    postcode: ShortPart | None = None


class AddressParts(msgspec.Struct, kw_only=True):
    country: str
    province: str | None = None
    city: str
    district: str | None = None
    street: str
    number: str | None = None
    postcode: str | None = None


class SiteCreate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    # The address as one line; may be left out when `address_parts` is given (then it is composed
    # from them in the form of their country). At least one of the two.
    address: OneLineAddress | None = None
    address_parts: AddressPartsInput | None = None
    location: Location
    geofence: PolygonGeoJSON
    timezone: TimeZoneName
    opening_hours: Annotated[list[OpeningHours], Meta(max_length=21)] = []
    shared: bool = False
    docks: Annotated[list[DockCreate], Meta(max_length=100)] = []


class SiteUpdate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    # A new one-line address without parts drops the old parts (they no longer describe it); new
    # parts without a one-line address compose it; null parts drop them and keep the line.
    address: OneLineAddress | UnsetType = UNSET
    address_parts: AddressPartsInput | UnsetType | None = UNSET
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
    # The address in parts with its country, or null for a site whose address is one line only.
    address_parts: AddressParts | None
    location: LocationOut
    geofence: dict[str, Any]
    timezone: str
    opening_hours: list[dict[str, Any]]
    shared: bool
    docks: list[Dock]
    created_at: datetime
