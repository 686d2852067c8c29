"""Market wire types: jobs, bids, market areas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.types import (
    CargoKind,
    Currency,
    Input,
    Location,
    LocationOut,
    MinorUnits,
    PolygonGeoJSON,
    VehicleType,
)
from geo import Latitude, Longitude

JobStatus = Literal[
    "open", "tendering", "awarded", "dispatched", "completed", "expired", "cancelled", "returned"
]
JobMode = Literal["grab", "auction"]
GoodsOwner = Literal["shipper", "consignee"]
Description = Annotated[str, Meta(min_length=1, max_length=200)]


# -- cargo: divisible bulk, or lines of indivisible items ------------------------------------


class BulkCargo(Input, kw_only=True, tag="bulk", tag_field="kind"):
    description: Description
    weight_kg: Annotated[int, Meta(gt=0, le=10_000_000, description="whole kilograms")]
    volume_m3: Annotated[float, Meta(gt=0, le=1_000_000)]


class ItemLine(Input, kw_only=True):
    description: Description
    count: Annotated[int, Meta(gt=0, le=100_000)]
    unit_weight_kg: Annotated[float, Meta(gt=0, le=100_000)]
    unit_volume_m3: Annotated[float, Meta(gt=0, le=10_000)]


class ItemsCargo(Input, kw_only=True, tag="items", tag_field="kind"):
    lines: Annotated[list[ItemLine], Meta(min_length=1, max_length=200)]


Cargo = BulkCargo | ItemsCargo


# -- posting a job ----------------------------------------------------------------------------


# A planned route: the polyline the truck is expected to drive, [lon, lat] in driving order (at most
# MAX_ROUTE_POINTS: a routing engine's answer for a day's drive, simplified, is a few hundred).
MAX_ROUTE_POINTS = 5000
RoutePoints = Annotated[
    list[tuple[Longitude, Latitude]],
    Meta(min_length=2, max_length=MAX_ROUTE_POINTS, description="[lon, lat] in driving order"),
]
# The datum the route's points are in: WGS-84 (GPS), or GCJ-02 as AMap/Gaode and Tencent routes in
# mainland China come; a GCJ-02 route is converted to WGS-84 when posted and stored, like every
# position the platform keeps.
Datum = Literal["wgs84", "gcj02"]


class RouteIn(Input, kw_only=True):
    points: RoutePoints
    datum: Datum = "wgs84"


class RouteOut(msgspec.Struct, kw_only=True):
    points: list[tuple[float, float]]
    datum: Literal["wgs84"] = "wgs84"  # stored and shown in WGS-84, whatever it was posted in


class AddressDestination(Input, kw_only=True):
    address: Annotated[str, Meta(min_length=1, max_length=500)]
    location: Location
    geofence: PolygonGeoJSON


# -- tenders: a job offered to chosen carriers in turn before (or instead of) the market ---------

TenderThen = Literal["market", "expire"]
# The offers' order: as the poster listed the carriers, or best scorecard first (on the job's lane
# where the carrier has figures there; dispatch/scorecards/README.md "The score").
TenderOrder = Literal["as_given", "by_score"]
OfferState = Literal["pending", "offered", "accepted", "declined", "timed_out", "skipped", "withdrawn"]
WindowSeconds = Annotated[int, Meta(ge=1, le=604_800, description="each offer's acceptance window")]
CarrierList = Annotated[
    list[UUID], Meta(min_length=1, max_length=20, description="ranked: the first is offered first")
]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]


class TenderTerms(Input, kw_only=True):
    """Offer the job to `carriers` in turn (one carrier: a direct tender; several: a waterfall)."""

    carriers: CarrierList
    order: TenderOrder = "as_given"
    window_seconds: WindowSeconds
    # The price offered; left out: the job's posted price (an auction has none: give it).
    price_minor: MinorUnits | None = None
    # After the last carrier: the market (as the job's mode, price or ceiling and deadline say), or expire.
    then: TenderThen = "market"


class JobCreate(Input, kw_only=True):
    origin_site_id: UUID
    # Exactly one of the two: a site (own or shared), or an address with its geofence.
    destination_site_id: UUID | None = None
    destination: AddressDestination | None = None
    cargo: Cargo
    vehicle_type: VehicleType
    pickup_from: datetime
    pickup_until: datetime
    deliver_by: datetime
    mode: JobMode
    # Prices are integers of the currency's minor unit (cent, fen). Left out: the posting
    # organization's currency (its settings, GET /orgs/{org_id}).
    currency: Currency | None = None
    deadline: datetime
    # grab: the posted price. auction: optional ceiling and minimum step for lowering a bid.
    price_minor: MinorUnits | None = None
    ceiling_minor: MinorUnits | None = None
    min_step_minor: MinorUnits = 1
    # Who owns the goods at pickup and so authorizes the carrier. Default: the consignee when the
    # consignee posts (the buyer sends its carrier to collect), else the shipper.
    goods_owner: GoodsOwner | None = None
    reference: Annotated[str, Meta(max_length=100)] | None = None
    notes: Annotated[str, Meta(max_length=2000)] | None = None
    # Tender it first to chosen carriers; the job is then off the market until the tender ends.
    tender: TenderTerms | None = None
    # The route the truck is expected to drive: the off-route alert's corridor follows it (without
    # one, the straight segment from the origin to the destination).
    route: RouteIn | None = None


class Place(msgspec.Struct, kw_only=True):
    site_id: UUID | None
    name: str | None
    address: str
    location: LocationOut


class JobPublic(msgspec.Struct, kw_only=True):
    """What any carrier on the market sees of an open job."""

    id: UUID
    status: JobStatus
    mode: JobMode
    origin: Place
    destination: Place
    distance_km: float
    cargo_kind: CargoKind
    cargo: dict[str, Any]
    total_weight_kg: float
    total_volume_m3: float
    vehicle_type: str
    pickup_from: datetime
    pickup_until: datetime
    deliver_by: datetime
    currency: str
    price_minor: int | None
    ceiling_minor: int | None
    min_step_minor: int
    deadline: datetime
    bid_count: int
    created_at: datetime
    # Set in searches from a point: the origin's great-circle distance from it.
    distance_from_point_km: float | None = None


class Job(JobPublic, kw_only=True):
    """The parties' view: the public one plus who is involved and the private details."""

    poster_org_id: UUID
    shipper_org_id: UUID
    consignee_org_id: UUID | None
    goods_owner: GoodsOwner
    destination_geofence: dict[str, Any]
    carrier_org_id: UUID | None
    award_price_minor: int | None
    awarded_at: datetime | None
    closed_at: datetime | None
    reference: str | None
    notes: str | None
    # Carriers that gave the job back or had its award cancelled: left out of its re-tenders.
    excluded_carrier_org_ids: list[UUID] = []
    # The planned route, when the poster gave one (in WGS-84).
    route: RouteOut | None = None


