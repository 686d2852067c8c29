"""What each simulated party does, step by step, through the public API.

Shared by `dispatch demo` (one order, narrated) and `dispatch simulate` (many, measured). Each step
is what the party's real client would send: the shipper's ERP posting a job, a carrier's dispatcher
bidding from the live feed, the driver's phone booking a slot and streaming GPS, gate staff at the
docks, the buyer's receiving clerk confirming receipt.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import msgspec

from dispatch.sim.client import Account, Api, ApiError, Party
from dispatch.sim.geography import A1, MILL, TIMEZONE, Road, square
from dispatch.sim.scenarios.at import AT
from dispatch.sim.scenarios.shape import AROUND_THE_CLOCK, Paperwork
from dispatch.sim.sequence import SeqCheck
from geo import Position


def iso(at: datetime) -> str:
    return at.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


# -- organizations and people ----------------------------------------------------------------------


async def login(api: Api, name: str, email: str, password: str, org_id: str = "") -> Party:
    answer = await api.post("/auth/login", body={"email": email, "password": password}, op="login")
    return Party(name, answer["access_token"], org_id)


async def login_all(api: Api, admins: list[Account]) -> dict[str, Party]:
    """The bootstrapped organizations' admins, logged in, by organization name."""
    return {a.name: await login(api, a.name, a.email, a.password, a.org_id) for a in admins}


async def add_member(api: Api, admin: Party, role: str, name: str, email: str, password: str) -> Party:
    """A new member of the admin's organization with one built-in role, logged in."""
    roles = await api.get(f"/orgs/{admin.org_id}/roles", admin, op="list roles")
    role_id = next(r["id"] for r in roles if r["name"] == role)
    body = {"email": email, "name": name, "password": password, "role_ids": [role_id]}
    await api.post(f"/orgs/{admin.org_id}/members", admin, body, op="add member")
    return await login(api, name, email, password, admin.org_id)


# -- sites -----------------------------------------------------------------------------------------


LAST_SHIFT_START = 23 * 60 + 55  # minutes into the local day: a 5-minute slot still fits before 24:00


def shift_start(after: timedelta, zone: str = TIMEZONE) -> datetime:
    """The first full minute at least `after` from now when a loading shift can start (local time in
    `zone`, leaving room for a 5-minute slot before midnight; else the next midnight)."""
    at = (now() + after).replace(second=0, microsecond=0) + timedelta(minutes=1)
    local = at.astimezone(ZoneInfo(zone))
    if local.hour * 60 + local.minute > LAST_SHIFT_START:
        local = (local + timedelta(days=1)).replace(hour=0, minute=0)
    return local.astimezone(UTC)


def opening_hours(
    first_slot: datetime | None,
    zone: str = TIMEZONE,
    week: Sequence[tuple[int, str, str]] = AROUND_THE_CLOCK,
) -> list[dict[str, Any]]:
    """The site's `week` of (weekday, opens, closes), open around the clock unless said otherwise;
    with `first_slot` (from `shift_start`), that day's shift starts at that minute, so the first
    bookable slot is that close (slots are cut from the start of the hours)."""
    hours = [{"weekday": d, "opens": opens, "closes": closes} for d, opens, closes in week]
    if first_slot is not None:
        local = first_slot.astimezone(ZoneInfo(zone))
        for day in hours:
            if day["weekday"] == local.weekday():
                day["opens"] = f"{local:%H:%M}"
    return hours


