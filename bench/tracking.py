"""Tracking benchmark: GPS ingest from the phones and live fan-out to the watchers' websockets.

    python3 dev.py bench tracking [--loads 200] [--watchers 1000] [--batches 10,50] [--seconds 10]
                                  [--rate 2000] [--latency-seconds 20] [--phone-concurrency 1]
                                  [--capacity-seconds 5] [--capacity-points 10]
                                  [--compare-compression] [--pg-stats] [--ingest-only]

Runs a real `dispatch serve --workers 2` on a throwaway embedded PostgreSQL. Setup goes through the
public HTTP API with httpx: a mill (shipper) with a gate site and docks, a buyer (consignee) with a
shared yard about 195 km away, jobs of coil to that yard grabbed by a carrier, planned into one
load per truck, each load assigned a truck and a driver with a device token, and taken through the
gate (check-in, called to a dock, loading, loaded, departed): every load is in transit.

Then W watchers (no compression; websockets' Sans-I/O protocol on a light asyncio client,
dispatch/sim/light_socket.py) follow the loads (`/tracking/loads/{id}/live`, W / loads per load,
half with a buyer's login, half with the seller's) while the phones post
`POST /driver/v1/positions`, each phone on its own keep-alive connections (dispatch/sim/phones.py: pre-encoded
requests on raw asyncio connections, answers parsed by httptools, every answer's status and accepted
count checked). Every fix lies on the truck's straight road to the yard
at 90 km/h, at the time it is sent, so no point is rejected.
- phase A, throughput: every phone posts batches of --batches points as fast as it can (with
  --phone-concurrency batches in flight) for --seconds; accepted points/s, and the fan-out check:
  every watcher must receive every accepted point of its load exactly once, in seq order. Run once
  per batch size (default 10, what a phone posts every few seconds, then 50), with the watchers
  connected, each beside the bare insert of batches of the same size.
- phase B, latency: a paced total of --rate points/s (each phone posts once a second on its own
  timer, staggered over the second, open loop: a slow answer delays no later post) for
  --latency-seconds; post-to-watcher latency of each points frame = the watcher's receive clock
  minus the send time of its batch (the newest point's recorded_at, taken at send time).
- phase C, fan-out capacity: fresh watchers (as many), first without compression, then asking for
  permessage-deflate (the server runs with DISPATCH_WS_COMPRESSION=1 throughout; it compresses only
  for clients that ask); rounds of one --capacity-points frame per load are published straight to
  the loads' channels (pg_notify, as ingest does; no ingest, nothing stored), UNPACED: the next
  round goes once all but 4 rounds have arrived at every socket, for --capacity-seconds. Printed:
  frames per server-core-second (frames received / CPU of the two workers over the window), and
  each socket's frames checked to continue its sequence.
Printed beside raw baselines measured in the same run on the same machine:
- a bare asyncpg unnest INSERT of the same number of rows, in batches of the same size, into a
  plain table of the same columns, primary key and seq index (no app, no HTTP); and the same with a
  frame-sized pg_notify in each batch's transaction (what LISTEN/NOTIFY costs the database);
- a bare `websockets` broadcast server (websockets.asyncio.server.broadcast, in its own process on
  uvloop, like a worker) sending frames of the same shape and size at the same rate to the same
  number of clients, measured by the same client code;
- for phase C, the same bare server (permessage-deflate offered with websockets' defaults, which
  are uvicorn's), the same rounds, clients and frame shape, unpaced the same way: frames per
  core-second of that one process, without and with deflate, and the ratio of dispatch to it.
--compare-compression runs phase B again on two fresh servers, without and with
DISPATCH_WS_COMPRESSION=1 (clients then ask for permessage-deflate): latency and worker RSS of both.

Per phase it also prints where the time went: CPU (cores) of each worker, PostgreSQL, the load
generator and anything else on the machine (another process using the CPU spoils the figures); the
load generator's own event-loop lag and GC pauses; what PostgreSQL sessions inside a transaction
wait on (sampled); with --pg-stats, the top statements (pg_stat_statements); worker RSS and how the
connections were spread over the workers.

The load generator (phones and watchers) runs in this process, on the same machine as the server
and PostgreSQL: on a small machine it takes CPU from them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import resource
import sys
import tempfile
import time
from asyncio.subprocess import PIPE
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httptools
import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.common import (
    PASSWORD,
    ROOT,
    free_port,
    fresh_database,
    organization,
    percentiles,
    server_process,
    square,
)
from bench.common import database as bench_database
from dispatch import procfs
from dispatch.pgstats import WaitSampler
from dispatch.sim.instruments import LoopLag, quiet_gc
from dispatch.sim.light_socket import LightSocket, open_socket
from dispatch.sim.phones import Phones
from geo import Position, haversine_m, initial_bearing_deg

# A steel mill near Berlin ships coil to a buyer's port yard in Rostock, about 195 km north.
MILL = (13.405, 52.52)
YARD = (12.0991, 54.0924)
ROAD_M = haversine_m(Position(*MILL), Position(*YARD))
HEADING = round(initial_bearing_deg(Position(*MILL), Position(*YARD)), 1)
SPEED_MPS = 25.0  # 90 km/h on the straight road between them
COILS_PER_JOB = 20
# The phones' fixes place each truck as if it had left the gate this long before it departed: its
# first batch is already past the origin's fence (1.5 km out), so leaving the fence (load.left_origin,
# a once-a-trip event that takes a transaction of its own) is raised by every phone's first batch,
# in the warm-up, and the measured phases see trucks on the road, as most phones are.
REPORTING_FROM_S = 60
DOCKS = 8
SETUP_CONCURRENCY = 16
CONNECT_CONCURRENCY = 50
DRAIN_S = 20.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
ALL_DAY = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(7)]


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


def _now_us() -> int:
    return time.time_ns() // 1000


def _us(recorded_at: str) -> int:
    return (datetime.fromisoformat(recorded_at) - EPOCH) // ONE_US


# -- the loads and their phones -------------------------------------------------------------------


@dataclass(eq=False)
class Load:
    id: str
    job_id: str
    device: dict[str, str]  # request headers of the driver's phone
    t0_us: int = 0  # when the truck left the gate (client clock)
    last_us: int = 0  # recorded_at of the newest point sent
    last_seq: int = 0  # the load's last seq as the server answered
    accepted: int = 0
    watchers: int = 0
    # The newest recorded_at (µs) of every batch sent: a points frame ending at one of these is timed.
    batch_ends: set[int] = field(default_factory=set)

    def position(self, t_us: int) -> tuple[float, float]:
        f = min(1.0, SPEED_MPS * (t_us - self.t0_us) / 1e6 / ROAD_M)
        return MILL[0] + (YARD[0] - MILL[0]) * f, MILL[1] + (YARD[1] - MILL[1]) * f


class _LoadProgress(msgspec.Struct):
    load_id: str
    last_seq: int


class _Rejection(msgspec.Struct):
    reason: str


class _BatchResult(msgspec.Struct):
    accepted: int
    duplicates: int
    rejected: list[_Rejection]
    loads: list[_LoadProgress]


_decode_result = msgspec.json.Decoder(_BatchResult).decode
_encode = msgspec.json.Encoder().encode


@dataclass
class PhoneStats:
    posts: int = 0
    points: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    late: int = 0  # paced posts that started more than 100 ms after their turn


class _Fix(msgspec.Struct):
    """A point as the phone app sends it (a Struct encodes faster than a dict: the generator's CPU)."""

    lon: float
    lat: float
    recorded_at: datetime
    accuracy_m: float
    speed_mps: float
    heading_deg: float


def _batch(load: Load, n: int) -> bytes:
    """n fixes since the previous batch, evenly spread up to now (the newest is recorded now)."""
    now = _now_us()
    span = now - load.last_us
    if span >= n:
        stamps = [load.last_us + span * (i + 1) // n for i in range(n)]
    else:  # more than one batch a microsecond apart: keep recorded_at strictly increasing
        stamps = [load.last_us + i + 1 for i in range(n)]
    load.last_us = stamps[-1]
    load.batch_ends.add(stamps[-1])
    points = []
    for t in stamps:
        lon, lat = load.position(t)
        points.append(_Fix(lon, lat, EPOCH + t * ONE_US, 8.0, SPEED_MPS, HEADING))
    return _encode({"load_id": load.id, "points": points})


async def _post(phones: Phones, load: Load, n: int, stats: PhoneStats) -> None:
    """One batch posted, its answer checked: a post counts only with a 200 and the points the body
    says were accepted."""
    body = _batch(load, n)
    t0 = time.perf_counter()
    try:
        status, data = await phones.post(load.id, load.device, body)
    except (OSError, httptools.HttpParserError) as exc:
        stats.errors[type(exc).__name__] += 1
        return
    stats.latencies.append(time.perf_counter() - t0)
    stats.posts += 1
    stats.points += n
    if status != 200:
        stats.errors[f"HTTP {status}: {data[:200].decode(errors='replace')}"] += 1
        return
    result = _decode_result(data)
    stats.accepted += result.accepted
    stats.duplicates += result.duplicates
    stats.rejected.update(x.reason for x in result.rejected)
    load.accepted += result.accepted
    for p in result.loads:
        if p.load_id == load.id:
            load.last_seq = max(load.last_seq, p.last_seq)


# -- the watchers -------------------------------------------------------------------------------------


class _Point(msgspec.Struct):
    seq: int
    recorded_at: str


class _EventHead(msgspec.Struct):
    type: str


class _Frame(msgspec.Struct):
    type: str
    points: list[_Point] = []
    event: _EventHead | None = None


class _Track(msgspec.Struct):
    load_id: str
    last_seq: int


class _Snapshot(msgspec.Struct):
    type: str
    loads: list[_Track]


_decode_frame = msgspec.json.Decoder(_Frame).decode
_decode_snapshot = msgspec.json.Decoder(_Snapshot).decode


@dataclass
class Recorder:
    """What all watchers of a phase add to."""

    latencies: list[float] | None = None  # post-to-watcher, seconds, when recording
    received_at: list[float] = field(default_factory=list)  # receive clock of each latency above
    events_at: list[float] = field(default_factory=list)  # receive clock of event frames, when recording
    untimed_frames: int = 0  # points frames not ending at a batch's newest point (a split batch)


_Message = bytes  # (Watcher has a field named `bytes`)


@dataclass(eq=False)
class Watcher:
    """One watcher's socket (dispatch/sim/light_socket.py: each frame is checked from the socket's
    `data_received`, without a task per frame) and what it has received."""

    load: Load
    ws: LightSocket
    recorder: Recorder
    by_recorded_at: bool = False  # baseline frames: every frame's newest point is its send time
    last_seq: int = 0
    points: int = 0
    frames: int = 0
    bytes: int = 0
    dupes: int = 0
    missing: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    last_at: float = 0.0
    unreadable: str | None = None

    @property
    def local_port(self) -> int:
        return self.ws.local_port

    @property
    def closed(self) -> str | None:
        return self.unreadable or self.ws.closed

    def reset(self) -> None:
        self.points = self.frames = self.bytes = self.dupes = self.missing = 0
        self.kinds.clear()

    def listen(self) -> None:
        self.ws.listen(self.on_message)

    def on_message(self, raw: _Message) -> None:
        if self.unreadable is not None:
            return
        try:
            self._take(raw)
        except Exception as exc:  # a frame we cannot read: report, do not hang the phase
            self.unreadable = f"{type(exc).__name__}: {exc}"

    def _take(self, raw: _Message) -> None:
        now = time.time()
        frame = _decode_frame(raw)
        if frame.type != "points":
            self.kinds[frame.type if frame.event is None else f"event {frame.event.type}"] += 1
            if frame.event is not None and self.recorder.latencies is not None:
                self.recorder.events_at.append(now)
            return
        self.frames += 1
        self.bytes += len(raw)
        for p in frame.points:
            if p.seq <= self.last_seq:
                self.dupes += 1
                continue
            self.missing += p.seq - self.last_seq - 1
            self.last_seq = p.seq
            self.points += 1
        self.last_at = now
        latencies = self.recorder.latencies
        if latencies is not None and frame.points:
            newest = _us(frame.points[-1].recorded_at)
            if self.by_recorded_at or newest in self.load.batch_ends:
                latencies.append(now - newest / 1e6)
                self.recorder.received_at.append(now)
            else:
                self.recorder.untimed_frames += 1


async def connect_watchers(
    ws_base: str,
    loads: list[Load],
    tokens: list[str],
    count: int,
    recorder: Recorder,
    compression: str | None,
) -> tuple[list[Watcher], list[float]]:
    """count sockets spread over the loads, alternating between the tokens; each has its snapshot."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    times: list[float] = []

    async def one(i: int) -> Watcher:
        load = loads[i % len(loads)]
        token = tokens[(i // len(loads)) % len(tokens)]
        url = f"{ws_base}/tracking/loads/{load.id}/live?access_token={token}"
        async with gate:
            t0 = time.perf_counter()
            ws = await open_socket(url, deflate=compression == "deflate")
            snapshot = _decode_snapshot(await ws.first())
            times.append(time.perf_counter() - t0)
        assert snapshot.type == "snapshot", snapshot
        w = Watcher(load, ws, recorder, last_seq=snapshot.loads[0].last_seq)
        load.watchers += 1
        w.listen()
        return w

    watchers = await asyncio.gather(*[one(i) for i in range(count)])
    return list(watchers), times


async def close_watchers(watchers: Iterable[Watcher]) -> None:
    watchers = list(watchers)
    await asyncio.gather(*[w.ws.close() for w in watchers], return_exceptions=True)
    for w in watchers:
        w.load.watchers -= 1


async def drain(watchers: list[Watcher], targets: dict[Load, int]) -> bool:
    """Wait until every open watcher has its load's last seq; False after DRAIN_S."""
    deadline = time.perf_counter() + DRAIN_S
    while time.perf_counter() < deadline:
        if all(w.last_seq >= targets[w.load] or w.closed for w in watchers):
            return True
        await asyncio.sleep(0.05)
    return False


# -- process figures ---------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def sockets_per_worker(workers: list[int], port: int, watcher_ports: set[int]) -> str:
    """How the kernel spread the connections over the workers (each has a listening socket)."""
    out = []
    for ports in procfs.client_ports(workers, port).values():
        ws = sum(p in watcher_ports for p in ports)
        out.append(f"{ws} websockets + {len(ports) - ws} HTTP")
    return "connections per worker: " + " / ".join(out)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pids: Iterable[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = procfs.stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def _postmaster_of(backend: int) -> int | None:
    with contextlib.suppress(OSError, IndexError, ValueError):
        if Path(f"/proc/{backend}/comm").read_text().strip().startswith("postgres"):
            return int(procfs.stat_fields(backend)[1])
    return None


async def postmaster_pid(dsn: str) -> int | None:
    """The local PostgreSQL's postmaster (for its CPU figure), None when the server is elsewhere."""
    conn = await asyncpg.connect(dsn)
    try:
        return _postmaster_of(await conn.fetchval("SELECT pg_backend_pid()"))
    finally:
        await conn.close()


@dataclass
class Processes:
    workers: list[int]
    postmaster: int | None
    others: list[int] = field(default_factory=list)  # e.g. the baseline broadcast server

    def sample(self) -> dict[str, float]:
        own = os.times()
        figures = {f"worker {i + 1}": cpu_s([pid]) for i, pid in enumerate(self.workers)}
        if self.postmaster is not None:
            figures["postgres"] = cpu_s([self.postmaster, *procfs.children(self.postmaster)])
        if self.others:
            figures["baseline server"] = cpu_s(self.others)
        figures["load generator"] = own.user + own.system
        figures["machine"] = _machine_busy_s()
        known = {os.getpid(), *self.workers, *self.others}
        if self.postmaster is not None:
            known |= {self.postmaster, *procfs.children(self.postmaster)}
        for pid, (comm, used) in _all_cpu().items():
            if pid not in known:
                figures[f"other:{pid}:{comm}"] = used
        return figures


def _machine_busy_s() -> float:
    """CPU time the whole machine spent busy (all processes, all cores), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def _all_cpu() -> dict[int, tuple[str, float]]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                comm = Path(f"/proc/{entry.name}/comm").read_text().strip()
                out[int(entry.name)] = (comm, cpu_s([int(entry.name)]))
    return out


def cpu_line(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    """Cores busy per process group over the window; the rest of the machine as `other`."""
    used = {k: (after[k] - before.get(k, 0.0)) / seconds for k in after if k in before}
    machine = used.pop("machine")
    others: dict[str, float] = {}
    for k in [k for k in used if k.startswith("other:")]:
        name = k.split(":", 2)[2]
        others[name] = others.get(name, 0.0) + used.pop(k)
    parts = [f"{k} {v:.2f}" for k, v in used.items()]
    rest = max(0.0, machine - sum(used.values()) - sum(others.values()))
    top = sorted(others.items(), key=lambda kv: -kv[1])[:3]
    named = ", ".join(f"{k} {v:.2f}" for k, v in top if v >= 0.01)
    return (
        f"CPU (cores busy, of {os.cpu_count()}): "
        + ", ".join(parts)
        + f"; other processes {sum(others.values()):.2f}"
        + (f" ({named})" if named else "")
        + f", kernel/exited {rest:.2f}; machine {machine:.2f}"
    )


def cpu_per_post(before: dict[str, float], after: dict[str, float], posts: int) -> str:
    """CPU time per post over the phase (posting and draining the fan-out): the server's workers,
    PostgreSQL and the load generator (this process: the phones and the watchers' sockets)."""

    def ms(keys: list[str]) -> str:
        return f"{sum(after[k] - before.get(k, 0.0) for k in keys) * 1000 / max(1, posts):.2f} ms"

    workers = [k for k in after if k.startswith("worker ")]
    pg = [k for k in after if k == "postgres"]
    return (
        f"CPU per post: workers {ms(workers)}, postgres {ms(pg)}, load generator {ms(['load generator'])} "
        f"(its phones and its watchers' sockets)"
    )


def _baseline_cpu(before: dict[str, float], after: dict[str, float], batches: int) -> str:
    """CPU per batch of a bare insert baseline: PostgreSQL's, and this process's (the asyncpg client)."""

    def ms(key: str) -> str:
        return f"{(after.get(key, 0.0) - before.get(key, 0.0)) * 1000 / batches:.2f} ms"

    return f"CPU per batch: postgres {ms('postgres')}, client {ms('load generator')}"


# -- setup through the public API ------------------------------------------------------------------


def _auth(org: dict[str, str]) -> dict[str, str]:
    return {"Authorization": org["Authorization"]}


def _ok(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:500]}")
    return r.json()


async def _member(http: httpx.AsyncClient, admin: dict[str, str], role: str, tag: str) -> str:
    """A new member of the admin's organization with one built-in role; their login token."""
    roles = _ok(await http.get(f"/orgs/{admin['org_id']}/roles", headers=_auth(admin)))
    role_id = next(r["id"] for r in roles if r["name"] == role)
    email = f"{tag}-{os.urandom(4).hex()}@bench.example"
    _ok(
        await http.post(
            f"/orgs/{admin['org_id']}/members",
            headers=_auth(admin),
            json={"email": email, "name": tag, "password": PASSWORD, "role_ids": [role_id]},
        ),
        201,
    )
    token: str = _ok(await http.post("/auth/login", json={"email": email, "password": PASSWORD}))[
        "access_token"
    ]
    return token


def _site(name: str, at: tuple[float, float], *, docks: int, shared: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "address": f"{name}, Industriestrasse 1",
        "location": {"lon": at[0], "lat": at[1]},
        "geofence": square(*at),
        "timezone": "Europe/Berlin",
        "shared": shared,
        "opening_hours": ALL_DAY,
        "docks": [{"name": f"Dock {i + 1}"} for i in range(docks)],
    }


def _job(site_id: str, yard_id: str, coils: int, n: int) -> dict[str, Any]:
    return {
        "origin_site_id": site_id,
        "destination_site_id": yard_id,
        "cargo": {
            "kind": "items",
            "lines": [
                {
                    "description": "hot-rolled coil",
                    "count": coils,
                    "unit_weight_kg": 24_000,
                    "unit_volume_m3": 3.2,
                }
            ],
        },
        "vehicle_type": "flatbed",
        "pickup_from": _iso(timedelta(minutes=-5)),
        "pickup_until": _iso(timedelta(hours=30)),
        "deliver_by": _iso(timedelta(hours=60)),
        "mode": "grab",
        "currency": "EUR",
        "price_minor": 250_000,
        "deadline": _iso(timedelta(hours=1)),
        "reference": f"PO-{n:04d}",
    }


@dataclass
class World:
    loads: list[Load]
    tokens: list[str]  # a buyer's and a seller's login, for the watchers
    site_id: str


async def setup(http: httpx.AsyncClient, dsn: str, count: int) -> World:
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def bounded(coro: Any) -> Any:
        async with gate:
            return await coro

    mill, buyer, carrier = await asyncio.gather(
        organization(dsn, http, "Mill", ["shipper"]),
        organization(dsn, http, "Buyer", ["consignee"]),
        organization(dsn, http, "Haulers", ["carrier"]),
    )
    seller_token, buyer_token, staff_token = await asyncio.gather(
        _member(http, mill, "shipper", "seller"),
        _member(http, buyer, "buyer", "receiver"),
        _member(http, mill, "gate_staff", "gate"),
    )
    staff = {"Authorization": f"Bearer {staff_token}"}
    site = _ok(
        await http.post("/sites", headers=_auth(mill), json=_site("Mill gate", MILL, docks=DOCKS)), 201
    )
    _ok(
        await http.put(
            f"/sites/{site['id']}/calendar",
            headers=_auth(mill),
            json={
                "slot_minutes": 30,
                "places_per_slot": 2,
                "cutoff_minutes": 0,
                "grace_minutes": 30,
                "late_tolerance_minutes": 15,
            },
        )
    )
    yard = _ok(
        await http.post("/sites", headers=_auth(buyer), json=_site("Buyer yard", YARD, docks=2, shared=True)),
        201,
    )

    async def vehicle(i: int) -> str:
        body = {
            "plate": f"B-TR {1000 + i}",
            "vehicle_type": "flatbed",
            "capacity_kg": 25_000,
            "capacity_m3": 90,
        }
        return str(_ok(await http.post("/fleet/vehicles", headers=_auth(carrier), json=body), 201)["id"])

    async def driver(i: int) -> str:
        body = {
            "email": f"driver{i}-{os.urandom(3).hex()}@haulers.bench",
            "name": f"Driver {i}",
            "password": PASSWORD,
            "phone": "+49 170 0000000",
            "licence_number": f"L{i:05d}",
        }
        return str(_ok(await http.post("/fleet/drivers", headers=_auth(carrier), json=body), 201)["user_id"])

    vehicles = await asyncio.gather(*[bounded(vehicle(i)) for i in range(count)])
    drivers = await asyncio.gather(*[bounded(driver(i)) for i in range(count)])

    async def job(j: int, first: int, coils: int) -> list[Load]:
        posted = _ok(
            await http.post("/jobs", headers=_auth(mill), json=_job(site["id"], yard["id"], coils, j)), 201
        )
        _ok(await http.post(f"/jobs/{posted['id']}/grab", headers=_auth(carrier)))
        mine = vehicles[first : first + coils]
        _ok(
            await http.post(f"/jobs/{posted['id']}/plan", headers=_auth(carrier), json={"vehicle_ids": mine}),
            201,
        )
        confirmed = _ok(await http.post(f"/jobs/{posted['id']}/plan/confirm", headers=_auth(carrier)))
        driver_of = dict(zip(mine, drivers[first : first + coils], strict=True))
        out = []
        for load in confirmed:
            user_id = driver_of[load["vehicle"]["id"]]
            _ok(
                await http.put(
                    f"/loads/{load['id']}/assignment",
                    headers=_auth(carrier),
                    json={"driver_user_id": user_id, "vehicle_id": load["vehicle"]["id"]},
                )
            )
            device = _ok(
                await http.post(
                    f"/orgs/{carrier['org_id']}/device-tokens",
                    headers=_auth(carrier),
                    json={"user_id": user_id, "name": "phone"},
                ),
                201,
            )
            headers = {"Authorization": f"Bearer {device['token']}", "Content-Type": "application/json"}
            out.append(Load(load["id"], posted["id"], headers))
        return out

    splits = [
        (j, first, min(COILS_PER_JOB, count - first))
        for j, first in enumerate(range(0, count, COILS_PER_JOB))
    ]
    loads = [load for part in await asyncio.gather(*[bounded(job(*s)) for s in splits]) for load in part]

    # The gate: every truck checks in, then each dock calls, loads and sends off trucks until none waits.
    at_gate = {"position": {"lon": MILL[0], "lat": MILL[1]}, "accuracy_m": 5}
    await asyncio.gather(
        *[
            bounded(http.post(f"/driver/v1/loads/{load.id}/check-in", headers=load.device, json=at_gate))
            for load in loads
        ]
    )
    by_id = {load.id: load for load in loads}

    async def dock(dock_id: str) -> None:
        while True:
            r = await http.post(f"/gate/sites/{site['id']}/call", headers=staff, json={"dock_id": dock_id})
            if r.status_code == 409 and r.json().get("code") == "queue_empty":
                return
            ticket = _ok(r)
            _ok(await http.post(f"/gate/tickets/{ticket['id']}/loading", headers=staff))
            _ok(await http.post(f"/gate/tickets/{ticket['id']}/loaded", headers=staff))
            load = by_id[ticket["load_id"]]
            _ok(await http.post(f"/driver/v1/loads/{load.id}/depart", headers=load.device))
            load.last_us = _now_us()
            load.t0_us = load.last_us - REPORTING_FROM_S * 1_000_000

    await asyncio.gather(*[dock(d["id"]) for d in site["docks"]])
    missing = [load.id for load in loads if not load.t0_us]
    if missing:
        raise RuntimeError(f"{len(missing)} loads did not leave the gate")
    return World(loads, [buyer_token, seller_token], site["id"])


# -- phases --------------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    seconds: float  # the posting window
    phones: PhoneStats
    received: int
    expected: int
    fanout_s: float  # from the start to the last point received
    dupes: int
    missing: int
    frames: int
    frame_bytes: int
    kinds: Counter[str]
    closed: Counter[str]
    drained: bool
    latencies: list[float]
    bursts: str
    untimed: int
    cpu: str
    per_post: str
    waits: str
    generator: str

    @property
    def accepted_per_s(self) -> float:
        return self.phones.accepted / self.seconds

    @property
    def received_per_s(self) -> float:
        return self.received / self.fanout_s if self.fanout_s else 0.0


async def run_phase(
    name: str,
    phones: Phones,
    loads: list[Load],
    watchers: list[Watcher],
    recorder: Recorder,
    processes: Processes,
    sampler: WaitSampler,
    *,
    seconds: float,
    batch: int | None = None,
    concurrency: int = 1,
    rate: int | None = None,
) -> PhaseResult:
    """batch: every phone posts that many points as fast as it can; rate: paced points/s in total."""
    for w in watchers:
        w.reset()
    quiet_gc()
    start_seq = {load: load.last_seq for load in loads}
    stats = PhoneStats()
    recorder.latencies = [] if rate is not None else None
    recorder.received_at = []
    recorder.events_at = []
    recorder.untimed_frames = 0
    sampler.start()
    lag = LoopLag()
    lag.start()
    cpu0 = processes.sample()
    t_start = time.time()
    p_start = time.perf_counter()
    end = p_start + seconds

    async def flat_out(load: Load) -> None:
        assert batch is not None
        while time.perf_counter() < end:
            await _post(phones, load, batch, stats)

    async def paced(i: int, load: Load, n: int) -> None:
        # Open loop, like a phone's timer: one post a second at the phone's own offset in the second,
        # whether or not the previous one has been answered (a slow answer delays no later post).
        due = p_start + i / len(loads)
        posts = []
        while due < end:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.1:
                stats.late += 1
            posts.append(asyncio.ensure_future(_post(phones, load, n, stats)))
            due += 1.0
        await asyncio.gather(*posts)

    if rate is not None:
        per_load = [rate // len(loads) + (i < rate % len(loads)) for i in range(len(loads))]
        await asyncio.gather(
            *[paced(i, load, n) for i, (load, n) in enumerate(zip(loads, per_load, strict=True)) if n]
        )
    else:
        await asyncio.gather(*[flat_out(load) for load in loads for _ in range(concurrency)])
    posting_s = time.perf_counter() - p_start
    waits = await sampler.stop()
    drained = await drain(watchers, {load: load.last_seq for load in loads})
    generator = await lag.stop()
    cpu1 = processes.sample()
    cpu_window = time.perf_counter() - p_start
    for w in watchers:  # what never arrived
        w.missing += max(0, w.load.last_seq - w.last_seq)
    last = max((w.last_at for w in watchers if w.points), default=t_start)
    kinds: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    for w in watchers:
        kinds.update(w.kinds)
        if w.closed:
            closed[w.closed] += 1
    latencies = recorder.latencies or []
    recorder.latencies = None
    bursts = _bursts(t_start, recorder.received_at, latencies)
    if recorder.events_at:  # a batch raising trip events (load.left_origin) takes a transaction
        events = sorted(recorder.events_at)
        bursts += (
            f"; {len(events)} event frames arrived from {events[0] - t_start:.2f} s to "
            f"{events[-1] - t_start:.2f} s (middle half {events[len(events) // 4] - t_start:.2f} to "
            f"{events[3 * len(events) // 4] - t_start:.2f} s)"
        )
    return PhaseResult(
        name=name,
        seconds=posting_s,
        phones=stats,
        received=sum(w.points for w in watchers),
        expected=sum(w.load.last_seq - start_seq[w.load] for w in watchers),
        fanout_s=last - t_start,
        dupes=sum(w.dupes for w in watchers),
        missing=sum(w.missing for w in watchers),
        frames=sum(w.frames for w in watchers),
        frame_bytes=sum(w.bytes for w in watchers),
        kinds=kinds,
        closed=closed,
        drained=drained,
        latencies=latencies,
        bursts=bursts,
        untimed=recorder.untimed_frames,
        cpu=cpu_line(cpu0, cpu1, cpu_window),
        per_post=cpu_per_post(cpu0, cpu1, stats.posts),
        waits=waits,
        generator=generator,
    )


BURST_WINDOW_S = 0.25


def _bursts(t_start: float, received_at: list[float], latencies: list[float]) -> str:
    """When the slow frames arrived: the phase cut into 250 ms windows by receive time, the windows
    whose worst latency is over 50 ms, and the worst of them (a tail that comes in bursts shows as
    few windows with a regular spacing; one spread evenly, as many)."""
    worst: dict[int, float] = {}
    for at, lat in zip(received_at, latencies, strict=True):
        w = int((at - t_start) / BURST_WINDOW_S)
        worst[w] = max(worst.get(w, 0.0), lat)
    if not worst:
        return "none"
    slow = sorted(w for w, lat in worst.items() if lat > 0.05)
    top = sorted(slow, key=lambda w: -worst[w])[:8]
    listed = ", ".join(f"{w * BURST_WINDOW_S:.2f} s: {worst[w] * 1000:.0f} ms" for w in sorted(top))
    head = f"{len(slow)} of {len(worst)} windows of {BURST_WINDOW_S * 1000:.0f} ms had a frame over 50 ms"
    # The phase's start on the wall clock, to line the windows up with what the server logs.
    return f"{head}{f'; worst at (phase time: max) {listed}' if top else ''} (phase started at {t_start:.3f})"


def report_phase(r: PhaseResult, watchers: int, loads: int) -> None:
    s = r.phones
    rejected = ", ".join(f"{k} {v}" for k, v in s.rejected.most_common()) or "0"
    print(
        f"  phones   : {s.posts:,} posts, {s.points:,} points in {r.seconds:.1f} s; accepted {s.accepted:,} "
        f"= {r.accepted_per_s:,.0f} points/s ({s.posts / r.seconds:,.0f} posts/s); rejected {rejected}; "
        f"duplicates {s.duplicates}"
    )
    if s.errors:
        print(f"  ERRORS   : {dict(s.errors.most_common(5))}")
    if s.late:
        print(f"  pacing   : {s.late} posts started more than 100 ms after their turn (generator late)")
    print(f"  post     : {percentiles(s.latencies)}")
    per_load = watchers / loads
    ok = r.received == r.expected == s.accepted * per_load and not r.dupes and not r.missing
    print(
        f"  fan-out  : {r.received:,} points received by {watchers} watchers (expected {r.expected:,} = "
        f"accepted x {per_load:g} per load: {'exact' if ok else 'MISMATCH'}) = {r.received_per_s:,.0f} "
        f"points/s, {r.frames / r.fanout_s if r.fanout_s else 0:,.0f} frames/s "
        f"(mean {r.frame_bytes / max(1, r.frames):,.0f} B); duplicates {r.dupes}, missing {r.missing}"
        + ("" if r.drained else f"; NOT DRAINED after {DRAIN_S:.0f} s")
    )
    other = dict(r.kinds)
    print(f"  frames   : other frames {other or 'none'}; closed sockets {dict(r.closed) or 'none'}")
    if r.latencies:
        untimed = f" ({r.untimed} frames of split batches not timed)" if r.untimed else ""
        print(f"  latency  : post to watcher {percentiles(r.latencies)}{untimed}")
        print(f"  bursts   : {r.bursts}")
    print(f"  {r.cpu}")
    print(f"  {r.per_post}")
    print(f"  {r.generator}")
    print(f"  {r.waits}")


# -- baselines -------------------------------------------------------------------------------------------

BASE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_positions (
    load_id     uuid NOT NULL,
    recorded_at timestamptz NOT NULL,
    seq         bigint NOT NULL,
    lon         float8 NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat         float8 NOT NULL CHECK (lat BETWEEN -90 AND 90),
    accuracy_m  real NOT NULL,
    speed_mps   real,
    heading_deg real,
    battery_pct smallint,
    moving      boolean,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (load_id, recorded_at)
);
CREATE INDEX IF NOT EXISTS bench_positions_seq_idx ON bench_positions (load_id, seq);
TRUNCATE bench_positions"""

BASE_INSERT = """
INSERT INTO bench_positions (load_id, recorded_at, seq, lon, lat, accuracy_m, speed_mps, heading_deg,
                             battery_pct, moving)
SELECT $1, i.recorded_at, $2 + i.n, i.lon, i.lat, i.accuracy_m, i.speed_mps, i.heading_deg, i.battery_pct,
       i.moving
FROM unnest($3::timestamptz[], $4::float8[], $5::float8[], $6::real[], $7::real[], $8::real[],
            $9::smallint[], $10::boolean[]) WITH ORDINALITY
    AS i(recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg, battery_pct, moving, n)"""


async def baseline_insert(
    dsn: str,
    loads: list[Load],
    rows: int,
    batch: int,
    connections: int,
    processes: Processes,
    *,
    notify: bool = False,
) -> tuple[float, str, str]:
    """Bare asyncpg: the same rows in batches of the same size, one statement (transaction) each;
    with `notify`, each batch's transaction also sends a frame-sized pg_notify (one listener).
    Returns rows/s, the statements' latency and the CPU per batch (sampled while the pool's
    sessions are open: a closed session's CPU is gone from /proc)."""
    conn = await asyncpg.connect(dsn)
    await conn.execute(BASE_TABLE)
    if notify:
        await conn.add_listener("bench_baseline", lambda *_: None)
    else:
        await conn.close()
    payload = _frame_points(loads[0].id, 1, min(batch, 25), _now_us())
    t_base = _now_us()
    batches: list[tuple[Any, ...]] = []
    seqs = dict.fromkeys((load.id for load in loads), 0)
    for b in range(max(1, rows // batch)):
        load = loads[b % len(loads)]
        stamps = [EPOCH + (t_base + (seqs[load.id] + i) * 1000) * ONE_US for i in range(batch)]
        columns = [
            stamps,
            [MILL[0]] * batch,
            [MILL[1]] * batch,
            [8.0] * batch,
            [SPEED_MPS] * batch,
            [HEADING] * batch,
            [None] * batch,
            [None] * batch,
        ]
        batches.append((load.id, seqs[load.id], *columns))
        seqs[load.id] += batch
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    assert pool is not None
    queue = list(reversed(batches))
    latencies: list[float] = []

    async def worker() -> None:
        async with pool.acquire() as c:
            while queue:
                args = queue.pop()
                t0 = time.perf_counter()
                if notify:
                    async with c.transaction():
                        await c.execute(BASE_INSERT, *args)
                        await c.execute("SELECT pg_notify('bench_baseline', $1)", payload)
                else:
                    await c.execute(BASE_INSERT, *args)
                latencies.append(time.perf_counter() - t0)

    try:
        cpu0 = processes.sample()
        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(connections)])
        elapsed = time.perf_counter() - t0
        cpu = _baseline_cpu(cpu0, processes.sample(), len(batches))
    finally:
        await pool.close()
        if not conn.is_closed():
            await conn.close()
    return len(batches) * batch / elapsed, percentiles(latencies), cpu


def _frame_points(load_id: str, first_seq: int, n: int, now_us: int) -> str:
    """A points frame shaped like the app's (same fields, same number formatting)."""
    points = [
        {
            "seq": first_seq + i,
            "lon": MILL[0] + 0.0123456789 * i,
            "lat": MILL[1] + 0.0123456789 * i,
            "recorded_at": EPOCH + (now_us - (n - 1 - i) * 100_000) * ONE_US,
            "accuracy_m": 8.0,
            "speed_mps": SPEED_MPS,
            "heading_deg": HEADING,
        }
        for i in range(n)
    ]
    eta = {
        "eta_at": EPOCH + (now_us + 7_000_000_000) * ONE_US,
        "remaining_m": 180123,
        "progress": 0.0712,
        "speed_mps": 24.87,
        "computed_at": EPOCH + now_us * ONE_US,
    }
    frame = {
        "type": "points",
        "load_id": load_id,
        "first_seq": first_seq,
        "last_seq": first_seq + n - 1,
        "points": points,
        "status": "in_transit",
        "eta": eta,
    }
    return _encode(frame).decode()


async def _broadcast_server(port: int) -> None:
    """The baseline: a bare websockets server; /g/<load> joins a group, /control runs a paced broadcast."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    groups: dict[str, set[ServerConnection]] = {}

    async def run(spec: dict[str, Any]) -> dict[str, Any]:
        names = sorted(groups)
        per = [spec["rate"] // len(names) + (i < spec["rate"] % len(names)) for i in range(len(names))]
        sent = 0
        t0 = time.perf_counter()
        end = t0 + spec["seconds"]

        async def group(i: int, name: str, n: int) -> None:
            nonlocal sent
            seq = 1
            due = t0 + i / len(names)
            while due < end:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                conns = groups[name]
                broadcast(conns, _frame_points(name, seq, n, _now_us()))
                sent += len(conns)
                seq += n
                due += 1.0

        await asyncio.gather(
            *[group(i, name, n) for i, (name, n) in enumerate(zip(names, per, strict=True)) if n]
        )
        return {"sent": sent, "seconds": time.perf_counter() - t0}

    async def rounds(ws: ServerConnection) -> None:
        """Capacity: each message from the bench ("<k> <n>") is a round: one n-point frame to every
        group (seq k*n+1 ...), broadcast at once; the bench sends the next round when enough of the
        earlier ones have arrived (unpaced, with a bounded number of rounds in flight)."""
        async for message in ws:
            k, n = (int(x) for x in str(message).split())
            now = _now_us()
            for name, conns in groups.items():
                broadcast(conns, _frame_points(name, k * n + 1, n, now))

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path == "/control":
            spec = json.loads(await ws.recv())
            await ws.send(json.dumps(await run(spec)))
            return
        if path == "/rounds":
            await rounds(ws)
            return
        name = path.rsplit("/", 1)[-1]
        groups.setdefault(name, set()).add(ws)
        try:
            await ws.wait_closed()
        finally:
            groups[name].discard(ws)

    # compression="deflate": permessage-deflate when a client asks for it, with websockets' default
    # settings, which are uvicorn's (server and client window 12 bits, memLevel 5); none otherwise.
    async with serve(handler, "127.0.0.1", port, compression="deflate", ping_interval=None, backlog=2048):
        print("ready", flush=True)
        await asyncio.Future()


@dataclass
class BroadcastResult:
    messages_per_s: float
    points_per_s: float
    received: int
    sent: int
    frame_bytes: float
    latencies: list[float]
    cpu: str
    rss_mib: float


async def baseline_broadcast(loads: list[Load], watchers: int, rate: int, seconds: float) -> BroadcastResult:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.tracking", "--broadcast-server", str(port), cwd=ROOT, stdout=PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise RuntimeError("the baseline broadcast server did not start")
        recorder = Recorder()
        fake = [Load(load.id, load.job_id, {}) for load in loads]
        base = f"ws://127.0.0.1:{port}"
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(i: int) -> Watcher:
            load = fake[i % len(fake)]
            async with gate:
                ws = await open_socket(f"{base}/g/{load.id}")
            w = Watcher(load, ws, recorder, by_recorded_at=True)
            w.listen()
            return w

        clients = list(await asyncio.gather(*[one(i) for i in range(watchers)]))
        await asyncio.sleep(0.5)
        quiet_gc()
        processes = Processes([], None, [process.pid])
        cpu0 = processes.sample()
        recorder.latencies = []
        t_start = time.time()
        async with connect(f"{base}/control", ping_interval=None) as control:
            await control.send(json.dumps({"rate": rate, "seconds": seconds}))
            done = json.loads(await asyncio.wait_for(control.recv(), seconds + 60))
        await asyncio.sleep(0.5)
        cpu1 = processes.sample()
        last = max((w.last_at for w in clients), default=t_start)
        received = sum(w.frames for w in clients)
        result = BroadcastResult(
            messages_per_s=received / (last - t_start),
            points_per_s=sum(w.points for w in clients) / (last - t_start),
            received=received,
            sent=done["sent"],
            frame_bytes=sum(w.bytes for w in clients) / max(1, received),
            latencies=recorder.latencies,
            cpu=cpu_line(cpu0, cpu1, time.time() - t_start),
            rss_mib=rss_mib(process.pid),
        )
        recorder.latencies = None
        await asyncio.gather(*[w.ws.close() for w in clients], return_exceptions=True)
        return result
    finally:
        process.terminate()
        await process.wait()


# -- fan-out capacity: frames per server-core-second, dispatch beside a bare websockets server ----------

CAPACITY_IN_FLIGHT = 4  # rounds sent but not yet fully received, at most


class _Head(msgspec.Struct):
    type: str
    first_seq: int = 0
    last_seq: int = 0


_decode_head = msgspec.json.Decoder(_Head).decode


@dataclass
class _Tally:
    """What the capacity clients received: frames, and the checks per socket."""

    frames: int = 0
    frame_bytes: int = 0
    out_of_order: int = 0  # a frame not continuing its socket's sequence (a gap, a duplicate)
    other: Counter[str] = field(default_factory=Counter)
    wanted: int = 0  # wake the driver when `frames` reaches this
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


async def _count_frames(ws: ClientConnection, last_seq: int, tally: _Tally) -> None:
    """Read a socket to its end: every points frame must continue the one before it."""
    with contextlib.suppress(ConnectionClosed):
        async for raw in ws:
            head = _decode_head(raw)
            if head.type != "points":
                tally.other[head.type] += 1
                continue
            if head.first_seq != last_seq + 1:
                tally.out_of_order += 1
            last_seq = head.last_seq
            tally.frames += 1
            tally.frame_bytes += len(raw)
            if tally.frames >= tally.wanted:
                tally.arrived.set()


@dataclass
class Capacity:
    frames: int
    seconds: float
    server_cpu_s: float
    frame_bytes: float
    out_of_order: int
    other: Counter[str]
    deflate: int  # sockets that negotiated permessage-deflate

    @property
    def per_core_s(self) -> float:
        return self.frames / self.server_cpu_s if self.server_cpu_s else 0.0

    def line(self) -> str:
        checks = f"out of order {self.out_of_order}, other frames {dict(self.other) or 'none'}"
        return (
            f"{self.per_core_s:>9,.0f} frames per server-core-second ({self.frames:,} frames in "
            f"{self.seconds:.1f} s = {self.frames / self.seconds:,.0f}/s, "
            f"server CPU {self.server_cpu_s:.2f} s, "
            f"mean {self.frame_bytes:,.0f} B; {self.deflate} sockets deflate; {checks})"
        )


async def measure_capacity(
    sockets: list[tuple[ClientConnection, int]],
    send_round: Any,
    server_pids: list[int],
    seconds: float,
) -> Capacity:
    """Rounds as fast as the sockets take them: each round is one frame to every socket (`send_round(k)`),
    the next sent once all but CAPACITY_IN_FLIGHT rounds have fully arrived; the server's CPU over the
    window (its worker processes only: not PostgreSQL, not this load generator)."""
    tally = _Tally()
    readers = [asyncio.get_running_loop().create_task(_count_frames(ws, seq, tally)) for ws, seq in sockets]
    n = len(sockets)
    try:
        quiet_gc()
        cpu0 = cpu_s(server_pids)
        t0 = time.perf_counter()
        k = 0
        while time.perf_counter() - t0 < seconds:
            tally.wanted = (k - CAPACITY_IN_FLIGHT + 1) * n
            while tally.frames < tally.wanted:
                tally.arrived.clear()
                await asyncio.wait_for(tally.arrived.wait(), DRAIN_S)
            await send_round(k)
            k += 1
        tally.wanted = k * n
        while tally.frames < tally.wanted:
            tally.arrived.clear()
            await asyncio.wait_for(tally.arrived.wait(), DRAIN_S)
        elapsed = time.perf_counter() - t0
        cpu = cpu_s(server_pids) - cpu0
    finally:
        await asyncio.gather(*[ws.close() for ws, _ in sockets], return_exceptions=True)
        for r in readers:
            r.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    return Capacity(
        frames=tally.frames,
        seconds=elapsed,
        server_cpu_s=cpu,
        frame_bytes=tally.frame_bytes / max(1, tally.frames),
        out_of_order=tally.out_of_order,
        other=tally.other,
        deflate=sum(1 for ws, _ in sockets if ws.protocol.extensions),
    )


async def dispatch_capacity(
    ws_base: str,
    dsn: str,
    world: World,
    watchers: int,
    points: int,
    workers: list[int],
    seconds: float,
    *,
    compression: str | None,
) -> Capacity:
    """The fan-out path of `dispatch serve` alone: watchers on /tracking/loads/{id}/live, and each
    round one points frame per load published straight to the load's channel (one pg_notify per
    load, in one transaction per round, from here), as ingest publishes them: the listener, the hub
    and the sockets do the work; no ingest, nothing stored."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    heads: dict[str, int] = {}  # each load's last seq, as its watchers' snapshots say

    async def one(i: int) -> tuple[ClientConnection, int]:
        load = world.loads[i % len(world.loads)]
        token = world.tokens[(i // len(world.loads)) % len(world.tokens)]
        async with gate:
            ws = await connect(
                f"{ws_base}/tracking/loads/{load.id}/live?access_token={token}",
                compression=compression,
                ping_interval=None,
                open_timeout=60,
                max_size=1 << 24,
            )
            snapshot = _decode_snapshot(await ws.recv())
        heads[load.id] = snapshot.loads[0].last_seq
        return ws, snapshot.loads[0].last_seq

    sockets = list(await asyncio.gather(*[one(i) for i in range(watchers)]))
    channels = [f"track_{load.replace('-', '')}" for load in heads]  # the loads watched
    conn = await asyncpg.connect(dsn)
    try:

        async def send_round(k: int) -> None:
            now = _now_us()
            frames = [_frame_points(load, head + k * points + 1, points, now) for load, head in heads.items()]
            await conn.execute(
                "SELECT pg_notify(c, f) FROM unnest($1::text[], $2::text[]) AS t(c, f)", channels, frames
            )

        return await measure_capacity(sockets, send_round, workers, seconds)
    finally:
        await conn.close()


async def bare_capacity(
    port: int,
    pid: int,
    loads: list[Load],
    watchers: int,
    points: int,
    seconds: float,
    *,
    compression: str | None,
) -> Capacity:
    """The same rounds, clients and frame shape against the bare websockets server."""
    base = f"ws://127.0.0.1:{port}"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> tuple[ClientConnection, int]:
        async with gate:
            ws = await connect(
                f"{base}/g/{loads[i % len(loads)].id}",
                compression=compression,
                ping_interval=None,
                open_timeout=60,
                max_size=1 << 24,
            )
        return ws, 0

    sockets = list(await asyncio.gather(*[one(i) for i in range(watchers)]))
    await asyncio.sleep(0.5)  # every group joined on the server's side
    async with connect(f"{base}/rounds", ping_interval=None) as control:

        async def send_round(k: int) -> None:
            await control.send(f"{k} {points}")

        return await measure_capacity(sockets, send_round, [pid], seconds)


@contextlib.asynccontextmanager
async def bare_server() -> Any:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.tracking", "--broadcast-server", str(port), cwd=ROOT, stdout=PIPE
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise RuntimeError("the baseline broadcast server did not start")
        yield port, process.pid
    finally:
        process.terminate()
        await process.wait()


# -- main --------------------------------------------------------------------------------------------------


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _pct(latencies: list[float], q: int) -> float:
    ms = sorted(x * 1000 for x in latencies)
    if not ms:
        return float("nan")
    return ms[min(len(ms) - 1, round(q / 100 * (len(ms) - 1)))]


async def phase_b_on_fresh_server(
    dsn: str, state: str, world: World, args: argparse.Namespace, *, compression: bool
) -> tuple[PhaseResult, list[float], list[float]]:
    env = {"DISPATCH_WS_COMPRESSION": "1"} if compression else {}
    with server_process(dsn, workers=2, state_dir=state, extra_env=env) as (url, serve):
        phones = Phones(url)
        try:
            workers = procfs.worker_pids(serve.pid)
            idle = [rss_mib(p) for p in workers]
            recorder = Recorder()
            watchers, _ = await connect_watchers(
                "ws" + url.removeprefix("http"),
                world.loads,
                world.tokens,
                args.watchers,
                recorder,
                "deflate" if compression else None,
            )
            processes = Processes(workers, await postmaster_pid(dsn))
            result = await run_phase(
                "B",
                phones,
                world.loads,
                watchers,
                recorder,
                processes,
                WaitSampler(dsn, statements=args.pg_stats),
                seconds=args.latency_seconds,
                rate=args.rate,
            )
            rss = [rss_mib(p) for p in workers]
            deflate = sum(1 for w in watchers if w.ws.extensions)
            print(
                f"  {deflate} of {len(watchers)} sockets negotiated permessage-deflate; "
                + sockets_per_worker(workers, _port(url), {w.local_port for w in watchers})
            )
            await close_watchers(watchers)
        finally:
            phones.close()
    return result, idle, rss


async def main(args: argparse.Namespace) -> None:
    limit = raise_fd_limit(args.watchers * 3 + args.loads * args.phone_concurrency + 2048)
    started = time.perf_counter()
    pg_settings = {"shared_preload_libraries": "pg_stat_statements"} if args.pg_stats else None
    with bench_database(pg_settings) as admin_dsn, tempfile.TemporaryDirectory() as state:
        dsn = await fresh_database(admin_dsn)
        if args.pg_stats:
            conn = await asyncpg.connect(dsn)
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await conn.close()
        # Compression enabled: negotiated only with the clients that ask (the capacity phase's second half).
        compress = {"DISPATCH_WS_COMPRESSION": "1"}
        with server_process(dsn, workers=2, state_dir=state, extra_env=compress) as (url, serve):
            workers = procfs.worker_pids(serve.pid)
            print(
                f"dispatch serve --workers 2 on {url} (worker pids {workers}), embedded PostgreSQL; "
                f"machine: {os.cpu_count()} cores (nproc), {_mem_gib():.0f} GiB; the load generator "
                f"(phones and watchers) runs in this process on the same machine; open files limit {limit}; "
                f"load average {os.getloadavg()[0]:.2f} at the start"
            )
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            phones = Phones(url)
            async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
                t0 = time.perf_counter()
                world = await setup(http, dsn, args.loads)
                jobs = len({load.job_id for load in world.loads})
                print(
                    f"setup    : {args.loads} loads in transit ({jobs} jobs of up to {COILS_PER_JOB} coils, "
                    f"one truck and driver each, through the gate) Berlin mill -> Rostock yard "
                    f"{ROAD_M / 1000:.0f} km, over HTTP in {time.perf_counter() - t0:.1f} s"
                )
                idle_rss = [rss_mib(p) for p in workers]
                recorder = Recorder()
                t0 = time.perf_counter()
                watchers, connect_times = await connect_watchers(
                    "ws" + url.removeprefix("http"), world.loads, world.tokens, args.watchers, recorder, None
                )
                print(
                    f"watchers : {len(watchers)} websockets (no compression) on /tracking/loads/{{id}}/live, "
                    f"{args.watchers / args.loads:g} per load, buyer and seller logins alternating, open in "
                    f"{time.perf_counter() - t0:.1f} s; connect to snapshot {percentiles(connect_times)}"
                )
                processes = Processes(workers, await postmaster_pid(dsn))
                sampler = WaitSampler(dsn, statements=args.pg_stats)
                # Every phase plays the same phones, loads, watchers and instruments.
                phase = functools.partial(
                    run_phase,
                    phones=phones,
                    loads=world.loads,
                    watchers=watchers,
                    recorder=recorder,
                    processes=processes,
                    sampler=sampler,
                )

                if args.warmup_seconds > 0:
                    # Every worker's pool connections opened and their statements prepared, the trips
                    # kept: the server as it is after its first seconds of traffic.
                    warm = await phase(
                        "warm-up",
                        seconds=args.warmup_seconds,
                        batch=args.batches[0],
                        concurrency=args.phone_concurrency,
                    )
                    print(
                        f"warm-up  : {warm.phones.posts:,} posts of {args.batches[0]} points in "
                        f"{warm.seconds:.1f} s (not counted)"
                    )
                phase_a: dict[int, PhaseResult] = {}
                for size in args.batches:
                    print(
                        f"phase A{size:<3}: throughput, every phone posts {size} points a batch as fast as "
                        f"it can, {args.phone_concurrency} in flight per phone, {args.seconds:g} s"
                    )
                    phase_a[size] = await phase(
                        f"A{size}",
                        seconds=args.seconds,
                        batch=size,
                        concurrency=args.phone_concurrency,
                    )
                    report_phase(phase_a[size], len(watchers), len(world.loads))

                if args.ingest_only:
                    await close_watchers(watchers)
                else:
                    print(
                        f"phase B  : latency, {args.rate:,} points/s in total (each phone posts "
                        f"{args.rate / args.loads:g} points once a second, staggered), "
                        f"{args.latency_seconds:g} s"
                    )
                    b = await phase(
                        "B",
                        seconds=args.latency_seconds,
                        rate=args.rate,
                    )
                    report_phase(b, len(watchers), len(world.loads))
                    rss = [rss_mib(p) for p in workers]
                    print(
                        "  RSS      : workers "
                        + ", ".join(
                            f"{r:,.0f} MiB (idle {i:,.0f})" for r, i in zip(rss, idle_rss, strict=True)
                        )
                        + f" with {len(watchers)} watchers"
                    )
                    print("  " + sockets_per_worker(workers, _port(url), {w.local_port for w in watchers}))
                    await close_watchers(watchers)

                    print(
                        f"phase C  : fan-out capacity, {args.watchers} fresh watchers, rounds of one "
                        f"{args.capacity_points}-point frame per load published straight to the loads' "
                        "channels "
                        f"(no ingest), as fast as they arrive ({CAPACITY_IN_FLIGHT} rounds in flight), "
                        f"{args.capacity_seconds:g} s each without and with permessage-deflate"
                    )
                    capacity: dict[str, Capacity] = {}
                    for label, compression in (("plain", None), ("deflate", "deflate")):
                        capacity[label] = await dispatch_capacity(
                            "ws" + url.removeprefix("http"),
                            dsn,
                            world,
                            args.watchers,
                            args.capacity_points,
                            workers,
                            args.capacity_seconds,
                            compression=compression,
                        )
                        print(f"  {label:<8} : {capacity[label].line()}")
                phones.close()

            print("baselines, same machine, same run:")
            base_rows: dict[int, float] = {}
            notify_rows: dict[int, float] = {}
            for size, a in phase_a.items():
                rows = max(a.phones.accepted, size * args.loads)
                base_rows[size], base_lat, base_cpu = await baseline_insert(
                    dsn, world.loads, rows, size, 16, processes
                )
                print(
                    f"  insert   : bare asyncpg unnest INSERT, {rows:,} rows in batches of {size}, 16 "
                    f"connections, plain table (same columns, key, seq index): {base_rows[size]:,.0f} "
                    f"rows/s; statement {base_lat}; {base_cpu}"
                )
                notify_rows[size], notify_lat, notify_cpu = await baseline_insert(
                    dsn, world.loads, rows, size, 16, processes, notify=True
                )
                print(
                    f"             the same, each batch's transaction with one pg_notify of a points frame "
                    f"(one listener): {notify_rows[size]:,.0f} rows/s; transaction {notify_lat}; {notify_cpu}"
                )
            if not args.ingest_only:
                bc = await baseline_broadcast(world.loads, args.watchers, args.rate, args.latency_seconds)
                print(
                    f"  websocket: bare websockets broadcast server (1 process, uvloop) to {args.watchers} "
                    f"clients, {args.rate:,} points/s as {args.rate / args.loads:g}-point frames "
                    f"(mean {bc.frame_bytes:,.0f} B): {bc.messages_per_s:,.0f} messages/s "
                    f"({bc.received:,}/{bc.sent:,} received); latency {percentiles(bc.latencies)}; "
                    f"RSS {bc.rss_mib:,.0f} MiB"
                )
                print(f"    {bc.cpu}")
                bare: dict[str, Capacity] = {}
                async with bare_server() as (port, pid):
                    for label, compression in (("plain", None), ("deflate", "deflate")):
                        bare[label] = await bare_capacity(
                            port,
                            pid,
                            world.loads,
                            args.watchers,
                            args.capacity_points,
                            args.capacity_seconds,
                            compression=compression,
                        )
                        print(
                            f"  capacity : bare websockets server (1 process, uvloop, websockets.broadcast), "
                            f"the same rounds and clients, {label}: {bare[label].line()}"
                        )

        compare: list[tuple[str, PhaseResult, list[float], list[float]]] = []
        if args.compare_compression and not args.ingest_only:
            print("compression: phase B again on two fresh servers (same database, same loads)")
            for on in (False, True):
                r, idle, rss = await phase_b_on_fresh_server(dsn, state, world, args, compression=on)
                label = "permessage-deflate" if on else "no compression"
                print(f"  {label}:")
                report_phase(r, args.watchers, len(world.loads))
                print(
                    "  RSS      : workers "
                    + ", ".join(f"{x:,.0f} MiB (idle {i:,.0f})" for x, i in zip(rss, idle, strict=True))
                )
                compare.append((label, r, idle, rss))

    per_load = args.watchers / args.loads
    if not args.ingest_only:
        b_frames = b.frames / b.fanout_s if b.fanout_s else 0.0
    print("summary  : dispatch beside its raw baseline, same machine, same run (ratio = dispatch / baseline)")
    for size, a in phase_a.items():
        print(
            f"  ingest {size:>3}-pt {a.accepted_per_s:>9,.0f} points/s  | bare asyncpg INSERT "
            f"{base_rows[size]:>9,.0f} rows/s    | {_ratio(a.accepted_per_s, base_rows[size])} "
            f"(batches of {size})"
        )
        print(
            f"                                    | + pg_notify          {notify_rows[size]:>9,.0f} rows/s"
            f"    | {_ratio(a.accepted_per_s, notify_rows[size])}"
        )
    if not args.ingest_only:
        print(
            f"  fan-out (B)   {b_frames:>9,.0f} frames/s  | bare broadcast      "
            f"{bc.messages_per_s:>9,.0f} msgs/s"
            f"    | {_ratio(b_frames, bc.messages_per_s)} (both paced at the offered rate: not capacity)"
        )
        for label in ("plain", "deflate"):
            x, y = capacity[label].per_core_s, bare[label].per_core_s
            print(
                f"  capacity {label:<7}{x:>7,.0f} fr/core-s | bare websockets    {y:>9,.0f} fr/core-s"
                f" | {_ratio(x, y)} (unpaced, frames per server-core-second)"
            )
        for q in (50, 99, 100):
            x, y = _pct(b.latencies, q), _pct(bc.latencies, q)
            name = "max" if q == 100 else f"p{q}"
            print(
                f"  latency {name:<4}  {x:>9.1f} ms        | bare broadcast      {y:>9.1f} ms"
                f"        | {_ratio(x, y)}"
            )
    print("targets  :")
    for size, a in phase_a.items():
        # Phone-sized batches (issue 21): twice what they were; 50-point batches: the original target.
        wanted = 20_000 if size <= 10 else 10_000
        exact = a.received == a.expected == a.phones.accepted * per_load and not (a.dupes or a.missing)
        met = a.accepted_per_s >= wanted and a.received_per_s >= wanted * per_load and exact
        print(
            f"           phase A at {size}-point batches >= {wanted:,} points/s accepted and fanned out: "
            f"{'met' if met else 'MISSED'} ({a.accepted_per_s:,.0f} accepted/s; {a.received_per_s:,.0f} "
            f"delivered/s to {per_load:g} watchers a load; fan-out {'exact' if exact else 'NOT exact'})"
        )
    if not args.ingest_only:
        p99 = _pct(b.latencies, 99)
        print(f"           phase B p99 < 50 ms: {'met' if p99 < 50 else 'MISSED'} ({p99:.1f} ms)")
        share = (
            capacity["deflate"].per_core_s / bare["deflate"].per_core_s if bare["deflate"].per_core_s else 0.0
        )
        exact_c = not any(c.out_of_order or c.other for c in capacity.values())
        print(
            f"           fan-out with deflate >= 0.5 of the bare server per core: "
            f"{'met' if share >= 0.5 else 'MISSED'} ({share:.2f}); capacity frames "
            f"{'exact' if exact_c else 'NOT exact'} (each socket's frames in sequence)"
        )
        for label, r, idle, rss in compare:
            grown = sum(x - i for x, i in zip(rss, idle, strict=True)) * 1024 / args.watchers
            print(
                f"  {label:<18}: p50 {_pct(r.latencies, 50):.1f} ms, p99 {_pct(r.latencies, 99):.1f} ms, max "
                f"{_pct(r.latencies, 100):.1f} ms; worker RSS "
                + " + ".join(f"{x:,.0f}" for x in rss)
                + " MiB "
                f"({grown:,.0f} KiB a watcher over idle)"
            )
    print(f"total    : {time.perf_counter() - started:.0f} s")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _batch_sizes(text: str) -> list[int]:
    sizes = [int(x) for x in text.split(",") if x.strip()]
    if not sizes or not all(1 <= n <= 500 for n in sizes):
        raise argparse.ArgumentTypeError("batch sizes are 1 to 500 points, comma-separated")
    return list(dict.fromkeys(sizes))


def _mem_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)


def _run(coro: Any) -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with the server's dependencies
        asyncio.run(coro)
    else:
        uvloop.run(coro)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loads", type=int, default=200, help="loads in transit (default 200)")
    parser.add_argument("--watchers", type=int, default=1000, help="websocket watchers (default 1000)")
    parser.add_argument(
        "--batches",
        "--batch",
        type=_batch_sizes,
        default=[10, 50],
        help="points per batch in phase A, a run for each, comma-separated, 1 to 500 (default 10,50)",
    )
    parser.add_argument("--seconds", type=float, default=10, help="length of phase A (default 10)")
    parser.add_argument(
        "--warmup-seconds", type=float, default=5, help="posting before phase A, not counted (default 5)"
    )
    parser.add_argument("--rate", type=int, default=2000, help="points/s in total in phase B (default 2000)")
    parser.add_argument("--latency-seconds", type=float, default=20, help="length of phase B (default 20)")
    parser.add_argument(
        "--phone-concurrency", type=int, default=1, help="batches in flight per phone in phase A (default 1)"
    )
    parser.add_argument("--compare-compression", action="store_true", help="phase B without and with deflate")
    parser.add_argument(
        "--capacity-seconds", type=float, default=5, help="length of each fan-out capacity run (default 5)"
    )
    parser.add_argument(
        "--capacity-points", type=int, default=10, help="points per frame in the capacity runs (default 10)"
    )
    parser.add_argument(
        "--pg-stats",
        action="store_true",
        help="load pg_stat_statements and print the top statements per phase",
    )
    parser.add_argument(
        "--ingest-only",
        action="store_true",
        help="phase A and its insert baselines only (no phase B, no fan-out capacity, no websocket "
        "baselines)",
    )
    parser.add_argument("--broadcast-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.broadcast_server:
        _run(_broadcast_server(arguments.broadcast_server))
    else:
        _run(main(arguments))
