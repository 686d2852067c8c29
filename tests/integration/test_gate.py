"""Slots, bookings, check-in, the queue and its order, docks, departure, no-shows, idempotency."""

import asyncio
import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest

from dispatch.gate import queries as gate_queries
from tests.gate_support import dispatched_loads, next_slot
from tests.market_support import BERLIN
from tests.support import problem

INSIDE = {"lat": BERLIN[1], "lon": BERLIN[0]}


async def _book(client, load, slot, key=None):
    headers = load["device"] | ({"Idempotency-Key": key} if key else {})
    return await client.put(
        f"/driver/v1/loads/{load['id']}/booking", headers=headers, json={"slot_start": slot.isoformat()}
    )


async def _check_in(client, load, position=INSIDE, accuracy=5.0, key=None):
    headers = load["device"] | ({"Idempotency-Key": key} if key else {})
    return await client.post(
        f"/driver/v1/loads/{load['id']}/check-in",
        headers=headers,
        json={"position": position, "accuracy_m": accuracy},
    )


async def test_slots_bookings_reschedule_and_cancel(client, settings, db):
    w = await dispatched_loads(client, settings, loads=3, places=2)
    a, b, c = w["loads"]
    slots = (await client.get(f"/driver/v1/loads/{a['id']}/slots", headers=a["device"])).json()
    first = datetime.fromisoformat(slots[0]["start"])
    assert slots[0]["places"] == 2 and slots[0]["free"] == 2 and first >= datetime.now(UTC)
    assert (await _book(client, a, first)).status_code == 200
    assert (await _book(client, b, first)).status_code == 200
    problem(await _book(client, c, first), 409, "slot_full")
    listed = (await client.get(f"/driver/v1/loads/{c['id']}/slots", headers=c["device"])).json()
    assert first.isoformat() not in [s["start"] for s in listed]  # full slots are not offered
    # Rescheduling releases the old place; cancelling releases the new one.
    later = first + timedelta(minutes=30)
    moved = (await _book(client, b, later)).json()
    assert moved["slot_start"] == later.isoformat().replace("+00:00", "Z")
    assert (await _book(client, c, first)).status_code == 200
    r = await client.delete(f"/driver/v1/loads/{b['id']}/booking", headers=b["device"])
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    usage = {
        r["slot_start"]: r["booked"] for r in await db.fetch("SELECT slot_start, booked FROM slot_usage")
    }
    assert usage == {first: 2, later: 0}
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", UUID(b["id"])) == "assigned"
    # Another driver's load is not yours to book.
    problem(await _book(client, b | {"id": a["id"]}, later), 404, "load_not_found")
    problem(await _book(client, a, first + timedelta(minutes=7)), 422, "no_such_slot")


async def test_changes_after_the_cutoff_are_refused(client, settings, db):
    w = await dispatched_loads(client, settings, loads=1)
    [a] = w["loads"]
    slot = next_slot(ahead=2)
    assert (await _book(client, a, slot)).status_code == 200
    await db.execute("UPDATE site_calendars SET cutoff_minutes = 24 * 60")
    problem(
        await client.delete(f"/driver/v1/loads/{a['id']}/booking", headers=a["device"]), 409, "past_cutoff"
    )
    problem(await _book(client, a, slot + timedelta(minutes=30)), 409, "past_cutoff")


async def test_check_in_needs_the_phone_inside_the_geofence(client, settings, db):
    w = await dispatched_loads(client, settings, loads=1)
    [a] = w["loads"]
    far = {"lat": BERLIN[1] + 0.05, "lon": BERLIN[0]}  # about 5.1 km north
    body = problem(await _check_in(client, a, far), 422, "outside_geofence")
    assert 4_800 < body["distance_m"] < 5_400 and "m outside" in body["detail"]
    near = {"lat": BERLIN[1] + 0.0045, "lon": BERLIN[0]}  # ~56 m outside the fence
    problem(await _check_in(client, a, near, accuracy=10), 422, "outside_geofence")
    assert await db.fetchval("SELECT count(*) FROM queue_tickets") == 0
    r = await _check_in(client, a, near, accuracy=100)  # the accuracy circle reaches the fence
    assert r.status_code == 201, r.text
    assert r.json()["arrival"] == "walk_in" and r.json()["position"] == 1
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", UUID(a["id"])) == "at_gate"