async def create_site(
    api: Api,
    owner: Party,
    name: str,
    address: str,
    at: Position,
    *,
    docks: int,
    shared: bool = False,
    first_slot: datetime | None = None,
    timezone: str = TIMEZONE,
    geofence: dict[str, Any] | None = None,
    dock_names: Sequence[str] = (),
    week: Sequence[tuple[int, str, str]] = AROUND_THE_CLOCK,
) -> dict[str, Any]:
    """A site at `at` (a square geofence around it unless one is given) with `docks` docks, named
    `dock_names` or Dock 1, Dock 2, ..."""
    names = list(dock_names) or [f"Dock {i + 1}" for i in range(docks)]
    body = {
        "name": name,
        "address": address,
        "location": {"lon": at.lon, "lat": at.lat},
        "geofence": geofence or square(at),
        "timezone": timezone,
        "shared": shared,
        "opening_hours": opening_hours(first_slot, timezone, week),
        "docks": [{"name": n} for n in names[:docks]],
    }
    site: dict[str, Any] = await api.post("/sites", owner, body, op="create site")
    return site


async def set_calendar(api: Api, owner: Party, site_id: str, *, slot_minutes: int, places: int) -> None:
    body = {
        "slot_minutes": slot_minutes,
        "places_per_slot": places,
        "min_lead_minutes": 0,
        "cutoff_minutes": 0,
        "grace_minutes": 60,
        "late_tolerance_minutes": 15,
    }
    await api.put(f"/sites/{site_id}/calendar", owner, body, op="set calendar")


# -- carriers and their fleets ---------------------------------------------------------------------


@dataclass
class Truck:
    vehicle_id: str
    plate: str
    capacity_kg: int
    driver_id: str
    driver_name: str
    phone: Party  # the driver's device token


@dataclass
class Carrier:
    name: str
    dispatcher: Party
    trucks: list[Truck]
    cost_floor_minor: int  # the carrier's own cost: it never bids below it


async def add_vehicle(api: Api, carrier: Party, plate: str, capacity_kg: int) -> dict[str, Any]:
    """A flatbed of the carrier's fleet (no driver of its own: a spare, or a driver added next)."""
    vehicle: dict[str, Any] = await api.post(
        "/fleet/vehicles",
        carrier,
        {"plate": plate, "vehicle_type": "flatbed", "capacity_kg": capacity_kg, "capacity_m3": 90},
        op="add vehicle",
    )
    return vehicle


async def add_truck(
    api: Api,
    carrier: Party,
    plate: str,
    capacity_kg: int,
    driver_name: str,
    email: str,
    password: str,
    *,
    phone: str = AT.drivers.phone,
    licence_prefix: str = AT.drivers.licence_prefix,
    licence_digits: int = AT.drivers.licence_digits,
) -> Truck:
    vehicle = await add_vehicle(api, carrier, plate, capacity_kg)
    serial = random.randrange(10**licence_digits)  # noqa: S311 - made-up data
    licence = f"{licence_prefix}{serial:0{licence_digits}d}"
    driver = await api.post(
        "/fleet/drivers",
        carrier,
        {
            "email": email,
            "name": driver_name,
            "password": password,
            "phone": phone,
            "licence_number": licence,
        },
        op="add driver",
    )
    device = await api.post(
        f"/orgs/{carrier.org_id}/device-tokens",
        carrier,
        {"user_id": driver["user_id"], "name": f"{driver_name}'s phone"},
        op="device token",
    )
    return Truck(
        str(vehicle["id"]),
        str(vehicle["plate"]),
        capacity_kg,
        str(driver["user_id"]),
        driver_name,
        Party(driver_name, device["token"], carrier.org_id),
    )


async def save_area(api: Api, carrier: Party, name: str, center: Position, radius_km: float) -> None:
    body = {"name": name, "center": {"lon": center.lon, "lat": center.lat}, "radius_km": radius_km}
    await api.post("/market/areas", carrier, body, op="save area")


# -- the market ------------------------------------------------------------------------------------


