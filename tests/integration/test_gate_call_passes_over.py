"""Calls at once take the first and the second truck; a call's claim stands only once the truck it
passed over is gone (dispatch/gate/README.md "Calls claim the head of the queue"). Two real
connections race: the first call holds the head in its open transaction while the second calls."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.db.pool import create_pool
from dispatch.gate import service
from dispatch.realtime.broker import PgBroker
from tests.gate_support import dispatched_loads

BROKER = PgBroker("")  # publishes in SQL (pg_notify in the call's statement); never started


async def _yard(client, settings, db, trucks: int) -> tuple[UUID, UUID, list[UUID], list[UUID]]:
    """A site with two docks and `trucks` walk-ins waiting, in arrival order: site, org, docks, tickets."""
    w = await dispatched_loads(client, settings, loads=trucks, docks=2, places=2)
    site = UUID(w["site"]["id"])
    org = await db.fetchval("SELECT org_id FROM sites WHERE id = $1", site)
    docks = [r["id"] for r in await db.fetch("SELECT id FROM docks WHERE site_id = $1 ORDER BY name", site)]
    start = datetime.now(UTC) - timedelta(hours=1)
    tickets = [
        await db.fetchval(
            "INSERT INTO queue_tickets (site_id, load_id, arrived_at, arrival, checked_in_by, vehicle_type)"
            " VALUES ($1, $2, $3, 'walk_in', 'staff', 'flatbed') RETURNING id",
            site,
            UUID(load["id"]),
            start + timedelta(minutes=i),
        )
        for i, load in enumerate(w["loads"])
    ]
    return site, org, docks, tickets


async def _until_waiting_for_a_lock(db, pid: int) -> None:
    """Until the database session `pid` waits for a lock (held by the call holding the head)."""
    query = "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1"
    while await db.fetchval(query, pid) != "Lock":  # noqa: ASYNC110 - the database's state, polled
        await asyncio.sleep(0.02)


async def test_a_call_takes_the_second_truck_while_the_head_is_held_and_stands_once_that_call_commits(
    client, settings, db, database_url
):
    site, org, docks, tickets = await _yard(client, settings, db, trucks=3)
    first = await asyncpg.connect(database_url)
    second = await asyncpg.connect(database_url)
    try:
        holding = first.transaction()
        await holding.start()
        head = await service.claim_next(first, BROKER, site, docks[0], org)
        assert head["id"] == tickets[0]

        async def call_second() -> UUID:
            async with second.transaction():
                row = await service.claim_next(second, BROKER, site, docks[1], org)
                chosen: UUID = row["id"]
                return chosen

        calling = asyncio.create_task(call_second())
        await _until_waiting_for_a_lock(
            db, second.get_server_pid()
        )  # it passed over the head and waits for its call
        await holding.commit()
        assert await calling == tickets[1]
    finally:
        await first.close()
        await second.close()
    called = await db.fetch(
        "SELECT id, dock_id FROM queue_tickets WHERE status = 'called' ORDER BY arrived_at"
    )
    assert [(r["id"], r["dock_id"]) for r in called] == [(tickets[0], docks[0]), (tickets[1], docks[1])]


async def test_a_call_that_passed_over_a_truck_whose_call_rolled_back_calls_that_truck(
    client, settings, db, database_url
):
    site, org, docks, tickets = await _yard(client, settings, db, trucks=3)
    staff = Principal(kind="user", org_id=org, user_id=None, credential_id=None, permissions=frozenset())
    first = await asyncpg.connect(database_url)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        holding = first.transaction()
        await holding.start()
        assert (await service.claim_next(first, BROKER, site, docks[0], org))["id"] == tickets[0]
        async with pool.acquire() as conn:
            second_pid = conn.get_server_pid()
        calling = asyncio.create_task(service.call_next(pool, BROKER, staff, site, docks[1]))
        await _until_waiting_for_a_lock(db, second_pid)
        await holding.rollback()  # the head's call ends without it: the head is still waiting
        ticket = await calling
    finally:
        await first.close()
        await pool.close()
    assert ticket.id == tickets[0]
    assert ticket.dock is not None and ticket.dock.id == docks[1]
    rows = await db.fetch("SELECT id, status, dock_id FROM queue_tickets ORDER BY arrived_at")
    assert [(r["id"], r["status"], r["dock_id"]) for r in rows] == [
        (tickets[0], "called", docks[1]),
        (tickets[1], "waiting", None),
        (tickets[2], "waiting", None),
    ]
