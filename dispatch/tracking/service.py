"""Tracking use cases: ingest a phone's GPS batch, start a trip, read what watchers are shown,
authorize watchers, share links, and keep the position partitions.

Ingesting is one transaction per batch: the driver's trip rows are locked (batches of one load take
turns, and a receipt cannot slip between), each point is judged, the new ones are stored once and
numbered, the trip state (last fix, speed, ETA, geofences, stops) moves on, its events go to the
outbox, and the stored points are published to watchers, all committing together.

The common batch (one load, every point new) takes a shorter road to the same result: the trip is
read without a lock, and the batch is stored, the trip moved on and the points published in one
statement that first checks nothing moved since the read (STORE_BATCH; with the batch's events, if
any, recorded before it in the same transaction). When the check fails, or the batch is anything
else, the locked transaction above does it all from the start. A worker keeps the trip row it
last stored, so the driver's next batch for that load skips the read (STORE_BATCH re-checks all
the read would).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import shapely

from dispatch import events
from dispatch.accounts import service as accounts
from dispatch.accounts.auth import recheck_device
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db import Conn, Queryable
from dispatch.errors import Conflict, Forbidden, NotFound, Problem, Unauthorized
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker, PgBroker
from dispatch.settings import Settings
from dispatch.tracking import queries, screening
from dispatch.tracking import trip as trips
from dispatch.tracking.commit_group import CommitGroup
from dispatch.tracking.models import (
    BatchResult,
    EtaOut,
    JobView,
    LoadProgress,
    LoadTrack,
    NewShareLink,
    PointOut,
    PointsPage,
    PositionBatch,
    Rejection,
    ShareLink,
    ShareLinkIn,
    SiteView,
    TimelineEntry,
)
from dispatch.tracking.notifications import points_payloads, publish_event, publish_points, track_channel
from dispatch.types import LocationOut
from geo import Position, parse_polygon
from geo.eta import Eta
from geo.trail import simplify

# Where a trip starts from when it has no fix yet: the origin, give or take the size of a site.
ORIGIN_ACCURACY_M = 2000.0
TRAIL_SIMPLIFY_ABOVE = 2000
TRAIL_TOLERANCE_M = 10.0
TIMELINE_EVENTS = [
    "load.departed",
    "load.left_origin",
    "load.stopped",
    "load.moving",
    "load.arrived",
    "load.received",
]
SHARE_PREFIX = "dsp_shr_"


# A driver's trip row: as READ_DRIVER_TRIPS gives it, or as this process last stored it (_trip_rows).
TripRow = asyncpg.Record | dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


@functools.lru_cache(maxsize=1024)
def _fence(geojson_text: str) -> shapely.Polygon:
    """Geofences of trips in progress, parsed once per process (they never change for a job)."""
    return parse_polygon(msgspec.json.decode(geojson_text), max_area_m2=float("inf"))


def _route(row: TripRow) -> trips.Route:
    return trips.Route(
        origin=Position(row["origin_lon"], row["origin_lat"]),
        origin_fence=_fence(row["origin_fence"]),
        destination=Position(row["destination_lon"], row["destination_lat"]),
        destination_fence=_fence(row["destination_fence"]),
    )


def _state(row: TripRow) -> trips.TripState:
    last = None
    if row["last_recorded_at"] is not None:
        last = trips.Sample(
            at=row["last_recorded_at"],
            position=Position(row["last_lon"], row["last_lat"]),
            accuracy_m=row["last_accuracy_m"],
            speed_mps=row["last_speed_mps"],
            heading_deg=row["last_heading_deg"],
        )
    still = None if row["still_lon"] is None else Position(row["still_lon"], row["still_lat"])
    return trips.TripState(
        last=last,
        speed_mps=row["speed_mps"],
        left_origin_at=row["left_origin_at"],
        arrived_at=row["arrived_at"],
        still_at=still,
        still_since=row["still_since"],
        stop_alerted=row["stop_alerted"],
    )


def _anchor(row: TripRow) -> screening.Anchor:
    if row["last_recorded_at"] is not None:
        return screening.Anchor(
            row["last_recorded_at"], Position(row["last_lon"], row["last_lat"]), row["last_accuracy_m"]
        )
    return screening.Anchor(
        row["departed_at"], Position(row["origin_lon"], row["origin_lat"]), ORIGIN_ACCURACY_M
    )


def _columns(points: list[screening.GoodPoint]) -> list[list[Any]]:
    return [
        [p.recorded_at for p in points],
        [p.lon for p in points],
        [p.lat for p in points],
        [p.accuracy_m for p in points],
        [p.speed_mps for p in points],
        [p.heading_deg for p in points],
        [p.battery_pct for p in points],
        [p.moving for p in points],
    ]


def _point(row: asyncpg.Record) -> PointOut:
    return PointOut(
        seq=row["seq"],
        lon=row["lon"],
        lat=row["lat"],
        recorded_at=row["recorded_at"],
        accuracy_m=row["accuracy_m"],
        speed_mps=row["speed_mps"],
        heading_deg=row["heading_deg"],
    )


class LoadReceived(Problem):
    status, code = 409, "load_received"


async def _driver_trips(conn: Conn, p: Principal, load_id: UUID | None) -> list[asyncpg.Record]:
    assert p.user_id is not None
    rows = await conn.fetch(queries.LOCK_DRIVER_TRIPS, p.user_id, p.org_id, load_id, p.credential_id)
    if not rows:
        await recheck_device(conn, p)  # the 401 authentication would give, if that is why
    # A receipt that committed while we waited for the lock has ended its trip.
    live = [r for r in rows if r["ended_at"] is None]
    if rows and not live:
        raise _received(rows[0]["load_id"], rows[0]["ended_at"])
    if load_id is None:
        if not rows:
            ended = await conn.fetchrow(queries.DRIVER_LAST_ENDED_TRIP, p.user_id, p.org_id)
            if ended is not None:
                raise _received(ended["load_id"], ended["ended_at"])
            raise Conflict(
                "None of your loads is in transit: start the trip at the gate first.", code="not_in_transit"
            )
        return live
    if not rows:
        status = await conn.fetchval(queries.DRIVER_LOAD_STATUS, load_id, p.user_id, p.org_id)
        if status is None:
            raise NotFound("No such load assigned to you.", code="load_not_found")
        raise Conflict(
            f"The load is {status}: positions are taken from the start of the trip.", code="not_in_transit"
        )
    return live


def _received(load_id: UUID, ended_at: datetime) -> LoadReceived:
    return LoadReceived(
        f"Tracking of load {load_id} ended when its receipt was confirmed at "
        f"{ended_at:%Y-%m-%d %H:%M:%S} UTC; positions are no longer taken.",
        load_id=str(load_id),
        received_at=ended_at.isoformat(),
    )


# The trip row as this process last stored it, per (driver, carrier, load, device token): a phone
# posting for its load again (every few seconds, mostly on the same kept-alive connection, so the
# same worker) skips READ_DRIVER_TRIPS, one of the two round trips of a batch. Safe because
# STORE_BATCH checks everything that read would, on the row it updates: the load still the driver's,
# the token still valid, the trip unchanged since (last_seq, not ended). A batch stored meanwhile by
# another worker, a receipt, a revocation: nothing is stored, the entry is dropped, and the batch
# takes the ordinary road (read, then the one statement or the locked transaction) with its answers.
_TripKey = tuple[UUID | None, UUID, UUID, UUID | None]
_trip_rows: dict[_TripKey, dict[str, Any]] = {}
TRIP_CACHE_MAX = 10_000


async def ingest(
    db: asyncpg.Pool,
    broker: Broker,
    commits: CommitGroup,
    settings: Settings,
    p: Principal,
    batch: PositionBatch,
) -> BatchResult:
    now = _now()
    one_statement = isinstance(broker, PgBroker)  # the one statement publishes with pg_notify itself
    async with db.acquire() as conn:
        if one_statement and batch.load_id is not None:
            key = (p.user_id, p.org_id, batch.load_id, p.credential_id)
            cached = _trip_rows.pop(key, None)
            if cached is not None:
                done = await _ingest_in_one_statement(
                    conn, broker, commits, settings, p, batch, [cached], now
                )
                if done is not None:
                    return done
        if one_statement:
            rows = await conn.fetch(
                queries.READ_DRIVER_TRIPS, p.user_id, p.org_id, batch.load_id, p.credential_id
            )
            done = await _ingest_in_one_statement(conn, broker, commits, settings, p, batch, rows, now)
            if done is not None:
                return done
        # Anything else, with the answers (401, 404, 409) when no load takes the batch.
        async with conn.transaction():
            return await _ingest_locked(conn, broker, settings, p, batch, now)


def _screen(batch: PositionBatch, row: TripRow, now: datetime, settings: Settings) -> screening.Screened:
    """The batch's points judged against this trip (its start and its newest stored fix)."""
    return screening.screen(
        batch.points,
        now=now,
        trip_started=row["departed_at"],
        anchor=_anchor(row),
        time_scale=settings.tracking_time_scale,
    )


