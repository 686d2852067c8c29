"""Market benchmark: grab contention and job search with 100,000 open jobs.

    python3 dev.py bench market [--rounds 20] [--carriers 100] [--jobs 100000] [--searches 300]
                                [--pool-max 10] [--pg-stats]

Setup goes through httpx; the grab race through kept-alive raw HTTP/1.1 connections (`_Racer`), the
searches through aiohttp (the faster client). Runs a real
`dispatch serve --workers 2` on a throwaway embedded PostgreSQL and prints, each
beside its raw baseline measured in the same run:
- grab: N carriers grab one job at once, R rounds; throughput, p50/p99 latency, the server
  workers' CPU per grab (from /proc, the counted races only) and the exactly-one-winner check;
  baseline: the same race as bare asyncpg UPDATEs (no HTTP, no app); for both, PostgreSQL's CPU
  per grab and the load generator's, and for the grab each worker's share and the context switches
  per grab (workers, PostgreSQL, generator); with --pg-stats the race's statements (calls a round);
  then both side by side with the ratio (the target: p99 within 1.5x the bare race's).
- search: open jobs within 200 km of random points in Europe, nearest first, 50 per page, over
  HTTP; baseline: the same SQL through bare asyncpg; and the query plan (EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx

from bench.common import database, fresh_database, organization, percentiles, server_process, square
from bench.tracking import cpu_s, postmaster_pid
from dispatch import procfs
from dispatch.db.pool import create_pool
from dispatch.market import queries
from dispatch.pgstats import STATEMENTS_EXTENSION

BERLIN = (13.405, 52.52)
# Uncounted rounds before each side's race. One is enough for the bare race, whose 100 connections
# each run its one statement every round; not for the server, whose 2 x 10 pooled connections share
# a grab's four statements (the session read, GRAB_AND_AWARD, the loser's read, the winner's), the
# UPDATE's only on the connections of the round's first arrivals: after one round, the first two
# counted rounds still prepared 75 and 43 statements (parse, plan, catalog reads: a round trip and
# the planning of GRAB_AND_AWARD each), and those rounds were the slowest. After three, about one a
# round (the winner's read, on a connection that had not answered a winner yet).
WARM_UP_ROUNDS = 3


def _job(site_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "origin_site_id": site_id,
        "vehicle_type": "flatbed",
        "mode": "grab",
        "currency": "EUR",
        "price_minor": 250_000,
        "cargo": {"kind": "bulk", "description": "grain", "weight_kg": 24_000, "volume_m3": 30},
        "pickup_from": (now + timedelta(hours=20)).isoformat(),
        "pickup_until": (now + timedelta(hours=30)).isoformat(),
        "deliver_by": (now + timedelta(hours=60)).isoformat(),
        "deadline": (now + timedelta(hours=2)).isoformat(),
        "destination": {
            "address": "Hamburg",
            "location": {"lon": 9.99, "lat": 53.55},
            "geofence": square(9.99, 53.55),
        },
    }


async def _setup(
    http: httpx.AsyncClient, dsn: str, carriers: int
) -> tuple[dict[str, str], list[dict[str, str]], str]:
    mill = await organization(dsn, http, "Mill", ["shipper"])
    fleet = await asyncio.gather(
        *[organization(dsn, http, f"Carrier {i}", ["carrier"]) for i in range(carriers)]
    )
    lon, lat = BERLIN
    r = await http.post(
        "/sites",
        headers=_auth(mill),
        json={
            "name": "Mill",
            "address": "Berlin",
            "location": {"lon": lon, "lat": lat},
            "geofence": square(lon, lat),
            "timezone": "Europe/Berlin",
        },
    )
    r.raise_for_status()
    return mill, list(fleet), r.json()["id"]


def _auth(org: dict[str, str]) -> dict[str, str]:
    return {"Authorization": org["Authorization"]}


async def bench_grab(
    http: httpx.AsyncClient,
    fast_url: str,
    dsn: str,
    rounds: int,
    carriers: int,
    workers: list[int],
    pg_stats: bool = False,
) -> None:
    mill, fleet, site = await _setup(http, dsn, carriers)
    postgres = _PostgresCpu(await postmaster_pid(dsn))

    # One kept-alive connection per carrier, as a carrier's app keeps one (opened before the race).
    racers = [await _Racer.connect(fast_url, c) for c in fleet]

    async def grab(job_id: str, racer: _Racer) -> int:
        return await racer.grab(job_id)

    async def timed(coro: Any) -> tuple[float, Any]:
        t0 = time.perf_counter()
        result = await coro
        return time.perf_counter() - t0, result

    latencies: list[float] = []
    race_time = 0.0
    race_cpu = 0.0  # the server workers' CPU seconds in the counted races
    worker_cpu = [0.0] * len(workers)  # each worker's share of it (how the two share the race)
    race_pg = 0.0  # PostgreSQL's (all its processes), in the same races
    switched = [0, 0, 0]  # context switches in the same races: workers, PostgreSQL, this process
    client_cpu = 0.0  # this process's (the load generator's), in the same races
    clean_rounds = 0
    # Rounds first that are not counted, as many on each side (WARM_UP_ROUNDS): the first
    # statements on fresh connections (parse, plan, catalog reads) are a warm-up, not the race.
    for warm in (*[True] * WARM_UP_ROUNDS, *[False] * rounds):
        job = (await http.post("/jobs", headers=_auth(mill), json=_job(site))).json()
        if pg_stats and not warm and clean_rounds == 0 and not latencies:
            await _reset_statements(dsn)
        each0, pg0 = [cpu_s([w]) for w in workers], postgres.read()
        sw0 = [_switches(workers), postgres.switches(), _switches([os.getpid()])]
        own0, t0 = time.process_time(), time.perf_counter()
        results = await asyncio.gather(*[timed(grab(job["id"], r)) for r in racers])
        if warm:
            continue
        race_time += time.perf_counter() - t0
        client_cpu += time.process_time() - own0
        each = [cpu_s([w]) - c0 for w, c0 in zip(workers, each0, strict=True)]
        worker_cpu = [a + b for a, b in zip(worker_cpu, each, strict=True)]
        race_cpu += sum(each)
        race_pg += postgres.read() - pg0
        sw = [_switches(workers), postgres.switches(), _switches([os.getpid()])]
        switched = [a + b - c for a, b, c in zip(switched, sw, sw0, strict=True)]
        latencies += [t for t, _ in results]
        codes = sorted(status for _, status in results)
        clean_rounds += codes.count(200) == 1 and codes.count(409) == carriers - 1
    print(
        f"grab over HTTP  : {rounds} rounds x {carriers} carriers, exactly one winner in "
        f"{clean_rounds}/{rounds} rounds"
    )
    print(f"                  {rounds * carriers / race_time:,.0f} grabs/s; {percentiles(latencies)}")
    print(
        f"                  server CPU per grab (both workers, all of it: HTTP, app, driver): "
        f"{race_cpu * 1000 / (rounds * carriers):.2f} ms; the load generator's (_Racer, this "
        f"process): {client_cpu * 1000 / (rounds * carriers):.2f} ms; PostgreSQL's: "
        f"{race_pg * 1000 / (rounds * carriers):.2f} ms"
    )
    print(
        "                  the workers' shares of the server CPU: "
        + ", ".join(f"{c / race_cpu:.0%}" for c in worker_cpu)
        if race_cpu
        else "                  no worker CPU measured"
    )
    n = rounds * carriers
    print(
        f"                  context switches per grab: workers {switched[0] / n:.1f}, PostgreSQL "
        f"{switched[1] / n:.1f}, the load generator {switched[2] / n:.1f}"
    )

    if pg_stats:
        await _print_statements(dsn, rounds)

    # Baseline: the same race without HTTP or the app: N connections run the grab UPDATE at once.
    pool = await create_pool(dsn, min_size=carriers, max_size=carriers)
    base_latencies: list[float] = []
    base_time = 0.0
    base_clean = 0
    base_pg = 0.0
    base_client = 0.0  # this process's CPU (asyncpg's side of the bare race)
    try:
        for warm in (*[True] * WARM_UP_ROUNDS, *[False] * rounds):
            job = (await http.post("/jobs", headers=_auth(mill), json=_job(site))).json()

            async def raw_grab(carrier: dict[str, str], job_id: str = job["id"]) -> tuple[float, bool]:
                async with pool.acquire() as conn:
                    t0 = time.perf_counter()
                    won = await conn.fetchrow(queries.GRAB, job_id, carrier["org_id"]) is not None
                    return time.perf_counter() - t0, won

            pg0 = postgres.read()
            own0, t0 = time.process_time(), time.perf_counter()
            outcomes = await asyncio.gather(*[raw_grab(c) for c in fleet])
            if warm:
                continue
            base_time += time.perf_counter() - t0
            base_client += time.process_time() - own0
            base_pg += postgres.read() - pg0
            base_latencies += [t for t, _ in outcomes]
            base_clean += sum(w for _, w in outcomes) == 1
    finally:
        await pool.close()
    for racer in racers:
        racer.close()
    print(
        f"grab baseline   : bare asyncpg UPDATE, same race: "
        f"exactly one winner in {base_clean}/{rounds} rounds"
    )
    print(f"                  {rounds * carriers / base_time:,.0f} grabs/s; {percentiles(base_latencies)}")
    print(
        f"                  PostgreSQL's CPU per grab: {base_pg * 1000 / (rounds * carriers):.2f} ms; "
        f"the load generator's (asyncpg, this process): {base_client * 1000 / (rounds * carriers):.2f} ms"
    )
    for q in (50, 99):
        x, y = _pct(latencies, q), _pct(base_latencies, q)
        print(f"grab p{q:<2}        : {x:7.1f} ms over HTTP | {y:7.1f} ms bare UPDATE race | {x / y:.2f}x")
    p99_ratio = _pct(latencies, 99) / _pct(base_latencies, 99)
    met = p99_ratio <= 1.5 and clean_rounds == rounds
    print(
        f"grab target     : p99 within 1.5x the bare race, exactly one winner every round: "
        f"{'met' if met else 'MISSED'} ({p99_ratio:.2f}x; {clean_rounds}/{rounds} rounds)"
    )


class _Racer:
    """A carrier's HTTP/1.1 connection for the race, kept alive: it writes the grab's request bytes
    and reads the status line, the headers and the Content-Length body. The load generator shares
    the server's 2 cores, and aiohttp spent 0.30-0.33 ms of CPU per grab doing this (a third of the
    server's own), which the bare UPDATE race does not pay; this spends a fraction of it, so the
    race measures the server. The answer's body is read and dropped (the winner check is by status)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: str) -> None:
        self._reader, self._writer, self._head = reader, writer, head

    @classmethod
    async def connect(cls, url: str, carrier: dict[str, str]) -> _Racer:
        host, _, port = url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"Host: {host}:{port}\r\nAuthorization: {carrier['Authorization']}\r\nContent-Length: 0\r\n\r\n"
        )
        return cls(reader, writer, head)

    async def grab(self, job_id: str) -> int:
        self._writer.write(f"POST /jobs/{job_id}/grab HTTP/1.1\r\n{self._head}".encode())
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        self._writer.close()


