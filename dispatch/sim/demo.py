"""`dispatch demo`: one order of steel coil, from the mill's posting to the buyer's signature, played
live through the public API and narrated in the terminal.

A mill sells 120 t of hot-rolled coil to a buyer some 130 to 170 km away by road (the scenario says
who, where and in which currency: dispatch/sim/scenarios/). The mill posts a reverse auction; three
carriers with mixed fleets bid from their live feeds; the auction closes; the winner splits the
order over its trucks and assigns drivers; the buyer authorizes exactly those trucks and drivers to
collect (the goods are the buyer's at the gate); drivers book pickup slots; the trucks check in,
queue and are called to docks; the gate verifies each pickup code with the plate and driver and
records weighbridge, photo, seals and sample; the trucks drive the road at accelerated time
streaming GPS to the buyer's and seller's watchers; the buyer confirms receipt of each load, one
with a coil missing. Every line told comes from the catalogue (dispatch/sim/narration.py).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dispatch.i18n import LocaleName
from dispatch.sim import flow
from dispatch.sim.client import Account, Api, ApiError, Party
from dispatch.sim.narration import Narrator, pad
from dispatch.sim.scenarios import AT
from dispatch.sim.scenarios.shape import Person, Scenario

PASSWORD = "demo-password-2026"
SLOT_MINUTES, SLOT_PLACES = 5, 3  # the works' pickup slots


@dataclass(frozen=True)
class Login:
    who: str  # what to look at as whom: a `demo.login.<who>` text
    email: str
    org: str


def logins(scenario: Scenario) -> list[Login]:
    """Who can log in after the play, and what to look at as whom (printed with the pages)."""
    return [
        Login("seller", scenario.seller.email, scenario.mill.name),
        Login("gate_staff", scenario.gate_staff.email, scenario.mill.name),
        Login("clerk", scenario.clerk.email, scenario.buyer.name),
        *[Login("dispatcher", c.organization.admin_email, c.organization.name) for c in scenario.carriers],
    ]


@dataclass
class Options:
    time_scale: int = 200  # a wall-clock second is this many seconds of driving
    auction_s: float = 12.0
    post_every_s: float = 1.0  # the phones post their buffer this often (wall clock)
    fix_every_s: float = 0.25  # and record a fix this often (45 s of driving at 200x)
    loading_pause_s: float = 1.5  # staff at a dock between weighing empty and full


@dataclass
class Summary:
    job_id: str = ""
    reference: str = ""
    bids: int = 0
    winner: str = ""
    price_minor: int = 0
    trips: int = 0
    loads: int = 0
    booked: int = 0
    walk_ins: int = 0
    gate_checks: int = 0
    loaded: int = 0
    points_sent: int = 0
    points_accepted: int = 0
    watcher_points: dict[str, int] = field(default_factory=dict)
    watchers_closed: dict[str, flow.WatchStats] = field(default_factory=dict)
    receipts: int = 0
    discrepancies: list[str] = field(default_factory=list)
    job_status: str = ""
    evidence_verified: int = 0
    urls: dict[str, str] = field(default_factory=dict)  # by page: a `demo.page.<page>` text
    logins: list[Login] = field(default_factory=list)
    stages: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0


# -- the play, stage by stage: the README's walkthrough, top to bottom -----------------------------


@dataclass
class Play:
    """What every stage uses: the client, the scenario, the options, the narrator, and the summary
    it fills in."""

    api: Api
    scenario: Scenario
    opts: Options
    say: Narrator
    out: Summary = field(default_factory=Summary)


@dataclass(frozen=True)
class Cast:
    """Who plays: the mill's and the buyer's admins, the members the demo adds, the carriers."""

    mill: Party
    buyer: Party
    seller: Party  # the mill's sales desk: watches the job
    staff: Party  # the mill's gate staff: call, verify and load at the docks
    clerk: Party  # the buyer's receiving clerk: watches the job, counts, signs
    carriers: list[flow.Carrier]


@dataclass(frozen=True)
class Sites:
    works: dict[str, Any]  # the mill's, with its docks
    yard: dict[str, Any]  # the buyer's, shared so the mill can deliver there
    first_slot: datetime  # when the works' loading shift, and so its first pickup slot, starts


@dataclass(frozen=True)
class Watcher:
    stats: flow.WatchStats
    task: asyncio.Task[None]


async def play(
    api: Api, scenario: Scenario, admins: dict[str, Party], opts: Options, say: Narrator
) -> Summary:
    """One order from the mill's posting to the buyer's last signature, stage by stage (the numbers
    are the steps of the README's walkthrough). From the gate on, each truck goes its own way: the
    first one drives while the last is loaded."""
    p = Play(api, scenario, opts, say)
    cast = await cast_the_parties(p, admins)
    if scenario.settings is not None:
        await apply_country_settings(p, cast, admins)
    sites = await open_the_sites(p, cast)
    job_id, winner = await post_and_auction(p, cast, sites)  # 1
    shipments = await plan_and_authorize(p, cast, job_id, winner)  # 2
    await book_slots(p, shipments)  # 3
    watchers = watch_the_job(p, cast, job_id)  # 5, from before the first truck leaves
    deliveries = await load_at_the_gate(p, cast, sites, shipments)  # 3 and 4, each truck then 5 and 6
    await follow_the_road(p, cast, shipments, deliveries, watchers)  # 5 and 6 to the last receipt
    await sum_up(p, cast, job_id, shipments, watchers)
    return p.out


async def cast_the_parties(p: Play, admins: dict[str, Party]) -> Cast:
    """The mill's and the buyer's members, and each carrier's area and fleet with a driver per truck."""
    sc = p.scenario
    mill, buyer = admins[sc.mill.name], admins[sc.buyer.name]

    async def member(admin: Party, person: Person) -> Party:
        return await flow.add_member(p.api, admin, person.role, person.name, person.email, PASSWORD)

    seller, staff, clerk = (
        await member(mill, sc.seller),
        await member(mill, sc.gate_staff),
        await member(buyer, sc.clerk),
    )
    drivers = sc.drivers
    carriers: list[flow.Carrier] = []
    for spec in sc.carriers:
        name = spec.organization.name
        dispatcher = admins[name]
        await flow.save_area(p.api, dispatcher, sc.carrier_area[0], sc.works.location, sc.carrier_area[1])
        trucks = [
            await flow.add_truck(
                p.api,
                dispatcher,
                truck.plate,
                truck.capacity_kg,
                drivers.names[j % len(drivers.names)],
                f"driver{j + 1}@{spec.driver_domain}",
                PASSWORD,
                phone=drivers.phone,
                licence_prefix=drivers.licence_prefix,
                licence_digits=drivers.licence_digits,
            )
            for j, truck in enumerate(spec.trucks)
        ]
        carriers.append(flow.Carrier(name, dispatcher, trucks, spec.cost_floor_minor))
        capacities = p.say.join(p.say.tonnes(t.capacity_kg) for t in spec.trucks)
        p.say("demo.carrier", count=len(trucks), name=name, capacities=capacities)
    return Cast(mill, buyer, seller, staff, clerk, carriers)


async def apply_country_settings(p: Play, cast: Cast, admins: dict[str, Party]) -> None:
    """The scenario's organizations get its country, currency, time zone and language, and every
    login the demo holds gets that language, so the pages open in it (PATCH /orgs/{id}, PATCH /me).
    A service without these routes (404 or 405) is told in one line and the play goes on: the
    pages then follow the browser's language."""
    settings = p.scenario.settings
    assert settings is not None
    org_body = {
        "country": settings.country,
        "currency": settings.currency,
        "timezone": settings.timezone,
        "locale": settings.locale,
    }
    sessions = [*admins.values(), cast.seller, cast.staff, cast.clerk]
    calls = [
        *[("PATCH /orgs/{org_id}", f"/orgs/{a.org_id}", a, org_body) for a in admins.values()],
        *[("PATCH /me", "/me", s, {"locale": settings.locale}) for s in sessions],
    ]
    missing: dict[str, int] = {}  # route: the status it was answered with
    changed: dict[str, int] = {}
    for route, path, who, body in calls:
        if route in missing:
            continue
        try:
            await p.api.call("PATCH", path, who, body, op="settings")
        except ApiError as exc:
            if exc.status not in (404, 405):
                raise
            missing[route] = exc.status
            continue
        changed[route] = changed.get(route, 0) + 1
    if missing:
        absent = p.say.join(f"{route} ({status})" for route, status in missing.items())
        p.say("demo.settings.absent", routes=absent)
    if changed:
        p.say(
            "demo.settings.applied",
            orgs=changed.get("PATCH /orgs/{org_id}", 0),
            users=changed.get("PATCH /me", 0),
            country=settings.country,
            currency=settings.currency,
            timezone=settings.timezone,
            language=p.say.text(f"common.language.{settings.locale}"),
        )


async def open_the_sites(p: Play, cast: Cast) -> Sites:
    """The mill's works with three docks and its slot calendar, the buyer's yard, and the buyer's
    choice to authorize the carrier by hand."""
    sc = p.scenario
    # The mill's loading shift starts at a full minute some 20 to 80 s from now, and the auction
    # closes 12 s before it: the first pickup slot (5 minutes, 3 places) is free for the first
    # trucks when the winner has split the order and its drivers book.
    first_slot = flow.shift_start(timedelta(seconds=20), sc.works.timezone)
    site = sc.works
    works = await flow.create_site(
        p.api,
        cast.mill,
        site.name,
        site.address.line,
        site.location,
        docks=len(site.docks),
        first_slot=first_slot,
        timezone=site.timezone,
        geofence=site.geofence,
        dock_names=site.docks,
        week=site.opening_hours,
    )
    await flow.set_calendar(p.api, cast.mill, works["id"], slot_minutes=SLOT_MINUTES, places=SLOT_PLACES)
    site = sc.yard
    yard = await flow.create_site(
        p.api,
        cast.buyer,
        site.name,
        site.address.line,
        site.location,
        docks=len(site.docks),
        shared=site.shared,
        timezone=site.timezone,
        geofence=site.geofence,
        dock_names=site.docks,
        week=site.opening_hours,
    )
    # The goods are the buyer's once collected (ex works): the buyer authorizes the carrier itself.
    await p.api.put("/market/settings", cast.buyer, {"auto_authorize_pickup": False})
    p.say(
        "demo.sites",
        works=works["name"],
        docks=len(sc.works.docks),
        minutes=SLOT_MINUTES,
        yard=yard["name"],
        km=p.say.number(round(sc.road.length_m / 1000)),
    )
    p.out.urls["gate_board"] = f"{p.api.base_url}/board/gate/{works['id']}"
    p.out.urls["job_board"] = f"{p.api.base_url}/board/jobs"
    return Sites(works, yard, first_slot)


async def post_and_auction(p: Play, cast: Cast, sites: Sites) -> tuple[str, flow.Carrier]:
    """The carriers follow their live feeds; the mill posts the reverse auction; they bid until it
    closes. Hands on the job's id and the winning carrier."""
    sc, say = p.scenario, p.say

    def report(event: str, carrier: flow.Carrier, amount_minor: int) -> None:
        say(f"demo.bid.{event}", carrier=carrier.name, amount=say.price(amount_minor))

    def bids_on_auctions(carrier: flow.Carrier) -> flow.OnPosted:
        async def on_posted(job: dict[str, Any], _received: float) -> None:
            if job["mode"] == "auction":
                await asyncio.sleep(random.uniform(0.3, 1.5))  # noqa: S311 - a dispatcher reading the offer
                await flow.bid_in_auction(p.api, carrier, job, report)

        return on_posted

    stop_feeds = asyncio.Event()
    feeds = await flow.follow_feeds(p.api, cast.carriers, bids_on_auctions, stop_feeds, timeout_s=30)
    opens_at = sites.first_slot - timedelta(seconds=12)
    deadline = max(flow.now() + timedelta(seconds=p.opts.auction_s), opens_at)
    cargo = sc.cargo
    body = flow.coil_order(
        sites.works["id"],
        sites.yard["id"],
        coils=cargo.coils,
        coil_kg=cargo.coil_kg,
        reference=cargo.reference,
        mode="auction",
        deadline=deadline,
        ceiling_minor=cargo.ceiling_minor,
        goods_owner="consignee",
        currency=sc.currency,
        description=cargo.description,
        unit_volume_m3=cargo.coil_m3,
        notes=cargo.notes,
    )
    job = await p.api.post("/jobs", cast.mill, body)
    p.out.job_id, p.out.reference = job["id"], job["reference"]
    say(
        "demo.posted",
        mill=sc.mill.name,
        reference=p.out.reference,
        coils=cargo.coils,
        tonnes=say.tonnes(cargo.coils * cargo.coil_kg),
        origin=sc.origin[say.locale],
        destination=sc.destination[say.locale],
        seconds=f"{(deadline - flow.now()).total_seconds():.0f}",
        ceiling=say.price(cargo.ceiling_minor),
    )
    awarded = await flow.wait_for_award(
        p.api, cast.mill, job["id"], timeout_s=(deadline - flow.now()).total_seconds() + 30
    )
    stop_feeds.set()
    await asyncio.gather(*feeds)  # each feed waits for its carrier's bidding
    bids = await p.api.get(f"/jobs/{job['id']}/bids", cast.mill)
    p.out.bids = len(bids)
    if awarded["status"] != "awarded":
        raise RuntimeError(f"the auction ended {awarded['status']}, not awarded")
    winner = next(c for c in cast.carriers if c.dispatcher.org_id == awarded["carrier_org_id"])
    p.out.winner, p.out.price_minor = winner.name, awarded["award_price_minor"]
    p.out.stages["awarded"] = True
    say("demo.awarded", count=len(bids), winner=winner.name, price=say.price(p.out.price_minor))
    return job["id"], winner


async def plan_and_authorize(p: Play, cast: Cast, job_id: str, winner: flow.Carrier) -> list[flow.Shipment]:
    """The winner splits the order into loads and assigns its drivers; the buyer authorizes exactly
    those trucks and drivers; the phones fetch their pickup codes. Hands on the loads."""
    say = p.say
    plan, shipments = await flow.plan_and_assign(p.api, winner, job_id)
    p.out.trips, p.out.loads = plan["trips"], len(shipments)
    p.out.stages["split"] = len(shipments) > 1
    for s in shipments:
        say(
            "demo.load",
            seq=s.seq,
            plate=s.truck.plate,
            capacity=say.tonnes(s.truck.capacity_kg),
            items=s.items,
            tonnes=say.tonnes(s.planned_kg),
            driver=s.truck.driver_name,
        )
    say(
        "demo.split",
        count=len(shipments),
        carrier=winner.name,
        method=say.term("plan_method", plan["method"]),
        bound=plan["lower_bound"],
    )
    await p.api.post(
        f"/jobs/{job_id}/authorization",
        cast.buyer,
        {
            "allowed_plates": [s.truck.plate for s in shipments],
            "allowed_driver_ids": [s.truck.driver_id for s in shipments],
        },
    )
    say("demo.authorized", count=len(shipments), buyer=p.scenario.buyer.name, carrier=winner.name)
    await flow.fetch_pickup_codes(p.api, shipments)
    link = await p.api.post(
        f"/jobs/{job_id}/share-links", cast.buyer, {"expires_in_minutes": 24 * 60, "label": "demo"}
    )
    p.out.urls["tracking_share"] = f"{p.api.base_url}{link['url']}"
    p.out.urls["tracking_login"] = f"{p.api.base_url}/track/jobs/{job_id}"
    say("demo.open_these")
    for page, url in p.out.urls.items():
        say("demo.page_line", page=pad(say.text(f"demo.page.{page}"), 22), url=url)
    return shipments


async def book_slots(p: Play, shipments: list[flow.Shipment]) -> None:
    """The first three drivers book the first slot; the others come without one (walk-ins)."""
    for s in shipments:
        # Three places in the first slot; a slot further off than 90 s is not worth a wait here.
        slot = await flow.book_first_slot(p.api, s, within=timedelta(seconds=90)) if s.seq <= 3 else None
        if slot is None:
            p.out.walk_ins += 1
            p.say("demo.walk_in", driver=s.truck.driver_name, plate=s.truck.plate)
        else:
            p.out.booked += 1
            time_ = p.say.clock(slot, seconds=False)
            p.say("demo.booked", driver=s.truck.driver_name, plate=s.truck.plate, time=time_)
    p.out.stages["booked"] = p.out.booked > 0


def watch_the_job(p: Play, cast: Cast, job_id: str) -> dict[str, Watcher]:
    """The buyer's clerk and the mill's sales desk follow the whole job's tracking socket from now on."""
    path = f"/tracking/jobs/{job_id}/live"
    watchers = {}
    for name, who in (("buyer", cast.clerk), ("seller", cast.seller)):
        stats = flow.WatchStats()
        watchers[name] = Watcher(stats, asyncio.create_task(flow.watch(p.api, who, path, stats)))
    return watchers


async def load_at_the_gate(
    p: Play, cast: Cast, sites: Sites, shipments: list[flow.Shipment]
) -> list[asyncio.Task[None]]:
    """The trucks arrive (the booked ones at their slot) and check in; each dock calls the next one,
    verifies its pickup code with the plate and driver, and records the loading evidence; each
    loaded truck departs at once on its own way to the buyer. Hands on those deliveries."""
    short_load = shipments[1].id if len(shipments) > 1 else shipments[0].id  # a coil goes missing
    deliveries: list[asyncio.Task[None]] = []
    say = p.say

    def called(s: flow.Shipment, dock: str) -> None:
        p.out.gate_checks += 1
        say("demo.gate.called", dock=dock, plate=s.truck.plate)

    async def loaded(s: flow.Shipment) -> None:
        p.out.loaded += 1
        await flow.depart(p.api, s)
        say("demo.gate.loaded", plate=s.truck.plate, kg=say.number(s.net_kg))
        deliveries.append(asyncio.create_task(deliver(p, cast, s, short_coils=int(s.id == short_load))))

    if p.out.booked:
        say(
            "demo.gate.on_their_way",
            time=say.clock(sites.first_slot),
            seconds=f"{(sites.first_slot - flow.now()).total_seconds():.0f}",
        )
    arrivals = [asyncio.create_task(arrive_at_the_gate(p, s)) for s in shipments]
    docks = asyncio.create_task(
        flow.run_docks(
            p.api,
            [cast.staff],
            sites.works,
            shipments,
            called,
            loaded,
            pause_s=p.opts.loading_pause_s,
            at=p.scenario.works.location,
            paperwork=p.scenario.paperwork,
        )
    )
    await asyncio.gather(*arrivals)
    await docks
    p.out.stages["loaded"] = p.out.loaded == len(shipments)
    return deliveries


async def arrive_at_the_gate(p: Play, s: flow.Shipment) -> None:
    """A booked truck comes for its slot, a walk-in at once; the driver checks in from the geofence."""
    if s.booked_slot is not None:
        wait = (s.booked_slot - flow.now()).total_seconds()
        if wait > 0:
            await asyncio.sleep(wait)
    ticket = await flow.check_in(p.api, s, p.scenario.works.location)
    say = p.say
    place = (
        say.text("demo.gate.place", position=ticket["position"])
        if ticket["position"]
        else say.text("demo.gate.next")
    )
    say(
        "demo.gate.checked_in",
        plate=s.truck.plate,
        arrival=say.term("arrival", ticket["arrival"]),
        place=place,
        minutes=ticket["estimated_wait_minutes"] or 0,
    )


async def deliver(p: Play, cast: Cast, s: flow.Shipment, *, short_coils: int) -> None:
    """One truck drives the road streaming GPS; in the yard the buyer's clerk counts, weighs and signs
    (`short_coils` missing against the delivery note)."""
    opts, say, sc = p.opts, p.say, p.scenario
    await flow.drive(
        p.api,
        s,
        time_scale=opts.time_scale,
        post_every_s=opts.post_every_s,
        fix_every_s=opts.fix_every_s,
        road=sc.road,
    )
    say("demo.in_the_yard", count=s.points_accepted, plate=s.truck.plate)
    await asyncio.sleep(1.0)  # unloading and counting
    receipt = await flow.confirm_receipt(
        p.api, cast.clerk, s, sc.clerk.name, short_coils=short_coils, paperwork=sc.paperwork
    )
    p.out.receipts += 1
    note = ""
    if receipt["discrepancies"]:
        kg = say.signed(receipt["discrepancy_kg"])
        difference = receipt["items"][0]["difference"]
        note = say.text("demo.shortage", count=abs(difference), kg=kg, difference=say.signed(difference))
        p.out.discrepancies.append(
            say.text("demo.discrepancy", count=short_coils, seq=s.seq, plate=s.truck.plate, kg=kg)
        )
    say(
        "demo.received",
        buyer=sc.buyer.name,
        seq=s.seq,
        kg=say.number(receipt["received_weight_kg"]),
        note=note,
        status=say.term("job_status", receipt["job_status"]),
    )


async def follow_the_road(
    p: Play,
    cast: Cast,
    shipments: list[flow.Shipment],
    deliveries: list[asyncio.Task[None]],
    watchers: dict[str, Watcher],
) -> None:
    """Progress and ETA every few seconds until every load is received; then the watchers' sockets
    close after the final frame."""
    progress = asyncio.create_task(_report_progress(p.api, cast.clerk, shipments, p.say))
    await asyncio.gather(*deliveries)
    progress.cancel()
    await asyncio.wait_for(asyncio.gather(*(w.task for w in watchers.values())), 20)


async def sum_up(
    p: Play, cast: Cast, job_id: str, shipments: list[flow.Shipment], watchers: dict[str, Watcher]
) -> None:
    """What it all came to: the GPS points each watcher got, the job's status, the evidence chains."""
    out = p.out
    out.points_sent = sum(s.points_sent for s in shipments)
    out.points_accepted = sum(s.points_accepted for s in shipments)
    watching = {k: w.stats for k, w in watchers.items()}
    out.watcher_points = {k: w.points for k, w in watching.items()}
    out.watchers_closed = watching
    out.stages["tracked"] = out.points_accepted > 0 and all(
        w.points == out.points_accepted and w.final for w in watching.values()
    )
    final = await p.api.get(f"/jobs/{job_id}", cast.buyer)
    out.job_status = final["status"]
    out.stages["received"] = out.receipts == len(shipments) and out.job_status == "completed"
    for s in shipments:
        check = await p.api.get(f"/loads/{s.id}/evidence/verify", cast.buyer)
        out.evidence_verified += bool(check["ok"])
    out.logins = logins(p.scenario)


async def _report_progress(api: Api, who: Party, shipments: list[flow.Shipment], say: Narrator) -> None:
    """Every few seconds, where the trucks on the road are and when they are expected."""
    while True:
        await asyncio.sleep(5)
        parts = []
        for s in shipments:
            if s.receipt is not None or s.points_sent == 0:
                continue
            track = await api.get(f"/loads/{s.id}/tracking", who, op="tracking")
            eta = track.get("eta")
            if eta:
                at = say.clock(datetime.fromisoformat(eta["eta_at"]))
                percent = f"{eta['progress'] * 100:3.0f}"
                parts.append(say.text("demo.truck_eta", plate=s.truck.plate, percent=percent, time=at))
        if parts:
            say("demo.on_the_road", trucks=say.join(parts, clauses=True))


async def open_jobs_for_the_board(
    api: Api, scenario: Scenario, mill: Party, origin: str, destination: str
) -> None:
    """A few more open offers, so the job board has something to grab after the play."""
    cargo = scenario.cargo
    for reference, coils, price in cargo.open_offers:
        body = flow.coil_order(
            origin,
            destination,
            coils=coils,
            coil_kg=cargo.coil_kg,
            reference=reference,
            mode="grab",
            deadline=flow.now() + timedelta(hours=6),
            price_minor=price,
            currency=scenario.currency,
            description=cargo.description,
            unit_volume_m3=cargo.coil_m3,
            notes=cargo.notes,
        )
        await api.post("/jobs", mill, body)


def print_summary(s: Summary, say: Narrator) -> None:
    t = say.text
    print()
    print("=" * 78)
    print(t("demo.summary.title", seconds=f"{s.seconds:.0f}"))
    print(
        t(
            "demo.summary.job",
            count=s.bids,
            reference=s.reference,
            job_id=s.job_id,
            winner=s.winner,
            price=say.price(s.price_minor),
        )
    )
    print(t("demo.summary.loads", loads=s.loads, trips=s.trips, booked=s.booked, walk_ins=s.walk_ins))
    print(t("demo.summary.gate", checks=s.gate_checks, loaded=s.loaded))
    watchers = say.join(f"{t(f'demo.watcher.{k}')} {say.number(v)}" for k, v in s.watcher_points.items())
    print(
        t(
            "demo.summary.tracking",
            accepted=say.number(s.points_accepted),
            sent=say.number(s.points_sent),
            watchers=watchers,
        )
    )
    for k, w in s.watchers_closed.items():
        state = t("demo.watcher.closed", final=t("demo.yes" if w.final else "demo.no"), close=w.close)
        print(t("demo.summary.socket", who=t(f"demo.watcher.{k}"), state=state))
    print(
        t(
            "demo.summary.receipts",
            receipts=s.receipts,
            loads=s.loads,
            status=say.term("job_status", s.job_status),
            verified=s.evidence_verified,
        )
    )
    print(t("demo.summary.discrepancy", list=say.join(s.discrepancies, clauses=True) or t("demo.none")))
    stages = say.join(
        f"{t(f'demo.stage.{k}')} {t('demo.yes' if v else 'demo.no')}" for k, v in s.stages.items()
    )
    print(t("demo.summary.stages", stages=stages))
    print("=" * 78)


async def run(
    base_url: str,
    admins: list[Account],
    opts: Options,
    scenario: Scenario = AT,
    locale: LocaleName | None = None,
) -> tuple[Summary, Narrator]:
    """Log the bootstrapped admins in, play the order, and leave open offers for the job board.
    Told in `locale`, else the scenario's language."""
    say = Narrator(locale or scenario.language, scenario.works.timezone, scenario.currency)
    async with Api(base_url) as api:
        parties = await flow.login_all(api, admins)
        summary = await play(api, scenario, parties, opts, say)
        mill = parties[scenario.mill.name]
        sites = await api.get("/sites", mill)
        yard = await api.get("/sites/shared", mill)
        await open_jobs_for_the_board(api, scenario, mill, sites[0]["id"], yard[0]["id"])
    summary.seconds = time.monotonic() - say.t0
    return summary, say


def print_invitation(s: Summary, say: Narrator) -> None:
    t = say.text
    print("\n" + t("demo.invitation.serving"))
    for page, url in s.urls.items():
        print(f"  {pad(t(f'demo.page.{page}'), 24)} {url}")
    print(t("demo.invitation.logins", password=repr(PASSWORD)))
    for login in s.logins:
        print(f"  {pad(t(f'demo.login.{login.who}'), 36)} {pad(login.email, 32)} {login.org}")
    print(t("demo.invitation.offers"), flush=True)
