"""A tender through the pages, in a real headless Chromium against a real server: the first carrier
of a waterfall declines on its job board (with a reason), the second is told live and accepts; the
poster's job screen shows the offers in rank order with their state; the poster cancels the award
with a reason and re-tenders with one action; the first carrier is offered the job again, live,
accepts, and gives it back from its plan screen. And a mill posts a job tendered to two carriers it
picks by name on the console's Post-a-job screen (on a phone), and sees the tender on the job screen.
Nothing the pages load leaves the app, and each state is checked by axe."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import pytest

from tests.browser import assert_accessible, chromium, watch
from tests.integration.test_tenders import tendered
from tests.market_support import create_site, save_area
from tests.steps.console import local, sign_in
from tests.support import PASSWORD, bootstrap_org

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
            # The order is chosen as on Post a job: as given (the default) or by scorecard.
            retender = console.locator("#retender-form")
            assert await retender.get_by_label("In my order").is_checked()
            await retender.get_by_label("By scorecard, best first").check()
            async with console.expect_request(
                lambda r: r.method == "POST" and r.url.endswith(f"/jobs/{job['id']}/retender")
            ) as sent:
                await console.get_by_role("button", name="Re-tender").click()
            assert (await sent.value).post_data_json["order"] == "by_score"
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


async def test_a_mill_posts_a_job_tendered_to_carriers_it_picks_by_name_and_sees_the_offers(
    server_factory, settings
):
    server = server_factory()
    tag = secrets.token_hex(3)  # keeps the names apart from other tests' carriers in the database
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        elbe = await bootstrap_org(http, settings, f"Elbe Freight {tag}", ["carrier"])
        spree = await bootstrap_org(http, settings, f"Spree Trucking {tag}", ["carrier"])
        oder = await bootstrap_org(http, settings, f"Oder Logistics {tag}", ["carrier"])
        origin = await create_site(http, mill, "Mill Berlin")
        destination = await create_site(http, mill, "Mill Potsdam", at=(13.06, 52.40))

        async with chromium() as browser:
            context = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
            page = await context.new_page()
            foreign, errors = watch(page, server)
            await sign_in(page, server.base_url, mill.email, path="/jobs/new")
            form = page.locator("#post-job")
            await form.wait_for(timeout=WAIT)
            await form.get_by_label("Pickup site").select_option(origin["id"])
            await form.get_by_label("Destination site").select_option(destination["id"])
            await form.get_by_label("Line 1: description").fill("coated coil")
            await form.get_by_label("Count").fill("2")
            await form.get_by_label("Weight per item (kg)").fill("12000")
            await form.get_by_label("Volume per item (m³)").fill("2")
            await form.get_by_label("Pickup from").fill(local(timedelta(hours=20)))
            await form.get_by_label("Pickup until").fill(local(timedelta(hours=30)))
            await form.get_by_label("Deliver by").fill(local(timedelta(hours=60)))
            await form.get_by_label("Grab at a price").check()
            await form.get_by_label("Price (EUR)").fill("2,500.00")
            await form.get_by_label("Bidding deadline").fill(local(timedelta(hours=10)))

            # Tender first, no carrier picked: the API's reason is shown next to the carriers.
            await form.get_by_label("Offer the job to chosen carriers").check()
            await form.get_by_role("button", name="Post the job").click()
            picker = form.locator(".carrier-picker")
            await picker.locator(".field-error[data-field=carriers]").wait_for(timeout=WAIT)
            assert await picker.get_attribute("aria-invalid") == "true"
            assert await page.locator("#posted").count() == 0
            # The form's foot says it in words, never the validator's "$.tender.carriers" path.
            foot = await form.locator(".form-error").inner_text()
            assert foot == "Not saved: see the reasons beside the fields marked.", foot

            # The first carrier added: the carriers' error goes at once (the foot stays until sent).
            await form.get_by_label("Find a carrier by name").fill(f"elbe freight {tag}")
            await form.get_by_role("button", name=f"Add Elbe Freight {tag}").click()
            await picker.locator(".field-error[data-field=carriers]").wait_for(state="detached", timeout=WAIT)
            assert await picker.get_attribute("aria-invalid") == "false"
            await form.get_by_role("button", name=f"Remove Elbe Freight {tag}").click()

            # Picked by name: three added, one removed, the last moved up with the keyboard.
            await form.get_by_label("Find a carrier by name").fill(f"spree trucking {tag}")
            await form.get_by_role("button", name=f"Add Spree Trucking {tag}").click()
            await form.get_by_label("Find a carrier by name").fill(tag)
            await form.get_by_role("button", name=f"Add Oder Logistics {tag}").click()
            await form.get_by_role("button", name=f"Add Elbe Freight {tag}").click()
            await form.get_by_role("button", name=f"Remove Oder Logistics {tag}").click()
            await form.get_by_role("button", name=f"Move Elbe Freight {tag} up").focus()
            await page.keyboard.press("Enter")
            assert await picker.locator(".picked li .picked-name").all_inner_texts() == [
                f"Elbe Freight {tag}",
                f"Spree Trucking {tag}",
            ]
            assert await form.get_by_role("button", name=f"Add Oder Logistics {tag}").count() == 1
            # The keyboard stays with the moved carrier: at the top, on its other button.
            focused = await page.evaluate("document.activeElement.getAttribute('aria-label')")
            assert focused == f"Move Elbe Freight {tag} down"
            # The price offered is the grab price until changed.
            assert (
                await form.get_by_label("Price offered (EUR; empty: the grab price)").input_value()
                == "2,500.00"
            )
            await form.get_by_label("Minutes each carrier has to answer").fill("30")
            await form.get_by_label("Expire", exact=True).check()
            # On a phone the form fits the screen's width.
            assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            await assert_accessible(page, context="post a job with a tender")
            await form.get_by_role("button", name="Post the job").click()

            # The job screen: the first carrier is offered the job, the second waits its turn.
            await page.locator("#posted-job").click()
            await page.locator("#offer-1[data-state=offered]").wait_for(timeout=WAIT)
            assert f"Elbe Freight {tag}" in await page.locator("#offer-1").inner_text()
            assert await page.locator("#offer-2").get_attribute("data-state") == "pending"
            assert f"Spree Trucking {tag}" in await page.locator("#offer-2").inner_text()
            await assert_accessible(page, context="job screen with its tender")
            assert foreign == [] and errors == []
            job_id = await page.locator("#tender").evaluate("() => location.hash.split('/').pop()")

            # In Chinese on a desktop: the same section, every text from the catalogue.
            wide = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            zh = await wide.new_page()
            foreign_zh, errors_zh = watch(zh, server)
            await zh.goto(f"{server.base_url}/console#/jobs/new")
            await zh.get_by_label("邮箱").fill(mill.email)
            await zh.get_by_label("密码").fill(PASSWORD)
            await zh.get_by_role("button", name="登录").click()
            await zh.locator("#post-job").wait_for(timeout=WAIT)
            await zh.get_by_label("先将此运单依次发给选定的承运商").check()
            await zh.get_by_label("按名称查找承运商").fill(f"spree trucking {tag}")
            await zh.get_by_role("button", name=f"添加 Spree Trucking {tag}").click()
            await zh.get_by_role("button", name=f"移除 Spree Trucking {tag}").wait_for(timeout=WAIT)
            assert await zh.evaluate("[...DispatchI18n.missing]") == []
            assert await zh.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert foreign_zh == [] and errors_zh == []

        r = await http.get(f"/jobs/{job_id}/tender", headers=mill.headers)
        assert r.status_code == 200, r.text
        tender = r.json()
        assert (tender["price_minor"], tender["window_seconds"], tender["then"]) == (250_000, 1800, "expire")
        assert [o["carrier_org_id"] for o in tender["offers"]] == [elbe.org_id, spree.org_id]
        assert oder.org_id not in [o["carrier_org_id"] for o in tender["offers"]]
