"""Wire-type building blocks shared by every area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from geo import Latitude, Longitude


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body: unknown fields are an error, not silently dropped.

    msgspec does not inherit `kw_only`: every subclass declares `kw_only=True` itself."""


# Vehicle body types, shared by jobs (required type), docks (types served) and the fleet.
VehicleType = Literal[
    "flatbed",
    "curtainsider",
    "box",
    "refrigerated",
    "tanker",
    "bulk_tipper",
    "silo",
    "container",
    "lowloader",
]
CargoKind = Literal["bulk", "items"]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
# Money is an integer count of the currency's minor unit (cents), never a float.
MinorUnits = Annotated[int, Meta(gt=0, le=10**12)]


class Location(Input, kw_only=True):
    lat: Latitude
    lon: Longitude


class LocationOut(msgspec.Struct, kw_only=True):
    lat: float
    lon: float


# A GeoJSON Polygon: positions are [lon, lat]; the first ring is the shell, others are holes.
Ring = Annotated[list[tuple[Longitude, Latitude]], Meta(min_length=4, max_length=1000)]


class PolygonGeoJSON(Input, kw_only=True):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Meta(min_length=1, max_length=20)]


class Instant(datetime):
    """A date-time in a query parameter: RFC 3339 text only, as the document says (format date-time).

    Litestar converts query strings leniently (msgspec's lax mode), which reads a number as a unix
    time: `?pickup_from=-700` was 1969. This type is decoded by `decode_instant` (registered in
    dispatch/app.py), which takes text only; dispatch/openapi.py documents it as a date-time."""


def decode_instant(_: type[Any], value: Any) -> Instant:
    if not isinstance(value, str):
        raise TypeError("Expected a date-time as RFC 3339 text")
    parsed = msgspec.convert(value, datetime)  # strict: text in RFC 3339 only, never a number
    return Instant.combine(parsed.date(), parsed.timetz())


def is_instant(type_: Any) -> bool:
    return type_ is Instant


def load_number(job_reference: str | None, job_id: UUID, seq: int) -> str:
    """The load's short number for people (drivers, gate staff): the job's reference, or the first
    eight hex digits of its id when it has none, and the load's sequence in the job: `PO-4711/2`."""
    job = (job_reference or "").strip() or job_id.hex[:8].upper()
    return f"{job}/{seq}"