class JobPage(msgspec.Struct, kw_only=True):
    items: list[JobPublic]
    next_cursor: str | None


class MyJobPage(msgspec.Struct, kw_only=True):
    items: list[Job]
    next_cursor: str | None


JobSort = Literal["distance", "price", "pickup"]


# -- bids -------------------------------------------------------------------------------------


class BidCreate(Input, kw_only=True):
    amount_minor: MinorUnits


class BidLower(Input, kw_only=True):
    amount_minor: MinorUnits


class Bid(msgspec.Struct, kw_only=True):
    id: UUID
    job_id: UUID
    carrier_org_id: UUID
    amount_minor: int
    currency: str
    status: Literal["active", "won", "lost", "withdrawn"]
    placed_at: datetime
    created_at: datetime
    # Among active bids: 1 is the lowest (ties: the earliest). None when not active.
    rank: int | None = None
    active_bids: int | None = None


# -- market areas and the live feed -----------------------------------------------------------


class AreaCreate(Input, kw_only=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    # Exactly one: a centre with a radius, or a polygon.
    center: Location | None = None
    radius_km: Annotated[float, Meta(gt=0, le=2000)] | None = None
    polygon: PolygonGeoJSON | None = None
    vehicle_types: Annotated[list[VehicleType], Meta(max_length=20)] = []
    cargo_kinds: Annotated[list[CargoKind], Meta(max_length=2)] = []


class MarketArea(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    center: LocationOut | None
    radius_km: float | None
    polygon: dict[str, Any] | None
    vehicle_types: list[str]
    cargo_kinds: list[str]
    created_at: datetime


class OrgMarketSettings(Input, kw_only=True):
    auto_authorize_pickup: bool


# -- tenders ----------------------------------------------------------------------------------


class TenderOffer(msgspec.Struct, kw_only=True):
    id: UUID
    rank: int
    carrier_org_id: UUID
    carrier_name: str
    price_minor: int
    state: OfferState
    offered_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    reason: str | None


class Tender(msgspec.Struct, kw_only=True):
    """Where a job's latest tender stands, for its poster's side: the offers in rank order."""

    id: UUID
    job_id: UUID
    status: Literal["running", "accepted", "exhausted", "withdrawn"]
    price_minor: int
    currency: str
    window_seconds: int
    then: TenderThen
    created_at: datetime
    ended_at: datetime | None
    offers: list[TenderOffer]
    excluded_carrier_org_ids: list[UUID]


class CarrierChoice(msgspec.Struct, kw_only=True):
    """A carrier organization a poster may offer a job to (GET /carriers)."""

    id: UUID
    name: str


class OfferToCarrier(msgspec.Struct, kw_only=True):
    """An offer to the caller's organization: while it is out, with the job's market view."""

    id: UUID
    job_id: UUID
    rank: int
    price_minor: int
    currency: str
    state: OfferState
    offered_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None
    reason: str | None
    job: JobPublic | None = None


class OfferDecline(Input, kw_only=True):
    reason: Reason


class Retender(Input, kw_only=True):
    """Re-tender a job whose award was given back or cancelled: to carriers in turn, or to the market."""

    to: Literal["tender", "market"]
    # to tender: left out, the last tender's carriers (the excluded left out), window and price.
    carriers: CarrierList | None = None
    order: TenderOrder = "as_given"
    window_seconds: WindowSeconds | None = None
    then: TenderThen | None = None
    # to tender: the price offered. to market: a grab's posted price (left out: the job's).
    price_minor: MinorUnits | None = None
    # to market (and a tender's market afterwards): the mode, an auction's ceiling and step, the deadline.
    mode: JobMode | None = None
    ceiling_minor: MinorUnits | None = None
    min_step_minor: MinorUnits | None = None
    deadline: datetime | None = None
