"""Gate wire types: calendars, slots, bookings, check-in, queue tickets, the board."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.loads.models import ItemCount, Load
from dispatch.plates import PlateText
from dispatch.types import CargoKind, Input, Location, LocationOut

Minutes = Annotated[int, Meta(ge=0, le=7 * 24 * 60)]


class CalendarSet(Input, kw_only=True):
    slot_minutes: Annotated[int, Meta(ge=5, le=480)]
    places_per_slot: Annotated[int, Meta(ge=1, le=200)]
    min_lead_minutes: Minutes = 0
    max_lead_days: Annotated[int, Meta(ge=1, le=365)] = 30
    cutoff_minutes: Minutes = 60
    grace_minutes: Minutes = 30
    late_tolerance_minutes: Minutes = 15
    closed_dates: Annotated[list[date], Meta(max_length=366)] = []


class Calendar(msgspec.Struct, kw_only=True):
    site_id: UUID
    slot_minutes: int
    places_per_slot: int
    min_lead_minutes: int
    max_lead_days: int
    cutoff_minutes: int
    grace_minutes: int
    late_tolerance_minutes: int
    closed_dates: list[date]


class SlotOut(msgspec.Struct, kw_only=True):
    start: datetime
    end: datetime
    places: int
    free: int


class BookingRequest(Input, kw_only=True):
    slot_start: datetime


class Booking(msgspec.Struct, kw_only=True):
    id: UUID
    load_id: UUID
    site_id: UUID
    slot_start: datetime
    slot_end: datetime
    status: Literal["booked", "checked_in", "served", "cancelled", "no_show"]


class DriverCheckIn(Input, kw_only=True):
    position: Location
    # The phone's reported horizontal accuracy (metres): a fix this close to the fence counts.
    accuracy_m: Annotated[float, Meta(ge=0, le=2000)] = 0.0


class StaffCheckIn(Input, kw_only=True):
    site_id: UUID
    code: Annotated[str, Meta(min_length=4, max_length=40)]
    plate: PlateText


class CallNext(Input, kw_only=True):
    dock_id: UUID


class DockRef(msgspec.Struct, kw_only=True):
    id: UUID
    name: str


class Ticket(msgspec.Struct, kw_only=True):
    id: UUID
    load_id: UUID
    site_id: UUID
    plate: str
    driver_name: str | None
    arrival: Literal["on_time", "early", "late", "walk_in"]
    slot_start: datetime | None
    arrived_at: datetime
    status: Literal["waiting", "called", "loading", "loaded", "departed"]
    dock: DockRef | None
    # For waiting trucks: 1 is next; None once called.
    position: int | None = None
    estimated_wait_minutes: int | None = None
    waiting_for_slot: bool = False


class Board(msgspec.Struct, kw_only=True):
    site_id: UUID
    site_name: str
    # The site's IANA time zone: slots are in it, and the board (a display at the site) shows its
    # times in it.
    site_timezone: str
    generated_at: datetime
    waiting: list[Ticket]
    at_docks: list[Ticket]
    docks: list[DockRef]


# -- the driver's phone ----------------------------------------------------------------------


class CargoSummary(msgspec.Struct, kw_only=True):
    """What this load carries: `description` in words (English), and the figures to show it otherwise."""

    kind: CargoKind
    description: str
    # Bulk cargo: kilograms in this load. Item cargo: units of each of the job's cargo lines on it.
    bulk_kg: int | None
    items: list[ItemCount] | None
    weight_kg: float
    volume_m3: float


class OpeningPeriod(msgspec.Struct, kw_only=True):
    weekday: Annotated[int, Meta(description="0 = Monday")]
    opens: Annotated[str, Meta(description="HH:MM in the site's time zone")]
    closes: Annotated[str, Meta(description="HH:MM in the site's time zone; 24:00 is midnight")]


class PickupSite(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    address: str
    location: LocationOut
    # A GeoJSON Polygon ([lon, lat] positions): check-in is accepted inside it.
    geofence: dict[str, Any]
    timezone: Annotated[str, Meta(description="IANA time zone of the site", examples=["Europe/Berlin"])]
    opening_hours: list[OpeningPeriod]


class Destination(msgspec.Struct, kw_only=True):
    # id and name: the consignee's site, when the job names one; else only its address.
    id: UUID | None
    name: str | None
    address: str
    location: LocationOut


class PickupWindow(msgspec.Struct, kw_only=True):
    from_: datetime = msgspec.field(name="from")
    until: datetime


# Where the load stands from the driver's side: the load's status, with the gate's queue split out
# (waiting in the queue, called to a dock, loading, loaded and free to leave).
DriverState = Literal[
    "planned",
    "assigned",
    "booked",
    "waiting",
    "called",
    "loading",
    "loaded",
    "in_transit",
    "arrived",
    "received",
    "cancelled",
]


class DriverAssignment(Load, kw_only=True):
    """A load as its driver's phone shows it: everything `Load` carries, and where, what and when."""

    load_number: Annotated[
        str, Meta(description="The load's short number: the job's reference (or id) / the load's sequence")
    ]
    cargo: CargoSummary
    pickup_site: PickupSite
    destination: Destination
    pickup_window: PickupWindow
    # The slot booked for this load (booked, checked in, or served once loaded), or null.
    booking: Booking | None
    state: DriverState
    # The dock's name once the truck is called to one (states called, loading, loaded).
    dock: str | None