class _TripMoved(Exception):
    """The trip changed since it was read, or a point was stored meanwhile: nothing was written."""


async def _ingest_in_one_statement(
    conn: Conn,
    broker: Broker,
    commits: CommitGroup,
    settings: Settings,
    p: Principal,
    batch: PositionBatch,
    rows: Sequence[TripRow],
    now: datetime,
) -> BatchResult | None:
    """The common case without the lock: with the trip as read (READ_DRIVER_TRIPS, or as this
    process last stored it), store the batch, move the trip on and publish in one statement
    (STORE_BATCH), after recording the events it raises, if any (then in a transaction). Exactly
    what the locked path does for a batch of one load whose points are all new; None (having
    written nothing) for anything else, which the ordinary road then handles from the start."""
    if len(rows) != 1 or rows[0]["ended_at"] is not None:
        return None
    row = rows[0]
    screened = _screen(batch, row, now, settings)
    points = [pt for _, pt in screened.accepted]  # in time order: numbered in this order
    if not points:
        return None
    load_id: UUID = row["load_id"]
    first = row["last_seq"] + 1
    # What the locked path would read back from the table: times in UTC, reals as float4.
    stored = [
        PointOut(
            seq=first + i,
            lon=pt.lon,
            lat=pt.lat,
            recorded_at=pt.recorded_at.astimezone(UTC),
            accuracy_m=_real(pt.accuracy_m),
            speed_mps=None if pt.speed_mps is None else _real(pt.speed_mps),
            heading_deg=None if pt.heading_deg is None else _real(pt.heading_deg),
        )
        for i, pt in enumerate(points)
    ]
    new, raised, eta = trips.advance(
        _state(row),
        _samples(stored),
        _route(row),
        timedelta(minutes=settings.stop_alert_minutes),
        settings.tracking_time_scale,
    )
    status: str = row["status"]

    def arguments() -> list[Any]:
        eta_out = None if eta is None else _eta_out(eta, _now())
        payloads = [x.decode() for x in points_payloads(load_id, stored, status, eta_out)]
        return [
            load_id,
            row["last_seq"],
            *_columns(points),
            len(points),
            *_trip_columns(row, new, eta).values(),
            track_channel(load_id),
            payloads,
            p.user_id,
            p.org_id,
            p.credential_id,
        ]

    def check(done: asyncpg.Record | None) -> None:
        if done is None or done["stored"] != len(points):
            raise _TripMoved

    try:
        if raised:
            # Events go to the outbox and to watchers before the points, as on the locked path; the
            # transaction takes them back if the trip turns out to have moved.
            async with conn.transaction():
                status = await _record_events(conn, broker, row, raised, status)
                check(await conn.fetchrow(queries.STORE_BATCH, *arguments()))
        else:
            check(await commits.store(conn, arguments()))
    except (_TripMoved, asyncpg.UniqueViolationError):  # moved, or the points stored meanwhile
        return None
    _remember(p, row, new, eta, status, len(points))
    last = new.last
    return _result(
        batch,
        accepted=len(points),
        duplicates=screened.duplicates,
        rejected=screened.rejected,
        progress=[LoadProgress(load_id=load_id, last_seq=row["last_seq"] + len(points), status=status)],
        remaining=None if eta is None else eta.remaining_m,
        speed=last.speed_mps if last else None,
    )


