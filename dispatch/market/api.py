"""Market HTTP API and the carriers' live feed websocket."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Router, WebSocket, delete, get, post, put, websocket
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from shapely import Polygon

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.close_codes import CloseCode
from dispatch.deps import Caller, RuntimeDep
from dispatch.errors import BadRequest
from dispatch.market import service, tenders
from dispatch.market.models import (
    AreaCreate,
    Bid,
    BidCreate,
    BidLower,
    CarrierChoice,
    Job,
    JobCreate,
    JobPage,
    JobPublic,
    JobSort,
    JobStatus,
    MarketArea,
    MyJobPage,
    OfferDecline,
    OfferToCarrier,
    OrgMarketSettings,
    Retender,
    Tender,
)
from dispatch.market.notifications import RESYNC, FeedClient, Interest
from dispatch.realtime.session import TooSlow, live_session
from dispatch.runtime import Runtime
from dispatch.types import CargoKind, Instant, VehicleType
from geo import Area, Position, centroid, haversine_m, parse_polygon

Cursor = Annotated[str | None, QueryParameter(max_length=200, description="next_cursor of the previous page")]


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post(
        "",
        operation_id="postJob",
        guards=[requires(Permission.POST_JOBS)],
        summary="Post a shipping job: grab at a posted price, or a reverse auction; optionally tendered "
        "to chosen carriers first",
    )
    async def post_job(self, data: JSONBody[JobCreate], runtime: RuntimeDep, p: Caller) -> Job:
        return await tenders.post_job(runtime.db, runtime.broker, runtime.rank_carriers, p, data)

    @get("", operation_id="listMyJobs", summary="Jobs the organization posted, ships, receives or carries")
    async def my_jobs(
        self,
        runtime: RuntimeDep,
        p: Caller,
        status: FromQuery[JobStatus | None] = None,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> MyJobPage:
        return await service.list_my_jobs(runtime.db, p, status=status, cursor=cursor, limit=limit)

    @get(
        "/{job_id:uuid}",
        operation_id="getJob",
        summary="A job: the full view for its parties, the market view for others while it is open",
    )
    async def get_job(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Job | JobPublic:
        return await service.get_job(runtime.db, p, job_id)

    @post(
        "/{job_id:uuid}/cancel",
        operation_id="cancelJob",
        status_code=200,
        guards=[requires(Permission.POST_JOBS)],
    )
    async def cancel(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Job:
        return await service.cancel_job(
            runtime.db, runtime.broker, p, job_id, withdraw_tender=tenders.withdraw_tender
        )

    @get(
        "/{job_id:uuid}/tender",
        operation_id="getTender",
        summary="Where the job's latest tender stands: the offers in rank order (the poster's side)",
    )
    async def tender(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Tender:
        return await tenders.get_tender(runtime.db, p, job_id)

    @post(
        "/{job_id:uuid}/retender",
        operation_id="retenderJob",
        status_code=200,
        guards=[requires(Permission.POST_JOBS)],
        summary="Re-tender a job whose award was given back or cancelled: to carriers in turn, or the market",
    )
    async def retender(
        self, job_id: FromPath[UUID], data: JSONBody[Retender], runtime: RuntimeDep, p: Caller
    ) -> Job:
        return await tenders.retender(runtime.db, runtime.broker, runtime.rank_carriers, p, job_id, data)

    @post(
        "/{job_id:uuid}/grab",
        operation_id="grabJob",
        status_code=200,
        guards=[requires(Permission.BID)],
        summary="Take a grab job at its posted price; the first carrier wins, the others get 409",
    )
    async def grab(self, job_id: FromPath[UUID], request: Request[Principal, str, State]) -> Job:
        # The runtime and the caller from the request, not injected: Litestar resolves two or more
        # dependencies in an anyio task group, CPU that the last of 100 racing grabs on a worker
        # waits for (as on POST /driver/v1/positions).
        runtime: Runtime = request.app.state.runtime
        p = request.user
        return await service.grab(runtime.db, runtime.broker, runtime.authorize_on_award, p, job_id)

    # -- bids --

    @get(
        "/{job_id:uuid}/bids",
        operation_id="listBids",
        summary="All bids for the poster's side; a carrier sees only its own, with its rank",
    )
    async def bids(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[Bid]:
        return await service.list_bids(runtime.db, p, job_id)

    @post("/{job_id:uuid}/bids", operation_id="placeBid", guards=[requires(Permission.BID)])
    async def place_bid(
        self, job_id: FromPath[UUID], data: JSONBody[BidCreate], runtime: RuntimeDep, p: Caller
    ) -> Bid:
        return await service.place_bid(runtime.db, p, job_id, data.amount_minor)

    @put(
        "/{job_id:uuid}/bids/{bid_id:uuid}",
        operation_id="lowerBid",
        guards=[requires(Permission.BID)],
        summary="Lower the organization's bid by at least the job's minimum step",
    )
    async def lower_bid(
        self,
        job_id: FromPath[UUID],
        bid_id: FromPath[UUID],
        data: JSONBody[BidLower],
        runtime: RuntimeDep,
        p: Caller,
    ) -> Bid:
        return await service.lower_bid(runtime.db, p, job_id, bid_id, data.amount_minor)

    @post(
        "/{job_id:uuid}/bids/{bid_id:uuid}/withdraw",
        operation_id="withdrawBid",
        status_code=200,
        guards=[requires(Permission.BID)],
    )
    async def withdraw_bid(
        self, job_id: FromPath[UUID], bid_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> Bid:
        return await service.withdraw_bid(runtime.db, p, job_id, bid_id)

    @post(
        "/{job_id:uuid}/bids/{bid_id:uuid}/award",
        operation_id="awardBid",
        status_code=200,
        guards=[requires(Permission.AWARD_JOBS)],
        summary="Award an active bid before the deadline",
    )
    async def award(
        self, job_id: FromPath[UUID], bid_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> Job:
        return await service.award_bid(
            runtime.db, runtime.broker, runtime.authorize_on_award, p, job_id, bid_id
        )


class TenderController(Controller):
    path = "/tenders"
    tags = ["tenders"]

    @get(
        "",
        operation_id="listTenderOffers",
        guards=[requires(Permission.BID)],
        summary="Tender offers to the organization: the one out now first (with the job), then answered ones",
    )
    async def offers(
        self,
        runtime: RuntimeDep,
        p: Caller,
        current: Annotated[bool, QueryParameter(description="only the offers out now")] = False,
    ) -> list[OfferToCarrier]:
        return await tenders.list_offers(runtime.db, p, current=current)

    @post(
        "/{offer_id:uuid}/accept",
        operation_id="acceptTenderOffer",
        status_code=200,
        guards=[requires(Permission.BID)],
        summary="Accept an offer while its window is open: the job is awarded as a grab awards it",
    )
    async def accept(self, offer_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Job:
        return await tenders.accept_offer(runtime.db, runtime.broker, runtime.authorize_on_award, p, offer_id)

    @post(
        "/{offer_id:uuid}/decline",
        operation_id="declineTenderOffer",
        status_code=200,
        guards=[requires(Permission.BID)],
        summary="Decline an offer with a reason: the next carrier's turn comes",
    )
    async def decline(
        self, offer_id: FromPath[UUID], data: JSONBody[OfferDecline], runtime: RuntimeDep, p: Caller
    ) -> OfferToCarrier:
        return await tenders.decline_offer(runtime.db, runtime.broker, p, offer_id, data.reason)


class CarrierController(Controller):
    path = "/carriers"
    tags = ["tenders"]

    @get(
        "",
        operation_id="listCarrierChoices",
        guards=[requires(Permission.POST_JOBS)],
        summary="The carrier organizations a poster may tender a job to, by name (`q`: a piece of the "
        "name, any case), at most `limit`; the caller's own organization left out",
    )
    async def choices(
        self,
        runtime: RuntimeDep,
        p: Caller,
        q: Annotated[str | None, QueryParameter(max_length=80, description="a piece of the name")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    ) -> list[CarrierChoice]:
        return await tenders.carrier_choices(runtime.db, p, q, limit)


class MarketController(Controller):
    path = "/market"
    tags = ["market"]

    @get(
        "/jobs",
        operation_id="searchJobs",
        summary="Open jobs near a point, by pickup date, cargo and vehicle type; cursor-paginated",
    )
    async def search(
        self,
        runtime: RuntimeDep,
        p: Caller,
        lat: Annotated[float | None, QueryParameter(ge=-90, le=90)] = None,
        lon: Annotated[float | None, QueryParameter(ge=-180, le=180)] = None,
        radius_km: Annotated[
            float | None,
            # Litestar 2.25 drops a bound of 0 from an optional parameter's schema: restated for it.
            QueryParameter(gt=0, le=2000, schema_extra={"exclusiveMinimum": 0}),
        ] = None,
        pickup_from: FromQuery[Instant | None] = None,
        pickup_until: FromQuery[Instant | None] = None,
        cargo_kind: FromQuery[CargoKind | None] = None,
        vehicle_type: FromQuery[VehicleType | None] = None,
        currency: Annotated[str | None, QueryParameter(pattern=r"^[A-Z]{3}$")] = None,
        sort: Annotated[
            JobSort | None,
            QueryParameter(description="default: distance when a point is given, else pickup"),
        ] = None,
        cursor: Cursor = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> JobPage:
        if (lat is None) != (lon is None):
            raise BadRequest("lat and lon go together.", code="incomplete_point")
        near = Position(lon, lat) if lat is not None and lon is not None else None
        return await service.search_open_jobs(
            runtime.db,
            near=near,
            radius_km=radius_km,
            pickup_from=pickup_from,
            pickup_until=pickup_until,
            cargo_kind=cargo_kind,
            vehicle_type=vehicle_type,
            currency=currency,
            sort=sort,
            cursor=cursor,
            limit=limit,
        )

    @get("/areas", operation_id="listMarketAreas", guards=[requires(Permission.BID)])
    async def areas(self, runtime: RuntimeDep, p: Caller) -> list[MarketArea]:
        return await service.list_areas(runtime.db, p)

    @post(
        "/areas",
        operation_id="createMarketArea",
        guards=[requires(Permission.BID)],
        summary="Save an area (centre and radius, or polygon) and filters for the live feed",
    )
    async def create_area(self, data: JSONBody[AreaCreate], runtime: RuntimeDep, p: Caller) -> MarketArea:
        return await service.create_area(runtime.db, p, data)

    @delete("/areas/{area_id:uuid}", operation_id="deleteMarketArea", guards=[requires(Permission.BID)])
    async def delete_area(self, area_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> None:
        await service.delete_area(runtime.db, p, area_id)

    @put(
        "/settings",
        operation_id="setMarketSettings",
        guards=[requires(Permission.AWARD_JOBS)],
        summary="Whether the organization authorizes carriers automatically on award",
    )
    async def settings(
        self, data: JSONBody[OrgMarketSettings], runtime: RuntimeDep, p: Caller
    ) -> OrgMarketSettings:
        await service.set_auto_authorize(runtime.db, p, data.auto_authorize_pickup)
        return data


# -- the live feed ----------------------------------------------------------------------------


def _interest(area: MarketArea) -> Interest:
    if area.polygon is not None:
        shape = Area.of_polygon(parse_polygon(area.polygon, max_area_m2=service.MAX_AREA_POLYGON_M2))
    else:
        assert area.center is not None and area.radius_km is not None
        shape = Area.around(Position(area.center.lon, area.center.lat), area.radius_km * 1000)
    return Interest(shape, frozenset(area.vehicle_types), frozenset(area.cargo_kinds))


def _bounding_circle(area: MarketArea) -> tuple[Position, float]:
    """A circle around an area, for the snapshot's indexed search (polygons are filtered after)."""
    if area.polygon is None:
        assert area.center is not None and area.radius_km is not None
        return Position(area.center.lon, area.center.lat), area.radius_km
    polygon: Polygon = parse_polygon(area.polygon, max_area_m2=service.MAX_AREA_POLYGON_M2)
    middle = centroid(polygon)
    reach = max(haversine_m(middle, Position(x, y)) for x, y in polygon.exterior.coords)
    return middle, reach / 1000 + 0.001


