"""A carrier's bids on the job board, in a real headless Chromium against a real server, played
with the board's steps (tests/steps/board.py): one sign-in on the console carries over to the
board; a bid, a lowering by less than the step refused with the most one may offer next to the
amount, a bid above the ceiling refused with the ceiling; each carrier's bids and their rank in
"Your bids"; a bid withdrawn from the keyboard (asked once more, Escape keeps it) and placed again;
the shipper awards early: the winner is told and finds the job awarded with the way to plan it, the
other is told it lost; a grab taken from the board. Nothing the pages load leaves the app."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import assert_accessible, chromium, watch
from tests.market_support import create_site, post_job, save_area
from tests.steps.board import bid, grab, open_board
from tests.support import PASSWORD, Account, bootstrap_org

pytestmark = pytest.mark.server

WAIT = 30_000


async def own_bids(http: httpx.AsyncClient, carrier: Account, job_id: str) -> list[tuple[int, str]]:
    r = await http.get(f"/jobs/{job_id}/bids", headers=carrier.headers)
    assert r.status_code == 200, r.text
    return sorted((b["amount_minor"], b["status"]) for b in r.json())


async def standing(page: Page, job_id: str) -> str:
    return await page.locator(f"#my-bid-{job_id} .standing").inner_text()


async def test_a_carrier_bids_from_the_board_and_sees_where_its_bids_stand(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first = await bootstrap_org(http, settings, "Haulers A", ["carrier"])
        second = await bootstrap_org(http, settings, "Haulers B", ["carrier"])
        site = await create_site(http, mill, "Mill Berlin")
        for carrier in (first, second):
            await save_area(http, carrier, "Berlin 50 km")
        auction = await post_job(
            http, mill, site["id"], mode="auction", price=None, ceiling=300_000, min_step_minor=5_000
        )
        offer = await post_job(http, mill, site["id"], price=180_000)
        job_id = auction["id"]

        async with chromium() as browser:
            context_a = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
            context_b = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
            page_a, page_b = await context_a.new_page(), await context_b.new_page()
            foreign_a, errors_a = watch(page_a, server)
            foreign_b, errors_b = watch(page_b, server)

            # A signs in on the console, then opens the board in the same tab: already signed in.
            await page_a.goto(f"{server.base_url}/console")
            await page_a.get_by_label("Email").fill(first.email)
            await page_a.get_by_label("Password").fill(PASSWORD)
            await page_a.get_by_role("button", name="Sign in").click()
            await page_a.wait_for_selector("#nav", timeout=WAIT)
            await open_board(page_a)
            assert page_a.url == f"{server.base_url}/board/jobs"
            assert await page_a.locator("#login").count() == 0
            assert "Haulers A" in await page_a.locator("#who").inner_text()
            # B on a phone, with a token in the fragment.
            await page_b.goto(f"{server.base_url}/board/jobs#token={second.token}")
            await page_b.wait_for_selector("#status.live", timeout=WAIT)
            assert await page_b.locator("#my-bids").count() == 0  # "No bids yet"

            # A bids; then lowers by less than the step: refused, with the most A may offer now,
            # next to the amount (the input is marked invalid and described by the message).
            assert await bid(page_a, job_id, "2500") == "Bid placed: €2,500.00."
            await page_a.wait_for_function(
                "id => (document.querySelector(`#my-bid-${id} .standing`) || {}).textContent"
                " === 'rank 1 of 1'",
                arg=job_id,
                timeout=WAIT,
            )
            refused = await bid(page_a, job_id, "2480")
            assert refused.endswith("The most you can offer now is €2,450.00."), refused
            amount = page_a.locator(f"#job-{job_id} .bid-form input")
            assert await amount.get_attribute("aria-invalid") == "true"
            assert await amount.get_attribute("aria-describedby") == f"message-{job_id}"
            assert await own_bids(http, first, job_id) == [(250_000, "active")]
            assert await amount.get_attribute("placeholder") == "at most €2,450.00"

            # B above the ceiling: refused with the ceiling; then under A.
            refused = await bid(page_b, job_id, "3500")
            assert "above the ceiling" in refused and refused.endswith("The ceiling is €3,000.00."), refused
            assert await bid(page_b, job_id, "2300") == "Bid placed: €2,300.00."
            assert await standing(page_b, job_id) == "rank 1 of 2"
            assert await bid(page_a, job_id, "2200") == "Bid placed: €2,200.00."
            assert await standing(page_a, job_id) == "rank 1 of 2"

            # B withdraws from the keyboard: asked once more, Escape keeps the bid; then it goes.
            withdraw = page_b.locator(f"#job-{job_id} button.withdraw")
            await withdraw.focus()
            await page_b.keyboard.press("Enter")
            confirm = page_b.get_by_role("button", name="Yes, withdraw it")
            await confirm.wait_for(timeout=WAIT)
            assert await confirm.evaluate("b => b === document.activeElement")
            await page_b.keyboard.press("Escape")
            await withdraw.wait_for(timeout=WAIT)
            assert await withdraw.evaluate("b => b === document.activeElement")
            assert await own_bids(http, second, job_id) == [(230_000, "active")]
            await withdraw.focus()
            await page_b.keyboard.press("Enter")
            await confirm.wait_for(timeout=WAIT)
            await page_b.keyboard.press("Enter")
            await page_b.wait_for_function(
                "id => document.querySelector(`#job-${id} .message.ok`).textContent === 'Bid withdrawn.'",
                arg=job_id,
                timeout=WAIT,
            )
            assert (
                await page_b.locator(f"#job-{job_id} .own-bid").inner_text()
                == "Your bid: €2,300.00 (withdrawn)"
            )
            assert await own_bids(http, second, job_id) == [(230_000, "withdrawn")]
            # And bids again (a new bid: the withdrawn one cannot be lowered).
            assert await page_b.locator(f"#job-{job_id} .bid-form button").inner_text() == "Bid"
            assert await bid(page_b, job_id, "2250") == "Bid placed: €2,250.00."
            assert await standing(page_b, job_id) == "rank 2 of 2"
            await assert_accessible(page_b, context="job board on a phone, with own bids")

            # The shipper awards A's bid early: A is told and finds the job awarded, B is told it lost.
            (winning,) = [b for b in (await http.get(f"/jobs/{job_id}/bids", headers=mill.headers)).json()
                          if b["carrier_org_id"] == first.org_id and b["status"] == "active"]  # fmt: skip
            r = await http.post(f"/jobs/{job_id}/bids/{winning['id']}/award", headers=mill.headers)
            assert r.status_code == 200, r.text
            won = page_a.locator(f"#won-{job_id}")
            await won.wait_for(timeout=WAIT)
            assert "PO-4711" in await won.inner_text() and "€2,200.00" in await won.inner_text()
            assert await won.get_by_role("link", name="Plan the loads in the console").get_attribute(
                "href"
            ) == (f"/console#/carrier/jobs/{job_id}")
            assert (
                "You won the auction PO-4711 at €2,200.00." in await page_a.locator("#notices").inner_text()
            )
            await page_b.wait_for_selector(f"#my-bid-{job_id}[data-status=lost]", timeout=WAIT)
            assert await standing(page_b, job_id) == "lost"
            notices_b = await page_b.locator("#notices").inner_text()
            assert f"You lost the auction Job {job_id[:8]}: your bid was €2,250.00." in notices_b, notices_b
            assert await page_b.locator(f"#job-{job_id}").count() == 0

            # A grabs the other job: it moves to "Awarded to you", which takes the focus.
            assert await grab(page_a, offer["id"]) is True
            assert await page_a.evaluate("document.activeElement.id") == f"won-{offer['id']}"
            r = await http.get(f"/jobs/{offer['id']}", headers=mill.headers)
            assert r.json()["carrier_org_id"] == first.org_id

            assert foreign_a == [] and foreign_b == [] and errors_a == [] and errors_b == []
            await context_a.close()
            await context_b.close()
