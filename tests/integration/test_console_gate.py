"""The console's gate screen in a real headless Chromium, on a real server, for a gate clerk at a
tablet: a wrong pickup code is refused with its reason, a good one is valid and checks the truck in,
the truck appears in the live queue, is called to a dock and marked loading and loaded (the ticket's
state read back from the database); the screen in Chinese shows no raw key. Nothing the page loads
comes from outside the app (the live queue's websocket is the app's own)."""

from __future__ import annotations

import json
from uuid import UUID

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import chromium, keep_screenshot, watch
from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN
from tests.support import PASSWORD

pytestmark = pytest.mark.server


async def sign_in(page: Page, email: str, labels: tuple[str, ...] = ("Email", "Password", "Sign in")) -> None:
    await page.get_by_label(labels[0]).fill(email)
    await page.get_by_label(labels[1]).fill(PASSWORD)
    await page.get_by_role("button", name=labels[2]).click()
    await page.wait_for_selector("#nav", timeout=10_000)


async def test_a_gate_clerk_verifies_codes_checks_in_and_calls_a_truck_to_a_dock(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
    first, second = w["loads"]
    plate = first["vehicle"]["plate"]

    async with chromium() as browser:
        # A tablet at the gate (its clock on UTC; the site is in Berlin).
        context = await browser.new_context(
            locale="en-US", timezone_id="UTC", viewport={"width": 800, "height": 1100}
        )
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, w["staff"].email)
        nav = page.get_by_role("navigation", name="Console")
        assert await page.locator("#nav a").all_inner_texts() == ["Overview", "Gate"]
        await nav.get_by_role("link", name="Gate").click()
        assert await page.get_by_label("Site").input_value() == w["site"]["id"]
        await page.locator("#live-state", has_text="live").wait_for(timeout=10_000)
        assert await page.locator("#queue-empty").is_visible()

        # A wrong code: refused, with the reason in words, and no truck checked in.
        form = page.locator("#verify")
        await form.get_by_label("Pickup code").fill("WRONG-CODE-1")
        await form.get_by_label("Plate").fill(plate)
        await form.get_by_role("button", name="Verify").click()
        verdict = page.locator("#verdict")
        await verdict.wait_for(timeout=10_000)
        assert await verdict.get_attribute("data-result") == "unknown_code"
        text = await verdict.inner_text()
        assert "Refused" in text and "No load or authorization has this code." in text
        assert await page.locator("#check-in").count() == 0

        # The good code with the wrong plate is refused for the plate.
        await form.get_by_label("Pickup code").fill(first["pickup_code"])
        await form.get_by_label("Plate").fill(second["vehicle"]["plate"])
        await form.get_by_role("button", name="Verify").click()
        await page.locator("#verdict[data-result=wrong_plate]").wait_for(timeout=10_000)

        # The good code and plate: valid, naming the load, the truck and the driver; then checked in.
        await form.get_by_label("Pickup code").fill(first["pickup_code"])
        await form.get_by_label("Plate").fill(plate)
        await form.get_by_role("button", name="Verify").click()
        await page.locator("#verdict[data-result=valid]").wait_for(timeout=10_000)
        text = await verdict.inner_text()
        assert "Valid" in text and first["id"] in text and plate in text and "Driver 0" in text
        # The code's validity at the site's time, as the queue's times are, the zone named.
        until = await verdict.locator("[data-name=valid-until] dd").inner_text()
        assert until.endswith("(Europe/Berlin)"), until
        assert await db.fetchval("SELECT count(*) FROM queue_tickets") == 0  # verified, not yet admitted
        await page.locator("#check-in").click()
        await page.locator("#checked-in").wait_for(timeout=10_000)
        assert "place 1" in await page.locator("#checked-in").inner_text()

        # The second truck checks in from the driver's phone: the live queue shows both, in order.
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.post(
                f"/driver/v1/loads/{second['id']}/check-in",
                headers=second["device"],
                json={"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5},
            )
            assert r.status_code == 201, r.text
        rows = page.locator("#waiting tbody tr")
        await page.locator("#waiting tbody tr", has_text=second["vehicle"]["plate"]).wait_for(timeout=10_000)
        assert await rows.count() == 2
        assert plate in await rows.nth(0).inner_text()
        await keep_screenshot(page, "console-gate")

        # Called to Dock 2: the first in the queue goes there; the ticket says so in the database.
        await page.get_by_label("Dock", exact=True).select_option(label="Dock 2")
        await page.get_by_role("button", name="Call the next truck to this dock").click()
        await page.locator("#called", has_text=f"{plate} is called to Dock 2.").wait_for(timeout=10_000)
        ticket = await db.fetchrow(
            "SELECT t.status, d.name AS dock FROM queue_tickets t JOIN docks d ON d.id = t.dock_id"
            " WHERE t.load_id = $1",
            UUID(first["id"]),
        )
        assert (ticket["status"], ticket["dock"]) == ("called", "Dock 2")
        at_dock = page.locator("#at-docks tbody tr", has_text=plate)
        await at_dock.wait_for(timeout=10_000)
        assert await rows.count() == 1

        # Loading, the weighbridge tickets (a bad weight shown next to its field, nothing stored), then
        # loaded, from the dock's row.
        await at_dock.get_by_role("button", name="Loading started").click()
        await at_dock.get_by_role("button", name="Weighbridge").click()
        weigh = page.get_by_role("form", name=f"Weighbridge ticket for {plate}")
        await weigh.get_by_label("Weight (kg)").fill("lots")
        await weigh.get_by_label("Weighbridge", exact=True).fill("WB-1")
        await weigh.get_by_role("button", name="Record").click()
        await weigh.locator(".field-error[data-field=weight_kg]").wait_for(timeout=10_000)
        assert await weigh.get_by_label("Weight (kg)").get_attribute("aria-invalid") == "true"
        assert await db.fetchval("SELECT count(*) FROM evidence_records") == 0
        await weigh.get_by_label("Weight (kg)").fill("14000")
        await weigh.get_by_role("button", name="Record").click()
        await weigh.get_by_role("status").filter(has_text="Tare recorded").wait_for(timeout=10_000)
        await weigh.get_by_label("Weighing").select_option("weighbridge_gross")
        await weigh.get_by_label("Weight (kg)").fill("38000")
        await weigh.get_by_label("Weighbridge", exact=True).fill("WB-1")
        await weigh.get_by_label("Ticket number").fill("T-778")
        await weigh.get_by_role("button", name="Record").click()
        await weigh.get_by_role("status").filter(has_text="Gross recorded").wait_for(timeout=10_000)
        gross = await db.fetchval(
            "SELECT data FROM evidence_records WHERE load_id = $1 AND kind = 'weighbridge_gross'",
            UUID(first["id"]),
        )
        gross = gross if isinstance(gross, dict) else json.loads(gross)
        assert (gross["weight_kg"], gross["net_kg"], gross["ticket"]) == (38000, 24000, "T-778")
        await at_dock.get_by_role("button", name="Loading complete").click()
        await at_dock.locator("td.state[data-state=loaded]").wait_for(timeout=10_000)
        assert await at_dock.locator("td.state").inner_text() == "loaded"
        status = await db.fetchval("SELECT status FROM queue_tickets WHERE load_id = $1", UUID(first["id"]))
        assert status == "loaded"

        # The gate clerk sees no prices: the screen shows no money.
        body = await page.locator("body").inner_text()
        assert "€" not in body and "EUR" not in body
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()


async def test_the_gate_screen_speaks_chinese(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
    (load,) = w["loads"]

    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN", viewport={"width": 800, "height": 1100})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/gate")
        await sign_in(page, w["staff"].email, ("邮箱", "密码", "登录"))
        await page.locator("#live-state", has_text="实时").wait_for(timeout=10_000)
        form = page.locator("#verify")
        await form.get_by_label("提货码").fill(load["pickup_code"])
        await form.get_by_label("车牌").fill("HH-XX 1")
        await form.get_by_role("button", name="核验").click()
        verdict = page.locator("#verdict[data-result=wrong_plate]")
        await verdict.wait_for(timeout=10_000)
        assert "车牌与此提货码对应的车辆不符。" in await verdict.inner_text()
        assert "门岗" in await page.locator("#nav").inner_text()
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()
