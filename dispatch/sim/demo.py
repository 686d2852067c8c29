"""`dispatch demo`: one order of steel coil, from the mill's posting to the buyer's signature, played
live through the public API and narrated in the terminal.

Donau Stahl (Linz) sells 120 t of hot-rolled coil to Wiener Metallbau (Vienna's port, 160 km away,
168 km by road). The mill posts a reverse auction; three carriers with mixed fleets bid from their
live feeds; the auction closes; the winner splits the order over its trucks and assigns drivers; the
buyer authorizes exactly those trucks and drivers to collect (the goods are the buyer's at the gate);
drivers book pickup slots; the trucks check in, queue and are called to docks; the gate verifies
each pickup code with the plate and driver and records weighbridge, photo, seals and sample; the
trucks drive the A1 at accelerated time streaming GPS to the buyer's and seller's watchers; the
buyer confirms receipt of each load, one with a coil missing.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dispatch.sim import flow
from dispatch.sim.client import Account, Api, Party
from dispatch.sim.geography import A1, MILL, YARD

PASSWORD = "demo-password-2026"
COILS = 48
COIL_KG = 2_500  # 48 x 2.5 t = 120 t
CEILING_MINOR = 420_000  # EUR 4,200 for the whole order


@dataclass(frozen=True)
class Login:
    who: str
    email: str
    org: str


# Organizations (bootstrapped by the operator), then the members the demo adds through the API.
MILL_ORG = ("Donau Stahl AG", ["shipper"], "admin@donaustahl.demo")
BUYER_ORG = ("Wiener Metallbau GmbH", ["consignee"], "admin@wienermetall.demo")
CARRIERS = [
    # name, dispatcher login, trucks (plate, payload kg), cost floor (minor units)
    (
        "Donau Trans GmbH",
        "dispatch@donautrans.demo",
        [
            ("L-DT 101", 25_000),
            ("L-DT 102", 25_000),
            ("L-DT 103", 25_000),
            ("L-DT 201", 27_000),
            ("L-DT 202", 27_000),
        ],
        335_000,
    ),
    (
        "Alpen Logistik KG",
        "dispatch@alpenlogistik.demo",
        [
            ("S-AL 11", 24_000),
            ("S-AL 12", 24_000),
            ("S-AL 13", 24_000),
            ("S-AL 14", 24_000),
            ("S-AL 15", 24_000),
            ("S-AL 16", 24_000),
        ],
        350_000,
    ),
    (
        "Wachau Cargo",
        "dispatch@wachaucargo.demo",
        [
            ("KR-WC 7", 26_000),
            ("KR-WC 8", 26_000),
            ("KR-WC 9", 26_000),
            ("KR-WC 10", 24_000),
            ("KR-WC 11", 24_000),
        ],
        340_000,
    ),
]
ORGS = [MILL_ORG, BUYER_ORG, *[(name, ["carrier"], email) for name, email, _, _ in CARRIERS]]
DRIVERS = ["Anna Gruber", "Lukas Wagner", "Maria Bauer", "Tobias Pichler", "Sophie Moser", "David Hofer"]
# Who can log in after the play, and what to look at as whom (printed with the pages).
LOGINS = [
    Login("seller (tracking)", "sales@donaustahl.demo", MILL_ORG[0]),
    Login("gate staff (gate board)", "gate@donaustahl.demo", MILL_ORG[0]),
    Login("buyer's clerk (tracking, receipts)", "receiving@wienermetall.demo", BUYER_ORG[0]),
    *[Login("carrier dispatcher (job board)", email, name) for name, email, _, _ in CARRIERS],
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
    watchers_closed: dict[str, str] = field(default_factory=dict)
    receipts: int = 0
    discrepancies: list[str] = field(default_factory=list)
    job_status: str = ""
    evidence_verified: int = 0
    urls: dict[str, str] = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    stages: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0


class Narrator:
    """Prints a line of the story with the seconds since the demo started."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f} s] {text}", flush=True)


# -- the play, stage by stage: the README's walkthrough, top to bottom -----------------------------


@dataclass
class Play:
    """What every stage uses: the client, the options, the narrator, and the summary it fills in."""

    api: Api
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


