"""Sites use cases. Geometry is checked by `geo`; the SQL scopes by the caller's organization."""

from __future__ import annotations

from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import asyncpg
import msgspec
from shapely import Polygon

from dispatch import events
from dispatch.accounts import regional
from dispatch.accounts import service as accounts
from dispatch.accounts.principal import Principal
from dispatch.db import Queryable
from dispatch.errors import Conflict, NotFound, Unprocessable
from dispatch.sites import addresses, queries
from dispatch.sites.models import (
    AddressParts,
    AddressPartsInput,
    DockCreate,
    OpeningHours,
    Site,
    SiteCreate,
    SiteUpdate,
)
from dispatch.types import Location, PolygonGeoJSON
from geo import GeometryError, Position, contains, distance_to_m, parse_polygon, polygon_to_geojson


def _site(row: asyncpg.Record | None) -> Site:
    if row is None:
        raise NotFound("No such site.", code="site_not_found")
    return msgspec.convert(dict(row), Site)


def validate_geofence(geofence: PolygonGeoJSON, field: str = "geofence") -> Polygon:
    try:
        return parse_polygon(msgspec.to_builtins(geofence))
    except GeometryError as exc:
        raise Unprocessable(f"{field}: {exc}", code="invalid_geofence", field=field) from None


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(
            f"timezone: {name!r} is not an IANA time zone name.", code="invalid_timezone"
        ) from None


async def _address_parts(db: Queryable, p: Principal, given: AddressPartsInput) -> AddressParts:
    """The parts as stored: the country checked, or the organization's when not given."""
    if given.country is not None:
        country = regional.check_country(given.country, "$.address_parts.country")
    else:
        country = (await accounts.own_organization(db, p)).country
    return AddressParts(**{**msgspec.structs.asdict(given), "country": country})


def _parts_json(parts: AddressParts | None) -> dict[str, Any] | None:
    return None if parts is None else msgspec.to_builtins(parts)


def _check_hours(hours: list[OpeningHours]) -> list[dict[str, Any]]:
    for h in hours:
        if h.closes <= h.opens:
            raise Unprocessable(
                f"opening_hours: on weekday {h.weekday} the site closes ({h.closes}) "
                f"before it opens ({h.opens}).",
                code="invalid_opening_hours",
            )
    return [msgspec.to_builtins(h) for h in hours]


def _check_location_in_fence(location: Location, fence: Polygon) -> None:
    where = Position(location.lon, location.lat)
    if not contains(fence, where):
        distance = round(distance_to_m(fence, where))
        raise Unprocessable(
            f"location: the site's location is {distance} m outside its geofence.",
            code="location_outside_geofence",
            params={"field": "location", "distance_m": distance},
        )


async def create_site(db: asyncpg.Pool, p: Principal, body: SiteCreate) -> Site:
    if body.address is None and body.address_parts is None:
        reason = "give the address as one line (address), in parts (address_parts), or both."
        raise Unprocessable(
            f"$.address: {reason}",
            code="address_required",
            errors=[{"field": "$.address", "reason": reason, "source": "body"}],
        )
    fence = validate_geofence(body.geofence)
    _check_location_in_fence(body.location, fence)
    _check_timezone(body.timezone)
    hours = _check_hours(body.opening_hours)
    async with db.acquire() as conn, conn.transaction():
        parts = await _address_parts(conn, p, body.address_parts) if body.address_parts else None
        # The one line as the client wrote it, else composed in the form of the parts' country.
        address = body.address
        if address is None:
            assert parts is not None
            address = addresses.one_line(parts)
        site_id = await conn.fetchval(
            queries.INSERT_SITE,
            p.org_id,
            body.name,
            address,
            body.location.lon,
            body.location.lat,
            polygon_to_geojson(fence),
            body.timezone,
            hours,
            body.shared,
            _parts_json(parts),
        )
        if site_id is None:
            raise Conflict(
                f"The organization already has a site named {body.name!r}.", code="site_name_taken"
            )
        for dock in body.docks:
            await _insert_dock(conn, p, site_id, dock)
        await events.record(
            conn,
            "site.created",
            org_ids=[p.org_id],
            subject_type="site",
            subject_id=site_id,
            actor_user_id=p.user_id,
            data={"name": body.name},
        )
        return _site(await conn.fetchrow(queries.OWN_SITE, p.org_id, site_id))