async def test_staff_check_in_by_code_refuses_wrong_plate_revoked_and_expired(client, settings, db):
    w = await dispatched_loads(client, settings, loads=2)
    a, b = w["loads"]
    staff, site = w["staff"], w["site"]

    async def scan(load, plate):
        return await client.post(
            "/gate/check-in",
            headers=staff.headers,
            json={"site_id": site["id"], "code": load["pickup_code"], "plate": plate},
        )

    problem(await scan(a, "HH-XX 1"), 422, "code_wrong_plate")
    await db.execute(
        "UPDATE pickup_authorizations SET valid_until = now() - interval '1 minute', "
        "valid_from = now() - interval '1 day'"
    )  # as if the authorization ran out
    problem(await scan(a, a["vehicle"]["plate"]), 422, "code_expired")
    await db.execute(
        "UPDATE pickup_authorizations SET valid_until = now() + interval '1 day', revoked_at = now()"
    )
    problem(await scan(a, a["vehicle"]["plate"]), 422, "code_revoked")
    await db.execute("UPDATE pickup_authorizations SET revoked_at = NULL")
    r = await scan(a, a["vehicle"]["plate"].lower())
    assert r.status_code == 201 and r.json()["load_id"] == a["id"]
    problem(await scan(a, a["vehicle"]["plate"]), 409, "load_not_expected")  # already in the yard
    assert b


async def test_queue_order_calls_across_docks_and_estimated_waits(client, settings, db):
    w = await dispatched_loads(client, settings, loads=4, docks=2, places=2)
    on_time, early, late, walk_in = w["loads"]
    slot = next_slot(ahead=2)
    assert (await _book(client, early, slot)).status_code == 200
    for load in (on_time, late):  # both moved to the past below
        assert (await _book(client, load, slot + timedelta(minutes=30))).status_code == 200
    # Arrange the clock's effects by moving bookings: on_time's slot began 5 minutes ago, late's
    # slot began 40 minutes ago (past the 15 minutes' late tolerance, but ended within the 30
    # minutes' no-show grace: the no-show loop, running in this app, must not release it first);
    # early's is still ahead.
    await db.execute(
        "UPDATE slot_bookings SET slot_start = now() - interval '5 minutes', "
        "slot_end = now() + interval '25 minutes' WHERE load_id = $1",
        UUID(on_time["id"]),
    )
    await db.execute(
        "UPDATE slot_bookings SET slot_start = now() - interval '40 minutes', "
        "slot_end = now() - interval '10 minutes' WHERE load_id = $1",
        UUID(late["id"]),
    )
    # They arrive in the worst order: walk-in, late, early, on time.
    arrivals = {}
    for load in (walk_in, late, early, on_time):
        r = await _check_in(client, load)
        assert r.status_code == 201, r.text
        arrivals[load["id"]] = r.json()["arrival"]
        await asyncio.sleep(0.01)
    assert [arrivals[x["id"]] for x in (on_time, early, late, walk_in)] == [
        "on_time",
        "early",
        "late",
        "walk_in",
    ]

    board = (await client.get(f"/gate/sites/{w['site']['id']}/board", headers=w["staff"].headers)).json()
    order = [t["load_id"] for t in board["waiting"]]
    assert order == [on_time["id"], walk_in["id"], late["id"], early["id"]]
    # Waits (2 docks, no service history yet: 30 min a truck): positions 1-2 now, 3 after one round,
    # and the early truck not before its slot.
    waits = [t["estimated_wait_minutes"] for t in board["waiting"]]
    until_slot = (slot - datetime.now(UTC)).total_seconds() / 60
    assert waits[:3] == [0, 0, 30] and abs(waits[3] - max(30, until_slot)) <= 1
    assert [t["waiting_for_slot"] for t in board["waiting"]] == [False, False, False, True]

    docks = {d["name"]: d["id"] for d in board["docks"]}

    async def call(dock):
        return await client.post(
            f"/gate/sites/{w['site']['id']}/call", headers=w["staff"].headers, json={"dock_id": docks[dock]}
        )

    first = (await call("Dock 1")).json()
    second = (await call("Dock 2")).json()
    assert (first["load_id"], first["dock"]["name"]) == (on_time["id"], "Dock 1")
    assert (second["load_id"], second["dock"]["name"]) == (walk_in["id"], "Dock 2")
    problem(await call("Dock 1"), 409, "dock_busy")
    # The driver's phone shows the dock; the next in line sees position 1 with a wait.
    mine = (await client.get(f"/driver/v1/loads/{on_time['id']}/ticket", headers=on_time["device"])).json()
    assert mine["status"] == "called" and mine["dock"]["name"] == "Dock 1"
    waiting = (await client.get(f"/driver/v1/loads/{late['id']}/ticket", headers=late["device"])).json()
    assert waiting["position"] == 1 and 25 <= waiting["estimated_wait_minutes"] <= 30

    # Loading, loaded, departure; then Dock 1 takes the late truck; the early one still waits.
    t = first["id"]
    problem(
        await client.post(f"/driver/v1/loads/{on_time['id']}/depart", headers=on_time["device"]),
        409,
        "not_loaded",
    )
    assert (await client.post(f"/gate/tickets/{t}/loading", headers=w["staff"].headers)).json()[
        "status"
    ] == "loading"
    assert (await client.post(f"/gate/tickets/{t}/loaded", headers=w["staff"].headers)).json()[
        "status"
    ] == "loaded"
    r = await client.post(f"/driver/v1/loads/{on_time['id']}/depart", headers=on_time["device"])
    assert r.status_code == 200 and r.json()["status"] == "departed"
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", UUID(on_time["id"])) == "in_transit"
    assert (await call("Dock 1")).json()["load_id"] == late["id"]
    problem(await call("Dock 1"), 409, "dock_busy")


