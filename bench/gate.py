"""Gate benchmark: a crowd at one site's gate, the old way and the ways calls can take turns.

    python3 dev.py bench gate [--waiting 400] [--check-ins 800] [--docks 20] [--connections 40]

On a throwaway embedded PostgreSQL with the real schema, one site's yard already holds `waiting`
trucks; then `check-ins` trucks check in at once (over a pool of `connections`) while each of the
`docks` docks (a connection each) calls the next truck, lets it leave and calls again, until every
check-in is answered. The transactions are the app's own (dispatch/gate/queries.py, the order of
dispatch/gate/queue.py, `service.ticket_view`): a check-in inserts its ticket and gives its place;
a call takes its turn, reads the waiting tickets, checks its dock and calls the first truck in
order. On the same data in the same run:

- old:      the baseline, as before issue 21: a call takes its turn with `SELECT * … WHERE
            site_id = $1 AND status = 'waiting' FOR UPDATE` (a row lock on every waiting ticket),
            a check-in's place is computed from the whole board (`service._yard`);
- advisory: the gate until session 19: a call takes `LOCK_SITE_CALLS` (a per-site advisory
            lock held to its commit) and reads the waiting tickets without locks; a check-in's
            place comes from the order keys of the yard;
- skip:     the first ticket in queue order by SQL, `FOR UPDATE SKIP LOCKED LIMIT 1`, and nothing
            else: calls do not take turns at all, and the order holds only "usually" (a call that
            passed over a truck whose call then failed has called past the head);
- head:     the gate of sessions 19-21 (`CLAIM_HEAD`): the site's waiting tickets sorted in one
            statement, the head claimed by a conditional UPDATE; calls that chose the same truck
            wait for each other, the losers run again in a new transaction;
- claim:    what the gate does now (`service.claim_next`): as `head`, but the head is the first
            entry of a queue-order index (migration 0023) that passes the call's filters, not the
            first of a sort. Check-ins from `head` on: `ticket_view`.

Prints check-ins/s with check-in p50/p99, calls/s with call p50/p99 and the docks' sessions'
PostgreSQL CPU per truck called, for each. No HTTP: what differs is in the database and the
service; the HTTP path is measured by `dispatch simulate`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from bench.common import PASSWORD, database, fresh_database, percentiles, square
from dispatch.accounts import service as accounts
from dispatch.accounts.passwords import Passwords
from dispatch.db import Conn
from dispatch.db.pool import create_pool
from dispatch.errors import Conflict
from dispatch.gate import queries, service
from dispatch.gate import queue as q
from dispatch.gate.notifications import in_sql
from dispatch.procfs import cpu_seconds_of
from dispatch.realtime.broker import PgBroker

TOLERANCE = timedelta(minutes=15)

# The old way, kept here as the baseline.
ROWS_FOR_UPDATE = "SELECT * FROM queue_tickets WHERE site_id = $1 AND status = 'waiting' FOR UPDATE"

# The advisory way (the gate from issue 21 until session 19), kept here beside it: a call checks its
# dock, takes the site's turn (held to its commit), reads the waiting tickets and orders them here.
DOCK_BUSY = """
SELECT EXISTS (SELECT 1 FROM queue_tickets
               WHERE dock_id = $1 AND status IN ('called', 'loading', 'loaded'))"""
LOCK_SITE_CALLS = "SELECT pg_advisory_xact_lock(hashtextextended('gate calls:' || $1::uuid::text, 0))"
SITE_WAITING = """
SELECT id, arrived_at, slot_start, vehicle_type FROM queue_tickets
WHERE site_id = $1 AND status = 'waiting'"""
CALL = """
UPDATE queue_tickets SET status = 'called', dock_id = $2, called_at = clock_timestamp()
WHERE id = $1 AND status = 'waiting'"""
# ... and a check-in's place came from the order keys of the yard's tickets, sorted here.
SITE_QUEUE_KEYS = """
SELECT id, status, arrived_at, slot_start, vehicle_type, called_at FROM queue_tickets
WHERE site_id = $1 AND status <> 'departed'"""

# The queue's order (dispatch/gate/queue.py) in SQL: on time with the slot begun, by slot start; then
# late and walk-ins, by arrival; early ones not callable. $2: the late tolerance; $3: the dock's types.
NEXT_SKIP_LOCKED = """
SELECT id FROM queue_tickets
WHERE site_id = $1 AND status = 'waiting'
  AND NOT (slot_start IS NOT NULL AND arrived_at <= slot_start + $2 AND clock_timestamp() < slot_start)
  AND (cardinality($3::text[]) = 0 OR vehicle_type = ANY($3::text[]))