def coil_order(
    origin_site_id: str,
    destination_site_id: str,
    *,
    coils: int,
    coil_kg: int,
    reference: str,
    mode: str,
    deadline: datetime,
    price_minor: int | None = None,
    ceiling_minor: int | None = None,
    goods_owner: str = "shipper",
    currency: str = AT.currency,
    description: str = AT.cargo.description,
    unit_volume_m3: float = AT.cargo.coil_m3,
    notes: str = AT.cargo.notes,
) -> dict[str, Any]:
    start = now()
    body: dict[str, Any] = {
        "origin_site_id": origin_site_id,
        "destination_site_id": destination_site_id,
        "cargo": {
            "kind": "items",
            "lines": [
                {
                    "description": description,
                    "count": coils,
                    "unit_weight_kg": coil_kg,
                    "unit_volume_m3": unit_volume_m3,
                }
            ],
        },
        "vehicle_type": "flatbed",
        "pickup_from": iso(start - timedelta(minutes=5)),
        "pickup_until": iso(start + timedelta(hours=12)),
        "deliver_by": iso(start + timedelta(hours=36)),
        "mode": mode,
        "currency": currency,
        "deadline": iso(deadline),
        "goods_owner": goods_owner,
        "reference": reference,
        "notes": notes,
    }
    if mode == "grab":
        body["price_minor"] = price_minor
    elif ceiling_minor is not None:
        body |= {"ceiling_minor": ceiling_minor, "min_step_minor": 1000}
    return body


class FeedFrame(msgspec.Struct):
    type: str
    job: dict[str, Any] | None = None
    job_id: str | None = None
    jobs: list[dict[str, Any]] = []


_decode_feed = msgspec.json.Decoder(FeedFrame).decode


# A carrier's reaction to a job on its feed: `on_posted(job, received_at)` (perf_counter seconds).
OnPosted = Callable[[dict[str, Any], float], Coroutine[Any, Any, None]]


async def follow_feeds(
    api: Api,
    carriers: list[Carrier],
    reaction: Callable[[Carrier], OnPosted],
    stop: asyncio.Event,
    *,
    timeout_s: float,
) -> list[asyncio.Task[None]]:
    """Every carrier's dispatcher on its live feed, reacting with `reaction(carrier)`, until `stop`;
    returns once every feed has sent its snapshot, so a job posted then reaches them all."""
    ready = [asyncio.Event() for _ in carriers]
    feeds = [
        asyncio.create_task(follow_feed(api, c.dispatcher, reaction(c), ready[i], stop))
        for i, c in enumerate(carriers)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), timeout_s)
    return feeds


async def follow_feed(
    api: Api,
    carrier: Party,
    on_posted: OnPosted,
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """Read the carrier's live feed; call `on_posted(job, received_at)` for each new job (each in its
    own task, so a slow reaction never holds up the feed)."""
    tasks: set[asyncio.Task[None]] = set()
    async with api.websocket("/market/feed", carrier) as ws:
        first = _decode_feed(await ws.recv())
        assert first.type == "snapshot", first.type
        ready.set()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                continue
            frame = _decode_feed(raw)
            if frame.type == "job.posted" and frame.job is not None:
                task = asyncio.create_task(on_posted(frame.job, time.perf_counter()))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks, return_exceptions=True)


# What a carrier did in an auction, for the narration: `report(event, carrier, amount_minor)`, the
# event being "bids", "lowers" (its bid, to the amount) or "stays" (outbid, at its cost floor).
BidReport = Callable[[str, "Carrier", int], None]


