"""Gate HTTP API: calendars, bookings by the dispatcher, staff check-in, the queue and the board."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, WebSocket, delete, get, post, put, websocket
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from dispatch.accounts.auth import requires, requires_any
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.gate import appointments, service
from dispatch.gate.models import (
    Appointments,
    Board,
    Booking,
    BookingRequest,
    Calendar,
    CalendarSet,
    CallNext,
    SlotOut,
    StaffCheckIn,
    Ticket,
)
from dispatch.gate.notifications import site_channel
from dispatch.realtime.session import live_session
from dispatch.types import Input, Instant


class Message(Input, kw_only=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class CalendarController(Controller):
    path = "/sites/{site_id:uuid}/calendar"
    tags = ["gate"]

    @put(
        "",
        operation_id="setSiteCalendar",
        guards=[requires(Permission.MANAGE_SITES)],
        summary="The site's pickup slots: length, places, lead times, cut-off, no-show grace, closed dates",
    )
    async def set_calendar(
        self, site_id: FromPath[UUID], data: JSONBody[CalendarSet], runtime: RuntimeDep, p: Caller
    ) -> Calendar:
        return await service.set_calendar(runtime.db, p, site_id, data)

    @get("", operation_id="getSiteCalendar")
    async def get_calendar(self, site_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Calendar:
        return await service.get_calendar(runtime.db, p, site_id)


class AppointmentsController(Controller):
    path = "/sites/{site_id:uuid}/appointments"
    tags = ["gate"]
    guards = [requires_any(Permission.MANAGE_SITES, Permission.OPERATE_GATE)]

    @get(
        "",
        operation_id="siteAppointments",
        summary="The day's appointments at the site: carrier, truck, driver, slot or walk-in, state, ETA",
    )
    async def list_day(
        self,
        site_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        # Text checked here rather than a `date`: Litestar's lax conversion would read a number as one.
        date: Annotated[
            str | None,
            QueryParameter(
                pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                description="The day (YYYY-MM-DD) in the site's time zone; default today",
            ),
        ] = None,
    ) -> Appointments:
        return await appointments.appointments(runtime.db, p, site_id, date)


class BookingController(Controller):
    path = "/loads/{load_id:uuid}"
    tags = ["gate"]
    guards = [requires(Permission.DISPATCH_LOADS)]

    @get(
        "/slots",
        operation_id="loadSlots",
        summary="Free pickup slots for the load (its window, vehicle, lead times)",
    )
    async def slots(
        self,
        load_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        start: FromQuery[Instant | None] = None,
        end: FromQuery[Instant | None] = None,
    ) -> list[SlotOut]:
        return await service.availability(runtime.db, p, load_id, start, end)

    @put("/booking", operation_id="bookSlot", summary="Book the load a slot, or move its booking")
    async def book(
        self, load_id: FromPath[UUID], data: JSONBody[BookingRequest], runtime: RuntimeDep, p: Caller
    ) -> Booking:
        return await service.book(runtime.db, runtime.broker, p, load_id, data.slot_start)

    @delete("/booking", operation_id="cancelBooking", status_code=200)
    async def cancel(self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Booking:
        return await service.cancel_booking(runtime.db, runtime.broker, p, load_id)

    @post(
        "/messages",
        operation_id="messageDriver",
        status_code=202,
        summary="Send the load's driver a message on their phone",
    )
    async def message(
        self, load_id: FromPath[UUID], data: JSONBody[Message], runtime: RuntimeDep, p: Caller
    ) -> None:
        await service.message_driver(runtime.db, runtime.broker, p, load_id, data.text)


class YardController(Controller):
    path = "/gate"
    tags = ["gate"]
    guards = [requires(Permission.OPERATE_GATE)]

    @post(
        "/check-in",
        operation_id="staffCheckIn",
        summary="Check a truck in by scanning its load's pickup code",
    )
    async def check_in(self, data: JSONBody[StaffCheckIn], runtime: RuntimeDep, p: Caller) -> Ticket:
        return await service.check_in_by_staff(runtime.db, runtime.broker, p, data)

    @get(
        "/sites/{site_id:uuid}/board",
        operation_id="gateBoard",
        summary="The yard: waiting trucks in queue order with estimated waits, and trucks at docks",
    )
    async def board(self, site_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Board:
        return await service.board(runtime.db, p, site_id)

    @post(
        "/sites/{site_id:uuid}/call",
        operation_id="callNextTruck",
        status_code=200,
        summary="Call the next truck (in queue order) that the dock can serve",
    )
    async def call(
        self, site_id: FromPath[UUID], data: JSONBody[CallNext], runtime: RuntimeDep, p: Caller
    ) -> Ticket:
        return await service.call_next(runtime.db, runtime.broker, p, site_id, data.dock_id)

    @post("/tickets/{ticket_id:uuid}/loading", operation_id="loadingStarted", status_code=200)
    async def loading(self, ticket_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Ticket:
        return await service.advance(runtime.db, runtime.broker, p, ticket_id, "loading")

    @post("/tickets/{ticket_id:uuid}/loaded", operation_id="loadingComplete", status_code=200)
    async def loaded(self, ticket_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Ticket:
        return await service.advance(runtime.db, runtime.broker, p, ticket_id, "loaded")


_encode = msgspec.json.Encoder().encode


@websocket("/gate/sites/{site_id:uuid}/board/live", guards=[requires(Permission.OPERATE_GATE)])
async def board_live(
    socket: WebSocket[Any, Any, Any], site_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
) -> None:
    """The board for a screen at the gate: the whole board now, then again after every change."""
    first = await service.board(runtime.db, p, site_id)  # 404s before accepting
    async with (
        runtime.broker.subscribe(site_channel(site_id), maxsize=64) as changes,
        live_session(socket, too_slow_reason="too slow: reconnect for a fresh board") as live,
    ):
        await live.send(_encode(first))
        while True:
            await live.next(changes.get)
            changes.drain()  # several changes at once: one fresh board covers them all
            changes.overflowed = False
            await live.send(_encode(await service.board(runtime.db, p, site_id)))