async def update_site(db: asyncpg.Pool, p: Principal, site_id: UUID, body: SiteUpdate) -> Site:
    async with db.acquire() as conn, conn.transaction():
        current = _site(await conn.fetchrow(queries.OWN_SITE + " FOR UPDATE OF s", p.org_id, site_id))
        merged = {
            "name": current.name,
            "address": current.address,
            "timezone": current.timezone,
            "opening_hours": current.opening_hours,
            "shared": current.shared,
        }
        parts = current.address_parts
        if isinstance(body.address_parts, AddressPartsInput):
            parts = await _address_parts(conn, p, body.address_parts)
            if body.address is msgspec.UNSET:
                merged["address"] = addresses.one_line(parts)
        elif body.address_parts is None or isinstance(body.address, str):
            # Parts dropped, or a new one-line address without parts: the old parts no longer
            # describe it.
            parts = None
        location = Location(lat=current.location.lat, lon=current.location.lon)
        fence = parse_polygon(current.geofence)
        if isinstance(body.geofence, PolygonGeoJSON):
            fence = validate_geofence(body.geofence)
        if isinstance(body.location, Location):
            location = body.location
        _check_location_in_fence(location, fence)
        if isinstance(body.timezone, str):
            _check_timezone(body.timezone)
            merged["timezone"] = body.timezone
        if isinstance(body.opening_hours, list):
            merged["opening_hours"] = _check_hours(body.opening_hours)
        for name in ("name", "address", "shared"):
            value = getattr(body, name)
            if value is not msgspec.UNSET:
                merged[name] = value
        try:
            await conn.execute(
                queries.UPDATE_SITE,
                p.org_id,
                site_id,
                merged["name"],
                merged["address"],
                location.lon,
                location.lat,
                polygon_to_geojson(fence),
                merged["timezone"],
                merged["opening_hours"],
                merged["shared"],
                _parts_json(parts),
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"The organization already has a site named {merged['name']!r}.", code="site_name_taken"
            ) from None
        await events.record(
            conn,
            "site.updated",
            org_ids=[p.org_id],
            subject_type="site",
            subject_id=site_id,
            actor_user_id=p.user_id,
        )
        return _site(await conn.fetchrow(queries.OWN_SITE, p.org_id, site_id))


async def _insert_dock(conn: Queryable, p: Principal, site_id: UUID, dock: DockCreate) -> UUID:
    dock_id: UUID | None = await conn.fetchval(
        queries.INSERT_DOCK, p.org_id, site_id, dock.name, list(dock.vehicle_types)
    )
    if dock_id is None:
        raise Conflict(f"The site already has a dock named {dock.name!r}.", code="dock_name_taken")
    return dock_id


async def add_dock(db: asyncpg.Pool, p: Principal, site_id: UUID, body: DockCreate) -> Site:
    async with db.acquire() as conn, conn.transaction():
        _site(await conn.fetchrow(queries.OWN_SITE, p.org_id, site_id))
        await _insert_dock(conn, p, site_id, body)
        await events.record(
            conn,
            "site.dock_added",
            org_ids=[p.org_id],
            subject_type="site",
            subject_id=site_id,
            actor_user_id=p.user_id,
            data={"dock": body.name},
        )
        return _site(await conn.fetchrow(queries.OWN_SITE, p.org_id, site_id))


async def get_site(db: Queryable, p: Principal, site_id: UUID) -> Site:
    """The caller's own site, or another organization's shared one."""
    return _site(await db.fetchrow(queries.VISIBLE_SITE, p.org_id, site_id))


async def owns_site(db: Queryable, p: Principal, site_id: UUID) -> bool:
    """Whether the site is the caller's organization's own."""
    return await db.fetchrow(queries.OWN_SITE, p.org_id, site_id) is not None


async def sees_site(db: Queryable, p: Principal, site_id: UUID) -> bool:
    """Whether the caller may see the site: its own, or one another organization shares."""
    return await db.fetchrow(queries.VISIBLE_SITE, p.org_id, site_id) is not None


async def list_own_sites(db: asyncpg.Pool, p: Principal) -> list[Site]:
    return [_site(r) for r in await db.fetch(queries.OWN_SITES, p.org_id)]


async def list_shared_sites(db: asyncpg.Pool, p: Principal, *, name: str | None, limit: int) -> list[Site]:
    return [_site(r) for r in await db.fetch(queries.SHARED_SITES, p.org_id, name, limit)]
