"""The alerts as people see them, in a real Chromium against a real server: a driver far from the
mill starts driving to the pickup in the driver app; the truck will miss its booked slot, and the
buyer's tracking page shows the alert while the mill's appointments mark the truck late with its ETA."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.app_support import phone
from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.gate_support import dispatched_loads, next_slot
from tests.market_support import BERLIN, HAMBURG, create_site
from tests.steps import app as app_steps
from tests.steps.console import sign_in
from tests.support import add_member, bootstrap_org

pytestmark = pytest.mark.server

WAIT_MS = 30_000


async def _raised(db: Any, load_id: str, event_type: str) -> None:
    """Wait for the server to have recorded the event (the phone's queue posts on its own timer)."""
    for _ in range(600):
        if await db.fetchval(
            "SELECT count(*) FROM events WHERE subject_id = $1 AND type = $2", load_id, event_type
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{event_type} was not raised for {load_id}")


async def test_a_truck_far_from_its_slot_is_shown_late_on_the_tracking_page_and_at_the_gate(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
        yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
        # The job's planned route, a bend through the north (the page draws it dashed).
        route = {"points": [list(BERLIN), [11.6, 53.3], list(HAMBURG)]}
        w = await dispatched_loads(http, settings, loads=1, destination_site_id=yard["id"], route=route)
        receiver = await add_member(http, buyer, "buyer")
        (load,) = w["loads"]
        slot = next_slot(ahead=2)
        r = await http.put(
            f"/driver/v1/loads/{load['id']}/booking",
            headers=load["device"],
            json={"slot_start": slot.isoformat()},
        )
        assert r.status_code == 200, r.text
        device_token = load["device"]["Authorization"].removeprefix("Bearer ")
        site = (await http.get(f"/sites/{w['site']['id']}", headers=w["mill"].headers)).json()
        slot_day = slot.astimezone(ZoneInfo(site["timezone"])).date().isoformat()  # the site's day

    async with chromium() as browser:
        # The driver, at Hamburg (255 km from the mill), starts driving to the pickup.
        context = await phone(browser, lon=HAMBURG[0], lat=HAMBURG[1])
        driver = await context.new_page()
        foreign, errors = watch(driver, server)
        await driver.goto(f"{server.base_url}/app#token={device_token}")
        await app_steps.open_load(driver, load["id"])
        await driver.get_by_role("button", name="Start driving to the pickup").click()
        await driver.locator("#screen-trip").wait_for(timeout=WAIT_MS)
        assert "On the way to the pickup" in await driver.locator("#trip-leg").inner_text()
        assert w["site"]["name"] in await driver.locator("#trip-destination").inner_text()
        await keep_screenshot(driver, "app-to-pickup")
        await assert_accessible(driver, context="driver app, the drive to the pickup (en)")
        await _raised(db, load["id"], "load.late_for_slot")
        assert await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", UUID(load["id"])) == 0

        # The buyer's tracking page: the alert above the load's facts, and on its timeline.
        # A buyer whose clock is UTC, watching a mill in Berlin.
        desk = await browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id="UTC")
        page = await desk.new_page()
        page_foreign, page_errors = watch(page, server)
        await page.goto(f"{server.base_url}/track/loads/{load['id']}#token={receiver.token}")
        card = page.locator(f"#load-{load['id']}")
        alert = card.get_by_role("alert")
        await alert.wait_for(timeout=WAIT_MS)
        assert "Late for the pickup slot at" in await alert.inner_text()
        # The slot at the site's time, as the gate shows it, and the site's zone named (not the
        # buyer's UTC hour for the same slot).
        at_site = slot.astimezone(ZoneInfo(site["timezone"])).strftime("%-I:%M %p")
        shown = (await alert.inner_text()).replace("\u202f", " ").replace("\xa0", " ")
        slot_part = shown.split("expected")[0]
        assert f"{at_site} (Europe/Berlin)" in slot_part, shown
        assert "Will be late for the pickup slot" in await card.locator(".timeline").inner_text()
        assert "On the way to the pickup" in await card.locator(".approach").inner_text()
        # On the map: the truck where it is on its way to the pickup, and the planned route.
        truck = page.locator(f"#truck-{load['id']}[data-leg=approach]")
        await truck.wait_for(timeout=WAIT_MS)
        assert "on the way to the pickup" in await truck.locator(".plate-label").text_content() or ""
        assert float(await truck.get_attribute("data-lon") or "0") == pytest.approx(HAMBURG[0], abs=0.01)
        assert await page.locator("#planned-route").get_attribute("data-points") == "3"
        assert "track." not in await card.inner_text()  # no raw catalogue key
        await keep_screenshot(page, "track-late-for-slot")
        await assert_accessible(page, context="tracking page, a load late for its slot (en)")

        # The mill's appointments on the slot's day: the truck is marked late, with its ETA.
        # (A context of its own: the tracking page's sign-in is the console's too, as the buyer.)
        office = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await office.new_page()
        office_foreign, office_errors = watch(page, server)
        await sign_in(page, server.base_url, w["mill"].email, path=f"/sites/{w['site']['id']}/appointments")
        await page.get_by_label("Day", exact=True).fill(slot_day)
        row = page.locator(f"#appointment-{load['id']}")
        await row.wait_for(timeout=WAIT_MS)
        await page.locator(f"#appointment-{load['id']}[data-late=true]").wait_for(timeout=WAIT_MS)
        text = await row.inner_text()
        assert "Late for the slot" in text and load["vehicle"]["plate"] in text
        assert await row.locator("td.eta").inner_text() != "—"
        await keep_screenshot(page, "console-appointments-late")
        await assert_accessible(page, context="console, the day's appointments with a late truck (en)")

        assert foreign == errors == page_foreign == page_errors == office_foreign == office_errors == []
