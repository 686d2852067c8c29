"""Tracking use cases besides the GPS ingest (ingest.py): start a trip, read what watchers are
shown (a job, its loads' trails, ETAs and timelines, points after a cursor), and keep the position
partitions. Who may watch is access.py; share links are share_links.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.db import Conn, Queryable
from dispatch.errors import NotFound
from dispatch.realtime.broker import Broker
from dispatch.tracking import queries
from dispatch.tracking.access import Access, access_by_party
from dispatch.tracking.alerts import ALERTS
from dispatch.tracking.models import (
    ApproachOut,
    JobView,
    LoadTrack,
    PointOut,
    PointsPage,
    SiteView,
    TimelineEntry,
    approach_point,
    eta_out,
    point_out,
)
from dispatch.tracking.notifications import publish_event
from dispatch.types import LocationOut
from geo import Position
from geo.eta import Eta
from geo.trail import simplify

TRAIL_SIMPLIFY_ABOVE = 2000
TRAIL_TOLERANCE_M = 10.0
TIMELINE_EVENTS = [
    "load.departed",
    "load.left_origin",
    "load.stopped",
    "load.moving",
    "load.arrived",
    "load.received",
    *ALERTS,
]


async def start_trip(conn: Conn, broker: Broker, load_id: UUID, departed_at: datetime) -> None:
    """The truck left the gate (the caller's transaction): the load's trip begins taking positions."""
    await conn.execute(queries.START_TRIP, load_id, departed_at)
    await publish_event(
        broker, conn, load_id, TimelineEntry(type="load.departed", at=departed_at), "in_transit"
    )


# -- what watchers are shown ---------------------------------------------------------------


def _site_view(
    name: str, address: str, lon: float, lat: float, fence: dict[str, Any], timezone: str | None
) -> SiteView:
    return SiteView(
        name=name, address=address, location=LocationOut(lat=lat, lon=lon), geofence=fence, timezone=timezone
    )


async def job_view(db: Queryable, job_id: UUID) -> JobView:
    j = await db.fetchrow(queries.JOB_FOR_PARTY, job_id, None)
    assert j is not None
    return JobView(
        id=j["id"],
        reference=j["reference"],
        status=j["status"],
        consignee_org_id=j["consignee_org_id"],
        origin=_site_view(
            j["origin_name"],
            j["origin_address"],
            j["origin_lon"],
            j["origin_lat"],
            j["origin_fence"],
            j["origin_timezone"],
        ),
        destination=_site_view(
            j["destination_name"] or j["destination_address"],
            j["destination_address"],
            j["destination_lon"],
            j["destination_lat"],
            j["destination_geofence"],
            j["destination_timezone"],
        ),
        route=None if j["planned_route"] is None else [(p[0], p[1]) for p in j["planned_route"]],
    )


async def watched_loads(db: Queryable, a: Access) -> list[asyncpg.Record]:
    rows = await db.fetch(queries.WATCHED_LOADS, a.job_id, a.load_id)
    if a.load_id is not None and not rows:
        raise NotFound("No such load.", code="load_not_found")
    return rows


async def load_track(
    db: Queryable, row: asyncpg.Record, *, with_trail: bool, receipt: dict[str, Any] | None
) -> LoadTrack:
    load_id: UUID = row["id"]
    trail: list[tuple[float, float]] = []
    simplified = False
    last = None
    if row["last_seq"]:
        last_row = await db.fetchrow(queries.LAST_POINT, load_id)
        last = point_out(last_row) if last_row else None
        if with_trail:
            raw = [Position(r["lon"], r["lat"]) for r in await db.fetch(queries.TRAIL, load_id)]
            if len(raw) > TRAIL_SIMPLIFY_ABOVE:
                raw, simplified = simplify(raw, TRAIL_TOLERANCE_M), True
            trail = [(round(q.lon, 6), round(q.lat, 6)) for q in raw]
    eta = None
    if row["eta_at"] is not None:
        eta = eta_out(
            Eta(row["eta_at"], row["remaining_m"], row["progress"], row["speed_mps"]), row["eta_computed_at"]
        )
    timeline = [
        TimelineEntry(type=r["type"], at=r["at"], data=_timeline_data(r["data"]))
        for r in await db.fetch(queries.TIMELINE, str(load_id), TIMELINE_EVENTS)
    ]
    return LoadTrack(
        load_id=load_id,
        seq=row["seq"],
        plate=row["plate"],
        status=row["status"],
        last_seq=row["last_seq"] or 0,
        trail=trail,
        trail_simplified=simplified,
        points_total=row["points_total"] or 0,
        last=last,
        eta=eta,
        timeline=timeline,
        receipt=receipt,
        approach=_approach(row),
    )


def _approach(row: asyncpg.Record) -> ApproachOut | None:
    """The drive to the pickup, if the driver started one (WATCHED_LOADS' approach_ columns)."""
    if row["approach_started_at"] is None:
        return None
    remaining = row["approach_remaining_m"]
    return ApproachOut(
        load_id=row["id"],
        started_at=row["approach_started_at"],
        eta_at=row["approach_eta_at"],
        remaining_m=None if remaining is None else round(remaining),
        slot_starts_at=row["approach_slot_start"],
        late=row["approach_late"],
        last=approach_point(
            row["approach_last_lon"],
            row["approach_last_lat"],
            row["approach_last_at"],
            row["approach_last_accuracy_m"],
        ),
    )


def _timeline_data(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("job_id", "at")}


async def points_after(db: Queryable, load_id: UUID, after: int, limit: int) -> list[PointOut]:
    return [point_out(r) for r in await db.fetch(queries.POINTS_AFTER, load_id, after, limit)]


async def points_page(db: asyncpg.Pool, p: Principal, load_id: UUID, after: int, limit: int) -> PointsPage:
    await access_by_party(db, p, None, load_id)
    points = await points_after(db, load_id, after, limit + 1)
    more = len(points) > limit
    points = points[:limit]
    return PointsPage(points=points, next_after=points[-1].seq if more else None)


# -- partitions -------------------------------------------------------------------------------


async def keep_partitions(db: asyncpg.Pool, retention_days: int) -> int:
    """Create the coming days' position partitions and drop those past retention; returns 0 (the
    claim loop runs it once per round)."""
    async with db.acquire() as conn, conn.transaction():
        await conn.fetchval(queries.ENSURE_PARTITIONS)
        await conn.fetchval(queries.DROP_PARTITIONS, retention_days)
    return 0
