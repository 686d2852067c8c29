"""`dispatch simulate`: the demo's parties by the hundred, as a load generator of the public API.

One mill posts grab jobs; carriers race for them from their live feeds (the first grab wins, the
others get 409); each winner plans the job over its trucks and assigns its drivers; every truck
walks in at the gate and is called, weighed, sealed and sent off by the gate staff at the docks;
the phones stream GPS along the A1 at accelerated time while watchers (buyer and seller logins)
follow each load's tracking socket; the buyer confirms each receipt. Figures at the end: latency
per operation and per phase, GPS throughput, post-to-watcher latency, the fan-out check per
sequence number (every watcher got every point of its load exactly once, in order), a timeline in
5-second steps, and the generator's own health (event-loop lag and CPU of each of its processes).

With `processes` above 1 the watchers and the driving phones are spread over that many child
processes (crowd.py); setup, the market, dispatch and the gate stay in this one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import msgspec

from dispatch.sim import flow
from dispatch.sim.client import Account, Api, Party, Timings
from dispatch.sim.crowd import (
    BUCKET_S,
    ChildCrowd,
    Crowd,
    ProcessFigures,
    Share,
    SocketResult,
    Watching,
    measure,
)
from dispatch.sim.driver_sockets import DriverSocketFigures, DriverSockets
from dispatch.sim.geography import MILL, YARD
from dispatch.sim.instruments import LoopLag, cpu_seconds, quiet_gc
from dispatch.sim.server_lag import LagWindow

PASSWORD = "simulated-password-1"
TRUCK_KG = 25_000
COIL_KG = 2_500
COILS_PER_TRUCK = TRUCK_KG // COIL_KG
SETUP_CONCURRENCY = 16
LATE_LAG_S = 0.020  # a generator whose loop lag p99 is above this measures itself, not the server
TIMELINE_OPS = ("check in", "call truck")


@dataclass
class Options:
    carriers: int = 10
    jobs: int = 10
    drivers: int = 200
    watchers: int = 500
    interval_s: float = 2.0  # each phone posts its buffered fixes this often
    fix_every_s: float = 0.5  # and records a fix this often (wall clock)
    time_scale: int = 120  # seconds of driving per wall-clock second: the 168 km take about a minute
    docks: int = 20
    processes: int = 1  # the watchers and the driving phones spread over this many child processes
    give_back: float = 0.0  # share of the won jobs their carrier gives back before the gate
    breakdowns: float = 0.0  # share of the trucks that break down before the gate (a spare swapped in)
    swaps: float = 0.0  # share of the loads given another truck and driver before the gate
    driver_sockets: bool = True  # each driver holds its live socket from check-in to departure


def check(opts: Options) -> str | None:
    """Why these options cannot play out (every job must fit one carrier's fleet), or None."""
    if min(opts.carriers, opts.jobs, opts.drivers, opts.docks, opts.processes) < 1 or opts.watchers < 0:
        return (
            "--carriers, --jobs, --drivers, --docks and --processes must be at least 1, --watchers at least 0"
        )
    if not (0 <= opts.give_back <= 1 and 0 <= opts.breakdowns <= 1):
        return "--give-back and --breakdowns are shares: from 0 to 1"
    if not 0 <= opts.swaps <= 1:
        return "--swaps is a share: from 0 to 1"
    per_job = -(-opts.drivers // opts.jobs)
    per_carrier = opts.drivers // opts.carriers
    if opts.carriers * (per_carrier // per_job) < opts.jobs:
        return (
            f"{opts.jobs} jobs of up to {per_job} trucks do not fit {opts.carriers} carriers of "
            f"{per_carrier} trucks each: make --drivers a multiple of --jobs, and --jobs a multiple "
            "of --carriers"
        )
    return None


def orgs(opts: Options) -> list[tuple[str, list[str], str]]:
    return [
        ("Sim Mill", ["shipper"], "admin@mill.sim"),
        ("Sim Buyer", ["consignee"], "admin@buyer.sim"),
        *[(f"Sim Carrier {i + 1}", ["carrier"], f"admin@carrier{i + 1}.sim") for i in range(opts.carriers)],
    ]


@dataclass
class Figures:
    started: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)  # wall clock: the timeline's zero
    phases: dict[str, float] = field(default_factory=dict)
    windows: list[tuple[str, float, float]] = field(default_factory=list)  # (phase, start, end) wall clock
    feed_latency: list[float] = field(default_factory=list)  # job posted -> job.posted on a carrier's feed
    grabs_won: int = 0
    grabs_lost: int = 0
    jobs_awarded: int = 0
    loads: int = 0
    points_sent: int = 0
    points_accepted: int = 0
    drive_s: float = 0.0
    sockets: list[SocketResult] = field(default_factory=list)  # every watcher's check
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (received at, fix -> watcher s)
    processes: list[ProcessFigures] = field(default_factory=list)  # this one first, then the children
    receipts: int = 0
    jobs_completed: int = 0
    # The failures (--give-back, --breakdowns): what went wrong and how it was mended.
    given_back: int = 0
    retendered: int = 0
    regrabbed: int = 0
    regrabs_lost: int = 0
    expired: int = 0
    swapped: int = 0
    old_codes_refused: int = 0  # a swapped truck's old code and plate, tried at the gate: refused
    swaps_approved: int = 0  # swaps the goods owner had to approve (its authorization named plates)
    # --swaps: a load given another truck and driver, the goods owner asked, both phones, the gate.
    crews_swapped: int = 0
    approvals_asked: int = 0  # the swap's answer said `approval: pending`
    approvals_granted: int = 0  # the owner's approval answered `approval: approved`
    phones_followed: int = 0  # the old driver's phone lost the load and the new one's listed it
    new_plates_verified: int = 0  # the new code with the new plate and driver: valid at the gate
    old_codes_checked: int = 0  # one swap's old code, tried at the gate with the old plate
    old_codes_refused_after_swap: int = 0  # ... and refused as reassigned
    drivers: DriverSocketFigures | None = None  # the drivers' live sockets (None: left out)
    cpu_meter: CpuMeter | None = None
    server_lag: LagMeter | None = None
    cpu_marks: list[tuple[float, float | None]] = field(default_factory=list)  # at start, each phase's end


class Sampler(Protocol):
    """Something watching the database meanwhile (dispatch.pgstats.WaitSampler, from the command)."""

    def start(self) -> None: ...

    async def stop(self) -> object: ...


class CpuMeter(Protocol):
    """The server's CPU so far (dispatch.procfs.ServerCpu, from the command): (its workers' CPU
    seconds, PostgreSQL's or None)."""

    def read(self) -> tuple[float, float | None]: ...


class LagMeter(Protocol):
    """The server's workers' event-loop lag over a window of the run (dispatch.sim.server_lag.ServerLag,
    from the command)."""

    def between(self, start: float, end: float) -> LagWindow | None: ...

    def queue_reads_between(self, start: float, end: float) -> float | None: ...


# Runs a coroutine once one of a fixed number of places is free (the setup's own concurrency).
Bounded = Callable[[Awaitable[Any]], Awaitable[Any]]


def _bounded(limit: int) -> Bounded:
    gate = asyncio.Semaphore(limit)

    async def run(coro: Awaitable[Any]) -> Any:
        async with gate:
            return await coro

    return run


async def run(
    base_url: str,
    admins: list[Account],
    opts: Options,
    sampler: Sampler | None = None,
    cpu: CpuMeter | None = None,
    server_lag: LagMeter | None = None,
) -> tuple[Figures, Timings]:
    timings = Timings()
    fig = Figures(cpu_meter=cpu, server_lag=server_lag)
    if cpu is not None:
        fig.cpu_marks.append(cpu.read())
    lag, cpu_at_start = LoopLag(), cpu_seconds()
    lag.start()
    if sampler is not None:
        sampler.start()
    try:
        async with Api(base_url, timings, connections=400) as api:
            parties = await flow.login_all(api, admins)
            await _play(api, parties, opts, fig)
    finally:
        if sampler is not None:
            await sampler.stop()
        await lag.stop()
    own = measure("parent", lag, cpu_at_start, fig.started_at)
    if opts.processes == 1:
        own = msgspec.structs.replace(own, sockets=opts.watchers, phones=fig.loads)
    fig.processes.insert(0, own)
    return fig, timings


def _phase(fig: Figures, name: str, t0: float) -> float:
    fig.phases[name] = time.monotonic() - t0
    end = time.time()
    fig.windows.append((name, end - fig.phases[name], end))
    if fig.cpu_meter is not None:
        fig.cpu_marks.append(fig.cpu_meter.read())
    print(f"  {name:10} {fig.phases[name]:6.1f} s", flush=True)
    return time.monotonic()


async def _play(api: Api, parties: dict[str, Party], opts: Options, fig: Figures) -> None:
    """The phases in order, each timed: setup, market, dispatch, gate, road."""
    bounded = _bounded(SETUP_CONCURRENCY)
    t = time.monotonic()
    cast = await set_up(api, parties, opts, bounded)
    t = _phase(fig, "setup", t)
    market = await race_for_jobs(api, cast, opts, fig)
    t = _phase(fig, "market", t)
    shipments = await dispatch_jobs(api, cast, market, bounded)
    t = _phase(fig, "dispatch", t)
    if failing(opts):
        shipments = await give_back_and_retender(api, cast, market, opts, fig, bounded)
        broken = await break_down(api, cast, shipments, opts, fig)
        await swap_crews(api, cast, market, shipments, broken, opts, fig)
        t = _phase(fig, "failures", t)
    fig.loads = len(shipments)
    shares = share_out(api.base_url, cast, shipments, opts, fig.started_at)
    crowds: list[Crowd | ChildCrowd] = (
        [Crowd(api, shares[0])]
        if opts.processes == 1
        else [await ChildCrowd.start(share) for share in shares]
    )
    try:
        await asyncio.gather(*(c.open() for c in crowds))
        quiet_gc()
        crowd_of = {s.id: crowd for crowd, share in zip(crowds, shares, strict=True) for s in share.shipments}
        drive_started = time.monotonic()
        deliveries = await load_every_truck(api, cast, shipments, crowd_of, fig, bounded, opts)
        t = _phase(fig, "gate", t)
        await asyncio.gather(*deliveries)
        fig.drive_s = time.monotonic() - drive_started
        t = _phase(fig, "road", t)
        for report in await asyncio.gather(*(c.close() for c in crowds)):
            fig.sockets += report.sockets
            fig.latencies += report.latencies
            api.timings.merge(Timings(report.samples, report.ended_at, report.failures))
            if report.process is not None:
                fig.processes.append(report.process)
    finally:
        for c in crowds:
            if isinstance(c, ChildCrowd):
                c.stop()
    fig.points_sent = sum(s.points_sent for s in shipments)
    fig.points_accepted = sum(s.points_accepted for s in shipments)


@dataclass(frozen=True)
class Cast:
    """The mill with its gate staff and sales desk, the buyer's clerk, both sites, the carriers."""

    mill: Party
    staff: list[Party]
    seller: Party
    clerk: Party
    works: dict[str, Any]
    yard: dict[str, Any]
    carriers: list[flow.Carrier]
    # Per carrier, the trucks without a driver that stand in for one that breaks down (--breakdowns).
    spares: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Per carrier, trucks with their own drivers standing by to take over a load (--swaps).
    standby: dict[str, list[flow.Truck]] = field(default_factory=dict)


async def set_up(api: Api, parties: dict[str, Party], opts: Options, bounded: Bounded) -> Cast:
    """Sites, people and fleets: `drivers` trucks spread evenly over the carriers."""
    mill, buyer = parties["Sim Mill"], parties["Sim Buyer"]
    staff = [
        await flow.add_member(api, mill, "gate_staff", f"Gate {i}", f"gate{i}@mill.sim", PASSWORD)
        for i in range(min(4, opts.docks))
    ]
    seller = await flow.add_member(api, mill, "shipper", "Seller", "sales@mill.sim", PASSWORD)
    clerk = await flow.add_member(api, buyer, "buyer", "Clerk", "receiving@buyer.sim", PASSWORD)
    works = await flow.create_site(api, mill, "Sim works", "Linz", MILL, docks=opts.docks)
    yard = await flow.create_site(api, buyer, "Sim yard", "Wien", YARD, docks=4, shared=True)
    per_carrier = [
        opts.drivers // opts.carriers + (i < opts.drivers % opts.carriers) for i in range(opts.carriers)
    ]
    carriers: list[flow.Carrier] = []
    for i in range(opts.carriers):
        dispatcher = parties[f"Sim Carrier {i + 1}"]
        await flow.save_area(api, dispatcher, "Upper Austria", MILL, 150)
        trucks = await asyncio.gather(
            *[
                bounded(
                    flow.add_truck(
                        api,
                        dispatcher,
                        f"SIM {i + 1}-{j + 1}",
                        TRUCK_KG,
                        f"Driver {i + 1}.{j + 1}",
                        f"d{j + 1}@carrier{i + 1}.sim",
                        PASSWORD,
                    )
                )
                for j in range(per_carrier[i])
            ]
        )
        carriers.append(flow.Carrier(f"Sim Carrier {i + 1}", dispatcher, list(trucks), 0))
    spares: dict[str, list[dict[str, Any]]] = {}
    for i, c in enumerate(carriers):
        count = math.ceil(opts.breakdowns * len(c.trucks)) + 1 if opts.breakdowns else 0
        spares[c.name] = [
            await flow.add_vehicle(api, c.dispatcher, f"SIM {i + 1}-S{k + 1}", TRUCK_KG) for k in range(count)
        ]
    standby: dict[str, list[flow.Truck]] = {}
    for i, c in enumerate(carriers):
        count = math.ceil(opts.swaps * len(c.trucks)) + 1 if opts.swaps else 0
        standby[c.name] = list(
            await asyncio.gather(
                *[
                    bounded(
                        flow.add_truck(
                            api,
                            c.dispatcher,
                            f"SIM {i + 1}-W{k + 1}",
                            TRUCK_KG,
                            f"Standby {i + 1}.{k + 1}",
                            f"w{k + 1}@carrier{i + 1}.sim",
                            PASSWORD,
                        )
                    )
                    for k in range(count)
                ]
            )
        )
    return Cast(mill, staff, seller, clerk, works, yard, carriers, spares, standby)


@dataclass
class Market:
    """The grab race as the carriers' desks see it: the trucks each job needs, the trucks each
    carrier has free, and the jobs each carrier won."""

    jobs: int  # how many the mill posts
    free: dict[str, int]
    won: dict[str, list[str]]
    # One dispatcher per carrier decides on one job at a time: the trucks of a grab still in flight
    # are neither counted free for the next job nor written off if that grab loses.
    desk: dict[str, asyncio.Lock]
    need: dict[str, int] = field(default_factory=dict)
    # Who carries each job, with its loads (dispatch_jobs), to give a job back with its trucks.
    carrier_of: dict[str, flow.Carrier] = field(default_factory=dict)
    loads_of: dict[str, list[flow.Shipment]] = field(default_factory=dict)
    # When each job was posted; the feed's frame can arrive before the post's own answer.
    posted_at: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    all_taken: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def of(cls, carriers: list[flow.Carrier], jobs: int) -> Market:
        return cls(
            jobs,
            free={c.name: len(c.trucks) for c in carriers},
            won={c.name: [] for c in carriers},
            desk={c.name: asyncio.Lock() for c in carriers},
        )

    def post_time(self, job_id: str) -> asyncio.Future[float]:
        return self.posted_at.setdefault(job_id, asyncio.get_running_loop().create_future())

    @property
    def taken(self) -> int:
        return sum(len(w) for w in self.won.values())


async def race_for_jobs(api: Api, cast: Cast, opts: Options, fig: Figures) -> Market:
    """The carriers follow their feeds while the mill posts the jobs; each grabs what its free
    trucks can carry, the first grab of a job wins. Hands on who won what."""
    market = Market.of(cast.carriers, opts.jobs)
    stop = asyncio.Event()

    def grabs(c: flow.Carrier) -> flow.OnPosted:
        return lambda job, received: grab_if_it_fits(api, c, market, fig, job, received)

    feeds = await flow.follow_feeds(api, cast.carriers, grabs, stop, timeout_s=60)
    trucks_per_job = [opts.drivers // opts.jobs + (j < opts.drivers % opts.jobs) for j in range(opts.jobs)]
    for j, n in enumerate(trucks_per_job):
        body = flow.coil_order(
            cast.works["id"],
            cast.yard["id"],
            coils=n * COILS_PER_TRUCK,
            coil_kg=COIL_KG,
            reference=f"SIM-{j + 1:04d}",
            mode="grab",
            deadline=flow.now() + timedelta(hours=2),
            price_minor=80_000 * n,
        )
        t_post = time.perf_counter()
        job = await api.post("/jobs", cast.mill, body, op="post job")
        market.need[job["id"]] = n
        market.post_time(job["id"]).set_result(t_post)
        await asyncio.sleep(0.1)
    try:
        await asyncio.wait_for(market.all_taken.wait(), 60)
    except TimeoutError:
        print(f"  note: {opts.jobs - market.taken} jobs found no carrier with enough trucks")
    stop.set()
    await asyncio.gather(*feeds)
    fig.jobs_awarded = market.taken
    return market


async def grab_if_it_fits(
    api: Api, c: flow.Carrier, market: Market, fig: Figures, job: dict[str, Any], received: float
) -> None:
    """A carrier's desk on a job from its feed: grab it when its free trucks can carry it."""
    fig.feed_latency.append(received - await market.post_time(job["id"]))
    async with market.desk[c.name]:
        if market.free[c.name] < market.need[job["id"]]:
            return
        await asyncio.sleep(random.uniform(0, 0.2))  # noqa: S311 - a dispatcher's reaction time
        answer = await api.post(f"/jobs/{job['id']}/grab", c.dispatcher, op="grab", expect=(200, 409))
        if answer.get("code") == "job_taken":
            fig.grabs_lost += 1
            return
        fig.grabs_won += 1
        market.free[c.name] -= market.need[job["id"]]
        market.won[c.name].append(job["id"])
        if market.taken == market.jobs:
            market.all_taken.set()


async def dispatch_jobs(api: Api, cast: Cast, market: Market, bounded: Bounded) -> list[flow.Shipment]:
    """Each winner plans each of its jobs over its next free trucks and assigns their drivers; the
    phones fetch their pickup codes."""
    shipments: list[flow.Shipment] = []
    for c in cast.carriers:
        pool = list(c.trucks)
        for job_id in market.won[c.name]:
            n = market.need[job_id]
            assigned = flow.Carrier(c.name, c.dispatcher, pool[:n], 0)
            pool = pool[n:]
            _, mine = await flow.plan_and_assign(api, assigned, job_id)
            market.carrier_of[job_id], market.loads_of[job_id] = c, mine
            shipments.extend(mine)
    await asyncio.gather(*[bounded(flow.fetch_pickup_codes(api, [s])) for s in shipments])
    return shipments


RETENDER_WINDOW_S = 8.0  # a re-tendered job nobody grabs expires at this deadline


def failing(opts: Options) -> bool:
    """Whether the run plays the failures phase (any failure share above 0)."""
    return bool(opts.give_back or opts.breakdowns or opts.swaps)


def first_share(share: float, count: int) -> int:
    """How many of `count` a share stands for: rounded, but at least one when the share is not 0
    (the first ones are picked, so a run is repeatable)."""
    return min(count, max(1, round(share * count))) if share > 0 else 0


async def give_back_and_retender(
    api: Api, cast: Cast, market: Market, opts: Options, fig: Figures, bounded: Bounded
) -> list[flow.Shipment]:
    """The carriers of the first `give_back` share of the jobs give them back (their loads and
    codes withdrawn, their trucks free again); the mill re-tenders each to the market as a grab with
    a short deadline; the other carriers grab them from their feeds when their free trucks can carry
    them (the failed carrier is excluded: it does not try); a job nobody grabs expires at its
    deadline. The new carriers plan and assign. Hands on every load that will drive."""
    carried = [job_id for job_id in market.need if job_id in market.carrier_of]  # in posting order
    failed = carried[: first_share(opts.give_back, len(carried))]
    excluded: dict[str, str] = {}
    for job_id in failed:
        c = market.carrier_of.pop(job_id)
        body = {"reason": "Simulated: the trucks planned for it are needed elsewhere"}
        await api.post(f"/jobs/{job_id}/give-back", c.dispatcher, body, op="give back")
        fig.given_back += 1
        excluded[job_id] = c.name
        del market.loads_of[job_id]
        market.won[c.name].remove(job_id)
        market.free[c.name] += market.need[job_id]
    stop = asyncio.Event()

    def regrabs(c: flow.Carrier) -> flow.OnPosted:
        async def on_posted(job: dict[str, Any], _received: float) -> None:
            if job["id"] in excluded and excluded[job["id"]] != c.name:
                await regrab_if_it_fits(api, c, market, fig, job["id"])

        return on_posted

    feeds = await flow.follow_feeds(api, cast.carriers, regrabs, stop, timeout_s=60)
    for job_id in failed:
        body = {
            "to": "market",
            "mode": "grab",
            "deadline": flow.iso(flow.now() + timedelta(seconds=RETENDER_WINDOW_S)),
        }
        await api.post(f"/jobs/{job_id}/retender", cast.mill, body, op="retender")
        fig.retendered += 1
    for job_id in failed:
        job = await flow.wait_for_award(api, cast.mill, job_id, timeout_s=RETENDER_WINDOW_S + 30)
        fig.expired += job["status"] == "expired"
    stop.set()
    await asyncio.gather(*feeds)
    for job_id in failed:
        winner = market.carrier_of.get(job_id)
        if winner is None:  # expired
            continue
        busy = {s.truck.vehicle_id for loads in market.loads_of.values() for s in loads}
        free = [t for t in winner.trucks if t.vehicle_id not in busy][: market.need[job_id]]
        assigned = flow.Carrier(winner.name, winner.dispatcher, free, 0)
        _, mine = await flow.plan_and_assign(api, assigned, job_id)
        await asyncio.gather(*[bounded(flow.fetch_pickup_codes(api, [s])) for s in mine])
        market.loads_of[job_id] = mine
    return [s for loads in market.loads_of.values() for s in loads]


async def regrab_if_it_fits(api: Api, c: flow.Carrier, market: Market, fig: Figures, job_id: str) -> None:
    """A carrier's desk on a re-tendered job: grab it when its free trucks can carry it."""
    async with market.desk[c.name]:
        if market.free[c.name] < market.need[job_id]:
            return
        answer = await api.post(f"/jobs/{job_id}/grab", c.dispatcher, op="grab", expect=(200, 409))
        if "code" in answer:  # job_taken: another carrier was first
            fig.regrabs_lost += 1
            return
        fig.regrabbed += 1
        market.free[c.name] -= market.need[job_id]
        market.won[c.name].append(job_id)
        market.carrier_of[job_id] = c


def carriers_in_turn(shipments: list[flow.Shipment]) -> list[flow.Shipment]:
    """The loads ordered so that the carriers take turns: each one's first, then each one's second..."""
    turns: dict[str, list[flow.Shipment]] = {}
    for s in shipments:
        turns.setdefault(s.truck.phone.org_id, []).append(s)
    return [s for row in itertools.zip_longest(*turns.values()) for s in row if s is not None]


async def break_down(
    api: Api, cast: Cast, shipments: list[flow.Shipment], opts: Options, fig: Figures
) -> set[str]:
    """The first `breakdowns` share of the trucks (taking the carriers in turn) break down before
    the gate: the carrier puts a spare truck on the load and the same driver drives on with it; the
    old code stops working, so the phone fetches the new one. When the authorization names plates,
    the goods owner (the mill) approves the swap. Hands on the ids of the loads that broke down."""
    carrier_of = {c.dispatcher.org_id: c for c in cast.carriers}
    in_turn = carriers_in_turn(shipments)
    broken: set[str] = set()
    for s in in_turn[: first_share(opts.breakdowns, len(in_turn))]:
        c = carrier_of[s.truck.phone.org_id]
        spares = cast.spares[c.name]
        if not spares:
            continue
        broken.add(s.id)
        spare = spares.pop(0)
        body = {"driver_user_id": s.truck.driver_id, "vehicle_id": str(spare["id"])}
        load = await api.put(f"/loads/{s.id}/assignment", c.dispatcher, body, op="swap truck")
        fig.swapped += 1
        if load.get("approval") == "pending":
            await api.post(f"/loads/{s.id}/swap/approve", cast.mill, body, op="approve swap")
            fig.swaps_approved += 1
        old = dataclasses.replace(s)
        s.truck = dataclasses.replace(s.truck, vehicle_id=str(spare["id"]), plate=str(spare["plate"]))
        await flow.fetch_pickup_codes(api, [s])
        verdict = await flow.verify_code(api, cast.staff[0], cast.works["id"], old)
        fig.old_codes_refused += not verdict["valid"]
    return broken


async def swap_crews(
    api: Api,
    cast: Cast,
    market: Market,
    shipments: list[flow.Shipment],
    broken: set[str],
    opts: Options,
    fig: Figures,
) -> None:
    """The first `swaps` share of the loads (the carriers in turn; loads that broke down are passed
    over) get another truck and another driver before the gate, one standing by at their carrier.
    The mill first authorizes each of those jobs by hand for the trucks and drivers on it (revoking
    the automatic authorization, which names none), so every swap asks the goods owner, who
    approves. Then the old driver's phone must have lost the load and the new one's list it with
    its new code, and the gate verifies the new code with the new plate and driver; the first swap's
    old code is tried at the gate with the old plate too, and must be refused as reassigned."""
    carrier_of = {c.dispatcher.org_id: c for c in cast.carriers}
    job_of = {s.id: job_id for job_id, loads in market.loads_of.items() for s in loads}
    wanted = first_share(opts.swaps, len(shipments))
    chosen: list[tuple[flow.Shipment, flow.Truck]] = []
    for s in carriers_in_turn([s for s in shipments if s.id not in broken]):
        crews = cast.standby[carrier_of[s.truck.phone.org_id].name]
        if len(chosen) < wanted and crews:
            chosen.append((s, crews.pop(0)))
    for job_id in dict.fromkeys(job_of[s.id] for s, _ in chosen):
        await name_trucks_and_drivers(api, cast.mill, job_id, market.loads_of[job_id])
    for s, crew in chosen:
        c = carrier_of[s.truck.phone.org_id]
        body = {"driver_user_id": crew.driver_id, "vehicle_id": crew.vehicle_id}
        load = await api.put(f"/loads/{s.id}/assignment", c.dispatcher, body, op="swap crew")
        fig.crews_swapped += 1
        if load.get("approval") == "pending":
            fig.approvals_asked += 1
            decided = await api.post(f"/loads/{s.id}/swap/approve", cast.mill, body, op="approve swap")
            fig.approvals_granted += decided.get("approval") == "approved"
        old = dataclasses.replace(s)
        s.truck = crew
        fig.phones_followed += await phones_followed(api, old, s)
        verdict = await flow.verify_code(api, cast.staff[0], cast.works["id"], s)
        fig.new_plates_verified += verdict["valid"]
        if fig.old_codes_checked == 0:
            verdict = await flow.verify_code(api, cast.staff[0], cast.works["id"], old)
            fig.old_codes_checked += 1
            fig.old_codes_refused_after_swap += not verdict["valid"] and verdict.get("reason") == "reassigned"


async def name_trucks_and_drivers(api: Api, owner: Party, job_id: str, loads: list[flow.Shipment]) -> None:
    """The goods owner replaces the job's automatic authorization (any truck and driver of the
    carrier) by one naming the trucks and drivers on its loads now."""
    reason = {"reason": "Simulated: only the planned trucks and drivers may collect"}
    await api.post(f"/jobs/{job_id}/authorization/revoke", owner, reason, op="revoke authorization")
    named = {
        "allowed_plates": [s.truck.plate for s in loads],
        "allowed_driver_ids": [s.truck.driver_id for s in loads],
    }
    await api.post(f"/jobs/{job_id}/authorization", owner, named, op="authorize")


async def phones_followed(api: Api, old: flow.Shipment, new: flow.Shipment) -> bool:
    """The old driver's phone no longer has the load (not listed, 404 on it); the new driver's
    lists it, with the new code (which the shipment takes)."""
    path = f"/driver/v1/assignments/{old.id}"
    lost = await api.get(path, old.truck.phone, op="driver assignment", expect=404)
    theirs = await api.get("/driver/v1/assignments", old.truck.phone, op="driver assignments")
    mine = await api.get("/driver/v1/assignments", new.truck.phone, op="driver assignments")
    listed = next((a for a in mine if a["id"] == new.id), None)
    new.pickup_code = (listed or {}).get("pickup_code") or ""
    return (
        lost.get("code") == "load_not_found"
        and all(a["id"] != old.id for a in theirs)
        and bool(new.pickup_code)
        and new.pickup_code != old.pickup_code
    )


def share_out(
    base_url: str, cast: Cast, shipments: list[flow.Shipment], opts: Options, started_at: float
) -> list[Share]:
    """`watchers` sockets spread over the loads, alternating the buyer's and the seller's login;
    the loads dealt out over (at most) `processes` shares, each with its loads' watchers."""
    count = max(1, min(opts.processes, len(shipments)))
    watching = [
        Watching(shipments[i % len(shipments)].id, cast.clerk if i % 2 == 0 else cast.seller)
        for i in range(opts.watchers)
    ]
    shares = []
    for k in range(count):
        mine = shipments[k::count]
        ids = {s.id for s in mine}
        shares.append(
            Share(
                f"child {k + 1}",
                base_url,
                started_at,
                mine,
                [w for w in watching if w.load_id in ids],
                opts.time_scale,
                opts.interval_s,
                opts.fix_every_s,
            )
        )
    return shares


async def load_every_truck(
    api: Api,
    cast: Cast,
    shipments: list[flow.Shipment],
    crowd_of: dict[str, Crowd | ChildCrowd],
    fig: Figures,
    bounded: Bounded,
    opts: Options,
) -> list[asyncio.Task[None]]:
    """Every truck walks in (its driver's live socket open first, unless left out); the docks call,
    verify and load them; each loaded truck departs on its own delivery (its phone drives in the
    process that plays its load, then the receipt). Hands on those deliveries."""
    deliveries: list[asyncio.Task[None]] = []
    sockets = DriverSockets(api) if opts.driver_sockets else None
    if sockets is not None:
        fig.drivers = sockets.figures

    async def arrive(s: flow.Shipment) -> None:
        if sockets is not None:
            await sockets.open(s)
        await flow.check_in(api, s)

    def called(s: flow.Shipment, _dock: str) -> None:
        if sockets is not None:
            sockets.call_answered(s)

    async def deliver(s: flow.Shipment) -> None:
        await crowd_of[s.id].drive(s)
        receipt = await flow.confirm_receipt(api, cast.clerk, s, "Clerk")
        fig.receipts += 1
        fig.jobs_completed += receipt["job_status"] == "completed"

    async def loaded(s: flow.Shipment) -> None:
        await flow.depart(api, s)
        if sockets is not None:
            await sockets.close(s)
        deliveries.append(asyncio.create_task(deliver(s)))

    try:
        await asyncio.gather(*[bounded(arrive(s)) for s in shipments])
        await flow.run_docks(api, cast.staff, cast.works, shipments, called, loaded)
    finally:
        if sockets is not None:
            await sockets.close_all()
    return deliveries


def _pct(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    ms = sorted(x * 1000 for x in samples)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return f"p50 {q[49]:7.1f}  p99 {q[98]:7.1f}  max {ms[-1]:7.1f} ms  (n={len(ms):,})"


def report(fig: Figures, timings: Timings, opts: Options) -> bool:
    """Print the figures; True when every stage completed and the fan-out was exact."""
    total = time.monotonic() - fig.started
    requests = sum(len(v) for v in timings.samples.values())
    print()
    print("=" * 96)
    print(
        f"simulate: {opts.carriers} carriers, {opts.jobs} jobs, {opts.drivers} drivers, "
        f"{opts.watchers} watchers, "
        f"post every {opts.interval_s:g} s, time x{opts.time_scale}"
    )
    print(
        f"  run        {total:.1f} s; {requests:,} API requests "
        f"({requests / total:,.0f}/s over the whole run)"
    )
    print(
        f"  market     {fig.jobs_awarded}/{opts.jobs} jobs grabbed: {fig.grabs_won} grabs won, "
        f"{fig.grabs_lost} lost with 409 job_taken (the first grab wins)"
    )
    print(f"  feed       job posted -> job.posted on a carrier's feed: {_pct(fig.feed_latency)}")
    failures = failing(opts)
    if failures:
        print(
            f"  give-back  {fig.given_back} jobs given back, {fig.retendered} re-tendered as grabs, "
            f"{fig.regrabbed} re-grabbed ({fig.regrabs_lost} lost with 409), "
            f"{fig.expired} expired unclaimed at the deadline"
        )
        print(
            f"  breakdowns {fig.swapped} trucks swapped for a spare before the gate "
            f"({fig.swaps_approved} approved by the goods owner); the old code and plate refused at "
            f"the gate {fig.old_codes_refused}/{fig.swapped}"
        )
        print(
            f"  swaps      {fig.crews_swapped} loads given another truck and driver before the gate; "
            f"approvals {fig.approvals_asked} asked, {fig.approvals_granted} granted by the goods owner; "
            f"phones followed {fig.phones_followed}/{fig.crews_swapped} (the old lost the load, the new "
            f"got it); at the gate new plates verified {fig.new_plates_verified}/{fig.crews_swapped}, "
            f"old codes refused {fig.old_codes_refused_after_swap}/{fig.old_codes_checked}"
        )
    drive_rate = fig.points_accepted / fig.drive_s if fig.drive_s else 0.0
    print(
        f"  GPS        {fig.points_accepted:,} of {fig.points_sent:,} points accepted "
        f"from {fig.loads} phones "
        f"({drive_rate:,.0f} points/s while driving)"
    )
    verdicts = [w.verdict for w in fig.sockets]
    got = sum(v.received for v in verdicts)
    want = sum(v.expected for v in verdicts)
    exact = got == want and all(v.exact for v in verdicts)
    finals = sum(w.final for w in fig.sockets)
    print(
        f"  watchers   {got:,} points delivered to {len(fig.sockets)} sockets, expected {want:,}: "
        f"{'exact' if exact else 'MISMATCH'}; final frame on {finals}/{len(fig.sockets)}"
    )
    print(
        f"  sequence   per socket, each seq of its load once and in order: "
        f"{sum(v.gaps for v in verdicts):,} gaps, {sum(v.duplicates for v in verdicts):,} duplicates, "
        f"{sum(v.out_of_order for v in verdicts):,} out of order, "
        f"{sum(v.short for v in verdicts):,} short sockets (ended before the load's last seq), "
        f"{sum(w.server_gaps for w in fig.sockets):,} gap frames from the server"
    )
    unclosed = [w.close for w in fig.sockets if not w.close.startswith("1000")]
    if unclosed:
        print(f"  closes     {len(unclosed)} sockets not closed normally: {sorted(set(unclosed))[:5]}")
    print(f"  latency    fix recorded -> on a watcher's socket: {_pct([lat for _, lat in fig.latencies])}")
    settled = fig.jobs_completed + fig.expired == fig.jobs_awarded == opts.jobs
    print(
        f"  receipts   {fig.receipts}/{fig.loads} loads received; "
        f"{fig.jobs_completed}/{fig.jobs_awarded} jobs completed"
        + (
            f", {fig.expired} expired: every job completed or expired {'yes' if settled else 'NO'}"
            if failures
            else ""
        )
    )
    drivers_held = _report_driver_sockets(fig)
    _report_generator(fig, opts)
    print("  per operation (client-side, including the network and this process's own scheduling):")
    for op, samples in sorted(timings.samples.items(), key=lambda kv: -len(kv[1])):
        failed = timings.failures.get(op, 0)
        print(f"    {op:18} {_pct(samples)}" + (f"  {failed} unexpected answers" if failed else ""))
    _report_phases(fig, timings)
    _report_server_cpu(fig, timings)
    _report_timeline(fig, timings)
    print("=" * 96)
    return (
        fig.jobs_awarded == opts.jobs
        and fig.receipts == fig.loads
        and settled
        and fig.old_codes_refused == fig.swapped
        and swaps_held(fig, opts)
        and exact
        and finals == len(fig.sockets)
        and drivers_held
    )


def _report_driver_sockets(fig: Figures) -> bool:
    """The drivers' live sockets: call -> `called` frame, and how many `tickets` frames they were
    sent. True when every driver's socket got its call (or the sockets were left out)."""
    d = fig.drivers
    if d is None:
        print("  driver     live sockets left out (--no-driver-sockets)")
        return True
    print(
        f"  driver     call truck answered -> called frame on the driver's socket: {_pct(d.call_to_called)} "
        f"({d.before_answer} before the answer)"
    )
    print(
        f"  driver     {d.sockets} live sockets, check-in to departure: {d.called_frames}/{fig.loads} "
        f"called frames, {d.tickets_frames:,} tickets frames"
    )
    for failure in d.failures[:5]:
        print(f"  driver     FAILED socket {failure}")
    return not d.failures and d.called_frames == fig.loads


def swaps_held(fig: Figures, opts: Options) -> bool:
    """Every swap asked for was made, approved when asked, followed by both phones and verified at
    the gate with the new plate; the old code tried was refused."""
    if not opts.swaps:
        return True
    return (
        fig.crews_swapped > 0
        and fig.approvals_granted == fig.approvals_asked
        and fig.phones_followed == fig.new_plates_verified == fig.crews_swapped
        and fig.old_codes_refused_after_swap == fig.old_codes_checked == 1
    )


def _report_generator(fig: Figures, opts: Options) -> None:
    """Each process of the generator: how late its event loop woke up, and the CPU it used."""
    print("  generator  each process's own event-loop lag and CPU over the run:")
    for p in fig.processes:
        who = f"{p.name} (pid {p.pid})"
        print(
            f"    {who:20} lag p50 {p.lag_p50 * 1000:5.1f}  p99 {p.lag_p99 * 1000:6.1f}  "
            f"max {p.lag_max * 1000:7.1f} ms; CPU {p.cpu_s:6.1f} s; {p.sockets:,} sockets, "
            f"{p.phones:,} phones; {p.gc_runs} GC runs"
        )
    late = [p.name for p in fig.processes if p.lag_p99 > LATE_LAG_S]
    if late:
        print(
            f"  LATE       the generator was late: figures may be its own, not the server's (lag p99 "
            f"over {LATE_LAG_S * 1000:.0f} ms in {', '.join(late)}); run again with more --processes "
            f"(this run: {opts.processes})"
        )
    else:
        print(
            f"  on time    every process's lag p99 under {LATE_LAG_S * 1000:.0f} ms: "
            "the latencies are the server's"
        )


def _in_window(times: Sequence[float], start: float, end: float) -> list[int]:
    return [i for i, at in enumerate(times) if start <= at < end]


def _report_phases(fig: Figures, timings: Timings) -> None:
    """The operations' timings by the phase in which each ended (the gate and the road overlap:
    the first trucks drive while the others are loaded)."""
    print("  per phase (each operation by the phase in which it ended):")
    for name, start, end in fig.windows:
        print(f"    {name} ({end - start:.1f} s)")
        rows = []
        for op, samples in timings.samples.items():
            mine = [samples[i] for i in _in_window(timings.ended_at[op], start, end)]
            if mine:
                rows.append((op, mine))
        for op, mine in sorted(rows, key=lambda kv: -len(kv[1])):
            print(f"      {op:18} {_pct(mine)}")
        received = [lat for at, lat in fig.latencies if start <= at < end]
        if received:
            print(f"      {'fix -> watcher':18} {_pct(received)}")


def _report_server_cpu(fig: Figures, timings: Timings) -> None:
    """The server's CPU per phase (its workers', PostgreSQL's), and per API request ended in it."""
    if len(fig.cpu_marks) != len(fig.windows) + 1:
        return
    print("  server CPU per phase: workers, PostgreSQL; per API request that ended in the phase")
    marks = zip(fig.windows, fig.cpu_marks[:-1], fig.cpu_marks[1:], strict=True)
    for (name, start, end), before, after in marks:
        requests = sum(len(_in_window(at, start, end)) for at in timings.ended_at.values())
        seconds = max(end - start, 1e-9)
        workers = after[0] - before[0]
        line = f"    {name:10} workers {workers:6.1f} s ({workers / seconds:4.2f} core)"
        if after[1] is not None and before[1] is not None:
            postgres = after[1] - before[1]
            line += f", postgres {postgres:6.1f} s ({postgres / seconds:4.2f} core)"
        if requests:
            line += f"; {workers / requests * 1000:5.2f} ms workers"
            if after[1] is not None and before[1] is not None:
                line += f", {(after[1] - before[1]) / requests * 1000:5.2f} ms postgres"
            line += f" per request ({requests:,})"
        print(line + _server_lag(fig, start, end) + _queue_reads(fig, start, end))


def _queue_reads(fig: Figures, start: float, end: float) -> str:
    """The workers' reads of a site's whole queue for the drivers' sockets, per second in a window."""
    reads = fig.server_lag.queue_reads_between(start, end) if fig.server_lag is not None else None
    return "" if reads is None else f"; site queue reads {reads:.1f}/s"


def _server_lag(fig: Figures, start: float, end: float) -> str:
    """The workers' loop lag in a window, as bucket bounds: "; loop lag p99 <= 25 max <= 100 ms"."""
    lag = fig.server_lag.between(start, end) if fig.server_lag is not None else None
    if lag is None:
        return ""
    return f"; loop lag p99 <= {_bound(lag.p99_le)} max <= {_bound(lag.max_le)} ms"


def _bound(seconds: float) -> str:
    return "inf" if seconds == float("inf") else f"{seconds * 1000:g}"


def _ms(samples: list[float], q: float) -> str:
    if not samples:
        return "-"
    ms = sorted(x * 1000 for x in samples)
    return f"{ms[min(len(ms) - 1, int(len(ms) * q))]:.0f}"


def _report_timeline(fig: Figures, timings: Timings) -> None:
    """Every 5 s of the run: fix->watcher latency, the gate's latencies, and the generator's worst
    loop lag then (if it was late at the same time, the latencies are partly its own)."""
    end = max((w[2] for w in fig.windows), default=fig.started_at)
    steps = int((end - fig.started_at) // BUCKET_S) + 1
    print(
        f"  timeline   every {BUCKET_S:g} s (ms): fix -> watcher p50 p99 (n), "
        + ", ".join(f"{op} p99 (n)" for op in TIMELINE_OPS)
        + ", generator lag p99 (worst process)"
        + (", the server's workers' loop lag p99 (a bound)" if fig.server_lag is not None else "")
    )
    latencies: dict[int, list[float]] = {}
    for at, latency in fig.latencies:
        latencies.setdefault(int((at - fig.started_at) // BUCKET_S), []).append(latency)
    for b in range(steps):
        start = fig.started_at + b * BUCKET_S
        stop = start + BUCKET_S
        during = [name for name, s, e in fig.windows if s < stop and e > start]
        phase = f"{during[0]}>{during[-1]}" if len(during) > 1 else "".join(during)
        lat = latencies.get(b, [])
        cells = [f"{_ms(lat, 0.5):>6} {_ms(lat, 0.99):>6} ({len(lat):>6,})"]
        for op in TIMELINE_OPS:
            samples = timings.samples.get(op, [])
            mine = [samples[i] for i in _in_window(timings.ended_at.get(op, []), start, stop)]
            cells.append(f"{_ms(mine, 0.99):>6} ({len(mine):>4})")
        lags = [p.lag_p99_per_bucket[b] for p in fig.processes if b in p.lag_p99_per_bucket]
        lag = f"{max(lags) * 1000:6.1f}" if lags else "     -"
        late = "  late" if lags and max(lags) > LATE_LAG_S else ""
        server = fig.server_lag.between(start, stop) if fig.server_lag is not None else None
        served = f"   server p99 <= {_bound(server.p99_le):>4}" if server is not None else ""
        print(f"    {b * BUCKET_S:5.0f} s {phase:14} " + "   ".join(cells) + f"   lag {lag}{late}{served}")
