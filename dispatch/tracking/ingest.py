"""The GPS ingest: a phone's batch (`POST /driver/v1/positions`) stored and sent on to the watchers,
as one ordered pipeline. The rules it keeps are in README.md ("Ingest").

    1. trips    the driver's trips the batch goes to: the trip row kept from the driver's last
                batch, or read (READ_DRIVER_TRIPS), or read locked, with the answers (401, 404,
                409) when no trip takes the batch (LOCK_DRIVER_TRIPS)
    2. screen   each point judged against its trip, alone and against its neighbours (screening.py)
    3. number   the new points numbered on from the trip's last seq
    4. advance  the trip state moved on by them (last fix, speed, ETA, geofences, stops) and the
                events they raise (trip.py), then the alerts (late delivery, off route: alerts.py)
    5. frames   what watchers are sent: each event's frame, the points' frames (notifications.py)
    6. write    events, points, trip state and frames, in one transaction, one of two ways:
                - `OneStatement`, the common case (one load, every point new): STORE_BATCH stores
                  the points, moves the trip on and publishes, in one statement that first checks
                  that nothing moved since the trip was read, grouped with this process's other
                  batches (commit_group.py); the batch's events, if any, are recorded before it in
                  the same transaction. On any doubt it writes nothing, and the batch starts over
                  on the locked road. Only for a broker that publishes in SQL.
                - `Locked`: anything else, in the transaction that holds the trip rows' locks
                  (batches of one load take turns, and a receipt cannot slip between).

The two ways differ in stage 3 too: the locked road stores the points there (INSERT_POINTS numbers
those the load does not have yet: the database knows which are new), the one statement numbers them
in memory (it is only tried when every point is new, and STORE_BATCH checks that they are).
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import msgspec
import shapely

from dispatch import events
from dispatch.accounts.auth import recheck_device
from dispatch.accounts.device_cache import DevicePrincipals
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import Conflict, NotFound, Problem
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from dispatch.settings import Settings
from dispatch.tracking import alerts, queries, screening
from dispatch.tracking import trip as trips
from dispatch.tracking.commit_group import CommitGroup
from dispatch.tracking.models import (
    BatchResult,
    LoadProgress,
    PointOut,
    PositionBatch,
    Rejection,
    TimelineEntry,
    eta_out,
    point_out,
)
from dispatch.tracking.notifications import event_payload, points_payloads, track_channel
from dispatch.tracking.trip_row import Trip, TripColumns, TripKey
from geo import Position, parse_polygon
from geo.eta import Eta

# A trip's accepted points, in time order.
Points = list[screening.GoodPoint]

# Where a trip starts from when it has no fix yet: the origin, give or take the size of a site.
ORIGIN_ACCURACY_M = 2000.0

# The trip row each driver's last one-statement batch left, kept by the process (in its `Runtime`)
# for the driver's next batch naming the load, by (driver, carrier, load, device token): that batch
# skips READ_DRIVER_TRIPS, one of its two round trips (a phone posts every few seconds, mostly on the
# same kept-alive connection, so to the same worker). Safe because STORE_BATCH checks everything that
# read would, on the row it updates: the load still the driver's, the token still valid, the trip
# unchanged since (last_seq, not ended). A batch stored meanwhile by another worker, a receipt, a
# revocation: nothing is stored, the row (already taken out) is gone, and the batch takes the
# ordinary road with its answers.
KeptTrips = dict[TripKey, Trip]
KEPT_TRIPS_MAX = 10_000


class LoadReceived(Problem):
    status, code = 409, "load_received"


def _now() -> datetime:
    return datetime.now(UTC)


async def ingest(
    db: asyncpg.Pool,
    broker: Broker,
    settings: Settings,
    p: Principal,
    batch: PositionBatch,
    *,
    commits: CommitGroup,
    kept: KeptTrips,
    devices: DevicePrincipals,
) -> BatchResult:
    now = _now()
    async with db.acquire() as conn:
        if broker.publishes_in_sql:  # the one statement: from the trip row kept, else as read now
            one_statement = OneStatement(broker, commits, kept, p)
            trip = None if batch.load_id is None else kept.pop(_key(p, batch.load_id), None)
            if trip is not None:
                done = await _pipeline(conn, one_statement, [trip], batch, settings, now)
                if done is not None:
                    return done
            read = await _read_trips(conn, p, batch.load_id)
            done = await _pipeline(conn, one_statement, read, batch, settings, now)
            if done is not None:
                return done
        async with conn.transaction():
            locked = await _locked_trips(conn, p, batch.load_id, devices)
            done = await _pipeline(conn, Locked(broker), locked, batch, settings, now)
            assert done is not None, "the locked road stores any batch"
            return done


async def _pipeline(
    conn: Conn,
    road: Road,
    trips_now: list[Trip],
    batch: PositionBatch,
    settings: Settings,
    now: datetime,
) -> BatchResult | None:
    """Stages 2 to 6 for each trip of the batch, written `road`'s way: the answer, or None when the
    road does not take the batch (then nothing was written)."""
    if not road.takes(trips_now):
        return None
    answer = _Answer()
    for trip in trips_now:
        screened = screening.screen(  # 2
            batch.points,
            now=now,
            trip_started=trip.departed_at,
            anchor=_anchor(trip),
            time_scale=settings.tracking_time_scale,
        )
        points = [pt for _, pt in screened.accepted]  # in time order: numbered in this order
        stored = await road.number(conn, trip, points)  # 3
        if stored is None:
            return None
        step = _advance(trip, stored, settings)  # 4
        frames = _frames(trip, step)  # 5
        if not await road.write(conn, trip, points, step, frames):  # 6
            return None
        answer.add(trip, screened, step, frames.status)
    return answer.result(batch)


# -- 1. trips -----------------------------------------------------------------------------------


async def _read_trips(conn: Conn, p: Principal, load_id: UUID | None) -> list[Trip]:
    """The driver's trips the batch goes to, as they are now (without a lock, for the one statement,
    which checks that nothing moved since)."""
    rows = await conn.fetch(queries.READ_DRIVER_TRIPS, p.user_id, p.org_id, load_id, p.credential_id)
    return [Trip(**r) for r in rows]  # by column name


async def _locked_trips(
    conn: Conn, p: Principal, load_id: UUID | None, devices: DevicePrincipals
) -> list[Trip]:
    """The driver's trips the batch goes to, locked; or the answer why there are none."""
    assert p.user_id is not None
    rows = await conn.fetch(queries.LOCK_DRIVER_TRIPS, p.user_id, p.org_id, load_id, p.credential_id)
    if not rows:
        await recheck_device(conn, p, devices)  # the 401 authentication would give, if that is why
    # A receipt that committed while we waited for the lock has ended its trip.
    live = [Trip(**r) for r in rows if r["ended_at"] is None]  # by column name
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