def _remember(
    p: Principal,
    row: TripRow,
    new: trips.TripState,
    eta: Eta | None,
    status: str,
    stored: int,
) -> None:
    """Keep the trip row as READ_DRIVER_TRIPS would now give it, for this driver's next batch."""
    if len(_trip_rows) >= TRIP_CACHE_MAX:
        _trip_rows.clear()
    _trip_rows[(p.user_id, p.org_id, row["load_id"], p.credential_id)] = (
        dict(row)
        | _trip_columns(row, new, eta)
        | {
            "last_seq": row["last_seq"] + stored,
            "points_total": row["points_total"] + stored,
            "status": status,
        }
    )


_FLOAT4 = struct.Struct("f")


def _real(x: float) -> float:
    """x as a PostgreSQL `real` column gives it back (out of its range: the insert fails anyway)."""
    try:
        value: float = _FLOAT4.unpack(_FLOAT4.pack(x))[0]
    except OverflowError:
        return x
    return value


def _samples(stored: list[PointOut]) -> list[trips.Sample]:
    return [
        trips.Sample(pt.recorded_at, Position(pt.lon, pt.lat), pt.accuracy_m, pt.speed_mps, pt.heading_deg)
        for pt in stored
    ]


def _trip_columns(row: TripRow, new: trips.TripState, eta: Eta | None) -> dict[str, Any]:
    """The trip state after a batch by load_tracking column; in this order, the values are
    UPDATE_TRIP's $4 … $19 (STORE_BATCH's $12 … $27)."""
    last = new.last
    return {
        "last_recorded_at": last.at if last else None,
        "last_lon": last.position.lon if last else None,
        "last_lat": last.position.lat if last else None,
        "last_accuracy_m": last.accuracy_m if last else None,
        "last_speed_mps": last.speed_mps if last else None,
        "last_heading_deg": last.heading_deg if last else None,
        "speed_mps": new.speed_mps,
        "eta_at": eta.eta_at if eta else row["eta_at"],
        "remaining_m": eta.remaining_m if eta else row["remaining_m"],
        "progress": eta.progress if eta else row["progress"],
        "left_origin_at": new.left_origin_at,
        "arrived_at": new.arrived_at,
        "still_lon": new.still_at.lon if new.still_at else None,
        "still_lat": new.still_at.lat if new.still_at else None,
        "still_since": new.still_since,
        "stop_alerted": new.stop_alerted,
    }