async def _reset_statements(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(STATEMENTS_EXTENSION)
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def _print_statements(dsn: str, rounds: int) -> None:
    """The statements of the counted grab rounds (with the jobs' posting between them): calls a
    round and mean time, from pg_stat_statements."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 80) AS q"
            " FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'"
            " ORDER BY total_exec_time DESC LIMIT 8"
        )
    finally:
        await conn.close()
    print("                  pg_stat_statements over the counted rounds (calls a round, mean ms):")
    for r in rows:
        print(
            f"                  {r['calls'] / rounds:7.1f} {r['total_exec_time'] / r['calls']:7.3f}  {r['q']}"
        )


class _PostgresCpu:
    """CPU seconds used so far by the local PostgreSQL (its postmaster and every backend, live or
    ended); 0 when the server is elsewhere."""

    def __init__(self, postmaster: int | None) -> None:
        self._postmaster = postmaster

    def read(self) -> float:
        if self._postmaster is None:
            return 0.0
        return cpu_s([self._postmaster, *procfs.children(self._postmaster)])

    def switches(self) -> int:
        """Context switches so far of PostgreSQL's live processes."""
        if self._postmaster is None:
            return 0
        return _switches([self._postmaster, *procfs.children(self._postmaster)])


def _switches(pids: list[int]) -> int:
    """Context switches so far (voluntary and not) of these processes: each a wait for a turn or a
    wake-up, which on 2 shared cores is where a burst's time goes."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    total += int(line.split()[1])
    return total


def _pct(samples_s: list[float], q: int) -> float:
    """The q-th percentile in ms, as `percentiles` prints it."""
    ms = sorted(s * 1000 for s in samples_s)
    return statistics.quantiles(ms, n=100, method="inclusive")[q - 1] if len(ms) > 1 else ms[0]


SEED_JOBS = """
INSERT INTO jobs (poster_org_id, shipper_org_id, goods_owner, origin_site_id, origin_lon, origin_lat,
    destination_address, destination_lon, destination_lat, destination_geofence, distance_m, cargo_kind,
    cargo,
    total_weight_kg, total_volume_m3, vehicle_type, pickup_from, pickup_until, deliver_by, mode, currency,
    price_minor, deadline)
SELECT $1, $1, 'shipper', $2, lon, lat, 'somewhere', lon + 1, lat + 1, $3::jsonb, 130000, 'bulk',
       '{"kind": "bulk", "description": "grain", "weight_kg": 24000, "volume_m3": 30}',
       24000, 30, (ARRAY['flatbed', 'tanker', 'curtainsider', 'bulk_tipper'])[1 + g % 4],
       now() + (g % 72) * interval '1 hour', now() + (g % 72 + 8) * interval '1 hour',
       now() + (g % 72 + 48) * interval '1 hour', 'grab', 'EUR', 100000 + (g * 7919) % 400000,
       now() + interval '6 hours'
FROM (SELECT g, -9 + random() * 39 AS lon, 36 + random() * 24 AS lat
      FROM generate_series(1, $4) g) AS points"""


async def bench_search(
    http: httpx.AsyncClient, fast: aiohttp.ClientSession, dsn: str, jobs: int, searches: int
) -> None:
    mill, _, site = await _setup(http, dsn, 1)
    conn = await asyncpg.connect(dsn)
    try:
        t0 = time.perf_counter()
        await conn.execute(SEED_JOBS, mill["org_id"], site, '{"type": "Polygon", "coordinates": []}', jobs)
        await conn.execute("ANALYZE jobs")
        open_jobs = await conn.fetchval("SELECT count(*) FROM jobs WHERE status = 'open'")
        print(
            f"search          : {open_jobs:,} open jobs seeded across Europe "
            f"in {time.perf_counter() - t0:.1f} s"
        )
        rng = random.Random(1)
        points = [(rng.uniform(-5, 25), rng.uniform(40, 57)) for _ in range(searches)]

        latencies, counts = [], []
        for lon, lat in points:
            t0 = time.perf_counter()
            params = {"lat": lat, "lon": lon, "radius_km": 200, "sort": "distance", "limit": 50}
            async with fast.get("/market/jobs", headers=_auth(mill), params=params) as r:
                body = await r.json()
            latencies.append(time.perf_counter() - t0)
            counts.append(len(body["items"]))
        print(
            f"search over HTTP: 200 km radius, nearest first, 50 a page: {percentiles(latencies)}; "
            f"mean {sum(counts) / len(counts):.0f} jobs a page"
        )

        base = []
        no_filters = (None,) * 7  # pickup window, cargo, vehicle, currency, cursor
        for lon, lat in points:
            t0 = time.perf_counter()
            await conn.fetch(queries.SEARCH_BY_DISTANCE, lat, lon, 200_000.0, *no_filters, 51)
            base.append(time.perf_counter() - t0)
        print(f"search baseline : the same SQL through bare asyncpg: {percentiles(base)}")

        latencies = []
        for lon, lat in points[:100]:
            t0 = time.perf_counter()
            params = {
                "lat": lat,
                "lon": lon,
                "radius_km": 300,
                "sort": "pickup",
                "vehicle_type": "flatbed",
                "limit": 50,
            }
            async with fast.get("/market/jobs", headers=_auth(mill), params=params) as r:
                await r.read()
            latencies.append(time.perf_counter() - t0)
        print(f"search (pickup) : 300 km, flatbed only, earliest pickup first: {percentiles(latencies)}")

        lon, lat = points[0]
        plan = await conn.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + queries.SEARCH_BY_DISTANCE,
            lat,
            lon,
            200_000.0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            51,
        )
        print("plan of one distance search:")
        for row in plan:
            print("   ", row[0])
    finally:
        await conn.close()


async def main(args: argparse.Namespace) -> None:
    preload = {"shared_preload_libraries": "pg_stat_statements"} if args.pg_stats else None
    with database(preload) as admin_dsn, tempfile.TemporaryDirectory() as state:
        dsn = await fresh_database(admin_dsn)
        # The service's pool (10 a worker) unless asked: bench.common's 40 cost PostgreSQL more CPU
        # per grab (market README "Performance", session 22).
        pool = {"DISPATCH_DB_POOL_MAX": str(args.pool_max)}
        with server_process(dsn, workers=2, state_dir=state, extra_env=pool) as (url, server):
            limits = httpx.Limits(
                max_connections=args.carriers * 2, max_keepalive_connections=args.carriers * 2
            )
            connector = aiohttp.TCPConnector(limit=args.carriers * 2)
            async with (
                httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http,
                aiohttp.ClientSession(base_url=url, connector=connector) as fast,
            ):
                print(
                    f"dispatch serve --workers 2 on {url}; load generator in this process; "
                    f"{__import__('os').cpu_count()} cores"
                )
                workers = procfs.worker_pids(server.pid)
                await bench_grab(http, url, dsn, args.rounds, args.carriers, workers, args.pg_stats)
                await bench_search(http, fast, dsn, args.jobs, args.searches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--carriers", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument(
        "--pg-stats", action="store_true", help="load pg_stat_statements; print the grab race's statements"
    )
    parser.add_argument(
        "--pool-max", type=int, default=10, help="the server's pool a worker (10: the service's default)"
    )
    asyncio.run(main(parser.parse_args()))
