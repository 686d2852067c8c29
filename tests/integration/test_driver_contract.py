"""The driver app's contract in /driver/v1: what an assignment carries through the load's life, the
booking read back, the driver's messages (stored with the change that causes them, caught up
after), app versions, and what another driver's token does not get."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gate_support import ALL_DAY, dispatched_loads, next_slot
from tests.market_support import BERLIN, HAMBURG, create_site, iso, job_body, square
from tests.support import bootstrap_org, problem

pytestmark = pytest.mark.server

AT_GATE = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
# The fields the answer had before the contract grew: a platform Load's.
LOAD_FIELDS = {
    "id",
    "job_id",
    "seq",
    "status",
    "vehicle",
    "trip",
    "driver",
    "bulk_kg",
    "items",
    "weight_kg",
    "volume_m3",
    "pickup_from",
    "pickup_until",
    "pickup_code",
}


async def _assignment(http: httpx.AsyncClient, load: dict[str, Any]) -> dict[str, Any]:
    """The load as its driver's phone gets it, in the list and alone (the same)."""
    r = await http.get("/driver/v1/assignments", headers=load["device"])
    assert r.status_code == 200, r.text
    [listed] = [a for a in r.json() if a["id"] == load["id"]]
    r = await http.get(f"/driver/v1/assignments/{load['id']}", headers=load["device"])
    assert r.status_code == 200, r.text
    assert r.json() == listed
    return listed


async def _call_to_dock(http: httpx.AsyncClient, w: dict[str, Any], dock: int = 0) -> dict[str, Any]:
    site_id = w["site"]["id"]
    board = (await http.get(f"/gate/sites/{site_id}/board", headers=w["staff"].headers)).json()
    r = await http.post(
        f"/gate/sites/{site_id}/call",
        headers=w["staff"].headers,
        json={"dock_id": board["docks"][dock]["id"]},
    )
    assert r.status_code == 200, r.text
    return r.json()