MessageKind = Literal[
    "dock_call",
    "dispatcher",
    "no_show",
    "load_assigned",
    "load_unassigned",
    "truck_changed",
    "swap_approved",
    "swap_refused",
    "load_withdrawn",
]


class DriverMessage(msgspec.Struct, kw_only=True):
    """Something the driver's phone was told, kept so an app that was offline catches up."""

    id: int
    kind: MessageKind
    load_id: UUID
    # The dock's name, for a dock call.
    dock: str | None
    # In English; `key` and `params` render it from the app's catalogue in the phone's language.
    text: str
    key: str
    params: dict[str, str]
    created_at: datetime


class DriverMessages(msgspec.Struct, kw_only=True):
    # Oldest first, at most `limit`.
    items: list[DriverMessage]
    # Send it back as `after` for the next page (the last item's id, or `after` when none is new).
    next_after: int


# -- the day's appointments at a site ----------------------------------------------------------

AppointmentState = Literal[
    "booked",  # a slot is booked; the truck has not checked in
    "on_the_way",  # on the road to this site (a delivery): the ETA is tracking's
    "checked_in",  # in the yard, waiting in the queue
    "called",
    "loading",
    "loaded",
    "departed",
    "arrived",  # a delivery inside the site's geofence
    "received",  # a delivery whose receipt is confirmed
]


class CarrierRef(msgspec.Struct, kw_only=True):
    id: UUID
    name: str


class VehicleRef(msgspec.Struct, kw_only=True):
    id: UUID
    plate: str


class DriverRef(msgspec.Struct, kw_only=True):
    user_id: UUID
    name: str


class SlotRef(msgspec.Struct, kw_only=True):
    starts_at: datetime
    ends_at: datetime


class Appointment(msgspec.Struct, kw_only=True):
    """A truck expected at the site on the day, or there: no prices, only who comes when."""

    load_id: UUID
    load_number: Annotated[str, Meta(description="The job's reference (or id) / the load's sequence")]
    job_id: UUID
    # pickup: the truck loads here (the job's origin); delivery: it unloads here (its destination).
    direction: Literal["pickup", "delivery"]
    carrier: CarrierRef
    vehicle: VehicleRef | None
    driver: DriverRef | None
    # The booked slot at this site, or null (a walk-in, or a delivery: destinations have no slots).
    slot: SlotRef | None
    kind: Literal["booked", "walk_in"]
    state: AppointmentState
    # When a truck on the road to this site is expected there (tracking's ETA: of the drive to the
    # pickup, or of the delivery trip), else null.
    eta: datetime | None
    # The truck is late: for a pickup, its ETA is past the booked slot's start plus the grace
    # (`load.late_for_slot` stands); for a delivery, past the job's deliver-by (`load.late_delivery`).
    late: bool = False
    # When the truck checked in here (a pickup) or entered the geofence (a delivery), else null.
    arrived_at: datetime | None
    # The truck's queue ticket at this site once it has checked in.
    ticket_id: UUID | None


class Appointments(msgspec.Struct, kw_only=True):
    site_id: UUID
    # The day, in the site's time zone.
    date: date
    timezone: str
    # By time: the slot's start, the check-in, or the ETA.
    items: list[Appointment]