ORDER BY slot_start IS NULL OR arrived_at > slot_start + $2,
         CASE WHEN slot_start IS NOT NULL AND arrived_at <= slot_start + $2 THEN slot_start
              ELSE arrived_at END,
         arrived_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED"""

# The claim of sessions 19-21 (dispatch/gate/README.md), kept here beside what calls do now: every
# waiting ticket of the site sorted in the statement, the head claimed by a conditional UPDATE; a
# call that chose the same truck as one not yet committed waits for it, and runs again in a new
# transaction when that one committed. Now the head comes from the queue-order indexes.
CLAIM_HEAD = f"""
WITH {queries._RULES},
site AS (SELECT id FROM sites WHERE id = $1 AND org_id = $4),
dock AS (
    SELECT d.id, d.name, d.vehicle_types,
           EXISTS (SELECT 1 FROM queue_tickets b
                   WHERE b.dock_id = d.id AND b.status IN ('called', 'loading', 'loaded')) AS busy
    FROM docks d JOIN site ON site.id = d.site_id WHERE d.id = $3 AND d.active
),
head AS (
    SELECT w.id FROM queue_tickets w, rules, dock
    WHERE w.site_id = $1 AND w.status = 'waiting' AND NOT dock.busy AND {queries._group("w")} <> 2
      AND (cardinality(dock.vehicle_types) = 0 OR w.vehicle_type = ANY (dock.vehicle_types))
    ORDER BY {queries._order_key("w")}
    LIMIT 1
),
called AS (
    UPDATE queue_tickets t SET status = 'called', dock_id = $3, called_at = clock_timestamp()
    WHERE t.id = (SELECT id FROM head) AND t.status = 'waiting'
    RETURNING t.*
)
SELECT site.id IS NOT NULL AS site_found, dock.name AS dock_name, dock.busy AS dock_busy,
       head.id AS head_id, c.*, v.plate_display AS plate, u.name AS driver_name, l.driver_user_id,
       l.carrier_org_id, l.job_id, l.seq, j.reference AS job_reference, s.name AS site_name,
       (SELECT count(*) FROM (SELECT pg_notify($5, '{{}}') FROM called WHERE $5::text IS NOT NULL) n)
       AS notified