async def play(api: Api, admins: dict[str, Party], opts: Options, say: Narrator) -> Summary:
    """One order from the mill's posting to the buyer's last signature, stage by stage (the numbers
    are the steps of the README's walkthrough). From the gate on, each truck goes its own way: the
    first one drives while the last is loaded."""
    p = Play(api, opts, say)
    cast = await cast_the_parties(p, admins)
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
    mill, buyer = admins[MILL_ORG[0]], admins[BUYER_ORG[0]]
    seller = await flow.add_member(p.api, mill, "shipper", "Eva Berger", "sales@donaustahl.demo", PASSWORD)
    staff = await flow.add_member(p.api, mill, "gate_staff", "Franz Huber", "gate@donaustahl.demo", PASSWORD)
    clerk = await flow.add_member(
        p.api, buyer, "buyer", "Jana Novak", "receiving@wienermetall.demo", PASSWORD
    )
    carriers: list[flow.Carrier] = []
    for i, (name, _email, fleet, floor) in enumerate(CARRIERS):
        dispatcher = admins[name]
        await flow.save_area(p.api, dispatcher, "Upper Austria", MILL, 120)
        trucks = [
            await flow.add_truck(
                p.api,
                dispatcher,
                plate,
                kg,
                DRIVERS[j % len(DRIVERS)],
                f"driver{j + 1}@{name.split()[0].lower()}{i}.demo",
                PASSWORD,
            )
            for j, (plate, kg) in enumerate(fleet)
        ]
        carriers.append(flow.Carrier(name, dispatcher, trucks, floor))
        p.say(f"carrier {name}: {len(trucks)} flatbeds ({', '.join(f'{kg // 1000} t' for _, kg in fleet)})")
    return Cast(mill, buyer, seller, staff, clerk, carriers)


async def open_the_sites(p: Play, cast: Cast) -> Sites:
    """The mill's works with three docks and its slot calendar, the buyer's yard, and the buyer's
    choice to authorize the carrier by hand."""
    # The mill's loading shift starts at a full minute some 20 to 80 s from now, and the auction
    # closes 12 s before it: the first pickup slot (5 minutes, 3 places) is free for the first
    # trucks when the winner has split the order and its drivers book.
    first_slot = flow.shift_start(timedelta(seconds=20))
    works = await flow.create_site(
        p.api,
        cast.mill,
        "Donau Stahl Linz works, gate 3",
        "Turmstrasse 44, 4020 Linz",
        MILL,
        docks=3,
        first_slot=first_slot,
    )
    await flow.set_calendar(p.api, cast.mill, works["id"], slot_minutes=5, places=3)
    yard = await flow.create_site(
        p.api,
        cast.buyer,
        "Wiener Metallbau, Albern port yard",
        "Hafenstrasse 2, 1110 Wien",
        YARD,
        docks=2,
        shared=True,
    )
    # The goods are the buyer's once collected (ex works): the buyer authorizes the carrier itself.
    await p.api.put("/market/settings", cast.buyer, {"auto_authorize_pickup": False})
    p.say(
        f"sites: {works['name']} (3 docks, 5-minute slots) and {yard['name']}, "
        f"{A1.length_m / 1000:.0f} km by road"
    )
    p.out.urls["gate board"] = f"{p.api.base_url}/board/gate/{works['id']}"
    p.out.urls["job board"] = f"{p.api.base_url}/board/jobs"
    return Sites(works, yard, first_slot)