async def test_idempotent_booking_and_check_in(client, settings, db):
    w = await dispatched_loads(client, settings, loads=1)
    [a] = w["loads"]
    slot = next_slot(ahead=2)
    key = str(uuid4())
    first = await _book(client, a, slot, key=key)
    again = await _book(client, a, slot, key=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers["idempotency-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM slot_bookings") == 1
    assert await db.fetchval("SELECT booked FROM slot_usage") == 1
    problem(await _book(client, a, slot + timedelta(minutes=30), key=key), 422, "idempotency_key_reused")
    assert await db.fetchval("SELECT slot_start FROM slot_bookings") == slot

    # A refusal is an answer too: a retry with its key gets it again, replayed, not re-run.
    key = str(uuid4())
    far = {"lat": 50.0, "lon": 8.0}
    refused = await _check_in(client, a, far, key=key)
    replayed = await _check_in(client, a, far, key=key)
    assert refused.status_code == replayed.status_code == 422
    assert replayed.json() == refused.json() and replayed.headers["idempotency-replayed"] == "true"

    key = str(uuid4())
    first = await _check_in(client, a, key=key)
    again = await _check_in(client, a, key=key)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await db.fetchval("SELECT count(*) FROM queue_tickets") == 1


async def test_a_booking_nobody_shows_up_for_is_released(client, settings, db):
    w = await dispatched_loads(client, settings, loads=1, grace=10)
    [a] = w["loads"]
    slot = next_slot(ahead=2)
    assert (await _book(client, a, slot)).status_code == 200
    # As if the slot ended 11 minutes ago: past its end plus the 10-minute grace.
    past = datetime.now(UTC) - timedelta(minutes=41)
    await db.execute(
        "UPDATE slot_bookings SET slot_start = $1::timestamptz, "
        "slot_end = $1::timestamptz + interval '30 minutes'",
        past,
    )
    await db.execute("UPDATE slot_usage SET slot_start = $1", past)
    deadline = time.monotonic() + 15
    while await db.fetchval("SELECT status FROM slot_bookings") != "no_show":
        assert time.monotonic() < deadline, "the no-show loop never released the booking"
        await asyncio.sleep(0.1)
    assert await db.fetchval("SELECT booked FROM slot_usage") == 0
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", UUID(a["id"])) == "assigned"
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'booking.no_show'") == 1


async def test_the_no_show_loop_passes_over_a_booking_whose_load_a_check_in_holds(client, settings, db):
    """A check-in locks the load, then checks its booking in; the no-show claim must not take the
    booking and then wait for the load (the opposite order: a deadlock when a truck checks in as its
    booking lapses)."""
    w = await dispatched_loads(client, settings, loads=1, grace=10)
    [a] = w["loads"]
    assert (await _book(client, a, next_slot(ahead=2))).status_code == 200
    check_in = await asyncpg.connect(settings.database_url)
    loop = await asyncpg.connect(settings.database_url)
    try:
        async with check_in.transaction():
            await check_in.execute("SELECT 1 FROM loads WHERE id = $1 FOR UPDATE", UUID(a["id"]))
            past = datetime.now(UTC) - timedelta(minutes=41)  # lapsed: slot end plus grace is past
            await db.execute(
                "UPDATE slot_bookings SET slot_start = $1::timestamptz, "
                "slot_end = $1::timestamptz + interval '30 minutes'",
                past,
            )
            # A round of the no-show loop: it does not claim the booking (nor wait for the load).
            async with loop.transaction():
                assert await loop.fetch(gate_queries.CLAIM_NO_SHOWS, 50) == []
            # The check-in goes on to its booking.
            await check_in.execute("UPDATE slot_bookings SET status = 'checked_in'")
    finally:
        await check_in.close()
        await loop.close()
    assert await db.fetchval("SELECT status FROM slot_bookings") == "checked_in"


@pytest.mark.server
async def test_50_drivers_race_for_the_last_5_places_through_two_workers(server_factory, settings, db):
    server = server_factory(workers=2)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120, limits=limits) as http:
        w = await dispatched_loads(http, settings, loads=53, docks=8, places=8)
        slot = next_slot(ahead=2)
        for load in w["loads"][:3]:  # 3 of the 8 places are taken already
            assert (await _book(http, load, slot)).status_code == 200
        racers = w["loads"][3:]
        answers = await asyncio.gather(*[_book(http, load, slot) for load in racers])
    codes = sorted(a.status_code for a in answers)
    assert codes.count(200) == 5 and codes.count(409) == 45, codes
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"slot_full"}
    assert await db.fetchval("SELECT booked FROM slot_usage WHERE slot_start = $1", slot) == 8
    assert (
        await db.fetchval(
            "SELECT count(*) FROM slot_bookings WHERE slot_start = $1 AND status = 'booked'", slot
        )
        == 8
    )