FROM (SELECT 1) one
LEFT JOIN site ON true LEFT JOIN dock ON true LEFT JOIN head ON true LEFT JOIN called c ON true
LEFT JOIN loads l ON l.id = c.load_id
LEFT JOIN jobs j ON j.id = l.job_id
LEFT JOIN sites s ON s.id = c.site_id
LEFT JOIN vehicles v ON v.id = l.vehicle_id
LEFT JOIN users u ON u.id = l.driver_user_id"""  # noqa: S608 - constants only

LEAVE = "UPDATE queue_tickets SET status = 'departed', departed_at = clock_timestamp() WHERE id = $1"


async def _site(pool: asyncpg.Pool, trucks: int, docks: int) -> tuple[UUID, list[UUID], list[UUID]]:
    """A mill with a site and its docks, a carrier's job of `trucks` loads (planned: no driver is
    needed to hold a ticket); the site, its docks and the loads."""
    passwords = Passwords(time_cost=1, memory_kib=1024)
    orgs = []
    for name, party in (("Mill", "shipper"), ("Haulers", "carrier")):
        org, _ = await accounts.create_organization(
            pool,
            passwords,
            name=name,
            parties=[party],  # type: ignore[list-item]
            admin_email=f"admin@{name.lower()}.bench",
            admin_name=name,
            admin_password=PASSWORD,
        )
        orgs.append(org.id)
    mill, carrier = orgs
    lon, lat = 13.405, 52.52
    async with pool.acquire() as conn, conn.transaction():
        site = await conn.fetchval(
            "INSERT INTO sites (org_id, name, address, lon, lat, geofence, timezone)"
            " VALUES ($1, 'Mill', 'Berlin', $2, $3, $4, 'Europe/Berlin') RETURNING id",
            mill,
            lon,
            lat,
            square(lon, lat),
        )
        dock_ids = [
            await conn.fetchval(
                "INSERT INTO docks (site_id, name) VALUES ($1, $2) RETURNING id", site, f"Dock {i + 1}"
            )
            for i in range(docks)
        ]
        now = datetime.now(UTC)
        job = await conn.fetchval(
            """INSERT INTO jobs (poster_org_id, shipper_org_id, goods_owner, origin_site_id, origin_lon,
                   origin_lat, destination_address, destination_lon, destination_lat, destination_geofence,
                   distance_m, cargo_kind, cargo, total_weight_kg, total_volume_m3, vehicle_type,
                   pickup_from, pickup_until, deliver_by, mode, currency, price_minor, deadline, status,
                   carrier_org_id, award_price_minor, awarded_at)
               VALUES ($1, $1, 'shipper', $2, $3, $4, 'Hamburg', 9.99, 53.55, $5, 255000, 'bulk',
                   '{"kind": "bulk", "description": "grain"}', $6, $6, 'flatbed', $7, $8, $9, 'grab',
                   'EUR', 100000, $7, 'dispatched', $10, 100000, $7)
               RETURNING id""",
            mill,
            site,
            lon,
            lat,
            square(9.99, 53.55),
            24_000.0 * trucks,
            now,
            now + timedelta(hours=30),
            now + timedelta(hours=60),
            carrier,
        )
        vehicle = await conn.fetchval(
            "INSERT INTO vehicles (org_id, plate, plate_display, vehicle_type, capacity_kg, capacity_m3)"
            " VALUES ($1, 'BGT1', 'B-GT 1', 'flatbed', 25000, 90) RETURNING id",
            carrier,
        )
        loads = await conn.fetch(
            """INSERT INTO loads (job_id, carrier_org_id, seq, vehicle_id, trip, bulk_kg, weight_kg,
                   volume_m3, pickup_window)
               SELECT $1, $2, n, $3, n, 24000, 24000, 30, tstzrange($4, $5)
               FROM generate_series(1, $6) n ORDER BY n RETURNING id""",
            job,
            carrier,
            vehicle,
            now,
            now + timedelta(hours=30),
            trucks,
        )
    return site, dock_ids, [r["id"] for r in loads]


async def _ticket(conn: Conn, site: UUID, load: UUID) -> UUID:
    ticket: UUID = await conn.fetchval(
        queries.INSERT_TICKET, site, load, None, None, datetime.now(UTC), "walk_in", "staff", "flatbed"
    )
    return ticket


async def check_in_old(conn: Conn, site: UUID, load: UUID) -> None:
    """What `_admit` did to the queue: the ticket, then its place out of the whole board."""
    async with conn.transaction():
        ticket = await _ticket(conn, site, load)
        waiting, _ = await service._yard(conn, site)
        next(t for t in waiting if t.id == ticket)


async def check_in_keys(conn: Conn, site: UUID, load: UUID) -> None:
    """What `_admit` did until session 19: the ticket, then its place from the yard's order keys."""
    async with conn.transaction():
        ticket = await _ticket(conn, site, load)
        await conn.fetchrow(queries.TICKET, ticket)
        keys = await conn.fetch(SITE_QUEUE_KEYS, site)
        next(place for t, place in await service._places(conn, site, keys) if t.id == ticket)


async def check_in_now(conn: Conn, site: UUID, load: UUID) -> None:
    """What `_admit` does to the queue now: the ticket, then `ticket_view` (one statement)."""
    async with conn.transaction():
        await service.ticket_view(conn, await _ticket(conn, site, load))


