"""Tracking wire types: the phone's GPS batches and their answer, what watchers receive, share links.

A GPS point is typed loosely on purpose (plain floats): a point out of range or NaN is rejected on
its own with a reason, not as a malformed batch. Structure (types, required fields, 1..500 points)
is still checked at the edge, and a batch that breaks it is refused whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.types import Input, LocationOut
from geo.eta import Eta

MAX_POINTS = 500
# A load's seq is a PostgreSQL bigint: a cursor beyond it can name no point (and cannot be bound).
MAX_SEQ = 2**63 - 1


class PointIn(Input, kw_only=True):
    # null is what JSON makes of NaN (JavaScript's JSON.stringify, Android's org.json): the point is
    # rejected as not_finite, the batch is not.
    lon: float | None
    lat: float | None
    recorded_at: Annotated[datetime, Meta(tz=True, description="The phone's time of the fix, with a zone")]
    accuracy_m: float | None
    speed_mps: float | None = None
    heading_deg: float | None = None
    battery_pct: Annotated[int, Meta(ge=0, le=100)] | None = None
    moving: bool | None = None


class PositionBatch(Input, kw_only=True):
    # Unset: every load of the driver that is in transit or arrived (the truck's position is the
    # position of everything on it).
    load_id: UUID | None = None
    points: Annotated[list[PointIn], Meta(min_length=1, max_length=MAX_POINTS)]


class Rejection(msgspec.Struct, kw_only=True):
    index: int
    reason: str
    detail: str


class LoadProgress(msgspec.Struct, kw_only=True):
    load_id: UUID
    last_seq: int
    status: str


class BatchResult(msgspec.Struct, kw_only=True):
    accepted: int
    duplicates: int
    rejected: list[Rejection]
    next_interval_s: int
    loads: list[LoadProgress]


class PointOut(msgspec.Struct, kw_only=True):
    seq: int
    lon: float
    lat: float
    recorded_at: datetime
    accuracy_m: float
    speed_mps: float | None = None
    heading_deg: float | None = None


class EtaOut(msgspec.Struct, kw_only=True):
    eta_at: datetime
    remaining_m: float
    progress: float
    speed_mps: float
    computed_at: datetime


def point_out(row: Any) -> PointOut:
    """A stored point from a `positions` row (INSERT_POINTS, POINTS_AFTER, LAST_POINT). Field by field:
    measured faster per point than `PointOut(**row)` on an asyncpg Record (2 to 5x, a noisy test)."""
    return PointOut(
        seq=row["seq"],
        lon=row["lon"],
        lat=row["lat"],
        recorded_at=row["recorded_at"],
        accuracy_m=row["accuracy_m"],
        speed_mps=row["speed_mps"],
        heading_deg=row["heading_deg"],
    )


def eta_out(eta: Eta, computed_at: datetime) -> EtaOut:
    return EtaOut(
        eta_at=eta.eta_at,
        remaining_m=round(eta.remaining_m),
        progress=round(eta.progress, 4),
        speed_mps=round(eta.speed_mps, 2),
        computed_at=computed_at,
    )


class TimelineEntry(msgspec.Struct, kw_only=True):
    type: str
    at: datetime
    data: dict[str, Any] = {}


class SiteView(msgspec.Struct, kw_only=True):
    name: str
    address: str
    location: LocationOut
    geofence: dict[str, Any]
    # The site's IANA time zone, in which its times (a slot, a check-in) are shown; null for a
    # destination that is an address, not a site.
    timezone: str | None = None


class JobView(msgspec.Struct, kw_only=True):
    id: UUID
    reference: str | None
    status: str
    # Who confirms receipt: the tracking page offers the receipt form to its members.
    consignee_org_id: UUID
    origin: SiteView
    destination: SiteView
    # The job's planned route ([lon, lat] in WGS-84), or null: the page draws it as a dashed line.
    route: list[tuple[float, float]] | None = None


class ApproachPoint(msgspec.Struct, kw_only=True):
    """A fix of the drive to the pickup, as watchers get it (no seq: the drive is not the trip)."""

    lon: float
    lat: float
    recorded_at: datetime
    accuracy_m: float


def approach_point(
    lon: float | None, lat: float | None, at: datetime | None, accuracy_m: float | None
) -> ApproachPoint | None:
    """The approach's newest fix from load_approach's last_ columns (all null before the first)."""
    if lon is None or lat is None or at is None:
        return None
    return ApproachPoint(lon=lon, lat=lat, recorded_at=at, accuracy_m=accuracy_m or 0.0)


class ApproachOut(msgspec.Struct, kw_only=True):
    """The drive to the pickup site (from the driver's start towards it until the check-in)."""

    load_id: UUID
    started_at: datetime
    # When the truck is expected at the pickup site (from its positions; null before the first fix).
    eta_at: datetime | None
    remaining_m: float | None
    # The start of the load's booked slot at the pickup site, or null (none booked).
    slot_starts_at: datetime | None
    # Whether `load.late_for_slot` stands: the ETA is past the slot's start plus the grace.
    late: bool
    # The newest fix of the drive (null before the first): where watchers see the truck.
    last: ApproachPoint | None = None


class LoadTrack(msgspec.Struct, kw_only=True):
    load_id: UUID
    seq: int
    plate: str
    status: str
    last_seq: int
    trail: list[tuple[float, float]]
    trail_simplified: bool
    points_total: int
    last: PointOut | None
    eta: EtaOut | None
    timeline: list[TimelineEntry]
    receipt: dict[str, Any] | None = None
    # The drive to the pickup, when the driver started one (README "Alerts").
    approach: ApproachOut | None = None


class Snapshot(msgspec.Struct, kw_only=True, tag_field="type", tag="snapshot"):
    job: JobView
    loads: list[LoadTrack]
    resumed: bool


class PointsPage(msgspec.Struct, kw_only=True):
    points: list[PointOut]
    next_after: int | None


class ShareLinkIn(Input, kw_only=True):
    load_id: UUID | None = None
    expires_in_minutes: Annotated[int, Meta(ge=1, le=30 * 24 * 60)]
    label: Annotated[str, Meta(max_length=100)] = ""


class ShareLink(msgspec.Struct, kw_only=True):
    id: UUID
    job_id: UUID
    load_id: UUID | None
    label: str
    expires_at: datetime
    created_at: datetime
    revoked_at: datetime | None
    url: str


class NewShareLink(ShareLink, kw_only=True):
    token: str
