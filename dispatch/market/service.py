"""Market use cases: post, find, grab, bid, award, close; market areas and settings.

Each public function is one use case in one transaction; the state change, its event and its
market notification commit together. Concurrency is settled by the database: the grab is one
conditional UPDATE, bids and the close take the job row's lock in compatible/exclusive modes.
An award runs the goods owner's automatic pickup authorization, which the authorizations area
provides (dispatch/market/awards.py says why it is handed in).
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from uuid import UUID

import asyncpg
import msgspec
from msgspec import Meta

from dispatch import events
from dispatch.accounts import service as accounts
from dispatch.accounts.auth import require_party
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable
from dispatch.market import queries
from dispatch.market.awards import AutoAuthorizer
from dispatch.market.models import (
    AreaCreate,
    Bid,
    BulkCargo,
    Job,
    JobCreate,
    JobPage,
    JobPublic,
    JobSort,
    MarketArea,
    MyJobPage,
    Place,
    RouteIn,
    RouteOut,
)
from dispatch.market.notifications import CHANNEL, publish_posted, publish_removed, removed_payload
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from dispatch.sites import service as sites
from dispatch.types import LocationOut
from geo import (
    GeometryError,
    Position,
    contains,
    distance_to_m,
    haversine_m,
    parse_polygon,
    polygon_to_geojson,
)
from geo.datum import gcj02_to_wgs84

MAX_AREAS = 20
# A market area may be a whole region, unlike a site's geofence.
MAX_AREA_POLYGON_M2 = 5e12


def _now() -> datetime:
    return datetime.now(UTC)


# -- reading jobs -----------------------------------------------------------------------------


def job_from_row(row: asyncpg.Record | dict[str, Any]) -> Job | JobPublic:
    """The parties' view when the row says the caller is a party, else the market view."""
    r = dict(row)
    public: dict[str, Any] = {
        "id": r["id"],
        "status": r["status"],
        "mode": r["mode"],
        "origin": Place(
            site_id=r["origin_site_id"],
            name=r["origin_name"],
            address=r["origin_address"],
            location=LocationOut(lat=r["origin_lat"], lon=r["origin_lon"]),
        ),
        "destination": Place(
            site_id=r["destination_site_id"],
            name=r["destination_name"],
            address=r["destination_address"],
            location=LocationOut(lat=r["destination_lat"], lon=r["destination_lon"]),
        ),
        "distance_km": round(r["distance_m"] / 1000, 1),
        "cargo_kind": r["cargo_kind"],
        "cargo": r["cargo"],
        "total_weight_kg": r["total_weight_kg"],
        "total_volume_m3": r["total_volume_m3"],
        "vehicle_type": r["vehicle_type"],
        "pickup_from": r["pickup_from"],
        "pickup_until": r["pickup_until"],
        "deliver_by": r["deliver_by"],
        "currency": r["currency"],
        "price_minor": r["price_minor"],
        "ceiling_minor": r["ceiling_minor"],
        "min_step_minor": r["min_step_minor"],
        "deadline": r["deadline"],
        "bid_count": r["bid_count"],
        "created_at": r["created_at"],
        "distance_from_point_km": None
        if r.get("from_point_m") is None
        else round(r["from_point_m"] / 1000, 2),
    }
    if not r.get("is_party"):
        return JobPublic(**public)
    return Job(
        **public,
        poster_org_id=r["poster_org_id"],
        shipper_org_id=r["shipper_org_id"],
        consignee_org_id=r["consignee_org_id"],
        goods_owner=r["goods_owner"],
        destination_geofence=r["destination_geofence"],
        carrier_org_id=r["carrier_org_id"],
        award_price_minor=r["award_price_minor"],
        awarded_at=r["awarded_at"],
        closed_at=r["closed_at"],
        reference=r["reference"],
        notes=r["notes"],
        excluded_carrier_org_ids=r["excluded_carrier_org_ids"],
        route=None
        if r.get("planned_route") is None
        else RouteOut(points=[(p[0], p[1]) for p in r["planned_route"]]),
    )


async def get_job(db: asyncpg.Pool | Conn, p: Principal, job_id: UUID) -> Job | JobPublic:
    row = await db.fetchrow(queries.JOB_FOR, p.org_id, job_id)
    if row is None:
        raise NotFound("No such job, or it is not visible to your organization.", code="job_not_found")
    return job_from_row(row)