async def _call_in_order(conn: Conn, site: UUID, dock: UUID, rows: list[asyncpg.Record]) -> UUID | None:
    now = datetime.now(UTC)
    ordered = q.order(
        [q.Waiting(r["id"], r["arrived_at"], r["slot_start"], r["vehicle_type"]) for r in rows],
        now,
        TOLERANCE,
    )
    chosen = next((t.id for t in ordered if q.callable_now(t, now, TOLERANCE)), None)
    if chosen is not None:
        await conn.execute(CALL, chosen, dock)
    return chosen


async def call_rows(conn: Conn, site: UUID, dock: UUID) -> UUID | None:
    """The old `call_next`: every waiting ticket locked, then the dock and the rules."""
    async with conn.transaction():
        rows = await conn.fetch(ROWS_FOR_UPDATE, site)
        if await conn.fetchval(DOCK_BUSY, dock):
            return None
        await conn.fetchrow(queries.CALENDAR, site)
        return await _call_in_order(conn, site, dock, rows)


async def call_advisory(conn: Conn, site: UUID, dock: UUID) -> UUID | None:
    """`call_next` now: the dock and the rules, then the site's turn and a plain read."""
    async with conn.transaction():
        if await conn.fetchval(DOCK_BUSY, dock):
            return None
        await conn.fetchrow(queries.CALENDAR, site)
        await conn.execute(LOCK_SITE_CALLS, site)
        return await _call_in_order(conn, site, dock, await conn.fetch(SITE_WAITING, site))


async def call_skip_locked(conn: Conn, site: UUID, dock: UUID) -> UUID | None:
    async with conn.transaction():
        if await conn.fetchval(DOCK_BUSY, dock):
            return None
        await conn.fetchrow(queries.CALENDAR, site)
        chosen: UUID | None = await conn.fetchval(NEXT_SKIP_LOCKED, site, TOLERANCE, [])
        if chosen is not None:
            await conn.execute(CALL, chosen, dock)
        return chosen


_ORGS: dict[UUID, UUID] = {}  # the site's organization (a call names it), read once
_BROKER = PgBroker("")  # the app's broker publishes on the caller's connection (pg_notify); never started


async def call_claim(conn: Conn, site: UUID, dock: UUID) -> UUID | None:
    """`call_next` now: `service.claim_next`, one statement that checks the dock, finds the head
    through the queue-order indexes and claims it by a conditional UPDATE (no lock of the site's; a
    new transaction when a call that chose the same truck committed first)."""
    if site not in _ORGS:
        _ORGS[site] = await conn.fetchval("SELECT org_id FROM sites WHERE id = $1", site)
    while True:
        async with conn.transaction():
            try:
                row = await service.claim_next(conn, _BROKER, site, dock, _ORGS[site])
            except Conflict as e:
                if e.code != "queue_empty":
                    raise
                return None
            if row is not None:
                chosen: UUID = row["id"]
                return chosen


async def call_claim_head(conn: Conn, site: UUID, dock: UUID) -> UUID | None:
    """`call_next` of sessions 19-21: CLAIM_HEAD, again in a new transaction after a lost race."""
    if site not in _ORGS:
        _ORGS[site] = await conn.fetchval("SELECT org_id FROM sites WHERE id = $1", site)
    while True:
        async with conn.transaction():
            row = await conn.fetchrow(
                CLAIM_HEAD, site, datetime.now(UTC), dock, _ORGS[site], in_sql(_BROKER, site)
            )
            assert row is not None
            if row["head_id"] is None or row["dock_busy"]:
                return None
            if row["id"] is not None:
                chosen: UUID = row["id"]
                return chosen


Call = Callable[[Conn, UUID, UUID], Awaitable[UUID | None]]
CheckIn = Callable[[Conn, UUID, UUID], Awaitable[None]]


