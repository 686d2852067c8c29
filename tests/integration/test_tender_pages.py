"""A tender through the pages, in a real headless Chromium against a real server: the first carrier
of a waterfall declines on its job board (with a reason), the second is told live and accepts; the
poster's job screen shows the offers in rank order with their state; the poster cancels the award
with a reason and re-tenders with one action; the first carrier is offered the job again, live,
accepts, and gives it back from its plan screen.
Nothing the pages load leaves the app, and each state is checked by axe."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import assert_accessible, chromium, watch
from tests.integration.test_tenders import tendered
from tests.market_support import create_site, save_area
from tests.steps.console import sign_in
from tests.support import bootstrap_org

pytestmark = pytest.mark.server

WAIT = 30_000


async def test_a_waterfall_declined_and_accepted_on_the_board_cancelled_and_re_tendered_on_the_console(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first = await bootstrap_org(http, settings, "Haulers A", ["carrier"])
        second = await bootstrap_org(http, settings, "Haulers B", ["carrier"])
        for carrier in (first, second):
            await save_area(http, carrier, "Berlin 50 km")
        site = await create_site(http, mill, "Mill Berlin")

        async with chromium() as browser:
            contexts = [
                await browser.new_context(locale="en-US", viewport=viewport)
                for viewport in (
                    {"width": 1280, "height": 900},
                    {"width": 390, "height": 844},
                    {"width": 820, "height": 1000},
                )
            ]
            board_a, board_b, console = [await c.new_page() for c in contexts]
            watched = [watch(p, server) for p in (board_a, board_b, console)]
            for page, carrier in ((board_a, first), (board_b, second)):
                await page.goto(f"{server.base_url}/board/jobs#token={carrier.token}")
                await page.wait_for_selector("#status.live", timeout=WAIT)
                await page.locator("#tenders-empty").wait_for(timeout=WAIT)

            r = await http.post(
                "/jobs", headers=mill.headers, json=tendered(site["id"], [first, second], 1800)
            )
            assert r.status_code == 201, r.text
            job = r.json()

            # A is told live and declines, with a reason (none: refused next to the field).
            offer_a = board_a.locator("#tenders .tender")
            await offer_a.wait_for(timeout=WAIT)
            assert "€2,500.00" in await offer_a.inner_text()
            await assert_accessible(board_a, context="job board with a tender")
            await offer_a.get_by_role("button", name="Decline").click()
            await offer_a.get_by_role("button", name="Decline", exact=True).click()
            await offer_a.locator(".field-error, [aria-invalid=true]").first.wait_for(timeout=WAIT)
            await offer_a.get_by_label("Why you decline").fill("no truck free that week")
            await offer_a.get_by_role("button", name="Decline", exact=True).click()
            await board_a.locator("#tenders-empty").wait_for(timeout=WAIT)

            # B is offered it next, live, and accepts: the job is B's.
            offer_b = board_b.locator("#tenders .tender")
            await offer_b.wait_for(timeout=WAIT)
            await offer_b.get_by_role("button", name="Accept").click()
            await board_b.locator("#tenders-empty").wait_for(timeout=WAIT)
            await board_b.locator(f"#won-{job['id']}").wait_for(timeout=WAIT)

            # The poster's job screen: the offers in rank order, with their state and A's reason.
            await sign_in(console, server.base_url, mill.email, path=f"/jobs/{job['id']}")
            await console.locator("#offer-2[data-state=accepted]").wait_for(timeout=WAIT)
            assert await console.locator("#offer-1").get_attribute("data-state") == "declined"
            assert "no truck free that week" in await console.locator("#offer-1").inner_text()
            await assert_accessible(console, context="job screen with an accepted tender")

            # The poster cancels the award (a reason is asked), then re-tenders with one action:
            # the same waterfall without B, so A is offered it again.
            await console.get_by_role("button", name="Cancel the award").click()
            await console.get_by_label("Reason").fill("the carrier cannot meet the window")
            await console.locator("#cancel-award-form").get_by_role("button", name="Cancel the award").click()
            await console.locator("#retender").wait_for(timeout=WAIT)
            await assert_accessible(console, context="job screen waiting for its re-tender")
            await console.get_by_role("button", name="Re-tender").click()
            await console.locator("#offer-1[data-state=offered]").wait_for(timeout=WAIT)
            assert await console.locator("#tender-offers tbody tr").count() == 1
            await board_a.locator("#tenders .tender").wait_for(timeout=WAIT)
            got = (await http.get(f"/jobs/{job['id']}", headers=mill.headers)).json()
            assert got["status"] == "tendering" and got["excluded_carrier_org_ids"] == [second.org_id]

            # A takes it this time, then gives it back from its plan screen (a reason is asked).
            await board_a.locator("#tenders .tender").get_by_role("button", name="Accept").click()
            await board_a.locator(f"#won-{job['id']}").wait_for(timeout=WAIT)
            await sign_in(board_a, server.base_url, first.email, path=f"/carrier/jobs/{job['id']}")
            await board_a.get_by_role("button", name="Give the job back").click()
            await board_a.get_by_label("Reason").fill("our only flatbed broke down")
            await board_a.get_by_role("button", name="Give it back").click()
            await board_a.locator("#given-back").wait_for(timeout=WAIT)
            await assert_accessible(board_a, context="plan screen after giving a job back")
            # The poster's screen shows the job back, waiting for its re-tender.
            await console.locator("#retender").wait_for(timeout=WAIT)

            for foreign, errors in watched:
                assert foreign == [] and errors == []
        got = (await http.get(f"/jobs/{job['id']}", headers=mill.headers)).json()
        assert got["status"] == "returned"
        assert got["excluded_carrier_org_ids"] == [second.org_id, first.org_id]
