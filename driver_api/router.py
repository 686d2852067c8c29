"""The drivers' phone API under /driver/v1: device tokens only; every state-changing request
accepts an `Idempotency-Key`. Responses are the platform's own types; fields are only ever added,
so older app versions keep working (they ignore what they do not know)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Router, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody

from dispatch.accounts import service as accounts
from dispatch.accounts.auth import credential_kinds
from dispatch.accounts.models import Me
from dispatch.accounts.principal import Principal
from dispatch.deps import Caller, RuntimeDep
from dispatch.gate import service as gate
from dispatch.gate.models import Booking, BookingRequest, DriverCheckIn, SlotOut, Ticket
from dispatch.idempotency import idempotency_middleware
from dispatch.loads import service as loads
from dispatch.loads.models import Load
from dispatch.runtime import Runtime
from dispatch.tracking.models import BatchResult, PositionBatch
from dispatch.types import Instant
from driver_api.live import driver_live
from driver_api.positions import ingest_batch
from geo import Position

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=200,
        description="Retries with the same key get the first answer and change nothing",
    ),
]


@get("/me", operation_id="driverGetMe", summary="The driver and carrier this device token acts for")
async def driver_me(runtime: RuntimeDep, p: Caller) -> Me:
    return await accounts.me(runtime.db, p)


@get(
    "/assignments",
    operation_id="driverListAssignments",
    summary="The driver's loads still to do, soonest first, each with its pickup code",
)
async def driver_assignments(runtime: RuntimeDep, p: Caller) -> list[Load]:
    return await loads.driver_loads(runtime.db, runtime.settings.secret_key, p)


@get(
    "/loads/{load_id:uuid}/slots",
    operation_id="driverLoadSlots",
    summary="Free pickup slots for the load at its pickup site",
)
async def driver_slots(
    load_id: FromPath[UUID],
    runtime: RuntimeDep,
    p: Caller,
    start: FromQuery[Instant | None] = None,
    end: FromQuery[Instant | None] = None,
) -> list[SlotOut]:
    return await gate.availability(runtime.db, p, load_id, start, end)


@put(
    "/loads/{load_id:uuid}/booking", operation_id="driverBookSlot", summary="Book a slot, or move the booking"
)
async def driver_book(
    load_id: FromPath[UUID],
    data: JSONBody[BookingRequest],
    runtime: RuntimeDep,
    p: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Booking:
    return await gate.book(runtime.db, runtime.broker, p, load_id, data.slot_start)


@delete("/loads/{load_id:uuid}/booking", operation_id="driverCancelBooking", status_code=200)
async def driver_cancel(
    load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, idempotency_key: IdempotencyKey = None
) -> Booking:
    return await gate.cancel_booking(runtime.db, runtime.broker, p, load_id)


@post(
    "/loads/{load_id:uuid}/check-in",
    operation_id="driverCheckIn",
    status_code=201,
    summary="Check in at the gate: the phone's position must be inside the site's geofence",
)
async def driver_check_in(
    load_id: FromPath[UUID],
    data: JSONBody[DriverCheckIn],
    runtime: RuntimeDep,
    p: Caller,
    idempotency_key: IdempotencyKey = None,
) -> Ticket:
    return await gate.check_in_driver(
        runtime.db,
        runtime.broker,
        p,
        load_id,
        Position(data.position.lon, data.position.lat),
        data.accuracy_m,
    )


@get(
    "/loads/{load_id:uuid}/ticket",
    operation_id="driverTicket",
    summary="The driver's place in the queue, estimated wait, or the dock to go to",
)
async def driver_ticket(load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Ticket:
    return await gate.my_ticket(runtime.db, p, load_id)


@post(
    "/loads/{load_id:uuid}/depart",
    operation_id="driverStartTrip",
    status_code=200,
    summary="Start the trip once loading is complete",
)
async def driver_depart(
    load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, idempotency_key: IdempotencyKey = None
) -> Ticket:
    return await gate.depart(runtime.db, runtime.broker, p, load_id)


@post(
    "/positions",
    operation_id="driverPostPositions",
    status_code=200,
    summary="A batch of GPS fixes for the driver's loads in transit: each point judged alone, stored once",
    description=(
        "1 to 500 points; a malformed batch is refused whole (400). Each bad point is rejected with its "
        "reason, the rest are stored; repeated points are counted as duplicates and stored once. "
        "409 load_received once the receipt is confirmed. Rules: dispatch/tracking/README.md."
    ),
)
async def driver_positions(
    data: JSONBody[PositionBatch],
    request: Request[Principal, str, State],
    idempotency_key: IdempotencyKey = None,
) -> BatchResult:
    # The runtime and the caller are taken from the request here, not injected like elsewhere: Litestar
    # resolves two or more dependencies in an anyio task group, two tasks per request, measured at
    # ~7% of a worker's CPU on this, the busiest route.
    runtime: Runtime = request.app.state.runtime
    return await ingest_batch(runtime, request.user, data)


def driver_router() -> Router:
    return Router(
        path="/driver/v1",
        route_handlers=[
            driver_me,
            driver_assignments,
            driver_slots,
            driver_book,
            driver_cancel,
            driver_check_in,
            driver_ticket,
            driver_depart,
            driver_positions,
            driver_live,
        ],
        guards=[credential_kinds("device")],
        middleware=[idempotency_middleware],
        tags=["driver"],
    )