@pytest.mark.server
async def test_every_dock_called_twice_at_once_while_trucks_check_in_through_two_workers(
    server_factory, settings, db
):
    """Calls take the trucks in queue order, each truck once, each dock one truck, whatever else runs."""
    server = server_factory(workers=2)
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120, limits=limits) as http:
        w = await dispatched_loads(http, settings, loads=16, docks=6, places=6)
        site, staff = w["site"]["id"], w["staff"].headers
        first_ten, last_six = w["loads"][:10], w["loads"][10:]
        for load in first_ten:  # walk-ins, served by arrival
            assert (await _check_in(http, load)).status_code == 201
        docks = [
            d["id"] for d in (await http.get(f"/gate/sites/{site}/board", headers=staff)).json()["docks"]
        ]

        def call(dock):
            return http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": dock})

        # Every dock called twice at once, while six more trucks check in.
        answers = await asyncio.gather(
            *[call(dock) for dock in docks * 2], *[_check_in(http, load) for load in last_six]
        )
        calls, check_ins = answers[:12], answers[12:]
        assert [r.status_code for r in check_ins] == [201] * 6, [r.text for r in check_ins]
        assert sorted(r.status_code for r in calls) == [200] * 6 + [409] * 6, [r.text for r in calls]
        assert {r.json()["code"] for r in calls if r.status_code == 409} == {"dock_busy"}
        called = [r.json() for r in calls if r.status_code == 200]
        assert {t["dock"]["id"] for t in called} == set(docks)
        assert sorted(t["load_id"] for t in called) == sorted(load["id"] for load in first_ten[:6])

        board = (await http.get(f"/gate/sites/{site}/board", headers=staff)).json()
        waiting = [t["load_id"] for t in board["waiting"]]
        assert waiting[:4] == [load["id"] for load in first_ten[6:]]
        assert sorted(waiting[4:]) == sorted(load["id"] for load in last_six)
        assert [t["position"] for t in board["waiting"]] == list(range(1, 11))

        # The six leave; every dock called again at once: the next six in the board's order.
        for t in called:
            assert (await http.post(f"/gate/tickets/{t['id']}/loading", headers=staff)).status_code == 200
            assert (await http.post(f"/gate/tickets/{t['id']}/loaded", headers=staff)).status_code == 200
            load = next(x for x in w["loads"] if x["id"] == t["load_id"])
            r = await http.post(f"/driver/v1/loads/{load['id']}/depart", headers=load["device"])
            assert r.status_code == 200, r.text
        again = await asyncio.gather(*[call(dock) for dock in docks])
        assert [r.status_code for r in again] == [200] * 6, [r.text for r in again]
        assert sorted(r.json()["load_id"] for r in again) == sorted(waiting[:6])
    assert await db.fetchval("SELECT count(*) FROM queue_tickets WHERE status = 'waiting'") == 4