async def bid_in_auction(
    api: Api, carrier: Carrier, job: dict[str, Any], report: BidReport, *, rounds: int = 2
) -> None:
    """Bid, then lower the bid a few times while the auction runs, never below the carrier's floor."""
    deadline = datetime.fromisoformat(job["deadline"])
    ceiling = job.get("ceiling_minor") or 400_000
    amount = int(ceiling * random.uniform(0.86, 0.97)) // 1000 * 1000  # noqa: S311 - simulated pricing
    bid = await api.post(f"/jobs/{job['id']}/bids", carrier.dispatcher, {"amount_minor": amount}, op="bid")
    report("bids", carrier, amount)
    for _ in range(rounds):
        left = (deadline - now()).total_seconds()
        if left < 1.5:
            return
        await asyncio.sleep(random.uniform(0.3, 0.6) * (left - 1.0))  # noqa: S311
        mine = await api.get(f"/jobs/{job['id']}/bids", carrier.dispatcher)
        own = next((b for b in mine if b["id"] == bid["id"]), None)
        if own is None or own["status"] != "active" or own.get("rank") == 1:
            continue
        lower = int(amount * random.uniform(0.95, 0.985)) // 1000 * 1000  # noqa: S311
        if lower < carrier.cost_floor_minor:
            report("stays", carrier, amount)
            return
        try:
            await api.put(
                f"/jobs/{job['id']}/bids/{bid['id']}",
                carrier.dispatcher,
                {"amount_minor": lower},
                op="lower bid",
            )
        except ApiError as exc:
            if exc.code in ("auction_closed", "job_not_open"):
                return
            raise
        amount = lower
        report("lowers", carrier, amount)


