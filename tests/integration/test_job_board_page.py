"""The carriers' job board page in a real headless Chromium: two carriers watch their boards; a job
the shipper posts appears on both without reload; the first to click Grab gets it (the API shows it
awarded to that carrier) and it leaves the other's board, whose late click is told the job was
taken; a carrier without a saved area is told so and saves one from the page; a bid placed and
lowered from the page is what the shipper sees in the bids. Everything the page loads comes from
the app itself."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, WebSocketRoute

from tests.browser import chromium, keep_screenshot
from tests.market_support import BERLIN, create_site, post_job, save_area
from tests.support import PASSWORD, bootstrap_org

pytestmark = pytest.mark.server


def watch(page: Page, server: Any) -> tuple[list[str], list[str]]:
    """Requests that leave the app's origin, and the page's script errors."""
    foreign: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.base_url + "/") else foreign.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return foreign, errors


async def test_a_posted_job_appears_on_both_boards_and_the_first_grab_wins(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first = await bootstrap_org(http, settings, "Haulers A", ["carrier"])
        second = await bootstrap_org(http, settings, "Haulers B", ["carrier"])
        site = await create_site(http, mill, "Mill Berlin")
        await save_area(http, first, "Berlin 50 km")
        # Already open when the boards open: it comes in the snapshot.
        grain = await post_job(
            http,
            mill,
            site["id"],
            price=180_000,
            vehicle_type="bulk_tipper",
            cargo={"kind": "bulk", "description": "feed wheat", "weight_kg": 26_000, "volume_m3": 34},
        )

        async with chromium() as browser:
            page_a = await browser.new_page(viewport={"width": 1280, "height": 800})
            page_b = await browser.new_page(viewport={"width": 1280, "height": 800})
            foreign_a, errors_a = watch(page_a, server)
            foreign_b, errors_b = watch(page_b, server)
            # B's feed goes through the test, which can hold its frames back for a while (as a slow
            # line would), so that B clicks Grab before it hears the job is gone.
            # It can also hold a new socket back before it reaches the server.
            hold = asyncio.Event()
            held: list[tuple[WebSocketRoute, str | bytes]] = []
            routes: list[WebSocketRoute] = []
            arrived = asyncio.Event()  # a new socket came through
            admit = asyncio.Event()
            admit.set()

            async def relay(ws: WebSocketRoute) -> None:
                routes.append(ws)
                arrived.set()
                await admit.wait()
                server_side = ws.connect_to_server()

                def forward(message: str | bytes) -> None:
                    if hold.is_set():
                        held.append((ws, message))
                    else:
                        ws.send(message)

                server_side.on_message(forward)

            await page_b.route_web_socket("**/market/feed**", relay)

            # A signs in with a token in the fragment; the snapshot shows the open job.
            await page_a.goto(f"{server.base_url}/board/jobs#token={first.token}")
            await page_a.wait_for_selector("#status.live", timeout=10_000)
            assert "#token" not in page_a.url and not await page_a.locator("#login").is_visible()
            await page_a.wait_for_selector(f"#job-{grain['id']}")
            assert "Haulers A" in await page_a.locator("#who").inner_text()
            grain_card = page_a.locator(f"#job-{grain['id']}")
            assert "bulk: feed wheat" in await grain_card.locator(".cargo").inner_text()
            assert await grain_card.locator(".vehicle").inner_text() == "bulk tipper"

            # B signs in with the form; it has no saved area yet: the page says so and saves one.
            await page_b.goto(f"{server.base_url}/board/jobs")
            await page_b.wait_for_selector("#login", state="visible", timeout=10_000)
            await page_b.fill("#login input[name=email]", second.email)
            await page_b.fill("#login input[name=password]", PASSWORD)
            await page_b.click("#login button[type=submit]")
            await page_b.wait_for_selector("#no-areas", state="visible", timeout=10_000)
            assert await page_b.locator("#status").inner_text() == "no saved area"
            await page_b.fill("#area-form input[name=area_name]", "Around the mill")
            await page_b.fill("#area-form input[name=lat]", str(BERLIN[1]))
            await page_b.fill("#area-form input[name=lon]", str(BERLIN[0]))
            await page_b.fill("#area-form input[name=radius_km]", "30")
            await page_b.click("#area-form button[type=submit]")
            await page_b.wait_for_selector("#status.live", timeout=10_000)
            await page_b.wait_for_selector(f"#job-{grain['id']}")
            assert not await page_b.locator("#no-areas").is_visible()
            assert "Around the mill — 30 km" in await page_b.locator("#area-list").inner_text()
            r = await http.get("/market/areas", headers=second.headers)
            assert r.status_code == 200 and [a["radius_km"] for a in r.json()] == [30], r.text
            navigations: list[str] = []
            for page in (page_a, page_b):
                page.on("framenavigated", lambda frame: navigations.append(frame.url))

            # The shipper posts a grab job: it appears on both boards without reload.
            job = await post_job(http, mill, site["id"], price=250_000)
            for page in (page_a, page_b):
                await page.wait_for_selector(f"#job-{job['id']}", timeout=10_000)
            card_a = page_a.locator(f"#job-{job['id']}")
            assert re.fullmatch(r"Grab at €2,500\.00", await card_a.locator("button.grab").inner_text())
            assert await card_a.locator(".from").inner_text() == "Mill Berlin"
            assert "Hamburg" in await card_a.locator(".to").inner_text()
            cargo = await card_a.locator(".cargo").inner_text()
            assert "120 t" in cargo and "5 \u00d7 hot-rolled coil" in cargo, cargo
            assert await card_a.locator(".vehicle").inner_text() == "flatbed"
            assert await card_a.locator(".mode").inner_text() == "grab"
            assert "\u2013" in await card_a.locator(".pickup").inner_text()
            assert re.fullmatch(r"1 h 5\d min \d\d s", await card_a.locator(".countdown").inner_text())
            assert await page_a.locator("#open-count").inner_text() == "2 open"

            # A grabs it on the page; B's feed is held back meanwhile.
            hold.set()
            await card_a.locator("button.grab").click()
            won = page_a.locator(f"#won-{job['id']}")
            await won.wait_for(timeout=10_000)
            assert "awarded to you" in await won.inner_text()
            assert "€2,500.00" in await won.inner_text()
            assert "PO-4711" in await won.inner_text()  # the carrier's full view has the reference
            await page_a.wait_for_selector(f"#job-{job['id']}", state="detached")
            r = await http.get(f"/jobs/{job['id']}", headers=mill.headers)
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "awarded" and r.json()["carrier_org_id"] == first.org_id

            # B, not told yet, clicks too: the page shows the problem's message.
            card_b = page_b.locator(f"#job-{job['id']}")
            await card_b.locator("button.grab").click()
            await card_b.locator(".message.error").wait_for(timeout=10_000)
            assert await card_b.locator(".message").inner_text() == "Another carrier took this job first."
            assert "Another carrier took this job first." in await page_b.locator("#notices").inner_text()
            assert await card_b.locator("button.grab").is_disabled()
            # The feed catches up: the job leaves B's open board.
            hold.clear()
            assert held, "B's socket was sent the job's removal"
            for ws, message in held:
                ws.send(message)
            await page_b.wait_for_selector(f"#job-{job['id']}", state="detached", timeout=10_000)
            assert await page_b.locator(f"#job-{grain['id']}").count() == 1  # the other is still open
            assert await page_b.locator(f"#won-{job['id']}").count() == 0

            # An auction: A bids from the page, B's bid above the ceiling is refused, then A lowers.
            auction = await post_job(http, mill, site["id"], mode="auction", price=None, ceiling=300_000)
            for page in (page_a, page_b):
                await page.wait_for_selector(f"#job-{auction['id']}", timeout=10_000)
            auction_a = page_a.locator(f"#job-{auction['id']}")
            assert "ceiling €3,000.00" in await auction_a.locator(".auction-facts").inner_text()
            assert await auction_a.locator("button.grab").is_hidden()
            await auction_a.locator(".bid-form input").fill("2400")
            await auction_a.locator(".bid-form button").click()
            await page_a.wait_for_function(
                "id => (document.querySelector(`#job-${id} .own-bid`) || {}).textContent"
                " === 'Your bid: €2,400.00 — rank 1 of 1'",
                arg=auction["id"],
                timeout=10_000,
            )
            await page_a.wait_for_function(  # the job's market view, read again after the bid
                "id => document.querySelector(`#job-${id} .bid-count`).textContent === '1 bid'",
                arg=auction["id"],
                timeout=10_000,
            )
            r = await http.get(f"/jobs/{auction['id']}/bids", headers=mill.headers)
            assert r.status_code == 200, r.text
            assert [(b["carrier_org_id"], b["amount_minor"], b["status"]) for b in r.json()] == [
                (first.org_id, 240_000, "active")
            ]

            auction_b = page_b.locator(f"#job-{auction['id']}")
            await auction_b.locator(".bid-form input").fill("3500")
            await auction_b.locator(".bid-form button").click()
            await auction_b.locator(".message.error").wait_for(timeout=10_000)
            assert "above the ceiling" in await auction_b.locator(".message").inner_text()

            assert await auction_a.locator(".bid-form button").inner_text() == "Lower my bid"
            await auction_a.locator(".bid-form input").fill("2350.50")
            await auction_a.locator(".bid-form button").click()
            await page_a.wait_for_function(
                "id => (document.querySelector(`#job-${id} .own-bid`) || {}).textContent"
                " === 'Your bid: €2,350.50 — rank 1 of 1'",
                arg=auction["id"],
                timeout=10_000,
            )
            r = await http.get(f"/jobs/{auction['id']}/bids", headers=mill.headers)
            assert [(b["carrier_org_id"], b["amount_minor"]) for b in r.json()] == [(first.org_id, 235_050)]

            # B's line drops; a job posted meanwhile is in the snapshot of its next socket.
            assert await page_b.evaluate("document.body.dataset.reconnects") == "0"
            admit.clear()
            arrived.clear()
            sockets = len(routes)
            await routes[-1].close(code=4000, reason="test: connection lost")
            await page_b.wait_for_selector("#status:not(.live)", timeout=5_000)
            assert await page_b.locator("#status").inner_text() == "reconnecting…"
            missed = await post_job(http, mill, site["id"], price=199_000)
            async with asyncio.timeout(10):
                await arrived.wait()  # the page tries again, after its backoff
            assert len(routes) == sockets + 1
            admit.set()
            await page_b.wait_for_selector("#status.live", timeout=10_000)
            await page_b.wait_for_selector(f"#job-{missed['id']}", timeout=10_000)
            assert await page_b.locator(f"#job-{auction['id']}").count() == 1
            assert await page_b.evaluate("document.body.dataset.reconnects") == "1"

            await keep_screenshot(page_a, "job-board")
            assert await page_a.evaluate("document.body.dataset.reconnects") == "0"
            assert navigations == []
            assert foreign_a == [] and foreign_b == [] and errors_a == [] and errors_b == []

            # After a reload the session is kept and the job awarded to A is listed again.
            await page_a.reload()
            await page_a.wait_for_selector("#status.live", timeout=10_000)
            await page_a.wait_for_selector(f"#won-{job['id']}", timeout=10_000)
            assert "PO-4711" in await page_a.locator(f"#won-{job['id']}").inner_text()
            await page_a.wait_for_function(  # the own bid, read again for the snapshot's auctions
                "id => (document.querySelector(`#job-${id} .own-bid`) || {}).textContent"
                " === 'Your bid: \u20ac2,350.50 \u2014 rank 1 of 1'",
                arg=auction["id"],
                timeout=10_000,
            )
            assert errors_a == []