def _result(
    batch: PositionBatch,
    *,
    accepted: int,
    duplicates: int,
    rejected: list[Rejection],
    progress: list[LoadProgress],
    remaining: float | None,
    speed: float | None,
) -> BatchResult:
    batteries = [pt.battery_pct for pt in batch.points if pt.battery_pct is not None]
    return BatchResult(
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
        next_interval_s=screening.next_interval_s(
            remaining_m=remaining, speed_mps=speed, battery_pct=batteries[-1] if batteries else None
        ),
        loads=progress,
    )


async def _ingest_locked(
    conn: Conn, broker: Broker, settings: Settings, p: Principal, batch: PositionBatch, now: datetime
) -> BatchResult:
    """Any batch, in the caller's transaction, with the driver's trip rows locked."""
    stop_after = timedelta(minutes=settings.stop_alert_minutes)
    rejected: dict[int, Rejection] = {}
    accepted = duplicates = 0
    progress: list[LoadProgress] = []
    remaining: float | None = None
    speed: float | None = None
    for row in await _driver_trips(conn, p, batch.load_id):
        load_id: UUID = row["load_id"]
        screened = _screen(batch, row, now, settings)
        for r in screened.rejected:
            rejected.setdefault(r.index, r)
        points = [pt for _, pt in screened.accepted]
        stored = []
        if points:
            rows = await conn.fetch(queries.INSERT_POINTS, load_id, row["last_seq"], *_columns(points))
            stored = sorted((_point(r) for r in rows), key=lambda pt: pt.seq)
        # With several loads on the truck, each point counts once: as stored for any of them.
        accepted = max(accepted, len(stored))
        duplicates = max(duplicates, screened.duplicates + len(points) - len(stored))
        status, eta, speed_now = await _advance_trip(
            conn, broker, row, stored, stop_after, settings.tracking_time_scale
        )
        if stored:
            await publish_points(broker, conn, load_id, stored, status, eta)
        progress.append(LoadProgress(load_id=load_id, last_seq=row["last_seq"] + len(stored), status=status))
        if eta is not None:
            remaining = eta.remaining_m
        speed = speed_now
    return _result(
        batch,
        accepted=accepted,
        duplicates=duplicates,
        rejected=[rejected[i] for i in sorted(rejected)],
        progress=progress,
        remaining=remaining,
        speed=speed,
    )