async def wait_for_award(api: Api, poster: Party, job_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
    """The job once it is no longer open (the auction closes in the service's claim loop)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job: dict[str, Any] = await api.get(f"/jobs/{job_id}", poster, op="poll job")
        if job["status"] != "open":
            return job
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still open {timeout_s:.0f} s after its deadline")
        await asyncio.sleep(0.25)


# -- planning and dispatch -------------------------------------------------------------------------


@dataclass
class Shipment:
    """One load and everything the simulation learns about it on its way."""

    id: str
    seq: int
    truck: Truck
    items: int
    planned_kg: float
    pickup_code: str = ""
    booked_slot: datetime | None = None
    net_kg: int = 0
    points_sent: int = 0
    points_accepted: int = 0
    last_seq: int = 0  # the load's last point as the phone's latest ingest answer said
    receipt: dict[str, Any] | None = None


async def plan_and_assign(api: Api, carrier: Carrier, job_id: str) -> tuple[dict[str, Any], list[Shipment]]:
    """The carrier splits the order over its trucks, confirms the plan, and gives each load to the
    driver of its truck."""
    plan = await api.post(
        f"/jobs/{job_id}/plan",
        carrier.dispatcher,
        {"vehicle_ids": [t.vehicle_id for t in carrier.trucks]},
        op="plan",
    )
    loads = await api.post(f"/jobs/{job_id}/plan/confirm", carrier.dispatcher, op="confirm plan")
    by_vehicle = {t.vehicle_id: t for t in carrier.trucks}
    shipments = []
    for load in loads:
        truck = by_vehicle[load["vehicle"]["id"]]
        await api.put(
            f"/loads/{load['id']}/assignment",
            carrier.dispatcher,
            {"driver_user_id": truck.driver_id, "vehicle_id": truck.vehicle_id},
            op="assign",
        )
        shipments.append(
            Shipment(load["id"], load["seq"], truck, sum(load["items"] or []), load["weight_kg"])
        )
    return plan, shipments


async def fetch_pickup_codes(api: Api, shipments: list[Shipment]) -> None:
    """Each driver's phone reads its assignments, with the pickup code the gate will scan."""
    for s in shipments:
        mine = await api.get("/driver/v1/assignments", s.truck.phone, op="driver assignments")
        s.pickup_code = next(a["pickup_code"] or "" for a in mine if a["id"] == s.id)


async def book_first_slot(api: Api, s: Shipment, within: timedelta | None = None) -> datetime | None:
    """The driver books the earliest free slot (starting `within` from now, if given); None when
    there is none."""
    slots = await api.get(f"/driver/v1/loads/{s.id}/slots", s.truck.phone, op="driver slots")
    latest = now() + within if within is not None else None
    for slot in slots:
        if latest is not None and datetime.fromisoformat(slot["start"]) > latest:
            return None
        if slot["free"] > 0:
            try:
                booked = await api.put(
                    f"/driver/v1/loads/{s.id}/booking",
                    s.truck.phone,
                    {"slot_start": slot["start"]},
                    op="book slot",
                )
            except ApiError as exc:
                if exc.code == "slot_full":
                    continue
                raise
            s.booked_slot = datetime.fromisoformat(booked["slot_start"])
            return s.booked_slot
    return None


# -- the gate --------------------------------------------------------------------------------------


async def check_in(api: Api, s: Shipment, at: Position = MILL) -> dict[str, Any]:
    """The driver checks in from inside the geofence, some 40 m from the site's point `at`."""
    body = {"position": {"lon": at.lon + 0.0004, "lat": at.lat - 0.0003}, "accuracy_m": 6}
    ticket: dict[str, Any] = await api.post(
        f"/driver/v1/loads/{s.id}/check-in", s.truck.phone, body, op="check in"
    )
    return ticket


def tiny_png(seed: int) -> bytes:
    """A small real PNG (a grey square whose shade depends on `seed`), standing in for a phone photo."""
    side = 16
    shade = 60 + seed * 37 % 160
    raw = b"".join(b"\x00" + bytes([shade, shade, shade + 20]) * side for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def record_loading(
    api: Api,
    staff: Party,
    s: Shipment,
    *,
    pause_s: float = 0.0,
    at: Position = MILL,
    paperwork: Paperwork = AT.paperwork,
) -> None:
    """Weighbridge tare, a photo of the secured load, the gross weight, the seals and a sample."""
    where = {"lon": at.lon, "lat": at.lat}
    tare = random.randint(13_800, 15_200)  # noqa: S311 - a tractor and flatbed trailer
    loaded = int(s.planned_kg) + random.randint(-60, 60)  # noqa: S311 - weighbridge vs. nominal
    path = f"/loads/{s.id}/evidence"
    await api.post(
        path,
        staff,
        {"kind": "weighbridge_tare", "weight_kg": tare, "weighbridge_id": paperwork.weighbridge_id}
        | {"position": where},
        op="evidence",
    )
    await asyncio.sleep(pause_s)
    form = aiohttp.FormData()
    form.add_field("file", tiny_png(s.seq), filename="load.png", content_type="image/png")
    form.add_field("caption", paperwork.photo_caption.format(items=s.items))
    await api.call("POST", f"{path}/photos", staff, data=form, op="evidence photo")
    gross = await api.post(
        path,
        staff,
        {
            "kind": "weighbridge_gross",
            "weight_kg": tare + loaded,
            "weighbridge_id": paperwork.weighbridge_id,
            "position": where,
        },
        op="evidence",
    )
    s.net_kg = int(gross["data"]["net_kg"])
    seals = [f"{paperwork.seal_prefix}{random.randrange(10**6):06d}" for _ in range(2)]  # noqa: S311
    await api.post(path, staff, {"kind": "seal", "seal_numbers": seals}, op="evidence")
    await api.post(
        path,
        staff,
        {
            "kind": "sample",
            "sample_id": f"S-{s.seq}-{s.truck.plate}",
            "description": paperwork.sample_description,
        },
        op="evidence",
    )


async def verify_code(api: Api, staff: Party, site_id: str, s: Shipment) -> dict[str, Any]:
    verdict: dict[str, Any] = await api.post(
        "/gate/verify",
        staff,
        {"site_id": site_id, "code": s.pickup_code, "plate": s.truck.plate, "driver_id": s.truck.driver_id},
        op="gate verify",
    )
    return verdict


async def run_dock(
    api: Api,
    staff: Party,
    site_id: str,
    dock_id: str,
    by_load: dict[str, Shipment],
    on_called: Callable[[Shipment, str], None],
    on_loaded: Callable[[Shipment], Awaitable[None]],
    *,
    until: Callable[[], bool],
    pause_s: float = 0.0,
    at: Position = MILL,
    paperwork: Paperwork = AT.paperwork,
) -> None:
    """One dock's staff: call the next truck, verify its code, load it with evidence, send it off;
    when nobody is callable, look again shortly (early trucks wait for their slot)."""
    while not until():
        path = f"/gate/sites/{site_id}/call"
        ticket = await api.post(path, staff, {"dock_id": dock_id}, op="call truck", expect=(200, 409))
        if ticket.get("code") == "queue_empty":
            await asyncio.sleep(0.3)
            continue
        if "code" in ticket:
            raise ApiError("POST", path, 409, ticket)
        s = by_load[ticket["load_id"]]
        on_called(s, ticket["dock"]["name"])
        verdict = await verify_code(api, staff, site_id, s)
        if not verdict["valid"]:
            raise RuntimeError(f"the gate refused {s.truck.plate}: {verdict['result']} {verdict['detail']}")
        await api.post(f"/gate/tickets/{ticket['id']}/loading", staff, op="loading")
        await record_loading(api, staff, s, pause_s=pause_s, at=at, paperwork=paperwork)
        await api.post(f"/gate/tickets/{ticket['id']}/loaded", staff, op="loaded")
        await on_loaded(s)


async def run_docks(
    api: Api,
    staff: list[Party],
    site: dict[str, Any],
    shipments: list[Shipment],
    on_called: Callable[[Shipment, str], None],
    on_loaded: Callable[[Shipment], Awaitable[None]],
    *,
    pause_s: float = 0.0,
    at: Position = MILL,
    paperwork: Paperwork = AT.paperwork,
) -> None:
    """Every dock of `site` (at `at`) staffed (taking turns over `staff`) until every shipment is loaded."""
    by_load = {s.id: s for s in shipments}
    loaded = 0

    async def count(s: Shipment) -> None:
        nonlocal loaded
        loaded += 1
        await on_loaded(s)

    await asyncio.gather(
        *[
            run_dock(
                api,
                staff[k % len(staff)],
                site["id"],
                dock["id"],
                by_load,
                on_called,
                count,
                until=lambda: loaded >= len(shipments),
                pause_s=pause_s,
                at=at,
                paperwork=paperwork,
            )
            for k, dock in enumerate(site["docks"])
        ]
    )


# -- the road --------------------------------------------------------------------------------------


async def depart(api: Api, s: Shipment) -> None:
    """The driver starts the trip once loaded: the dock is free again and the tracking starts."""
    await api.post(f"/driver/v1/loads/{s.id}/depart", s.truck.phone, op="depart")


async def drive(
    api: Api,
    s: Shipment,
    *,
    time_scale: float,
    post_every_s: float,
    fix_every_s: float,
    speed_kmh: float = 80.0,
    road: Road = A1,
) -> None:
    """Drive the road at `speed_kmh` of simulated time (each wall second is `time_scale` seconds of
    driving), recording a fix every `fix_every_s` (wall) and posting the buffer every
    `post_every_s`, until the truck stands in the yard; then one last batch there."""
    started = time.monotonic()
    speed_mps = speed_kmh / 3.6
    buffer: list[dict[str, Any]] = []
    next_post = started + post_every_s
    battery = random.randint(60, 95)  # noqa: S311
    while True:
        driven = (time.monotonic() - started) * time_scale * speed_mps
        here, heading = road.at(driven)
        jitter = random.gauss(0, 0.00003), random.gauss(0, 0.00003)  # ~3 m of GPS noise
        done = driven >= road.length_m
        buffer.append(
            {
                "lon": here.lon + (0 if done else jitter[0]),
                "lat": here.lat + (0 if done else jitter[1]),
                "recorded_at": iso(now()),
                "accuracy_m": round(random.uniform(4, 12), 1),  # noqa: S311
                "speed_mps": 0.0 if done else round(speed_mps + random.uniform(-1.5, 1.5), 1),  # noqa: S311
                "heading_deg": round(heading, 1),
                "battery_pct": battery,
                "moving": not done,
            }
        )
        if done or time.monotonic() >= next_post:
            await _post_fixes(api, s, buffer)
            buffer = []
            next_post = time.monotonic() + post_every_s
            battery = max(5, battery - 1)
        if done:
            return
        await asyncio.sleep(fix_every_s)


async def _post_fixes(api: Api, s: Shipment, points: list[dict[str, Any]]) -> None:
    answer = await api.post_positions(s.truck.phone, {"load_id": s.id, "points": points})
    s.points_sent += len(points)
    s.points_accepted += answer["accepted"]
    s.last_seq = next((x["last_seq"] for x in answer.get("loads", []) if x["load_id"] == s.id), s.last_seq)


# -- watching and receiving ------------------------------------------------------------------------


@dataclass
class WatchStats:
    points: int = 0
    latencies: list[float] = field(default_factory=list)  # newest fix's recorded_at to receipt, s
    received_at: list[float] = field(default_factory=list)  # time.time() of each latency sample
    sequences: dict[str, SeqCheck] = field(default_factory=dict)  # per load: the seqs received
    server_gaps: int = 0  # `gap` frames: the server dropped points for this socket (it was slow)
    final: bool = False
    close: str = ""


class _WatchPoint(msgspec.Struct):
    seq: int
    recorded_at: datetime


class _WatchedLoad(msgspec.Struct):
    load_id: str
    last_seq: int = 0


class _WatchFrame(msgspec.Struct):
    type: str
    load_id: str | None = None
    points: list[_WatchPoint] = []
    loads: list[_WatchedLoad] = []  # the snapshot's


_decode_watch = msgspec.json.Decoder(_WatchFrame).decode


async def watch(
    api: Api,
    who: Party,
    path: str,
    stats: WatchStats,
    ready: asyncio.Event | None = None,
) -> None:
    """Follow a job's or a load's tracking socket until the service closes it (after receipt);
    `ready` is set once its snapshot is in. Every point's seq is checked per load."""
    async with api.watching_socket(path, who) as ws:
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.CLOSE:  # the service's close after the final frame
                stats.close = f"{message.data} {message.extra or ''}".strip()
                return
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                stats.close = "no close frame"  # the connection ended without a close frame
                return
            frame = _decode_watch(message.data)
            if frame.type == "points":
                stats.points += len(frame.points)
                check = stats.sequences.setdefault(frame.load_id or "", SeqCheck())
                for point in frame.points:
                    check.receive(point.seq)
                if frame.points:
                    stats.latencies.append((now() - frame.points[-1].recorded_at).total_seconds())
                    stats.received_at.append(time.time())
            elif frame.type == "snapshot":
                for load in frame.loads:
                    stats.sequences[load.load_id] = SeqCheck(start=load.last_seq)
                if ready is not None:
                    ready.set()
            elif frame.type == "gap":
                stats.server_gaps += 1
            elif frame.type == "final":
                stats.final = True


async def confirm_receipt(
    api: Api,
    receiver: Party,
    s: Shipment,
    signer: str,
    *,
    short_coils: int = 0,
    paperwork: Paperwork = AT.paperwork,
) -> dict[str, Any]:
    """The buyer's clerk counts and weighs what arrived and signs; `short_coils` missing on the truck."""
    coil_kg = s.net_kg / s.items if s.items else 0
    received = s.items - short_coils
    body: dict[str, Any] = {
        "received": {
            "weight_kg": int(s.net_kg - short_coils * coil_kg),
            "items": [{"line": 0, "count": received}],
        },
        "condition": "good",
        "signer_name": signer,
    }
    if short_coils:
        body["discrepancies"] = [
            {
                "type": "shortage",
                "notes": paperwork.shortage_note.format(coils=short_coils),
            }
        ]
        body["notes"] = paperwork.receipt_note
    receipt: dict[str, Any] = await api.post(f"/loads/{s.id}/receipt", receiver, body, op="receipt")
    s.receipt = receipt
    return receipt
