"""A truck or driver swapped mid-job (issue 23, item 3), through a real server: the new plate
verifies at the gate and the old plate and old code are refused with a reason; a swap to a truck the
goods owner's authorization does not name waits for the owner's approval (the gate refuses until
then); the new driver's phone gets the load and the old one loses it, each told why."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.gate_support import dispatched_loads, next_slot
from tests.market_support import BERLIN
from tests.support import problem

pytestmark = pytest.mark.server


async def _spare_truck(http: httpx.AsyncClient, carrier: Any, plate: str) -> dict[str, Any]:
    r = await http.post(
        "/fleet/vehicles",
        headers=carrier.headers,
        json={"plate": plate, "vehicle_type": "flatbed", "capacity_kg": 25_000, "capacity_m3": 90},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _spare_driver(http: httpx.AsyncClient, carrier: Any, name: str) -> dict[str, Any]:
    r = await http.post(
        "/fleet/drivers",
        headers=carrier.headers,
        json={
            "email": f"spare-{secrets.token_hex(3)}@haulers.test",
            "name": name,
            "password": "correct horse battery staple",
            "phone": "+49 170 1111111",
            "licence_number": "L99999",
        },
    )
    assert r.status_code == 201, r.text
    driver = r.json()
    device = await http.post(
        f"/orgs/{carrier.org_id}/device-tokens",
        headers=carrier.headers,
        json={"user_id": driver["user_id"], "name": "phone"},
    )
    assert device.status_code == 201, device.text
    return driver | {"device": {"Authorization": f"Bearer {device.json()['token']}"}}  # type: ignore[no-any-return]


def _gate(http: httpx.AsyncClient, w: dict[str, Any]) -> Any:
    """The gate's verdict on a code and plate: its result, and its reason when it gives one (an old
    code of a reassigned load opens nothing, `unknown_code`, and says why: `reassigned`)."""

    async def verify(code: str, plate: str) -> str:
        r = await http.post(
            "/gate/verify",
            headers=w["staff"].headers,
            json={"site_id": w["site"]["id"], "code": code, "plate": plate},
        )
        assert r.status_code == 200, r.text
        verdict = r.json()
        assert verdict["valid"] == (verdict["result"] == "valid")
        return verdict["reason"] or verdict["result"]  # type: ignore[no-any-return]

    return verify


async def _listed(http: httpx.AsyncClient, device: dict[str, str]) -> list[str]:
    r = await http.get("/driver/v1/assignments", headers=device)
    assert r.status_code == 200, r.text
    return [a["id"] for a in r.json()]


async def _message_kinds(http: httpx.AsyncClient, device: dict[str, str]) -> list[str]:
    r = await http.get("/driver/v1/messages", headers=device)
    assert r.status_code == 200, r.text
    return [m["kind"] for m in r.json()["items"]]


async def _events(http: httpx.AsyncClient, account: Any, types: str) -> list[dict[str, Any]]:
    r = await http.get("/events/", headers=account.headers, params={"types": types})
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_a_truck_and_driver_swap_moves_the_code_the_gate_and_the_phones(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1, plates=["B-SW 100"])
        (load,) = w["loads"]
        carrier, verify = w["carrier"], _gate(http, w)
        truck = await _spare_truck(http, carrier, "B-SW 200")
        driver = await _spare_driver(http, carrier, "Spare Driver")
        old_code = load["pickup_code"]
        assert await verify(old_code, "B-SW 100") == "valid"
        assert await _listed(http, load["device"]) == [load["id"]]
        assert await _listed(http, driver["device"]) == []

        r = await http.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": driver["user_id"], "vehicle_id": truck["id"]},
        )
        assert r.status_code == 200, r.text
        swapped = r.json()
        new_code = swapped["pickup_code"]
        assert new_code != old_code
        assert swapped["vehicle"]["plate"] == "B-SW 200" and swapped["driver"]["name"] == "Spare Driver"
        # The award's automatic authorization names no plate or driver: nothing to approve.
        assert "approval" not in swapped
        assert swapped["previous_vehicle"]["plate"] == "B-SW 100"
        assert swapped["previous_driver"]["name"] == "Driver 0"

        # The gate: the new truck with the new code; the old truck and the old code are refused.
        assert await verify(new_code, "B-SW 200") == "valid"
        assert await verify(new_code, "B-SW 100") == "wrong_plate"
        assert await verify(old_code, "B-SW 100") == "reassigned"
        assert await verify(old_code, "B-SW 200") == "reassigned"
        r = await http.post(
            "/gate/verify",
            headers=w["staff"].headers,
            json={"site_id": w["site"]["id"], "code": old_code, "plate": "B-SW 100"},
        )
        old = r.json()
        assert (old["valid"], old["result"], old["reason"]) == (False, "unknown_code", "reassigned")
        assert "reassigned" in old["detail"] and old["load_id"] is None
        r = await http.post(
            "/gate/check-in",
            headers=w["staff"].headers,
            json={"site_id": w["site"]["id"], "code": old_code, "plate": "B-SW 100"},
        )
        problem(r, 422, "code_reassigned")

        # The phones: the new driver has the load (with the new code), the old one lost it; both told.
        assert await _listed(http, driver["device"]) == [load["id"]]
        mine = (await http.get(f"/driver/v1/assignments/{load['id']}", headers=driver["device"])).json()
        assert mine["pickup_code"] == new_code and mine["vehicle"]["plate"] == "B-SW 200"
        assert await _listed(http, load["device"]) == []
        r = await http.get(f"/driver/v1/assignments/{load['id']}", headers=load["device"])
        problem(r, 404, "load_not_found")
        assert await _message_kinds(http, driver["device"]) == ["load_assigned"]
        assert await _message_kinds(http, load["device"]) == ["load_unassigned"]

        # load.reassigned, for the carrier and the shipper alike.
        for account in (carrier, w["mill"]):
            (event,) = await _events(http, account, "load.reassigned")
            assert event["data"] == {
                "load_id": load["id"],
                "job_id": w["job"]["id"],
                "vehicle_id": truck["id"],
                "plate_display": "B-SW 200",
                "driver_user_id": driver["user_id"],
                "previous_vehicle_id": load["vehicle"]["id"],
                "previous_driver_user_id": load["driver"]["user_id"],
                "approval": "not_needed",
            }

        # A refused assignment (not a driver of the fleet) comes back with its code; nothing changes.
        r = await http.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": w["mill"].user_id},
        )
        problem(r, 404, "driver_not_found")
        assert await verify(new_code, "B-SW 200") == "valid"

        # Once the truck is at the gate, the truck and driver stay: 409 with the code.
        r = await http.post(
            "/gate/check-in",
            headers=w["staff"].headers,
            json={"site_id": w["site"]["id"], "code": new_code, "plate": "B-SW 200"},
        )
        assert r.status_code in (200, 201), r.text
        r = await http.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": load["driver"]["user_id"], "vehicle_id": load["vehicle"]["id"]},
        )
        problem(r, 409, "load_in_progress")


async def test_a_swap_to_a_plate_the_authorization_does_not_name_waits_for_the_goods_owner(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1, plates=["B-SW 100"])
        (load,) = w["loads"]
        carrier, mill, verify = w["carrier"], w["mill"], _gate(http, w)
        job_id = w["job"]["id"]
        # The owner narrows the authorization to the assigned truck.
        r = await http.post(
            f"/jobs/{job_id}/authorization/revoke", headers=mill.headers, json={"reason": "named trucks only"}
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            f"/jobs/{job_id}/authorization", headers=mill.headers, json={"allowed_plates": ["B-SW 100"]}
        )
        assert r.status_code == 201, r.text
        truck = await _spare_truck(http, carrier, "B-SW 200")
        assert await verify(load["pickup_code"], "B-SW 100") == "valid"
        # The driver has booked a slot: the booking is the load's, and stays through the swaps.
        slot = next_slot()
        r = await http.put(
            f"/driver/v1/loads/{load['id']}/booking",
            headers=load["device"],
            json={"slot_start": slot.isoformat()},
        )
        assert r.status_code in (200, 201), r.text

        async def phone_check_in() -> httpx.Response:
            return await http.post(
                f"/driver/v1/loads/{load['id']}/check-in",
                headers=load["device"],
                json={"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5.0},
            )

        async def swap_to(vehicle_id: str) -> dict[str, Any]:
            r = await http.put(
                f"/loads/{load['id']}/assignment",
                headers=carrier.headers,
                json={"driver_user_id": load["driver"]["user_id"], "vehicle_id": vehicle_id},
            )
            assert r.status_code == 200, r.text
            return r.json()  # type: ignore[no-any-return]

        # A truck the authorization does not name: pending; the gate refuses until the owner approves.
        pending = await swap_to(truck["id"])
        assert pending["approval"] == "pending"
        assert await verify(pending["pickup_code"], "B-SW 200") == "awaiting_owner_approval"
        assert await verify(load["pickup_code"], "B-SW 100") == "reassigned"
        phone = (await http.get(f"/driver/v1/assignments/{load['id']}", headers=load["device"])).json()
        assert phone["approval"] == "pending" and phone["vehicle"]["plate"] == "B-SW 200"
        assert phone["booking"]["slot_start"].replace("Z", "+00:00") == slot.isoformat()
        problem(await phone_check_in(), 409, "awaiting_owner_approval")
        # The owner sees the request on the job's loads, with what it replaces.
        (seen,) = (await http.get(f"/jobs/{job_id}/loads", headers=mill.headers)).json()
        assert seen["approval"] == "pending" and seen["previous_vehicle"]["plate"] == "B-SW 100"
        assert seen["pickup_code"] is None
        # Only the goods owner decides, and on the swap it was shown.
        approve = f"/loads/{load['id']}/swap/approve"
        seen = {"vehicle_id": truck["id"], "driver_user_id": load["driver"]["user_id"]}
        problem(await http.post(approve, headers=carrier.headers, json=seen), 403)
        stale = {"vehicle_id": load["vehicle"]["id"]}
        problem(await http.post(approve, headers=mill.headers, json=stale), 409, "swap_changed")
        assert await verify(pending["pickup_code"], "B-SW 200") == "awaiting_owner_approval"

        r = await http.post(approve, headers=mill.headers, json=seen)
        assert r.status_code == 200, r.text
        assert r.json()["approval"] == "approved"
        assert await verify(pending["pickup_code"], "B-SW 200") == "valid"
        assert await verify(pending["pickup_code"], "B-SW 100") == "wrong_plate"
        problem(await http.post(approve, headers=mill.headers, json={}), 409, "no_swap_pending")
        approvals = [e["data"]["approval"] for e in await _events(http, mill, "load.reassigned")]
        assert approvals == ["pending", "approved"]

        # Back to the named truck: nothing to approve. Then the other truck again, refused this time:
        # the load keeps the truck but the gate refuses it, and the carrier is told why.
        back = await swap_to(load["vehicle"]["id"])
        assert "approval" not in back
        assert await verify(back["pickup_code"], "B-SW 100") == "valid"
        again = await swap_to(truck["id"])
        assert again["approval"] == "pending"
        r = await http.post(f"/loads/{load['id']}/swap/refuse", headers=mill.headers, json={})
        problem(r, 400)
        r = await http.post(
            f"/loads/{load['id']}/swap/refuse", headers=mill.headers, json={"reason": "not on our list"}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["approval"], r.json()["approval_reason"]) == ("refused", "not on our list")
        assert await verify(again["pickup_code"], "B-SW 200") == "swap_refused"
        problem(await phone_check_in(), 409, "swap_refused")
        (refused,) = await _events(http, carrier, "load.swap_refused")
        assert refused["data"]["reason"] == "not on our list"
        kinds = await _message_kinds(http, load["device"])
        assert kinds == ["truck_changed", "swap_approved", "truck_changed", "truck_changed", "swap_refused"]
