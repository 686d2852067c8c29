"""The drivers' phone API under /driver/v1: device tokens only; every state-changing request
accepts an `Idempotency-Key`; every request may name the app's version (`X-App-Version`, see
versions.py). Fields are only ever added, so older app versions keep working (they ignore what
they do not know). The contract: driver_api/README.md."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Request, Response, Router, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from dispatch.accounts import service as accounts
from dispatch.accounts.auth import credential_kinds
from dispatch.accounts.models import Me
from dispatch.accounts.principal import Principal
from dispatch.deps import Caller, RuntimeDep
from dispatch.documents import service as documents
from dispatch.documents.api import PDF, pdf_response, pdf_spec
from dispatch.gate import inbox
from dispatch.gate import service as gate
from dispatch.gate.assignments import driver_assignment, driver_assignments
from dispatch.gate.models import (
    Booking,
    BookingRequest,
    DriverAssignment,
    DriverCheckIn,
    DriverMessages,
    SlotOut,
    Ticket,
)
from dispatch.idempotency import idempotency_middleware
from dispatch.runtime import Runtime
from dispatch.tracking import approach
from dispatch.tracking.models import ApproachOut, BatchResult, PositionBatch
from dispatch.types import Instant
from driver_api.live import driver_live
from driver_api.positions import ingest_batch
from driver_api.versions import APP_VERSION, app_version_served
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
    summary="The driver's loads still to do, soonest first",
    description=(
        "Each with its number, cargo, pickup site (address, location, geofence, time zone, opening "
        "hours), destination, pickup window, booking, pickup code, state, and the dock once called."
    ),
)
async def driver_list_assignments(runtime: RuntimeDep, p: Caller) -> list[DriverAssignment]:
    return await driver_assignments(runtime.db, runtime.settings.secret_key, p)


@get(
    "/assignments/{load_id:uuid}",
    operation_id="driverGetAssignment",
    summary="One of the driver's loads, whatever its state (a received one too)",
)
async def driver_get_assignment(load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> DriverAssignment:
    return await driver_assignment(runtime.db, runtime.settings.secret_key, p, load_id)


@get(
    "/loads/{load_id:uuid}/booking",
    operation_id="driverGetBooking",
    summary="The load's booked slot (booked, checked in, or served once loaded)",
)
async def driver_get_booking(load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Booking:
    return await gate.standing_booking(runtime.db, p, load_id)


@get(
    "/messages",
    operation_id="driverListMessages",
    summary="The driver's messages after an id, oldest first: dock calls, the dispatcher's, lapsed bookings",
    description=(
        "For an app that was offline: send `next_after` back as `after` until `items` is empty. The "
        "live socket sends each new one as an `inbox` frame."
    ),
)
async def driver_messages(
    runtime: RuntimeDep,
    p: Caller,
    after: Annotated[
        int,
        QueryParameter(
            ge=0, le=2**63 - 1, description="the last message id already read (0: from the first)"
        ),
    ] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
) -> DriverMessages:
    return await inbox.driver_messages(runtime.db, p, after, limit)


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


@get(
    "/loads/{load_id:uuid}/waybill.pdf",
    operation_id="driverGetWaybillPdf",
    summary="The waybill the driver carries (PDF), for the driver's own load; 404 load_not_found otherwise",
    description="The same paper as GET /loads/{id}/documents/waybill.pdf gives the carrier.",
    media_type=PDF,
    responses={200: pdf_spec("The waybill, one A4 PDF in the driver's language")},
)
async def driver_waybill(
    load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, request: Request[Principal, str, State]
) -> Response[bytes]:
    content = await documents.waybill_pdf(
        runtime.db, runtime.settings.secret_key, p, load_id, request.headers.get("accept-language")
    )
    return pdf_response(content, f"waybill-{load_id}.pdf")


@post(
    "/loads/{load_id:uuid}/start-to-pickup",
    operation_id="driverStartToPickup",
    status_code=200,
    summary="Start driving to the pickup site: the phone's positions are taken from now, before loading",
    description=(
        "The load must be assigned (or booked) and not yet checked in at the gate (else 409 "
        "approach_over). Starting again changes nothing. Positions posted while no load is in transit "
        "go to this drive; its ETA against the booked slot raises load.late_for_slot "
        "(dispatch/tracking/README.md, Alerts)."
    ),
)
async def driver_start_to_pickup(
    load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, idempotency_key: IdempotencyKey = None
) -> ApproachOut:
    return await approach.start_to_pickup(runtime.db, p, load_id)


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
            driver_list_assignments,
            driver_get_assignment,
            driver_slots,
            driver_get_booking,
            driver_book,
            driver_cancel,
            driver_check_in,
            driver_ticket,
            driver_depart,
            driver_waybill,
            driver_start_to_pickup,
            driver_positions,
            driver_messages,
            driver_live,
        ],
        guards=[credential_kinds("device"), app_version_served],
        parameters={"app_version": APP_VERSION},
        middleware=[idempotency_middleware],
        tags=["driver"],
    )