async def run(
    pool: asyncpg.Pool,
    docks: list[tuple[UUID, Conn]],
    way: tuple[str, CheckIn, Call],
    site: UUID,
    loads: list[UUID],
    waiting: int,
) -> None:
    name, check_in, call = way
    await pool.execute("DELETE FROM queue_tickets WHERE site_id = $1", site)
    start = datetime.now(UTC) - timedelta(hours=1)
    await pool.executemany(
        queries.INSERT_TICKET,
        [
            (site, load, None, None, start + timedelta(seconds=i), "walk_in", "staff", "flatbed")
            for i, load in enumerate(loads[:waiting])
        ],
    )
    await pool.execute("VACUUM ANALYZE queue_tickets")
    arriving = loads[waiting:]
    check_in_s: list[float] = []
    call_s: list[float] = []
    called: list[UUID] = []
    done = asyncio.Event()

    async def one_check_in(load: UUID) -> None:
        t = time.perf_counter()
        async with pool.acquire() as conn:
            await check_in(conn, site, load)
        check_in_s.append(time.perf_counter() - t)

    async def dock_loop(dock: UUID, conn: Conn) -> None:
        while not done.is_set():
            t = time.perf_counter()
            chosen = await call(conn, site, dock)
            call_s.append(time.perf_counter() - t)
            if chosen is None:
                await asyncio.sleep(0.01)  # an empty queue: not a busy loop
            else:
                called.append(chosen)
                await conn.execute(LEAVE, chosen)

    # The docks' sessions' CPU (their calls, and each truck leaving: the same for every way).
    backends = [await conn.fetchval("SELECT pg_backend_pid()") for _, conn in docks]
    cpu0 = sum(cpu_seconds_of(pid) for pid in backends)
    docking = [asyncio.create_task(dock_loop(dock, conn)) for dock, conn in docks]
    t0 = time.perf_counter()
    await asyncio.gather(*(one_check_in(load) for load in arriving))
    elapsed = time.perf_counter() - t0
    done.set()
    await asyncio.gather(*docking)
    calls_cpu_ms = 1000 * (sum(cpu_seconds_of(pid) for pid in backends) - cpu0) / max(len(called), 1)
    print(
        f"{name:9} {len(arriving) / elapsed:8.0f} check-ins/s  check-in {percentiles(check_in_s)}\n"
        f"{'':9} {len(call_s) / elapsed:8.0f} calls/s      call     {percentiles(call_s)}  "
        f"PostgreSQL {calls_cpu_ms:.2f} ms CPU a truck called",
        flush=True,
    )


WAYS: list[tuple[str, CheckIn, Call]] = [
    ("old", check_in_old, call_rows),
    ("advisory", check_in_keys, call_advisory),
    ("skip", check_in_keys, call_skip_locked),
    ("head", check_in_now, call_claim_head),
    ("claim", check_in_now, call_claim),
]


async def main(args: argparse.Namespace) -> None:
    with database() as admin_dsn:
        dsn = await fresh_database(admin_dsn)
        pool = await create_pool(dsn, min_size=args.connections, max_size=args.connections)
        docks_pool = await create_pool(dsn, min_size=args.docks, max_size=args.docks)
        try:
            site, dock_ids, loads = await _site(pool, args.waiting + args.check_ins, args.docks)
            conns = [await docks_pool.acquire() for _ in dock_ids]
            print(
                f"gate: {args.waiting} trucks waiting at one site, {args.check_ins} check-ins at once over "
                f"{args.connections} connections, {args.docks} docks calling (a connection each); "
                f"{os.cpu_count()} cores; the baseline (old) in the same run"
            )
            for _ in range(args.repeat):
                for way in (w for w in WAYS if w[0] in args.ways.split(",")):
                    await run(pool, list(zip(dock_ids, conns, strict=True)), way, site, loads, args.waiting)
            for conn in conns:
                await docks_pool.release(conn)
        finally:
            await pool.close()
            await docks_pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--waiting", type=int, default=400)
    parser.add_argument("--check-ins", type=int, default=800)
    parser.add_argument("--docks", type=int, default=20)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the ways, interleaved")
    parser.add_argument(
        "--ways", default=",".join(w[0] for w in WAYS), help="which ways, comma-separated (default: all)"
    )
    asyncio.run(main(parser.parse_args()))