async def _advance_trip(
    conn: Conn,
    broker: Broker,
    row: asyncpg.Record,
    stored: list[PointOut],
    stop_after: timedelta,
    time_scale: float,
) -> tuple[str, EtaOut | None, float | None]:
    """Move the trip state on with the newly stored points; record and publish its events.
    A batch that stored nothing (a retry) changes nothing and writes nothing."""
    load_id: UUID = row["load_id"]
    if not stored:
        return row["status"], None, row["last_speed_mps"]
    status: str = row["status"]
    state = _state(row)
    new, raised, eta = trips.advance(state, _samples(stored), _route(row), stop_after, time_scale)
    status = await _record_events(conn, broker, row, raised, status)
    last = new.last
    await conn.execute(
        queries.UPDATE_TRIP,
        load_id,
        row["last_seq"] + len(stored),
        len(stored),
        *_trip_columns(row, new, eta).values(),
    )
    eta_out = None if eta is None else _eta_out(eta, _now())
    return status, eta_out, last.speed_mps if last else None


async def _record_events(
    conn: Conn, broker: Broker, row: TripRow, raised: list[trips.TripEvent], status: str
) -> str:
    """Record the trip's events in the outbox and publish them (the caller's transaction); the load's
    status after them."""
    load_id: UUID = row["load_id"]
    for event in raised:
        if event.type == "load.arrived" and status == "in_transit":
            await conn.execute(queries.SET_ARRIVED, load_id)
            status = "arrived"
        await events.record(
            conn,
            event.type,
            org_ids=party_orgs(row),
            subject_type="load",
            subject_id=load_id,
            actor_user_id=None,
            data={"job_id": str(row["job_id"]), "at": event.at.isoformat(), **event.data},
        )
        await publish_event(
            broker, conn, load_id, TimelineEntry(type=event.type, at=event.at, data=event.data), status
        )
    return status


def _eta_out(eta: Eta, computed_at: datetime) -> EtaOut:
    return EtaOut(
        eta_at=eta.eta_at,
        remaining_m=round(eta.remaining_m),
        progress=round(eta.progress, 4),
        speed_mps=round(eta.speed_mps, 2),
        computed_at=computed_at,
    )