def _z(at: datetime) -> str:
    """A time as the API writes it."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def _frame(ws: Any, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


async def test_an_assignment_carries_site_cargo_window_booking_and_state_through_the_gate(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
        yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
        w = await dispatched_loads(http, settings, loads=2, destination_site_id=yard["id"])
        mine, _other = w["loads"]
        site = w["site"]

        a = await _assignment(http, mine)
        # Everything the answer carried before, unchanged (what the carrier's own GET gives).
        platform = (await http.get(f"/loads/{mine['id']}", headers=w["carrier"].headers)).json()
        assert {k: a[k] for k in LOAD_FIELDS} == platform and a["pickup_code"]
        assert a["load_number"] == f"PO-4711/{mine['seq']}"
        assert a["cargo"] == {
            "kind": "items",
            "description": "1 × coil",  # noqa: RUF001 (the sign)
            "bulk_kg": None,
            "items": [{"line": 0, "description": "coil", "count": 1}],
            "weight_kg": 24_000.0,
            "volume_m3": 3.2,
        }
        assert a["pickup_site"] == {
            "id": site["id"],
            "name": "Mill gate 2-2",
            "address": "Werkstrasse 1, Berlin",
            "location": {"lat": BERLIN[1], "lon": BERLIN[0]},
            "geofence": site["geofence"],
            "timezone": "Europe/Berlin",
            "opening_hours": ALL_DAY,
        }
        assert a["destination"] == {
            "id": yard["id"],
            "name": "Buyer yard Hamburg",
            "address": yard["address"],
            "location": {"lat": HAMBURG[1], "lon": HAMBURG[0]},
        }
        assert a["pickup_window"] == {"from": mine["pickup_from"], "until": mine["pickup_until"]}
        assert (a["booking"], a["state"], a["dock"]) == (None, "assigned", None)
        problem(
            await http.get(f"/driver/v1/loads/{mine['id']}/booking", headers=mine["device"]),
            404,
            "booking_not_found",
        )

        slot = next_slot(ahead=2)
        r = await http.put(
            f"/driver/v1/loads/{mine['id']}/booking",
            headers=mine["device"],
            json={"slot_start": slot.isoformat()},
        )
        assert r.status_code == 200, r.text
        booked = r.json()
        read = await http.get(f"/driver/v1/loads/{mine['id']}/booking", headers=mine["device"])
        assert read.status_code == 200 and read.json() == booked
        assert booked["status"] == "booked" and booked["site_id"] == site["id"]
        a = await _assignment(http, mine)
        assert (a["booking"], a["state"]) == (booked, "booked")

        # As if the slot had begun (bookings start in the future; an early truck is not called).
        booked |= {"slot_start": _z(slot - timedelta(hours=1)), "slot_end": _z(slot - timedelta(minutes=30))}
        await db.execute(
            "UPDATE slot_bookings SET slot_start = slot_start - interval '1 hour', "
            "slot_end = slot_end - interval '1 hour'"
        )
        r = await http.post(f"/driver/v1/loads/{mine['id']}/check-in", headers=mine["device"], json=AT_GATE)
        assert r.status_code == 201, r.text
        a = await _assignment(http, mine)
        assert (a["state"], a["booking"], a["dock"]) == ("waiting", booked | {"status": "checked_in"}, None)

        ticket = await _call_to_dock(http, w)
        a = await _assignment(http, mine)
        assert (a["state"], a["dock"]) == ("called", "Dock 1")
        staff = w["staff"].headers
        assert (await http.post(f"/gate/tickets/{ticket['id']}/loading", headers=staff)).status_code == 200
        assert (await _assignment(http, mine))["state"] == "loading"
        assert (await http.post(f"/gate/tickets/{ticket['id']}/loaded", headers=staff)).status_code == 200
        a = await _assignment(http, mine)
        assert (a["state"], a["dock"]) == ("loaded", "Dock 1")
        r = await http.post(f"/driver/v1/loads/{mine['id']}/depart", headers=mine["device"])
        assert r.status_code == 200, r.text
        a = await _assignment(http, mine)
        assert (a["state"], a["status"], a["dock"]) == ("in_transit", "in_transit", None)
        # The booking stays readable once served: when the load was picked up.
        assert a["booking"] == booked | {"status": "served"}
        read = await http.get(f"/driver/v1/loads/{mine['id']}/booking", headers=mine["device"])
        assert read.json() == booked | {"status": "served"}


async def test_a_bulk_load_to_an_address_and_its_number_without_a_reference(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        [load] = w["loads"]
        a = await _assignment(http, load)
        assert a["destination"] == {
            "id": None,
            "name": None,
            "address": "Buyer yard, Hafenstrasse 9, Hamburg",
            "location": {"lat": HAMBURG[1], "lon": HAMBURG[0]},
        }
        # The job's reference is what people know the load by; a job without one gives its id's start.
        body = job_body(
            w["site"]["id"],
            cargo={"kind": "bulk", "description": "wheat", "weight_kg": 20_000, "volume_m3": 30},
            reference=None,
            pickup_from=iso(timedelta(hours=40)),  # after the first load's window: the same driver
            pickup_until=iso(timedelta(hours=50)),
            deliver_by=iso(timedelta(hours=70)),
            deadline=timedelta(hours=1),
            destination={
                "address": "Silo 4, Hamburg",
                "location": {"lat": HAMBURG[1], "lon": HAMBURG[0]},
                "geofence": square(*HAMBURG),
            },
        )
        r = await http.post("/jobs", headers=w["mill"].headers, json=body)
        assert r.status_code == 201, r.text
        job = r.json()
        carrier = w["carrier"].headers
        assert (await http.post(f"/jobs/{job['id']}/grab", headers=carrier)).status_code == 200
        assert (await http.post(f"/jobs/{job['id']}/plan", headers=carrier, json={})).status_code == 201
        [wheat] = (await http.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier)).json()
        r = await http.put(
            f"/loads/{wheat['id']}/assignment",
            headers=carrier,
            json={"driver_user_id": load["driver"]["user_id"]},
        )
        assert r.status_code == 200, r.text
        a = await _assignment(http, {"id": wheat["id"], "device": load["device"]})
        assert a["load_number"] == f"{UUID(job['id']).hex[:8].upper()}/1"
        assert a["cargo"] == {
            "kind": "bulk",
            "description": "wheat",
            "bulk_kg": 20_000,
            "items": None,
            "weight_kg": 20_000.0,
            "volume_m3": 30.0,
        }
        assert a["destination"]["address"] == "Silo 4, Hamburg"
        listed = (await http.get("/driver/v1/assignments", headers=load["device"])).json()
        assert [x["id"] for x in listed] == [load["id"], wheat["id"]]  # soonest pickup first


async def test_dock_calls_and_dispatcher_messages_are_stored_and_caught_up_after(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2, docks=1, places=1)
        mine, other = w["loads"]
        number = f"PO-4711/{mine['seq']}"
        r = await http.get("/driver/v1/messages", headers=mine["device"])
        assert r.status_code == 200 and r.json() == {"items": [], "next_after": 0}

        # No truck waiting: the call is refused and nothing is stored for anyone.
        site_id = w["site"]["id"]
        board = (await http.get(f"/gate/sites/{site_id}/board", headers=w["staff"].headers)).json()
        r = await http.post(
            f"/gate/sites/{site_id}/call",
            headers=w["staff"].headers,
            json={"dock_id": board["docks"][0]["id"]},
        )
        problem(r, 409, "queue_empty")
        assert await db.fetchval("SELECT count(*) FROM driver_messages") == 0

        async with connect(f"{server.ws_url}/driver/v1/live", additional_headers=mine["device"]) as ws:
            await _frame(ws, "tickets")
            r = await http.post(
                f"/driver/v1/loads/{mine['id']}/check-in", headers=mine["device"], json=AT_GATE
            )
            assert r.status_code == 201, r.text
            await _call_to_dock(http, w)
            called = await _frame(ws, "called")
            assert called == {"type": "called", "load_id": mine["id"], "dock": "Dock 1"}  # as before
            live = (await _frame(ws, "inbox"))["message"]

        # The phone is offline now: the dispatcher writes, twice.
        for text in ("Bring the seal kit, please", "Use the north gate"):
            r = await http.post(
                f"/loads/{mine['id']}/messages", headers=w["carrier"].headers, json={"text": text}
            )
            assert r.status_code == 202, r.text

        r = await http.get("/driver/v1/messages", headers=mine["device"])
        assert r.status_code == 200, r.text
        page = r.json()
        call, seal, gate = page["items"]
        assert call == live
        assert call == {
            "id": call["id"],
            "kind": "dock_call",
            "load_id": mine["id"],
            "dock": "Dock 1",
            "text": f"Go to Dock 1 for load {number}.",
            "key": "app.message.dock_call",
            "params": {"dock": "Dock 1", "load_number": number},
            "created_at": call["created_at"],
        }
        assert datetime.fromisoformat(call["created_at"]) <= datetime.now(UTC)
        assert seal | {"id": 0, "created_at": ""} == {
            "id": 0,
            "kind": "dispatcher",
            "load_id": mine["id"],
            "dock": None,
            "text": "Bring the seal kit, please",
            "key": "app.message.dispatcher",
            "params": {"text": "Bring the seal kit, please"},
            "created_at": "",
        }
        assert gate["text"] == "Use the north gate"
        assert call["id"] < seal["id"] < gate["id"] and page["next_after"] == gate["id"]

        # Catching up from where the app was: only what came after, page by page.
        r = await http.get(f"/driver/v1/messages?after={call['id']}&limit=1", headers=mine["device"])
        assert r.json() == {"items": [seal], "next_after": seal["id"]}
        r = await http.get(f"/driver/v1/messages?after={seal['id']}", headers=mine["device"])
        assert r.json() == {"items": [gate], "next_after": gate["id"]}
        r = await http.get(f"/driver/v1/messages?after={gate['id']}", headers=mine["device"])
        assert r.json() == {"items": [], "next_after": gate["id"]}
        problem(
            await http.get("/driver/v1/messages?after=-1", headers=mine["device"]), 400, "validation_failed"
        )

        # The other driver of the carrier was told nothing of this.
        r = await http.get("/driver/v1/messages", headers=other["device"])
        assert r.json() == {"items": [], "next_after": 0}


async def test_a_lapsed_booking_is_a_message(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1, grace=10)
        [load] = w["loads"]
        r = await http.put(
            f"/driver/v1/loads/{load['id']}/booking",
            headers=load["device"],
            json={"slot_start": next_slot(ahead=2).isoformat()},
        )
        assert r.status_code == 200, r.text
        # As if the slot ended 11 minutes ago: past its end plus the 10-minute grace.
        past = datetime.now(UTC) - timedelta(minutes=41)
        await db.execute(
            "UPDATE slot_bookings SET slot_start = $1::timestamptz, "
            "slot_end = $1::timestamptz + interval '30 minutes'",
            past,
        )
        await db.execute("UPDATE slot_usage SET slot_start = $1", past)
        deadline = time.monotonic() + 15
        while not (items := (await http.get("/driver/v1/messages", headers=load["device"])).json()["items"]):
            assert time.monotonic() < deadline, "the no-show loop never released the booking"
            await asyncio.sleep(0.1)
        [lapsed] = items
        number = f"PO-4711/{load['seq']}"
        assert (lapsed["kind"], lapsed["key"], lapsed["load_id"], lapsed["dock"]) == (
            "no_show",
            "app.message.no_show",
            load["id"],
            None,
        )
        assert lapsed["params"] == {"site": "Mill gate 2-2", "load_number": number}
        assert lapsed["text"].startswith(f"Your slot at Mill gate 2-2 for load {number} has lapsed")
        assert await db.fetchval("SELECT status FROM slot_bookings") == "no_show"
        a = await _assignment(http, load)
        assert (a["state"], a["booking"]) == ("assigned", None)
        problem(
            await http.get(f"/driver/v1/loads/{load['id']}/booking", headers=load["device"]),
            404,
            "booking_not_found",
        )


async def test_another_drivers_tokens_see_none_of_it(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
        mine, colleague = w["loads"]
        stranger = (await dispatched_loads(http, settings, loads=1))["loads"][0]  # another carrier's
        r = await http.put(
            f"/driver/v1/loads/{mine['id']}/booking",
            headers=mine["device"],
            json={"slot_start": next_slot(ahead=2).isoformat()},
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            f"/loads/{mine['id']}/messages", headers=w["carrier"].headers, json={"text": "For you only"}
        )
        assert r.status_code == 202
        for other in (colleague, stranger):
            listed = (await http.get("/driver/v1/assignments", headers=other["device"])).json()
            assert [a["id"] for a in listed] == [other["id"]]
            for path in (f"/driver/v1/assignments/{mine['id']}", f"/driver/v1/loads/{mine['id']}/booking"):
                problem(await http.get(path, headers=other["device"]), 404, "load_not_found")
            assert (await http.get("/driver/v1/messages", headers=other["device"])).json()["items"] == []
        assert len((await http.get("/driver/v1/messages", headers=mine["device"])).json()["items"]) == 1
        # A session of the carrier's own admin is not a device: the driver API stays the phones'.
        problem(
            await http.get("/driver/v1/messages", headers=w["carrier"].headers), 403, "wrong_credential_kind"
        )


async def test_apps_older_than_the_minimum_are_asked_to_upgrade(server_factory, settings):
    server = server_factory(driver_app_min_version="2.1.0")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        [load] = w["loads"]
        device = load["device"]

        def version(v: str) -> dict[str, str]:
            return device | {"X-App-Version": v}

        # No header: the apps in the field send none, and are served.
        assert (await http.get("/driver/v1/assignments", headers=device)).status_code == 200
        for served in ("2.1.0", "2.1.1", "2.10.0", "10.0.0", "2.1.0+build.7", "3.0.0-rc.1"):
            r = await http.get("/driver/v1/assignments", headers=version(served))
            assert r.status_code == 200, (served, r.text)
        for old in ("2.0.9", "1.99.99", "2.1.0-rc.1", "0.0.1"):
            body = problem(
                await http.get("/driver/v1/assignments", headers=version(old)), 426, "upgrade_required"
            )
            assert body["min_version"] == "2.1.0" and "2.1.0" in body["detail"], body
        for malformed in ("2.1", "v2.1.0", "2.1.0.0", "02.1.0", "latest", "2.1.0-", "9" * 70 + ".0.0"):
            problem(
                await http.get("/driver/v1/assignments", headers=version(malformed)),
                400,
                "invalid_app_version",
            )
        # Every driver route: a write is refused before it changes anything.
        r = await http.put(
            f"/driver/v1/loads/{load['id']}/booking",
            headers=version("1.0.0"),
            json={"slot_start": next_slot(ahead=2).isoformat()},
        )
        problem(r, 426, "upgrade_required")
        assert (await http.get(f"/driver/v1/assignments/{load['id']}", headers=device)).json()[
            "booking"
        ] is None
        # The live socket too: its upgrade is answered with the same problem.
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/driver/v1/live", additional_headers=version("2.0.0")):
                pass
        assert refused.value.response.status_code == 426
        assert json.loads(refused.value.response.body)["code"] == "upgrade_required"
        async with connect(f"{server.ws_url}/driver/v1/live", additional_headers=version("2.1.0")) as ws:
            assert (await _frame(ws, "assignments"))["loads"][0]["id"] == load["id"]

    # Without a minimum every version is served; a malformed one is still refused.
    other = server_factory()
    async with httpx.AsyncClient(base_url=other.base_url, timeout=60) as http:
        assert (await http.get("/driver/v1/assignments", headers=version("0.0.1"))).status_code == 200
        problem(await http.get("/driver/v1/assignments", headers=version("new")), 400, "invalid_app_version")


async def test_the_openapi_document_describes_the_driver_contract(client):
    doc = (await client.get("/schema/openapi.json")).json()
    schemas = doc["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref") or next((s["$ref"] for s in schema.get("oneOf", []) if "$ref" in s), None)
        return schemas[ref.rsplit("/", 1)[1]] if ref else schema

    listed = doc["paths"]["/driver/v1/assignments"]["get"]
    assert listed["operationId"] == "driverListAssignments"
    item = resolve(listed["responses"]["200"]["content"]["application/json"]["schema"]["items"])
    new = {
        "load_number",
        "cargo",
        "pickup_site",
        "destination",
        "pickup_window",
        "booking",
        "pickup_code",
        "state",
    }
    assert new | LOAD_FIELDS <= set(item["properties"])
    assert set(resolve(item["properties"]["pickup_site"])["properties"]) == {
        "id",
        "name",
        "address",
        "location",
        "geofence",
        "timezone",
        "opening_hours",
    }
    assert set(resolve(item["properties"]["destination"])["properties"]) == {
        "id",
        "name",
        "address",
        "location",
    }
    assert set(resolve(item["properties"]["pickup_window"])["properties"]) == {"from", "until"}
    assert set(resolve(item["properties"]["booking"])["properties"]) >= {
        "id",
        "slot_start",
        "slot_end",
        "status",
    }

    messages = doc["paths"]["/driver/v1/messages"]["get"]
    page = resolve(messages["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"items", "next_after"}
    message = resolve(page["properties"]["items"]["items"])
    assert set(message["properties"]) >= {
        "id",
        "kind",
        "load_id",
        "dock",
        "text",
        "key",
        "params",
        "created_at",
    }
    assert "booking" in doc["paths"]["/driver/v1/loads/{load_id}/booking"]["get"]["operationId"].lower()

    # Every route of the driver API but pairing, which an old app may still use (it is told to
    # update by the first route it calls after).
    driver_operations = [
        (path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/driver/v1/") and not path.startswith("/driver/v1/pairing")
        for op in item.values()
    ]
    assert len(driver_operations) >= 12
    for path, op in driver_operations:
        headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
        assert headers["X-App-Version"]["required"] is False, path
        assert {"400", "426"} <= set(op["responses"]), path


async def test_a_message_committing_late_is_not_passed_over_by_a_phone_catching_up(
    server_factory, settings, db, database_url
):
    """A driver's messages commit in the order of their ids: while one transaction that took an id
    is still open, a second message for the driver waits for it, so a phone reading meanwhile
    cannot move its `after` cursor past the first one's id."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        [load] = w["loads"]
        driver, carrier = UUID(load["driver"]["user_id"]), UUID(w["carrier"].org_id)
        slow = await asyncpg.connect(database_url)
        try:
            first = slow.transaction()
            await first.start()
            # What the gate does to store a message (dispatch/gate/inbox.py), not yet committed.
            await slow.execute(
                "INSERT INTO driver_inboxes (user_id, messages) VALUES ($1, 1) "
                "ON CONFLICT (user_id) DO UPDATE SET messages = driver_inboxes.messages + 1",
                driver,
            )
            early = await slow.fetchval(
                "INSERT INTO driver_messages (org_id, user_id, load_id, kind, key, text) "
                "VALUES ($1, $2, $3, 'dispatcher', 'app.message.dispatcher', 'Committed late') RETURNING id",
                carrier,
                driver,
                UUID(load["id"]),
            )
            second = asyncio.ensure_future(
                http.post(
                    f"/loads/{load['id']}/messages", headers=w["carrier"].headers, json={"text": "Second"}
                )
            )
            deadline = time.monotonic() + 30
            while not await db.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ):
                assert time.monotonic() < deadline, "the second message never waited for the first"
                assert not second.done(), (await second).text
                await asyncio.sleep(0.05)
            r = await http.get("/driver/v1/messages", headers=load["device"])
            assert r.json() == {"items": [], "next_after": 0}  # nothing to pass over the first with
            await first.commit()
        finally:
            await slow.close()
        assert (await second).status_code == 202
        page = (await http.get("/driver/v1/messages", headers=load["device"])).json()
        assert [m["text"] for m in page["items"]] == ["Committed late", "Second"]
        assert page["items"][0]["id"] == early < page["items"][1]["id"] == page["next_after"]