def _key(p: Principal, load_id: UUID) -> TripKey:
    return (p.user_id, p.org_id, load_id, p.credential_id)


def _received(load_id: UUID, ended_at: datetime) -> LoadReceived:
    return LoadReceived(
        f"Tracking of load {load_id} ended when its receipt was confirmed at "
        f"{ended_at:%Y-%m-%d %H:%M:%S} UTC; positions are no longer taken.",
        load_id=str(load_id),
        received_at=ended_at.isoformat(),
    )


# -- 2. screen ----------------------------------------------------------------------------------


def _anchor(trip: Trip) -> screening.Anchor:
    """The fix the batch's points must be reachable from: the newest stored one, else the origin at
    departure."""
    if trip.last_recorded_at is not None:
        assert trip.last_lon is not None and trip.last_lat is not None and trip.last_accuracy_m is not None
        return screening.Anchor(
            trip.last_recorded_at, Position(trip.last_lon, trip.last_lat), trip.last_accuracy_m
        )
    return screening.Anchor(trip.departed_at, Position(trip.origin_lon, trip.origin_lat), ORIGIN_ACCURACY_M)


# -- 4. advance ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    """The trip after the batch: the points stored, its state (and as columns), the events raised,
    the new ETA."""

    stored: list[PointOut]
    state: trips.TripState
    columns: TripColumns
    events: list[trips.TripEvent]
    eta: Eta | None


def _advance(trip: Trip, stored: list[PointOut], settings: Settings) -> _Step:
    """Move the trip state on with the newly stored points. None stored (a retry): nothing moves."""
    state = _state(trip)
    if not stored:
        return _Step(stored, state, trip, [], None)
    samples = [
        trips.Sample(pt.recorded_at, Position(pt.lon, pt.lat), pt.accuracy_m, pt.speed_mps, pt.heading_deg)
        for pt in stored
    ]
    new, raised, eta = trips.advance(
        state,
        samples,
        _route(trip),
        timedelta(minutes=settings.stop_alert_minutes),
        settings.tracking_time_scale,
    )
    columns, alerted = alerts.on_the_road(trip, samples, eta, _moved_on(trip, new, eta), settings)
    return _Step(stored, new, columns, raised + alerted, eta)


def _state(trip: Trip) -> trips.TripState:
    last = None
    if trip.last_recorded_at is not None:
        assert trip.last_lon is not None and trip.last_lat is not None and trip.last_accuracy_m is not None
        last = trips.Sample(
            at=trip.last_recorded_at,
            position=Position(trip.last_lon, trip.last_lat),
            accuracy_m=trip.last_accuracy_m,
            speed_mps=trip.last_speed_mps,
            heading_deg=trip.last_heading_deg,
        )
    still = None
    if trip.still_lon is not None and trip.still_lat is not None:
        still = Position(trip.still_lon, trip.still_lat)
    return trips.TripState(
        last=last,
        speed_mps=trip.speed_mps,
        left_origin_at=trip.left_origin_at,
        arrived_at=trip.arrived_at,
        still_at=still,
        still_since=trip.still_since,
        stop_alerted=trip.stop_alerted,
    )


def _route(trip: Trip) -> trips.Route:
    return trips.Route(
        origin=Position(trip.origin_lon, trip.origin_lat),
        origin_fence=_fence(trip.origin_fence),
        destination=Position(trip.destination_lon, trip.destination_lat),
        destination_fence=_fence(trip.destination_fence),
    )


@functools.lru_cache(maxsize=1024)
def _fence(geojson_text: str) -> shapely.Polygon:
    """Geofences of trips in progress, parsed once per process (they never change for a job)."""
    return parse_polygon(msgspec.json.decode(geojson_text), max_area_m2=float("inf"))


def _moved_on(trip: Trip, new: trips.TripState, eta: Eta | None) -> TripColumns:
    """The trip's columns in state `new` (the ETA kept when the batch gave none: its fixes were all
    older than the last one)."""
    last = new.last
    return TripColumns(
        last_recorded_at=last.at if last else None,
        last_lon=last.position.lon if last else None,
        last_lat=last.position.lat if last else None,
        last_accuracy_m=last.accuracy_m if last else None,
        last_speed_mps=last.speed_mps if last else None,
        last_heading_deg=last.heading_deg if last else None,
        speed_mps=new.speed_mps,
        eta_at=eta.eta_at if eta else trip.eta_at,
        remaining_m=eta.remaining_m if eta else trip.remaining_m,
        progress=eta.progress if eta else trip.progress,
        left_origin_at=new.left_origin_at,
        arrived_at=new.arrived_at,
        still_lon=new.still_at.lon if new.still_at else None,
        still_lat=new.still_at.lat if new.still_at else None,
        still_since=new.still_since,
        stop_alerted=new.stop_alerted,
        late_alerted=trip.late_alerted,  # moved on by alerts.on_the_road
        outside_count=trip.outside_count,
        off_route=trip.off_route,
    )


# -- 5. frames ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _EventOut:
    event: trips.TripEvent
    arrives: bool  # the event that makes the load `arrived`
    payload: str  # its frame, with the load's status after it


@dataclass(frozen=True, slots=True)
class _Frames:
    channel: str  # the load's channel, which they all go to
    events: list[_EventOut]
    status: str  # the load's status after the batch
    points: list[str]  # the points' frames, in seq order, each within one notification


def _frames(trip: Trip, step: _Step) -> _Frames:
    status = trip.status
    out = []
    for event in step.events:
        arrives = event.type == "load.arrived" and status == "in_transit"
        if arrives:
            status = "arrived"
        entry = TimelineEntry(type=event.type, at=event.at, data=event.data)
        out.append(_EventOut(event, arrives, event_payload(trip.load_id, entry, status)))
    eta = None if step.eta is None else eta_out(step.eta, _now())
    points = [x.decode() for x in points_payloads(trip.load_id, step.stored, status, eta)]
    return _Frames(track_channel(trip.load_id), out, status, points)


# -- 3. number and 6. write: the two roads ---------------------------------------------------


class Road(Protocol):
    """A way to number the points (stage 3) and write a batch (stage 6)."""

    def takes(self, trips_now: list[Trip]) -> bool: ...

    async def number(self, conn: Conn, trip: Trip, points: Points) -> list[PointOut] | None:
        """The points as stored, numbered; None: this road does not take the batch."""
        ...

    async def write(self, conn: Conn, trip: Trip, points: Points, step: _Step, frames: _Frames) -> bool:
        """Whether it was written (False: nothing was)."""
        ...


class _TripMoved(Exception):
    """The trip changed since it was read, or a point was stored meanwhile: nothing was written."""


class OneStatement:
    """STORE_BATCH, from the trip row as last read: only for one live trip and every point new."""

    def __init__(self, broker: Broker, commits: CommitGroup, kept: KeptTrips, p: Principal) -> None:
        self.broker, self.commits, self.kept, self.p = broker, commits, kept, p

    def takes(self, trips_now: list[Trip]) -> bool:
        return len(trips_now) == 1 and trips_now[0].ended_at is None

    async def number(self, conn: Conn, trip: Trip, points: Points) -> list[PointOut] | None:
        if not points:
            return None
        first = trip.last_seq + 1
        # What the locked road reads back from the table: times in UTC, reals as float4 (the
        # columns converted at once; a missing speed or heading converted as 0 and kept missing).
        accuracy = _reals([pt.accuracy_m for pt in points])
        speed = _reals([pt.speed_mps or 0.0 for pt in points])
        heading = _reals([pt.heading_deg or 0.0 for pt in points])
        return [
            PointOut(
                seq=first + i,
                lon=pt.lon,
                lat=pt.lat,
                recorded_at=pt.recorded_at.astimezone(UTC),
                accuracy_m=accuracy[i],
                speed_mps=None if pt.speed_mps is None else speed[i],
                heading_deg=None if pt.heading_deg is None else heading[i],
            )
            for i, pt in enumerate(points)
        ]

    async def write(self, conn: Conn, trip: Trip, points: Points, step: _Step, frames: _Frames) -> bool:
        p = self.p
        args: list[Any] = [
            trip.load_id,
            trip.last_seq,
            *screening.point_arrays(points),
            len(points),
            step.columns,
            frames.channel,
            frames.points,
            p.user_id,
            p.org_id,
            p.credential_id,
        ]

        def check(done: asyncpg.Record | None) -> None:
            if done is None or done["stored"] != len(points):
                raise _TripMoved

        try:
            if frames.events:
                # Events go to the outbox and to watchers before the points, as on the locked road;
                # the transaction takes them back if the trip turns out to have moved.
                async with conn.transaction():
                    await _record_events(conn, self.broker, trip, frames)
                    check(await conn.fetchrow(queries.STORE_BATCH, *args))
            else:
                check(await self.commits.store(conn, args))
        except (_TripMoved, asyncpg.UniqueViolationError):  # moved, or the points stored meanwhile
            return False
        if len(self.kept) >= KEPT_TRIPS_MAX:
            self.kept.clear()
        self.kept[_key(p, trip.load_id)] = msgspec.structs.replace(  # as READ_DRIVER_TRIPS would give it now
            trip,
            **msgspec.structs.asdict(step.columns),
            last_seq=trip.last_seq + len(points),
            points_total=trip.points_total + len(points),
            status=frames.status,
        )
        return True


class Locked:
    """Any batch, in the caller's transaction, with the driver's trip rows locked."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def takes(self, trips_now: list[Trip]) -> bool:
        return True

    async def number(self, conn: Conn, trip: Trip, points: Points) -> list[PointOut] | None:
        if not points:
            return []
        rows = await conn.fetch(
            queries.INSERT_POINTS, trip.load_id, trip.last_seq, *screening.point_arrays(points)
        )
        return sorted((point_out(r) for r in rows), key=lambda pt: pt.seq)

    async def write(self, conn: Conn, trip: Trip, points: Points, step: _Step, frames: _Frames) -> bool:
        n = len(step.stored)
        if not n:  # stored nothing (a retry): changes nothing, writes nothing
            return True
        await _record_events(conn, self.broker, trip, frames)
        await conn.execute(queries.UPDATE_TRIP, trip.load_id, trip.last_seq + n, n, step.columns)
        for payload in frames.points:
            await self.broker.publish(conn, frames.channel, payload)
        return True


