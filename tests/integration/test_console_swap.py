"""A truck swapped mid-job on the console, in a real headless Chromium on a real server: the goods
owner's authorization names the load's truck; the carrier's dispatcher swaps in another truck on the
plan screen, which then shows the swap waiting for the owner's approval (the gate refuses the code);
the owner, on a phone, sees the request on the job screen's authorization section (the new truck and
the one it replaces) and approves it; the carrier's screen shows it approved and the code verifies
at the gate. Nothing leaves the server."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import assert_accessible, chromium, watch
from tests.gate_support import dispatched_loads
from tests.steps.console import sign_in
from tests.steps.orders import open_job
from tests.steps.plan import assign, load_card

pytestmark = pytest.mark.server

WAIT = 30_000


async def test_a_dispatcher_swaps_a_truck_and_the_goods_owner_approves_it(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1, plates=["B-SW 100"])
        (load,) = w["loads"]
        carrier, mill, job_id = w["carrier"], w["mill"], w["job"]["id"]
        r = await http.post(
            f"/jobs/{job_id}/authorization/revoke", headers=mill.headers, json={"reason": "named trucks"}
        )
        assert r.status_code == 200, r.text
        r = await http.post(
            f"/jobs/{job_id}/authorization", headers=mill.headers, json={"allowed_plates": ["B-SW 100"]}
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            "/fleet/vehicles",
            headers=carrier.headers,
            json={"plate": "B-SW 200", "vehicle_type": "flatbed", "capacity_kg": 25_000, "capacity_m3": 90},
        )
        assert r.status_code == 201, r.text

        async def gate(plate: str) -> str:
            code = (await http.get(f"/loads/{load['id']}", headers=carrier.headers)).json()["pickup_code"]
            r = await http.post(
                "/gate/verify",
                headers=w["staff"].headers,
                json={"site_id": w["site"]["id"], "code": code, "plate": plate},
            )
            assert r.status_code == 200, r.text
            return str(r.json()["result"])

        async with chromium() as browser:
            desk = await (
                await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            ).new_page()
            phone = await (
                await browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
            ).new_page()
            watched = [watch(desk, server), watch(phone, server)]

            # The carrier swaps the truck: the card says the swap waits for the goods owner.
            await sign_in(desk, server.base_url, carrier.email)
            number = f"PO-4711/{load['seq']}"
            assert await assign(desk, job_id, number, plate="B-SW 200", driver="Driver 0") is None
            card = load_card(desk, number)
            assert (await card.locator(".load-vehicle").inner_text()).strip() == "B-SW 200"
            await card.locator(".load-approval[data-approval=pending]").wait_for(timeout=WAIT)
            assert "B-SW 100" in await card.locator(".load-previous").inner_text()
            assert await gate("B-SW 200") == "awaiting_owner_approval"

            # The owner, on a phone, sees the request and approves it.
            await sign_in(phone, server.base_url, mill.email)
            await open_job(phone, job_id)
            request = phone.locator("#authorization article.swap-request")
            await request.wait_for(timeout=WAIT)
            assert "B-SW 200 (was B-SW 100)" in await request.inner_text()
            await assert_accessible(phone, context="job screen with a swap to approve")
            await request.get_by_role("button", name="Approve the swap").click()
            await phone.locator("#swaps-decided li", has_text="B-SW 200").wait_for(timeout=WAIT)
            assert await request.count() == 0

            # The carrier's card follows (its poll); the gate verifies the code with the new truck.
            await card.locator(".load-approval[data-approval=approved]").wait_for(timeout=WAIT)
            assert await gate("B-SW 200") == "valid"
            assert await gate("B-SW 100") == "wrong_plate"
            for foreign, errors in watched:
                assert foreign == [] and errors == []