async def start_trip(conn: Conn, broker: Broker, load_id: UUID, departed_at: datetime) -> None:
    """The truck left the gate (the caller's transaction): the load's trip begins taking positions."""
    await conn.execute(queries.START_TRIP, load_id, departed_at)
    await publish_event(
        broker, conn, load_id, TimelineEntry(type="load.departed", at=departed_at), "in_transit"
    )


# -- watching ---------------------------------------------------------------------------------


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """What a watcher may see: one job, and one of its loads or all of them."""

    job_id: UUID
    load_id: UUID | None


def share_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def access_by_share(db: Queryable, token: str, job_id: UUID | None, load_id: UUID | None) -> Access:
    row = await db.fetchrow(queries.SHARE_LINK_BY_TOKEN, share_token_hash(token))
    if row is None:
        raise Unauthorized("Unknown share link.", code="share_link_invalid")
    if row["revoked_at"] is not None:
        raise Unauthorized("This share link was revoked.", code="share_link_revoked")
    if row["expires_at"] <= _now():
        raise Unauthorized(
            f"This share link expired at {row['expires_at']:%Y-%m-%d %H:%M} UTC.", code="share_link_expired"
        )
    if job_id is not None and job_id != row["job_id"]:
        raise NotFound("No such job.", code="job_not_found")
    if load_id is not None and row["load_id"] is not None and load_id != row["load_id"]:
        raise NotFound("No such load.", code="load_not_found")
    if load_id is not None and await db.fetchval(queries.LOAD_OF_JOB, load_id, row["job_id"]) is None:
        raise NotFound("No such load.", code="load_not_found")
    return Access(job_id=row["job_id"], load_id=load_id or row["load_id"])


async def access_by_party(db: Queryable, p: Principal, job_id: UUID | None, load_id: UUID | None) -> Access:
    """A member (user or API token) of one of the job's parties, holding tracking.view."""
    if p.kind not in ("user", "api_token"):
        raise Forbidden(
            "Watch with a user login, an API token or a share link.", code="wrong_credential_kind"
        )
    if not p.can(Permission.VIEW_TRACKING):
        raise Forbidden(
            "This needs the permission(s): tracking.view.",
            code="permission_missing",
            permissions=[Permission.VIEW_TRACKING.value],
        )
    if job_id is None:
        assert load_id is not None
        job_id = await db.fetchval(queries.JOB_OF_LOAD, load_id)
        if job_id is None:
            raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    if await db.fetchrow(queries.JOB_FOR_PARTY, job_id, p.org_id) is None:
        what = "load" if load_id else "job"
        raise NotFound(
            f"No such {what}, or it is not visible to your organization.", code=f"{what}_not_found"
        )
    return Access(job_id=job_id, load_id=load_id)


async def access(
    db: asyncpg.Pool,
    secret: str,
    *,
    bearer: str | None,
    share: str | None,
    job_id: UUID | None,
    load_id: UUID | None,
) -> Access:
    if share:
        return await access_by_share(db, share, job_id, load_id)
    if not bearer:
        raise Unauthorized("Watching needs a bearer token or a share link.", code="token_missing")
    p = await accounts.authenticate(db, secret=secret, token=bearer)
    return await access_by_party(db, p, job_id, load_id)


def _site_view(name: str, address: str, lon: float, lat: float, fence: dict[str, Any]) -> SiteView:
    return SiteView(name=name, address=address, location=LocationOut(lat=lat, lon=lon), geofence=fence)