async def _record_events(conn: Conn, broker: Broker, trip: Trip, frames: _Frames) -> None:
    """Record the trip's events in the outbox and publish them (the caller's transaction)."""
    parties = {
        "poster_org_id": trip.poster_org_id,
        "shipper_org_id": trip.shipper_org_id,
        "consignee_org_id": trip.consignee_org_id,
        "carrier_org_id": trip.carrier_org_id,
    }
    for out in frames.events:
        if out.arrives:
            await conn.execute(queries.SET_ARRIVED, trip.load_id)
        event = out.event
        await events.record(
            conn,
            event.type,
            org_ids=party_orgs(parties),
            subject_type="load",
            subject_id=trip.load_id,
            actor_user_id=None,
            data={"job_id": str(trip.job_id), "at": event.at.isoformat(), **event.data},
        )
        await broker.publish(conn, frames.channel, out.payload)


def _reals(xs: list[float]) -> list[float]:
    """xs as a PostgreSQL `real` column gives them back: one conversion to float32 and back for the
    whole column. (A value beyond float32 comes back infinite, where the insert would fail: the
    screening's bounds keep every accepted value far inside.)"""
    return array("f", xs).tolist()


# -- the answer ---------------------------------------------------------------------------------


@dataclass
class _Answer:
    rejected: dict[int, Rejection] = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    progress: list[LoadProgress] = field(default_factory=list)
    remaining: float | None = None
    speed: float | None = None

    def add(self, trip: Trip, screened: screening.Screened, step: _Step, status: str) -> None:
        for r in screened.rejected:
            self.rejected.setdefault(r.index, r)
        stored = len(step.stored)
        # With several loads on the truck, each point counts once: as stored for any of them.
        self.accepted = max(self.accepted, stored)
        self.duplicates = max(self.duplicates, screened.duplicates + len(screened.accepted) - stored)
        self.progress.append(
            LoadProgress(load_id=trip.load_id, last_seq=trip.last_seq + stored, status=status)
        )
        if step.eta is not None:
            self.remaining = step.eta.remaining_m
        last = step.state.last
        self.speed = last.speed_mps if last else None

    def result(self, batch: PositionBatch) -> BatchResult:
        batteries = [pt.battery_pct for pt in batch.points if pt.battery_pct is not None]
        return BatchResult(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=[self.rejected[i] for i in sorted(self.rejected)],
            next_interval_s=screening.next_interval_s(
                remaining_m=self.remaining,
                speed_mps=self.speed,
                battery_pct=batteries[-1] if batteries else None,
            ),
            loads=self.progress,
        )