SNAPSHOT_PER_AREA = 200
_encode = msgspec.json.Encoder().encode


async def _snapshot(runtime: RuntimeDep, areas: list[MarketArea], client: FeedClient) -> bytes:
    seen: dict[UUID, JobPublic] = {}
    for area, interest in zip(areas, client.interests, strict=True):
        center, radius_km = _bounding_circle(area)
        page = await service.search_open_jobs(
            runtime.db,
            near=center,
            radius_km=radius_km,
            pickup_from=None,
            pickup_until=None,
            cargo_kind=None,
            vehicle_type=None,
            currency=None,
            sort="distance",
            cursor=None,
            limit=SNAPSHOT_PER_AREA,
        )
        for job in page.items:
            if (
                interest.area.contains(Position(job.origin.location.lon, job.origin.location.lat))
                and (not interest.vehicle_types or job.vehicle_type in interest.vehicle_types)
                and (not interest.cargo_kinds or job.cargo_kind in interest.cargo_kinds)
            ):
                job.distance_from_point_km = None
                seen[job.id] = job
    return _encode({"type": "snapshot", "jobs": sorted(seen.values(), key=lambda j: j.deadline)})


@websocket("/market/feed", guards=[requires(Permission.BID)])
async def market_feed(socket: WebSocket[Any, Any, Any], runtime: RuntimeDep, p: Caller) -> None:
    """Frames (JSON): `snapshot` {jobs} first, then `job.posted` {job} and `job.removed` {job_id,
    reason}; to the carrier a tender offers a job to (whatever its areas), `tender.offered` and
    `tender.ended` {job_id, offer}; `resync` is never sent on the wire: the server sends a fresh
    `snapshot` instead. The socket is authenticated before it is accepted. A client too slow to keep
    up (512 frames behind, or one send waiting 10 s) is closed with code 4008 and must reconnect."""
    areas = await service.list_areas(runtime.db, p)
    if not areas:
        # Accepted (the caller is authenticated) so that the client can read why it is closed.
        await socket.accept()
        await socket.close(CloseCode.NOT_FOUND, "no market areas saved: POST /market/areas first")
        return
    client = runtime.market_feed.register(p.org_id, [_interest(a) for a in areas])
    try:
        async with live_session(
            socket, too_slow_reason="too slow: reconnect to get a fresh snapshot"
        ) as live:
            client.on_overflow = live.give_up  # a send blocked on a peer that stopped reading ends now
            await live.send(await _snapshot(runtime, areas, client))
            while True:
                frame = await live.next(client.queue.get)
                if client.overflowed:  # 512 frames behind
                    raise TooSlow
                await live.send(await _snapshot(runtime, areas, client) if frame == RESYNC else frame)
    finally:
        runtime.market_feed.unregister(client)


def routers() -> list[Router | type[Controller]]:
    return [JobController, TenderController, CarrierController, MarketController, market_feed]  # type: ignore[list-item]
