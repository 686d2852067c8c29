"""The drive to the pickup site: the driver starts towards it (`POST /driver/v1/loads/{id}/start-to-pickup`),
the phone streams positions before loading, and the ETA against the booked slot raises
`load.late_for_slot` (README.md, "Alerts").

A leg of its own beside the delivery trip: its fixes go to `approach_positions` and its state to
`load_approach`, so the delivery trip's rules (its seq, duplicates, the start of the trip at the
gate, the receipt) are untouched. A batch comes here only when the driver has no load in transit to
take it (the ingest answered 409 `not_in_transit`): the ingest's hot path is unchanged. Each
batch's new fixes go to the load's watchers, in its transaction, as `approach` frames
(notifications.py): no seq, so the trip's seq cursors never count them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import Conflict, NotFound
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from dispatch.settings import Settings
from dispatch.tracking import alerts, queries, screening
from dispatch.tracking.models import (
    ApproachOut,
    ApproachPoint,
    BatchResult,
    LoadProgress,
    PositionBatch,
    Rejection,
    TimelineEntry,
    approach_point,
)
from dispatch.tracking.notifications import publish_approach, publish_event
from geo import Position
from geo.eta import Fix, estimate, update_speed
from geo.lateness import judge

# Loads whose drive to the pickup can start, or go on: assigned to a driver, maybe with a booked slot,
# not yet checked in at the gate.
APPROACHING = ("assigned", "booked")


def approach_out(row: asyncpg.Record) -> ApproachOut:
    """The approach as APPROACH reads it."""
    return ApproachOut(
        load_id=row["load_id"],
        started_at=row["started_at"],
        eta_at=row["eta_at"],
        remaining_m=None if row["remaining_m"] is None else round(row["remaining_m"]),
        slot_starts_at=row["slot_start"],
        late=row["late_alerted"],
        last=approach_point(
            row["last_lon"], row["last_lat"], row["last_recorded_at"], row["last_accuracy_m"]
        ),
    )


async def start_to_pickup(db: asyncpg.Pool, p: Principal, load_id: UUID) -> ApproachOut:
    """Start the drive to the pickup (again: the same, already started)."""
    async with db.acquire() as conn, conn.transaction():
        load = await conn.fetchrow(queries.LOCK_DRIVER_LOAD, load_id, p.user_id, p.org_id)
        if load is None:
            raise NotFound("No such load assigned to you.", code="load_not_found")
        if load["status"] not in APPROACHING:
            raise Conflict(
                f"The load is {load['status']}: the drive to the pickup is behind it.",
                code="approach_over",
                params={"status": load["status"]},
            )
        await conn.execute(queries.START_APPROACH, load_id)
        row = await conn.fetchrow(queries.APPROACH, load_id)
    assert row is not None
    return approach_out(row)


async def ingest(
    db: asyncpg.Pool,
    broker: Broker,
    settings: Settings,
    p: Principal,
    batch: PositionBatch,
    refused: Conflict,
) -> BatchResult:
    """A batch for the driver's loads on their way to the pickup; `refused` (the delivery trip's
    409 not_in_transit) is the answer when none is."""
    now = datetime.now(UTC)
    async with db.acquire() as conn, conn.transaction():
        rows = await conn.fetch(queries.LOCK_DRIVER_APPROACHES, p.user_id, p.org_id, batch.load_id)
        if not rows:
            raise refused
        answer = _Answer()
        for row in rows:
            await _one(conn, broker, settings, row, batch, now, answer)
    return answer.result(batch)


async def _one(
    conn: Conn,
    broker: Broker,
    settings: Settings,
    row: asyncpg.Record,
    batch: PositionBatch,
    now: datetime,
    answer: _Answer,
) -> None:
    anchor = None
    if row["last_recorded_at"] is not None:
        anchor = screening.Anchor(
            row["last_recorded_at"], Position(row["last_lon"], row["last_lat"]), row["last_accuracy_m"]
        )
    screened = screening.screen(
        batch.points,
        now=now,
        trip_started=row["started_at"],
        anchor=anchor,
        time_scale=settings.tracking_time_scale,
    )
    points = [pt for _, pt in screened.accepted]
    stored = []
    if points:
        stored = await conn.fetch(
            queries.INSERT_APPROACH_POINTS,
            row["load_id"],
            *screening.point_arrays(points),
        )
    newer = sorted(
        (
            Fix(r["recorded_at"], Position(r["lon"], r["lat"]))
            for r in stored
            if anchor is None or r["recorded_at"] > anchor.at
        ),
        key=lambda f: f.at,
    )
    state = _State.of(row)
    if newer:
        path = ([Fix(anchor.at, anchor.position)] if anchor else []) + newer
        state.speed = update_speed(row["speed_mps"], path, settings.tracking_time_scale)
        site = Position(row["site_lon"], row["site_lat"])
        eta = estimate(newer[-1], site, site, state.speed, settings.tracking_time_scale)
        state.eta_at, state.remaining = eta.eta_at, eta.remaining_m
        if row["slot_start"] is not None:
            late = judge(eta.eta_at, row["slot_start"], alerts.grace(settings), state.late)
            state.late = late.alerted
            if late.raise_now:
                await _late_for_slot(conn, broker, row, newer[-1].at, eta.eta_at, late.late_by_s)
        state.newest(next(r for r in stored if r["recorded_at"] == newer[-1].at))
    if stored:
        await conn.execute(queries.UPDATE_APPROACH, row["load_id"], len(stored), *state.columns())
        await publish_approach(
            broker,
            conn,
            row["load_id"],
            sorted((_point(r) for r in stored), key=lambda pt: pt.recorded_at),
            row["status"],
            state.out(row),
        )
    answer.add(row, screened, len(stored), state.remaining)


async def _late_for_slot(
    conn: Conn,
    broker: Broker,
    row: asyncpg.Record,
    at: datetime,
    eta_at: datetime,
    late_by_s: int,
) -> None:
    data = {
        "load_id": str(row["load_id"]),
        "eta_at": eta_at.isoformat(),
        "slot_starts_at": row["slot_start"].isoformat(),
        "late_by_s": late_by_s,
    }
    await events.record(
        conn,
        "load.late_for_slot",
        org_ids=party_orgs(row),
        subject_type="load",
        subject_id=row["load_id"],
        actor_user_id=None,
        data={"job_id": str(row["job_id"]), "at": at.isoformat(), **data},
    )
    entry = TimelineEntry(type="load.late_for_slot", at=at, data=data)
    await publish_event(broker, conn, row["load_id"], entry, row["status"])


@dataclass
class _State:
    """The approach's state columns (load_approach) as a batch moves them on."""

    at: datetime | None  # the newest fix's time, position and accuracy
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    speed: float | None
    eta_at: datetime | None
    remaining: float | None
    late: bool

    @classmethod
    def of(cls, row: asyncpg.Record) -> _State:
        return cls(
            row["last_recorded_at"],
            row["last_lon"],
            row["last_lat"],
            row["last_accuracy_m"],
            row["speed_mps"],
            row["eta_at"],
            row["remaining_m"],
            row["late_alerted"],
        )

    def newest(self, fix: asyncpg.Record) -> None:
        self.at, self.lon, self.lat, self.accuracy_m = (
            fix["recorded_at"],
            fix["lon"],
            fix["lat"],
            fix["accuracy_m"],
        )

    def columns(self) -> tuple[object, ...]:
        """UPDATE_APPROACH's $3 … $10."""
        return (
            self.at,
            self.lon,
            self.lat,
            self.accuracy_m,
            self.speed,
            self.eta_at,
            self.remaining,
            self.late,
        )

    def out(self, row: asyncpg.Record) -> ApproachOut:
        return ApproachOut(
            load_id=row["load_id"],
            started_at=row["started_at"],
            eta_at=self.eta_at,
            remaining_m=None if self.remaining is None else round(self.remaining),
            slot_starts_at=row["slot_start"],
            late=self.late,
            last=approach_point(self.lon, self.lat, self.at, self.accuracy_m),
        )