async def job_view(db: Queryable, job_id: UUID) -> JobView:
    j = await db.fetchrow(queries.JOB_FOR_PARTY, job_id, None)
    assert j is not None
    return JobView(
        id=j["id"],
        reference=j["reference"],
        status=j["status"],
        origin=_site_view(
            j["origin_name"], j["origin_address"], j["origin_lon"], j["origin_lat"], j["origin_fence"]
        ),
        destination=_site_view(
            j["destination_name"] or j["destination_address"],
            j["destination_address"],
            j["destination_lon"],
            j["destination_lat"],
            j["destination_geofence"],
        ),
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
        last = _point(last_row) if last_row else None
        if with_trail:
            raw = [Position(r["lon"], r["lat"]) for r in await db.fetch(queries.TRAIL, load_id)]
            if len(raw) > TRAIL_SIMPLIFY_ABOVE:
                raw, simplified = simplify(raw, TRAIL_TOLERANCE_M), True
            trail = [(round(q.lon, 6), round(q.lat, 6)) for q in raw]
    eta = None
    if row["eta_at"] is not None:
        eta = _eta_out(
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
    )


def _timeline_data(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("job_id", "at")}


async def points_after(db: Queryable, load_id: UUID, after: int, limit: int) -> list[PointOut]:
    return [_point(r) for r in await db.fetch(queries.POINTS_AFTER, load_id, after, limit)]


async def points_page(db: asyncpg.Pool, p: Principal, load_id: UUID, after: int, limit: int) -> PointsPage:
    await access_by_party(db, p, None, load_id)
    points = await points_after(db, load_id, after, limit + 1)
    more = len(points) > limit
    points = points[:limit]
    return PointsPage(points=points, next_after=points[-1].seq if more else None)


# -- share links ------------------------------------------------------------------------------


def _share_url(row: asyncpg.Record, token: str | None = None) -> str:
    base = f"/track/loads/{row['load_id']}" if row["load_id"] else f"/track/jobs/{row['job_id']}"
    return base + (f"#share={token}" if token else "")


async def create_share_link(db: asyncpg.Pool, p: Principal, job_id: UUID, body: ShareLinkIn) -> NewShareLink:
    a = await access_by_party(db, p, job_id, None)
    async with db.acquire() as conn, conn.transaction():
        if (
            body.load_id is not None
            and await conn.fetchval(queries.LOAD_OF_JOB, body.load_id, a.job_id) is None
        ):
            raise NotFound("No such load in this job.", code="load_not_found")
        token = SHARE_PREFIX + secrets.token_urlsafe(24)
        row = await conn.fetchrow(
            queries.INSERT_SHARE_LINK,
            job_id,
            body.load_id,
            p.org_id,
            body.label,
            share_token_hash(token),
            body.expires_in_minutes,
            p.user_id,
        )
        assert row is not None
        await events.record(
            conn,
            "share_link.created",
            org_ids=[p.org_id],
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={"share_link_id": str(row["id"]), "expires_at": row["expires_at"].isoformat()},
        )
        return NewShareLink(**dict(row), url=_share_url(row, token), token=token)


async def list_share_links(db: asyncpg.Pool, p: Principal, job_id: UUID) -> list[ShareLink]:
    await access_by_party(db, p, job_id, None)
    return [
        ShareLink(**dict(r), url=_share_url(r)) for r in await db.fetch(queries.SHARE_LINKS, job_id, p.org_id)
    ]


async def revoke_share_link(db: asyncpg.Pool, p: Principal, job_id: UUID, link_id: UUID) -> ShareLink:
    await access_by_party(db, p, job_id, None)
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.REVOKE_SHARE_LINK, link_id, job_id, p.org_id)
        if row is None:
            raise NotFound("No such share link of your organization.", code="share_link_not_found")
        await events.record(
            conn,
            "share_link.revoked",
            org_ids=[p.org_id],
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={"share_link_id": str(link_id)},
        )
        return ShareLink(**dict(row), url=_share_url(row))


# -- partitions -------------------------------------------------------------------------------


async def keep_partitions(db: asyncpg.Pool, retention_days: int) -> int:
    """Create the coming days' position partitions and drop those past retention; returns 0 (the
    claim loop runs it once per round)."""
    async with db.acquire() as conn, conn.transaction():
        await conn.fetchval(queries.ENSURE_PARTITIONS)
        await conn.fetchval(queries.DROP_PARTITIONS, retention_days)
    return 0