async def list_my_jobs(
    db: asyncpg.Pool,
    p: Principal,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> MyJobPage:
    after_at, after_id = _decode_cursor(cursor, _Instant) if cursor else (None, None)
    rows = await db.fetch(
        queries.MY_JOBS,
        p.org_id,
        status,
        after_at,
        after_id,
        limit + 1,
    )
    items = [job_from_row(r) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return MyJobPage(
        items=[i for i in items if isinstance(i, Job)],
        next_cursor=_encode_cursor(last["created_at"].isoformat(), last["id"]) if last else None,
    )


def _encode_cursor(value: object, job_id: UUID) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode([value, str(job_id)])).decode().rstrip("=")


# What a cursor's first value is, by what the page is ordered by: a client may send any cursor,
# so it is decoded to the type the query binds (an int beyond bigint, a string where a number is
# ordered, would fail the query instead).
_Bigint = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)]
_Instant = Annotated[datetime, Meta(tz=True)]


def _decode_cursor(cursor: str, value_type: Any) -> tuple[Any, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, job_id = msgspec.json.decode(raw, type=tuple[value_type, UUID])
        return value, job_id
    except (ValueError, TypeError, msgspec.DecodeError):
        raise BadRequest("The cursor is not one this API issued.", code="bad_cursor") from None


async def search_open_jobs(
    db: asyncpg.Pool | Conn,
    *,
    near: Position | None,
    radius_km: float | None,
    pickup_from: datetime | None,
    pickup_until: datetime | None,
    cargo_kind: str | None,
    vehicle_type: str | None,
    currency: str | None,
    sort: JobSort | None,
    cursor: str | None,
    limit: int,
) -> JobPage:
    if (near is None) != (radius_km is None):
        raise BadRequest("lat, lon and radius_km go together.", code="incomplete_point")
    if sort is None:
        sort = "distance" if near is not None else "pickup"
    if sort == "distance" and near is None:
        raise BadRequest("Sorting by distance needs lat, lon and radius_km.", code="incomplete_point")
    lat, lon = (near.lat, near.lon) if near else (None, None)
    radius_m = radius_km * 1000 if radius_km is not None else None
    query, key, value_type = {
        "distance": (queries.SEARCH_BY_DISTANCE, "from_point_m", float),
        "price": (queries.SEARCH_BY_PRICE, "sort_price", _Bigint),
        "pickup": (queries.SEARCH_BY_PICKUP, "pickup_from", _Instant),
    }[sort]
    after, after_id = _decode_cursor(cursor, value_type) if cursor else (None, None)
    rows = await db.fetch(
        query,
        lat,
        lon,
        radius_m,
        pickup_from,
        pickup_until,
        cargo_kind,
        vehicle_type,
        currency,
        after,
        after_id,
        limit + 1,
    )
    items = [job_from_row(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        value = last[key]
        next_cursor = _encode_cursor(value.isoformat() if isinstance(value, datetime) else value, last["id"])
    return JobPage(items=items, next_cursor=next_cursor)


# -- posting ----------------------------------------------------------------------------------


def _check_times(body: JobCreate, now: datetime) -> None:
    for name in ("pickup_from", "pickup_until", "deliver_by", "deadline"):
        if getattr(body, name).tzinfo is None:
            raise Unprocessable(f"{name}: give a time zone offset (e.g. Z for UTC).", code="naive_datetime")
    if body.pickup_until <= body.pickup_from:
        raise Unprocessable("pickup_until must be after pickup_from.", code="invalid_pickup_window")
    if body.pickup_until <= now:
        raise Unprocessable("The pickup window is already over.", code="pickup_window_past")
    if body.deliver_by <= body.pickup_from:
        raise Unprocessable("deliver_by must be after pickup_from.", code="invalid_delivery_deadline")
    if body.deadline <= now:
        raise Unprocessable("The deadline is in the past.", code="deadline_in_past")
    if body.deadline > body.pickup_until:
        raise Unprocessable(
            "The deadline must come before the end of the pickup window.", code="deadline_after_pickup"
        )


def _check_pricing(body: JobCreate) -> None:
    if body.mode == "grab":
        if body.price_minor is None:
            raise Unprocessable("A grab job needs price_minor, the posted price.", code="price_required")
        if body.ceiling_minor is not None:
            raise Unprocessable("ceiling_minor belongs to auctions.", code="ceiling_on_grab")
    elif body.price_minor is not None:
        raise Unprocessable(
            "An auction has no posted price; set ceiling_minor to cap bids.", code="price_on_auction"
        )


def _cargo_totals(body: JobCreate) -> tuple[float, float]:
    if isinstance(body.cargo, BulkCargo):
        return float(body.cargo.weight_kg), body.cargo.volume_m3
    lines = body.cargo.lines
    return (
        sum(line.count * line.unit_weight_kg for line in lines),
        sum(line.count * line.unit_volume_m3 for line in lines),
    )


# What follows a posting in its transaction instead of the feed's `job.posted`: a tender's start
# (dispatch/market/tenders.py, which sits on this module).
OnPosted = Callable[[Conn, asyncpg.Record], Awaitable[None]]


def route_in_wgs84(route: RouteIn) -> list[list[float]]:
    """The posted route's points as stored: in WGS-84 (a GCJ-02 route, as AMap/Gaode give them,
    converted; the inverse is iterative to far below 1e-6 degrees, geo/datum.py)."""
    if route.datum == "wgs84":
        return [[lon, lat] for lon, lat in route.points]
    return [list(gcj02_to_wgs84(lon, lat)) for lon, lat in route.points]


async def post_job(
    db: asyncpg.Pool, broker: Broker, p: Principal, body: JobCreate, *, on_posted: OnPosted | None = None
) -> Job:
    now = _now()
    _check_times(body, now)
    _check_pricing(body)
    if (body.destination_site_id is None) == (body.destination is None):
        raise Unprocessable(
            "Give exactly one of destination_site_id and destination.", code="destination_required"
        )
    weight, volume = _cargo_totals(body)
    cargo_kind = "bulk" if isinstance(body.cargo, BulkCargo) else "items"
    async with db.acquire() as conn, conn.transaction():
        currency = body.currency or (await accounts.own_organization(conn, p)).currency
        origin = await sites.get_site(conn, p, body.origin_site_id)
        if body.destination_site_id is not None:
            site = await sites.get_site(conn, p, body.destination_site_id)
            dest_address, dest_at, fence = (
                site.address,
                Position(site.location.lon, site.location.lat),
                site.geofence,
            )
            consignee: UUID | None = site.org_id
        else:
            assert body.destination is not None
            polygon = sites.validate_geofence(body.destination.geofence, "destination.geofence")
            dest_at = Position(body.destination.location.lon, body.destination.location.lat)
            if not contains(polygon, dest_at):
                raise Unprocessable(
                    "destination.location is outside destination.geofence.",
                    code="location_outside_geofence",
                    params={
                        "field": "destination.location",
                        "distance_m": round(distance_to_m(polygon, dest_at)),
                    },
                )
            dest_address, fence = body.destination.address, polygon_to_geojson(polygon)
            consignee = p.org_id if p.org_id != origin.org_id else None
        if p.org_id not in (origin.org_id, consignee):
            raise Forbidden(
                "Post jobs from your own site (as the shipper) or to your own site (as the consignee).",
                code="not_a_party",
            )
        goods_owner = body.goods_owner or (
            "consignee" if p.org_id == consignee != origin.org_id else "shipper"
        )
        if goods_owner == "consignee" and consignee is None:
            raise Unprocessable("goods_owner is the consignee, but the job has none.", code="no_consignee")
        origin_at = Position(origin.location.lon, origin.location.lat)
        job_id = await conn.fetchval(
            queries.INSERT_JOB,
            body.reference,
            p.org_id,
            origin.org_id,
            consignee,
            goods_owner,
            origin.id,
            origin_at.lon,
            origin_at.lat,
            body.destination_site_id,
            dest_address,
            dest_at.lon,
            dest_at.lat,
            fence,
            haversine_m(origin_at, dest_at),
            cargo_kind,
            msgspec.to_builtins(body.cargo),
            weight,
            volume,
            body.vehicle_type,
            body.pickup_from,
            body.pickup_until,
            body.deliver_by,
            body.mode,
            currency,
            body.price_minor,
            body.ceiling_minor,
            body.min_step_minor,
            body.deadline,
            body.notes,
            p.user_id,
            None if body.route is None else route_in_wgs84(body.route),
        )
        await events.record(
            conn,
            "job.posted",
            org_ids=[p.org_id, origin.org_id, *([consignee] if consignee else [])],
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={"mode": body.mode, "origin_site_id": str(origin.id)},
        )
        if on_posted is None:
            await publish_posted(broker, conn, job_id, origin_at, body.vehicle_type, cargo_kind)
        else:
            posted = await lock_job(conn, job_id)
            assert posted is not None
            await on_posted(conn, posted)
        job = await get_job(conn, p, job_id)
    assert isinstance(job, Job)
    return job


async def lock_job(conn: Conn, job_id: UUID) -> asyncpg.Record | None:
    """The job's row, locked for a change (None: no such job); the caller decides who may see it."""
    row: asyncpg.Record | None = await conn.fetchrow(queries.LOCK_JOB, job_id)
    return row


def goods_owner_org(job: asyncpg.Record | Mapping[str, Any]) -> UUID:
    """The organization that owns the goods at pickup: it authorizes the carrier to collect them."""
    owner: UUID = job["consignee_org_id"] if job["goods_owner"] == "consignee" else job["shipper_org_id"]
    return owner


async def _lock_as_poster(conn: Conn, p: Principal, job_id: UUID, action: str) -> asyncpg.Record:
    """The job's row, locked for a change only its poster may make (others of its parties: 403)."""
    job = await lock_job(conn, job_id)
    if job is None or p.org_id not in (job["poster_org_id"], job["shipper_org_id"], job["consignee_org_id"]):
        raise NotFound("No such job.", code="job_not_found")
    if job["poster_org_id"] != p.org_id:
        raise Forbidden(f"Only the organization that posted the job {action} it.", code="not_the_poster")
    return job


# What a cancel of a tendering job does to its offers (dispatch/market/tenders.py).
WithdrawTender = Callable[[Conn, Broker, asyncpg.Record], Awaitable[None]]


async def cancel_job(
    db: asyncpg.Pool,
    broker: Broker,
    p: Principal,
    job_id: UUID,
    *,
    withdraw_tender: WithdrawTender | None = None,
) -> Job:
    """The poster cancels a job not (or no longer) awarded: open, tendering, or returned."""
    async with db.acquire() as conn, conn.transaction():
        job = await _lock_as_poster(conn, p, job_id, "cancels")
        if await conn.fetchrow(queries.CANCEL, job_id) is None:
            raise Conflict(
                f"The job is {job['status']}; only a job without a carrier (open, tendering or returned) "
                "can be cancelled.",
                code="job_not_open",
            )
        if job["status"] == "tendering" and withdraw_tender is not None:
            await withdraw_tender(conn, broker, job)
        lost = await conn.fetch(queries.LOSE_ALL_BIDS, job_id)
        await events.record(
            conn,
            "job.cancelled",
            org_ids=party_orgs(job, *[b["carrier_org_id"] for b in lost]),
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
        )
        if job["status"] == "open":  # only the market's jobs are on the feed
            await publish_removed(broker, conn, job, "cancelled")
        result = await get_job(conn, p, job_id)
    assert isinstance(result, Job)
    return result


# -- grab, bids, award, close -----------------------------------------------------------------


async def grab(
    db: asyncpg.Pool, broker: Broker, authorize: AutoAuthorizer, p: Principal, job_id: UUID
) -> Job:
    """The grab race (README "Grab"). What makes it wait is the database's own serialization only:
    the winner's row lock, held from its UPDATE to its commit. So that lock is held as briefly as
    the award allows (everything that can be known before it is read before it: whether the goods
    owner authorizes automatically; the answer is read after the commit), and a carrier arriving
    once the job is taken is answered from one read, without a transaction or the UPDATE."""
    require_party(p, "carrier", "grab and bid")
    async with db.acquire() as conn:
        before = await conn.fetchrow(queries.JOB_BEFORE_GRAB, job_id, p.org_id)
        return await grab_as_read(conn, broker, authorize, p, job_id, before)


async def grab_as_read(
    conn: Conn,
    broker: Broker,
    authorize: AutoAuthorizer,
    p: Principal,
    job_id: UUID,
    before: asyncpg.Record | Mapping[str, Any] | None,
) -> Job:
    """`grab` from its first read done (`before`: JOB_BEFORE_GRAB's row for `p`, or None): for the
    fast path (grab_fast_path.py), which reads it in the same round trip as the caller's session."""
    require_party(p, "carrier", "grab and bid")
    if before is None or not _grabbable(before, p):
        _why_not_grabbed(before, p)
    if broker.publishes_in_sql:
        await _grab_in_one_statement(conn, authorize, p, before)
    else:
        await _grab_step_by_step(conn, broker, authorize, p, before)
    result = await get_job(conn, p, job_id)  # the winner is a party: it sees its award
    assert isinstance(result, Job)
    return result


async def _grab_in_one_statement(
    conn: Conn, authorize: AutoAuthorizer, p: Principal, before: asyncpg.Record | Mapping[str, Any]
) -> None:
    """The grab and its award as one statement (GRAB_AND_AWARD, outside a transaction: a statement
    is one), with the rows `on_award` writes, drawn from the job as read before (`before`)."""
    job = dict(before) | {"carrier_org_id": p.org_id}
    awarded = events.pending(
        "job.awarded",
        org_ids=party_orgs(job),
        subject_type="job",
        subject_id=job["id"],
        actor_user_id=p.user_id,
        data={"carrier_org_id": str(p.org_id), "bid_id": None},  # the price and currency: as awarded
    )
    owner = goods_owner_org(job)
    grant = authorize.grant(job, owner) if before["owner_auto_authorizes"] else None
    try:
        grabbed = await conn.fetchrow(
            queries.GRAB_AND_AWARD,
            job["id"],
            p.org_id,
            *awarded,
            grant is not None,
            *(
                (grant.id, grant.code_hash, grant.issuer_org_id, grant.valid_from, grant.valid_until)
                if grant
                else (None,) * 5
            ),
            *(grant.event if grant else (None,) * 6),
            CHANNEL,
            removed_payload(job, "awarded"),
        )
    except asyncpg.UniqueViolationError:  # an authorization in force (AutoAuthorizer's answer)
        raise Conflict(
            "The job already has an authorization in force; revoke it first.", code="authorization_exists"
        ) from None
    if grabbed is None:  # another carrier's grab committed first (or the deadline passed)
        _why_not_grabbed(await conn.fetchrow(queries.JOB_AFTER_FAILED_GRAB, job["id"], p.org_id), p)


async def _grab_step_by_step(
    conn: Conn,
    broker: Broker,
    authorize: AutoAuthorizer,
    p: Principal,
    before: asyncpg.Record | Mapping[str, Any],
) -> None:
    """The grab for a broker that cannot publish in SQL: the UPDATE, then `on_award`, in one
    transaction."""
    job_id = before["id"]
    async with conn.transaction():
        job = await conn.fetchrow(queries.GRAB, job_id, p.org_id)
        if job is None:  # another carrier's UPDATE committed first (or the deadline passed)
            _why_not_grabbed(await conn.fetchrow(queries.JOB_AFTER_FAILED_GRAB, job_id, p.org_id), p)
        # Grab jobs take no bids (place_bid: not_an_auction): there are none to settle.
        await on_award(
            conn,
            broker,
            authorize,
            job,
            bid_id=None,
            actor=p.user_id,
            owner_authorizes=before["owner_auto_authorizes"],
            bids=False,
        )


def _grabbable(job: asyncpg.Record | Mapping[str, Any], p: Principal) -> bool:
    """Whether the grab UPDATE could still take the job as read now (else it surely cannot)."""
    return (
        job["mode"] == "grab"
        and p.org_id not in (job["poster_org_id"], job["shipper_org_id"])
        and p.org_id not in job["excluded_carrier_org_ids"]
        and job["status"] == "open"
        and job["deadline"] > job["now"]
    )


def _why_not_grabbed(job: asyncpg.Record | Mapping[str, Any] | None, p: Principal) -> NoReturn:
    """Raise why a grab by `p` does not take the job, as read (JOB_AFTER_FAILED_GRAB)."""
    if job is None:  # unknown, or closed to this organization: the same answer
        raise NotFound("No such job.", code="job_not_found")
    if job["mode"] != "grab":
        raise Conflict("This job is an auction: place a bid instead.", code="not_grabbable")
    if p.org_id in (job["poster_org_id"], job["shipper_org_id"]):
        raise Conflict("You cannot take your own job.", code="own_job")
    if p.org_id in job["excluded_carrier_org_ids"]:
        raise Conflict(
            "Your organization gave this job back or had its award cancelled: it cannot take it again.",
            code="carrier_excluded",
        )
    if job["status"] == "awarded" or job["status"] in ("dispatched", "completed"):
        raise Conflict("Another carrier took this job first.", code="job_taken")
    if job["status"] != "open" or job["deadline"] <= job["now"]:
        raise Conflict(
            f"The job is no longer open ({job['status']}, deadline {job['deadline'].isoformat()}).",
            code="job_closed",
        )
    raise Conflict("The job could not be taken.", code="job_taken")


async def on_award(
    conn: Conn,
    broker: Broker,
    authorize: AutoAuthorizer,
    job: asyncpg.Record,
    *,
    bid_id: UUID | None,
    actor: UUID | None,
    owner_authorizes: bool | None = None,
    bids: bool = True,
    on_market: bool = True,
) -> None:
    """Everything an award entails, in the awarding transaction: bids settled, the event, the
    goods owner's authorization when it authorizes automatically (`owner_authorizes`: as the
    caller read it, else read here), and the market removal (not for a job awarded in a tender: it
    never was on the market, and its id is not told to the feed)."""
    losers = []
    if bids:
        settled = await conn.fetch(queries.SETTLE_BIDS, job["id"], bid_id)
        losers = [b["carrier_org_id"] for b in settled if b["status"] == "lost"]
    await events.record(
        conn,
        "job.awarded",
        org_ids=party_orgs(job),
        subject_type="job",
        subject_id=job["id"],
        actor_user_id=actor,
        data={
            "carrier_org_id": str(job["carrier_org_id"]),
            "price_minor": job["award_price_minor"],
            "currency": job["currency"],
            "bid_id": str(bid_id) if bid_id else None,
        },
    )
    for loser in dict.fromkeys(losers):
        await events.record(
            conn, "bid.lost", org_ids=[loser], subject_type="job", subject_id=job["id"], actor_user_id=None
        )
    owner = goods_owner_org(job)
    if owner_authorizes is None:
        owner_authorizes = await conn.fetchval(queries.ORG_AUTO_AUTHORIZE, owner)
    if owner_authorizes:
        await authorize(conn, job, owner)
    if on_market:
        await publish_removed(broker, conn, job, "awarded")


async def place_bid(db: asyncpg.Pool, p: Principal, job_id: UUID, amount_minor: int) -> Bid:
    require_party(p, "carrier", "grab and bid")
    async with db.acquire() as conn, conn.transaction():
        job = await _open_auction_for_bidding(conn, job_id, p)
        if job["ceiling_minor"] is not None and amount_minor > job["ceiling_minor"]:
            raise Unprocessable(
                f"The bid is above the ceiling of {job['ceiling_minor']} {job['currency']} minor units.",
                code="above_ceiling",
                ceiling_minor=job["ceiling_minor"],
            )
        bid_id = await conn.fetchval(queries.INSERT_BID, job_id, p.org_id, amount_minor, p.user_id)
        if bid_id is None:
            raise Conflict(
                "Your organization already has a bid on this job: lower or withdraw it.", code="bid_exists"
            )
        return await _bid_changed(conn, "bid.placed", job, p, bid_id, {"amount_minor": amount_minor})


async def _open_auction_for_bidding(conn: Conn, job_id: UUID, p: Principal) -> asyncpg.Record:
    # FOR SHARE: concurrent bids proceed together, but the closer's FOR UPDATE SKIP LOCKED cannot
    # take the job while a bid holds it. A bid that locked the row before the close commits before
    # it (it is "in"); one that comes after the close finds the job awarded (it is refused).
    job = await conn.fetchrow(queries.LOCK_JOB_SHARE, job_id, p.org_id)
    if job is None:  # unknown, or closed to this organization: the same answer
        raise NotFound("No such job.", code="job_not_found")
    if job["mode"] != "auction":
        raise Conflict("This job is not an auction: grab it at its posted price.", code="not_an_auction")
    if p.org_id in (job["poster_org_id"], job["shipper_org_id"]):
        raise Conflict("You cannot bid on your own job.", code="own_job")
    if p.org_id in job["excluded_carrier_org_ids"]:
        raise Conflict(
            "Your organization gave this job back or had its award cancelled: it cannot bid on it again.",
            code="carrier_excluded",
        )
    if job["status"] != "open" or job["deadline"] <= job["now"]:
        raise Conflict(f"The auction closed at {job['deadline'].isoformat()}.", code="auction_closed")
    return job


async def _bid(conn: Conn | asyncpg.Pool, bid_id: UUID) -> Bid:
    return msgspec.convert(dict(await conn.fetchrow(queries.BID, bid_id) or {}), Bid)


async def _bid_changed(
    conn: Conn, kind: str, job: asyncpg.Record, p: Principal, bid_id: UUID, data: dict[str, Any] | None = None
) -> Bid:
    """Record a bid's change (placed, lowered, withdrawn) for the poster and the bidder; the bid now."""
    await events.record(
        conn,
        kind,
        org_ids=[job["poster_org_id"], p.org_id],
        subject_type="bid",
        subject_id=bid_id,
        actor_user_id=p.user_id,
        data={"job_id": str(job["id"]), **(data or {})},
    )
    return await _bid(conn, bid_id)


async def _own_active_bid(
    conn: Conn, p: Principal, job_id: UUID, bid_id: UUID
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """The open auction and the caller's live bid on it, both locked, for lowering or withdrawing."""
    job = await _open_auction_for_bidding(conn, job_id, p)
    bid = await conn.fetchrow(queries.OWN_BID_FOR_UPDATE, bid_id, job_id, p.org_id)
    if bid is None:
        raise NotFound("No such bid of your organization on this job.", code="bid_not_found")
    if bid["status"] != "active":
        raise Conflict(f"The bid is {bid['status']}.", code="bid_not_active")
    return job, bid


async def lower_bid(db: asyncpg.Pool, p: Principal, job_id: UUID, bid_id: UUID, amount_minor: int) -> Bid:
    async with db.acquire() as conn, conn.transaction():
        job, bid = await _own_active_bid(conn, p, job_id, bid_id)
        step = job["min_step_minor"]
        if amount_minor > bid["amount_minor"] - step:
            raise Unprocessable(
                f"A bid can only be lowered, by at least {step}: the most you can offer now is "
                f"{bid['amount_minor'] - step}.",
                code="step_too_small",
                max_amount_minor=bid["amount_minor"] - step,
            )
        await conn.execute(queries.LOWER_BID, bid_id, p.org_id, amount_minor)
        return await _bid_changed(conn, "bid.lowered", job, p, bid_id, {"amount_minor": amount_minor})


async def withdraw_bid(db: asyncpg.Pool, p: Principal, job_id: UUID, bid_id: UUID) -> Bid:
    async with db.acquire() as conn, conn.transaction():
        job, _ = await _own_active_bid(conn, p, job_id, bid_id)
        await conn.execute(queries.WITHDRAW_BID, bid_id)
        return await _bid_changed(conn, "bid.withdrawn", job, p, bid_id)


async def list_bids(db: asyncpg.Pool, p: Principal, job_id: UUID) -> list[Bid]:
    """The poster's side sees every bid; a carrier only its own (with its rank, never others' prices)."""
    job = await db.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id)
    if job is None:
        raise NotFound("No such job.", code="job_not_found")
    if p.org_id in (job["poster_org_id"], job["shipper_org_id"], job["consignee_org_id"]):
        rows = await db.fetch(queries.BIDS_OF_JOB, job_id)
    else:
        rows = await db.fetch(queries.OWN_BIDS_OF_JOB, job_id, p.org_id)
        # A closed job is visible only to those who had a part in it.
        if not rows and job["status"] != "open" and p.org_id != job["carrier_org_id"]:
            raise NotFound("No such job.", code="job_not_found")
    return [msgspec.convert(dict(r), Bid) for r in rows]


async def award_bid(
    db: asyncpg.Pool, broker: Broker, authorize: AutoAuthorizer, p: Principal, job_id: UUID, bid_id: UUID
) -> Job:
    """The poster takes an active bid before the deadline."""
    async with db.acquire() as conn, conn.transaction():
        job = await _lock_as_poster(conn, p, job_id, "awards")
        if job["status"] != "open":
            raise Conflict(f"The job is {job['status']}.", code="job_not_open")
        bid = await conn.fetchrow(queries.ACTIVE_BID_FOR_UPDATE, bid_id, job_id)
        if bid is None:
            raise Conflict("That bid is not active on this job.", code="bid_not_active")
        awarded = await conn.fetchrow(
            queries.AWARD, job_id, bid["carrier_org_id"], bid["amount_minor"], bid_id
        )
        assert awarded is not None  # the job row is locked and open
        await on_award(conn, broker, authorize, awarded, bid_id=bid_id, actor=p.user_id)
        result = await get_job(conn, p, job_id)
    assert isinstance(result, Job)
    return result


async def close_due_jobs(
    db: asyncpg.Pool, broker: Broker, authorize: AutoAuthorizer, *, batch: int = 20
) -> int:
    """One round of the closer: auctions past their deadline go to the lowest bid (ties: earliest),
    jobs nobody took expire. Safe with any number of workers (FOR UPDATE SKIP LOCKED)."""
    async with db.acquire() as conn, conn.transaction():
        due = await conn.fetch(queries.CLAIM_DUE, batch)
        for job in due:
            best = await conn.fetchrow(queries.LOWEST_BID, job["id"]) if job["mode"] == "auction" else None
            if best is not None:
                awarded = await conn.fetchrow(
                    queries.AWARD, job["id"], best["carrier_org_id"], best["amount_minor"], best["id"]
                )
                assert awarded is not None  # claimed: locked and open
                await on_award(conn, broker, authorize, awarded, bid_id=best["id"], actor=None)
            else:
                await conn.execute(queries.EXPIRE, job["id"])
                await events.record(
                    conn,
                    "job.expired",
                    org_ids=party_orgs(job),
                    subject_type="job",
                    subject_id=job["id"],
                    actor_user_id=None,
                )
                await publish_removed(broker, conn, job, "expired")
        return len(due)


# -- the goods owner's settings ---------------------------------------------------------------


async def set_auto_authorize(db: asyncpg.Pool, p: Principal, enabled: bool) -> None:
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(queries.SET_ORG_AUTO_AUTHORIZE, p.org_id, enabled)
        await events.record(
            conn,
            "organization.market_settings_changed",
            org_ids=[p.org_id],
            subject_type="organization",
            subject_id=p.org_id,
            actor_user_id=p.user_id,
            data={"auto_authorize_pickup": enabled},
        )


# -- market areas -----------------------------------------------------------------------------


def _area(row: asyncpg.Record | None) -> MarketArea:
    if row is None:
        raise NotFound("No such market area.", code="area_not_found")
    return msgspec.convert(dict(row), MarketArea)


async def list_areas(db: asyncpg.Pool, p: Principal) -> list[MarketArea]:
    return [_area(r) for r in await db.fetch(queries.AREAS, p.org_id)]


async def create_area(db: asyncpg.Pool, p: Principal, body: AreaCreate) -> MarketArea:
    circle = body.center is not None and body.radius_km is not None
    if circle == (body.polygon is not None) or (body.center is None) != (body.radius_km is None):
        raise Unprocessable("Give either center and radius_km, or a polygon.", code="area_shape_required")
    polygon = None
    if body.polygon is not None:
        try:
            polygon = polygon_to_geojson(
                parse_polygon(msgspec.to_builtins(body.polygon), max_area_m2=MAX_AREA_POLYGON_M2)
            )
        except GeometryError as exc:
            raise Unprocessable(f"polygon: {exc}", code="invalid_polygon") from None
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchval(queries.COUNT_AREAS, p.org_id) >= MAX_AREAS:
            raise Conflict(f"An organization keeps at most {MAX_AREAS} market areas.", code="too_many_areas")
        area_id = await conn.fetchval(
            queries.INSERT_AREA,
            p.org_id,
            body.name,
            body.center.lon if body.center else None,
            body.center.lat if body.center else None,
            body.radius_km * 1000 if body.radius_km else None,
            polygon,
            list(body.vehicle_types),
            list(body.cargo_kinds),
        )
        return _area(await conn.fetchrow(queries.AREA, p.org_id, area_id))


async def delete_area(db: asyncpg.Pool, p: Principal, area_id: UUID) -> None:
    if await db.fetchval(queries.DELETE_AREA, p.org_id, area_id) is None:
        raise NotFound("No such market area.", code="area_not_found")


async def load_public_job(db: asyncpg.Pool, job_id: UUID) -> bytes | None:
    """The market view of an open job, encoded, for the live feed (None once it is gone)."""
    row = await db.fetchrow(queries.JOB_FOR, None, job_id)
    if row is None or row["status"] != "open":
        return None
    return msgspec.json.encode(job_from_row(row))
