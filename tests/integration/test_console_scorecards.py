"""Scorecards in the console, in a real headless Chromium on a real server: a mill opens its auction
and sees, beside the bid, the bidder's key figures and a link; it follows the link by keyboard to the
carrier's scorecard, asks for a period (a wrong one is refused next to its field), then for one lane.
The carrier reads "Our scorecard" in Chinese on a phone. axe on each state; nothing leaves the app's
origin. The carrier's give-back is played through its route."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.market_support import create_site, post_job
from tests.support import PASSWORD, Account, bootstrap_org

pytestmark = pytest.mark.server

WAIT = 30_000


async def sign_in(
    browser: Browser, server: Any, who: Account, fragment: str, *, locale: str = "en-US", width: int = 1280
) -> tuple[Page, list[str], list[str]]:
    context = await browser.new_context(
        locale=locale, timezone_id="UTC", viewport={"width": width, "height": 900}
    )
    page = await context.new_page()
    foreign, errors = watch(page, server)
    await page.goto(f"{server.base_url}/console#{fragment}")
    await page.locator("input[name=email]").fill(who.email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await page.locator("#nav").wait_for(timeout=WAIT)
    return page, foreign, errors


async def test_a_mill_weighs_a_bidder_by_its_scorecard_and_the_carrier_reads_its_own(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        gate = await create_site(http, mill, "Mill gate")
        # The carrier took a job of the mill's to Hamburg (an address), then gave it back.
        taken = await post_job(http, mill, gate["id"])
        assert (await http.post(f"/jobs/{taken['id']}/grab", headers=carrier.headers)).status_code == 200
        r = await http.post(
            f"/jobs/{taken['id']}/give-back", headers=carrier.headers, json={"reason": "truck broke down"}
        )
        assert r.status_code == 200, r.text
        # Now it bids on the mill's auction.
        auction = await post_job(http, mill, gate["id"], mode="auction", price=None)
        r = await http.post(
            f"/jobs/{auction['id']}/bids", headers=carrier.headers, json={"amount_minor": 240_000}
        )
        assert r.status_code == 201, r.text
        bid_id = r.json()["id"]

    async with chromium() as browser:
        page, foreign, errors = await sign_in(browser, server, mill, f"/jobs/{auction['id']}")
        # 1. Beside the bid: who bid, its key figures, a link to its scorecard.
        bidder = page.locator(f"#bid-{bid_id} .bidder")
        await bidder.wait_for(timeout=WAIT)
        assert "Haulers" in await bidder.inner_text()
        given_back = bidder.locator("[data-figure=given_back]")
        assert "Jobs given back: 1 of 1" in await given_back.inner_text()
        assert "No data" in await bidder.locator("[data-figure=no_shows]").inner_text()
        await assert_accessible(page, context="job screen with a bidder's figures")
        # On a phone the bids (figures included) stay within the screen.
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        await page.set_viewport_size({"width": 1280, "height": 900})

        # 2. By keyboard to the scorecard: the link focused, Enter.
        link = bidder.get_by_role("link", name="Scorecard of Haulers")
        await link.focus()
        await page.keyboard.press("Enter")
        card = page.locator("#scorecard")
        await card.locator("#scorecard-figures").wait_for(timeout=WAIT)
        assert await card.get_by_role("heading", level=2).inner_text() == "Scorecard of Haulers"
        cell = card.locator("[data-figure=given_back] .value")
        assert (await cell.get_attribute("data-numerator"), await cell.get_attribute("data-denominator")) == (
            "1",
            "1",
        )
        assert "No data" in await card.locator("[data-figure=tender_acceptance] .value").inner_text()
        assert "last 90 days" in await card.locator("#scorecard-scope").inner_text()
        # The lane: the mill's gate to the area of Hamburg (the job went to an address).
        lane = card.locator("#lane-list tbody tr")
        await lane.first.wait_for(timeout=WAIT)  # the lanes arrive by their own request
        assert await lane.count() == 1
        assert "Mill gate → area near 53.6, 10" in await lane.locator("th").inner_text()

        # 3. A period out of range is refused next to its field; a good one is shown; then one lane.
        days = card.get_by_label("Period in days (1 to 365)")
        await days.fill("400")
        await days.press("Enter")
        error = card.locator(".field-error[data-field=days]")
        await error.wait_for(timeout=WAIT)
        assert "1 to 365" in await error.inner_text()
        assert await days.get_attribute("aria-invalid") == "true"
        await days.fill("30")
        await days.press("Enter")
        await card.locator("#scorecard-scope", has_text="last 30 days").wait_for(timeout=WAIT)
        await card.get_by_label("Lane", exact=True).select_option(label="Mill gate → area near 53.6, 10")
        await card.get_by_role("button", name="Show", exact=True).click()
        await card.locator("#scorecard-scope", has_text="Lane Mill gate").wait_for(timeout=WAIT)
        assert "1 of 1" in await cell.inner_text()
        await assert_accessible(page, context="a carrier's scorecard, one lane")
        await keep_screenshot(page, "console-scorecard")
        # On a tablet, nothing wider than the screen.
        await page.set_viewport_size({"width": 820, "height": 1100})
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert foreign == [] and errors == []

        # 4. The carrier reads its own, in Chinese, on a phone.
        own, own_foreign, own_errors = await sign_in(browser, server, carrier, "/", locale="zh-CN", width=390)
        await own.locator('#nav a[href="#/scorecard"]', has_text="我方绩效记分卡").click()
        mine = own.locator("#scorecard")
        await mine.locator("#scorecard-figures").wait_for(timeout=WAIT)
        assert await mine.get_by_role("heading", level=2).inner_text() == "我方绩效记分卡"
        assert "1 次中 1 次" in await mine.locator("[data-figure=given_back] .value").inner_text()
        assert "无数据" in await mine.locator("[data-figure=slot_on_time] .value").inner_text()
        await assert_accessible(own, context="our scorecard (zh-CN, phone)")
        assert await own.evaluate("document.documentElement.scrollWidth <= innerWidth")
        assert await own.evaluate("[...DispatchI18n.missing]") == []
        assert own_foreign == [] and own_errors == []
