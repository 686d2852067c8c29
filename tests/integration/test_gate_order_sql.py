"""The queue's order in SQL (a call's choice, a ticket's place) is the order of dispatch/gate/queue.py."""

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

from dispatch.errors import Conflict
from dispatch.gate import queue as q
from dispatch.gate import service
from dispatch.realtime.broker import PgBroker
from tests.gate_support import dispatched_loads

TOLERANCE = timedelta(minutes=15)  # the calendar's of gate_support


async def test_calls_and_places_follow_the_queue_order_of_queue_py(client, settings, db):
    w = await dispatched_loads(client, settings, loads=14, docks=2, places=2)
    site = UUID(w["site"]["id"])
    org = await db.fetchval("SELECT org_id FROM sites WHERE id = $1", site)
    docks = [r["id"] for r in await db.fetch("SELECT id FROM docks WHERE site_id = $1 ORDER BY name", site)]
    # Dock 2 serves tankers only; Dock 1 every truck.
    await db.execute("UPDATE docks SET vehicle_types = '{tanker}' WHERE id = $1", docks[1])
    types = {docks[0]: None, docks[1]: "tanker"}

    # Tickets of every kind, in the yard at once: on time (slot begun), late, walk-in, early (slot
    # ahead); some arriving at the same instant (then their ids decide); slots well away from now.
    rng = random.Random(21)
    now = datetime.now(UTC)
    slots = [None, None, now - timedelta(minutes=50), now - timedelta(minutes=20), now - timedelta(minutes=5)]
    slots += [now + timedelta(minutes=10), now + timedelta(minutes=40)]
    waiting = []
    for load in w["loads"]:
        slot = rng.choice(slots)
        arrived = now - timedelta(minutes=rng.choice([1, 10, 30, 30, 45, 60]))
        vehicle_type = rng.choice(["flatbed", "tanker"])
        ticket = await db.fetchval(
            "INSERT INTO queue_tickets (site_id, load_id, slot_start, arrived_at, arrival, checked_in_by,"
            " vehicle_type) VALUES ($1, $2, $3, $4, 'walk_in', 'staff', $5) RETURNING id",
            site,
            UUID(load["id"]),
            slot,
            arrived,
            vehicle_type,
        )
        waiting.append(q.Waiting(ticket, arrived, slot, vehicle_type))
    ordered = q.order(waiting, now, TOLERANCE)
    assert {q.group(t, now, TOLERANCE) for t in ordered} == {0, 1, 2}

    # Every ticket's place.
    for position, t in enumerate(ordered, start=1):
        view = await service.ticket_view(db, t.id)
        assert (view.position, view.waiting_for_slot) == (position, not q.callable_now(t, now, TOLERANCE))

    # The docks call (each truck leaves at once) until nobody callable is left for either.
    called = []
    left = list(ordered)
    for dock in [docks[rng.randrange(2)] for _ in range(40)]:
        expected = next(
            (t for t in left if q.callable_now(t, now, TOLERANCE) and types[dock] in (None, t.vehicle_type)),
            None,
        )
        async with db.transaction():
            try:
                row = await service.claim_next(db, PgBroker(""), site, dock, org)
                assert row is not None  # no other call here: it is never lost
                chosen = row["id"]
            except Conflict as e:
                assert e.code == "queue_empty"
                chosen = None
        assert chosen == (expected.id if expected else None)
        if expected is not None:
            left.remove(expected)
            called.append(chosen)
            await db.execute("UPDATE queue_tickets SET status = 'departed' WHERE id = $1", chosen)
    assert called and all(not q.callable_now(t, now, TOLERANCE) for t in left)