def _point(r: asyncpg.Record) -> ApproachPoint:
    return ApproachPoint(lon=r["lon"], lat=r["lat"], recorded_at=r["recorded_at"], accuracy_m=r["accuracy_m"])


@dataclass
class _Answer:
    accepted: int = 0
    duplicates: int = 0
    rejected: dict[int, Rejection] = field(default_factory=dict)
    remaining: float | None = None
    progress: list[LoadProgress] = field(default_factory=list)

    def add(
        self, row: asyncpg.Record, screened: screening.Screened, stored: int, remaining: float | None
    ) -> None:
        for r in screened.rejected:
            self.rejected.setdefault(r.index, r)
        # With several loads on the truck, each point counts once: as stored for any of them.
        self.accepted = max(self.accepted, stored)
        self.duplicates = max(self.duplicates, screened.duplicates + len(screened.accepted) - stored)
        self.remaining = remaining
        # On the way to the pickup `last_seq` counts the approach's fixes (they have no seq of their own).
        self.progress.append(
            LoadProgress(load_id=row["load_id"], last_seq=row["points_total"] + stored, status=row["status"])
        )

    def result(self, batch: PositionBatch) -> BatchResult:
        batteries = [pt.battery_pct for pt in batch.points if pt.battery_pct is not None]
        return BatchResult(
            accepted=self.accepted,
            duplicates=self.duplicates,
            rejected=[self.rejected[i] for i in sorted(self.rejected)],
            next_interval_s=screening.next_interval_s(
                remaining_m=self.remaining, speed_mps=None, battery_pct=batteries[-1] if batteries else None
            ),
            loads=self.progress,
        )