async def post_and_auction(p: Play, cast: Cast, sites: Sites) -> tuple[str, flow.Carrier]:
    """The carriers follow their live feeds; the mill posts the reverse auction; they bid until it
    closes. Hands on the job's id and the winning carrier."""

    def bids_on_auctions(carrier: flow.Carrier) -> flow.OnPosted:
        async def on_posted(job: dict[str, Any], _received: float) -> None:
            if job["mode"] == "auction":
                await asyncio.sleep(random.uniform(0.3, 1.5))  # noqa: S311 - a dispatcher reading the offer
                await flow.bid_in_auction(p.api, carrier, job, p.say)

        return on_posted

    stop_feeds = asyncio.Event()
    feeds = await flow.follow_feeds(p.api, cast.carriers, bids_on_auctions, stop_feeds, timeout_s=30)
    opens_at = sites.first_slot - timedelta(seconds=12)
    deadline = max(flow.now() + timedelta(seconds=p.opts.auction_s), opens_at)
    body = flow.coil_order(
        sites.works["id"],
        sites.yard["id"],
        coils=COILS,
        coil_kg=COIL_KG,
        reference="PO-2026-4711",
        mode="auction",
        deadline=deadline,
        ceiling_minor=CEILING_MINOR,
        goods_owner="consignee",
    )
    job = await p.api.post("/jobs", cast.mill, body)
    p.out.job_id, p.out.reference = job["id"], job["reference"]
    p.say(
        f"{MILL_ORG[0]} posts {p.out.reference}: {COILS} coils, {COILS * COIL_KG / 1000:.0f} t, "
        "Linz -> Vienna, "
        f"reverse auction closing in {(deadline - flow.now()).total_seconds():.0f} s "
        f"(ceiling EUR {CEILING_MINOR / 100:,.0f})"
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
    p.say(f"auction closed: {len(bids)} bids; awarded to {winner.name} at EUR {p.out.price_minor / 100:,.0f}")
    return job["id"], winner


async def plan_and_authorize(p: Play, cast: Cast, job_id: str, winner: flow.Carrier) -> list[flow.Shipment]:
    """The winner splits the order into loads and assigns its drivers; the buyer authorizes exactly
    those trucks and drivers; the phones fetch their pickup codes. Hands on the loads."""
    plan, shipments = await flow.plan_and_assign(p.api, winner, job_id)
    p.out.trips, p.out.loads = plan["trips"], len(shipments)
    p.out.stages["split"] = len(shipments) > 1
    for s in shipments:
        p.say(
            f"  load {s.seq}: {s.truck.plate} ({s.truck.capacity_kg // 1000} t) {s.items} coils, "
            f"{s.planned_kg / 1000:.1f} t, driver {s.truck.driver_name}"
        )
    p.say(
        f"{winner.name} splits the order into {len(shipments)} loads ({plan['method']}, lower bound "
        f"{plan['lower_bound']}) and assigns its drivers"
    )
    await p.api.post(
        f"/jobs/{job_id}/authorization",
        cast.buyer,
        {
            "allowed_plates": [s.truck.plate for s in shipments],
            "allowed_driver_ids": [s.truck.driver_id for s in shipments],
        },
    )
    p.say(
        f"{BUYER_ORG[0]} authorizes {winner.name} online for exactly those {len(shipments)} "
        "trucks and drivers"
    )
    await flow.fetch_pickup_codes(p.api, shipments)
    link = await p.api.post(
        f"/jobs/{job_id}/share-links", cast.buyer, {"expires_in_minutes": 24 * 60, "label": "demo"}
    )
    p.out.urls["tracking (share link)"] = f"{p.api.base_url}{link['url']}"
    p.out.urls["tracking (login)"] = f"{p.api.base_url}/track/jobs/{job_id}"
    p.say("open these while it plays:")
    for name, url in p.out.urls.items():
        p.say(f"  {name:22} {url}")
    return shipments


async def book_slots(p: Play, shipments: list[flow.Shipment]) -> None:
    """The first three drivers book the first slot; the others come without one (walk-ins)."""
    for s in shipments:
        # Three places in the first slot; a slot further off than 90 s is not worth a wait here.
        slot = await flow.book_first_slot(p.api, s, within=timedelta(seconds=90)) if s.seq <= 3 else None
        if slot is None:
            p.out.walk_ins += 1
            p.say(f"  {s.truck.driver_name} ({s.truck.plate}) comes without a slot (walk-in)")
        else:
            p.out.booked += 1
            p.say(f"  {s.truck.driver_name} ({s.truck.plate}) books the {slot.astimezone():%H:%M} slot")
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

    def called(s: flow.Shipment, dock: str) -> None:
        p.out.gate_checks += 1
        p.say(f"gate: {dock} calls {s.truck.plate}; pickup code, plate and driver verified")

    async def loaded(s: flow.Shipment) -> None:
        p.out.loaded += 1
        await flow.depart(p.api, s)
        p.say(f"gate: {s.truck.plate} loaded, net {s.net_kg:,} kg on the weighbridge, sealed; departs")
        deliveries.append(asyncio.create_task(deliver(p, cast, s, short_coils=int(s.id == short_load))))

    if p.out.booked:
        p.say(
            f"the booked trucks are on their way: slot at {sites.first_slot.astimezone():%H:%M:%S} "
            f"(in {(sites.first_slot - flow.now()).total_seconds():.0f} s); walk-ins arrive now"
        )
    arrivals = [asyncio.create_task(arrive_at_the_gate(p, s)) for s in shipments]
    docks = asyncio.create_task(
        flow.run_docks(
            p.api, [cast.staff], sites.works, shipments, called, loaded, pause_s=p.opts.loading_pause_s
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
    ticket = await flow.check_in(p.api, s)
    place = f"place {ticket['position']} in the queue" if ticket["position"] else "next"
    p.say(
        f"{s.truck.plate} checks in at the gate ({ticket['arrival']}, {place}, "
        f"about {ticket['estimated_wait_minutes'] or 0} min)"
    )


async def deliver(p: Play, cast: Cast, s: flow.Shipment, *, short_coils: int) -> None:
    """One truck drives the A1 streaming GPS; in the yard the buyer's clerk counts, weighs and signs
    (`short_coils` missing against the delivery note)."""
    opts = p.opts
    await flow.drive(
        p.api, s, time_scale=opts.time_scale, post_every_s=opts.post_every_s, fix_every_s=opts.fix_every_s
    )
    p.say(f"{s.truck.plate} is in the buyer's yard ({s.points_accepted} GPS fixes)")
    await asyncio.sleep(1.0)  # unloading and counting
    receipt = await flow.confirm_receipt(p.api, cast.clerk, s, "Jana Novak", short_coils=short_coils)
    p.out.receipts += 1
    note = ""
    if receipt["discrepancies"]:
        note = f", SHORTAGE {receipt['discrepancy_kg']:+,} kg ({receipt['items'][0]['difference']:+} coil)"
        p.out.discrepancies.append(
            f"load {s.seq} {s.truck.plate}: {receipt['discrepancy_kg']:+,} kg, 1 coil short"
        )
    p.say(
        f"{BUYER_ORG[0]} confirms receipt of load {s.seq}: {receipt['received_weight_kg']:,} kg{note}; "
        f"job {receipt['job_status']}"
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
    out.watchers_closed = {
        k: f"final frame {'yes' if w.final else 'NO'}, close {w.close}" for k, w in watching.items()
    }
    out.stages["tracked"] = out.points_accepted > 0 and all(
        w.points == out.points_accepted and w.final for w in watching.values()
    )
    final = await p.api.get(f"/jobs/{job_id}", cast.buyer)
    out.job_status = final["status"]
    out.stages["received"] = out.receipts == len(shipments) and out.job_status == "completed"
    for s in shipments:
        check = await p.api.get(f"/loads/{s.id}/evidence/verify", cast.buyer)
        out.evidence_verified += bool(check["ok"])
    out.logins = list(LOGINS)


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
                at = datetime.fromisoformat(eta["eta_at"]).astimezone()
                parts.append(f"{s.truck.plate} {eta['progress'] * 100:3.0f}% ETA {at:%H:%M:%S}")
        if parts:
            say("on the road: " + "; ".join(parts))


async def open_jobs_for_the_board(api: Api, mill: Party, origin: str, destination: str) -> None:
    """A few more open offers, so the job board has something to grab after the play."""
    for n, (coils, price) in enumerate([(10, 95_000), (20, 180_000), (8, 80_000)]):
        body = flow.coil_order(
            origin,
            destination,
            coils=coils,
            coil_kg=COIL_KG,
            reference=f"PO-2026-48{n:02d}",
            mode="grab",
            deadline=flow.now() + timedelta(hours=6),
            price_minor=price,
        )
        await api.post("/jobs", mill, body)


def print_summary(s: Summary) -> None:
    print()
    print("=" * 78)
    print(f"demo summary ({s.seconds:.0f} s)")
    print(
        f"  job        {s.reference} ({s.job_id}): {s.bids} bids; "
        f"awarded to {s.winner} at EUR {s.price_minor / 100:,.0f}"
    )
    print(
        f"  loads      {s.loads} loads on {s.trips} trips; {s.booked} booked a slot, {s.walk_ins} walked in"
    )
    print(
        f"  gate       {s.gate_checks} pickup codes verified; "
        f"{s.loaded} loaded with weighbridge, photo, seals, sample"
    )
    print(
        f"  tracking   {s.points_accepted:,} of {s.points_sent:,} GPS points accepted; watchers received "
        + ", ".join(f"{k} {v:,}" for k, v in s.watcher_points.items())
    )
    for k, v in s.watchers_closed.items():
        print(f"             {k}'s socket: {v}")
    print(
        f"  receipts   {s.receipts} of {s.loads}; job {s.job_status}; "
        f"evidence chains verified {s.evidence_verified}/{s.loads}"
    )
    print(f"  discrepancy {'; '.join(s.discrepancies) or 'none'}")
    stages = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in s.stages.items())
    print(f"  stages     {stages}")
    print("=" * 78)


async def run(base_url: str, admins: list[Account], opts: Options) -> Summary:
    """Log the bootstrapped admins in, play the order, and leave open offers for the job board."""
    say = Narrator()
    async with Api(base_url) as api:
        parties = await flow.login_all(api, admins)
        summary = await play(api, parties, opts, say)
        mill = parties[MILL_ORG[0]]
        sites = await api.get("/sites", mill)
        yard = await api.get("/sites/shared", mill)
        await open_jobs_for_the_board(api, mill, sites[0]["id"], yard[0]["id"])
    summary.seconds = time.monotonic() - say.t0
    return summary


def print_invitation(s: Summary) -> None:
    print("\nThe demo keeps serving; press Ctrl-C to stop. Pages:")
    for name, url in s.urls.items():
        print(f"  {name:24} {url}")
    print(f"Logins (password {PASSWORD!r}):")
    for login in s.logins:
        print(f"  {login.who:36} {login.email:32} {login.org}")
    print("Three more offers are open on the job board for the carriers to grab.", flush=True)
