"""The seller's job screens in the console, in a real headless Chromium on a real server: a shipper
posts a reverse auction (a bad ceiling is shown next to its field and nothing is stored), a carrier
bids through the API, the bid appears on the job's screen by itself, and the shipper awards it; a
Chinese shipper sees its jobs and bids in yuan and cancels one. Nothing leaves the app's origin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import chromium, keep_screenshot, watch
from tests.market_support import HAMBURG, create_site, post_job
from tests.support import PASSWORD, add_member, bootstrap_org

pytestmark = pytest.mark.server


def local(delta: timedelta) -> str:
    """A datetime-local value in the browser's time zone (the context runs in UTC)."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


async def sign_in(
    page: Page, email: str, labels: tuple[str, str, str] = ("Email", "Password", "Sign in")
) -> None:
    """Sign in on the console's form; `labels`: the email and password labels and the button's name."""
    email_label, secret_label, button = labels
    await page.get_by_label(email_label).fill(email)
    await page.get_by_label(secret_label).fill(PASSWORD)
    await page.get_by_role("button", name=button).click()


async def test_a_shipper_posts_an_auction_sees_a_bid_arrive_and_awards_it(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        gate = await create_site(http, mill, "Mill gate")
        yard = await create_site(http, mill, "Yard", at=HAMBURG)

    async with chromium() as browser:
        context = await browser.new_context(
            locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 1000}
        )
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/jobs/new")
        await sign_in(page, mill.email)
        form = page.locator("#post-job")
        await form.wait_for(timeout=10_000)
        nav = page.get_by_role("navigation", name="Console")
        assert await nav.get_by_role("link", name="Post a job").count() == 1
        assert await nav.get_by_role("link", name="My jobs").count() == 1

        await form.get_by_label("Pickup site").select_option(gate["id"])
        await form.get_by_label("Destination site").select_option(yard["id"])
        await form.get_by_label("Line 1: description").fill("hot-rolled coil")
        await form.get_by_label("Count").fill("4")
        await form.get_by_label("Weight per item (kg)").fill("24000")
        await form.get_by_label("Volume per item (m³)").fill("3.2")
        await form.get_by_label("Pickup from").fill(local(timedelta(hours=20)))
        await form.get_by_label("Pickup until").fill(local(timedelta(hours=30)))
        await form.get_by_label("Deliver by").fill(local(timedelta(hours=60)))
        await form.get_by_label("Bidding deadline").fill(local(timedelta(hours=2)))
        await form.get_by_label("Reference").fill("PO-0815")
        assert await form.get_by_label("Reverse auction").is_checked()
        # A negative ceiling: the API's reason next to the ceiling, nothing stored.
        await form.get_by_label("Ceiling (EUR)").fill("-5")
        await form.get_by_label("Minimum step (EUR)").fill("10.00")
        await form.get_by_role("button", name="Post the job").click()
        ceiling_error = form.locator(".field-error[data-field=ceiling_minor]")
        await ceiling_error.wait_for(timeout=10_000)
        assert await form.get_by_label("Ceiling (EUR)").get_attribute("aria-invalid") == "true"
        assert await form.locator(".field-error").count() == 1
        assert await db.fetchval("SELECT count(*) FROM jobs WHERE poster_org_id = $1", mill.org_id) == 0
        # Corrected in major units with a thousands separator: stored in cents.
        await form.get_by_label("Ceiling (EUR)").fill("1,280.00")
        await form.get_by_role("button", name="Post the job").click()
        await page.locator("#posted").wait_for(timeout=10_000)
        stored = await db.fetchrow(
            "SELECT id, ceiling_minor, min_step_minor, mode, currency FROM jobs WHERE poster_org_id = $1",
            mill.org_id,
        )
        assert (stored["ceiling_minor"], stored["min_step_minor"]) == (128_000, 1_000)
        assert (stored["mode"], stored["currency"]) == ("auction", "EUR")
        job_id = str(stored["id"])

        # My jobs: the job with its ceiling; its bids open, empty, then a carrier's bid arrives.
        await nav.get_by_role("link", name="My jobs").click()
        row = page.locator(f"#job-{job_id}")
        await row.wait_for(timeout=10_000)
        assert "1,280.00" in await row.locator(".price").inner_text()
        await row.get_by_role("button", name="Bids").click()
        bids = page.locator(f"#bids-{job_id}")
        await bids.locator(".no-bids").wait_for(timeout=10_000)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.post(
                f"/jobs/{job_id}/bids", headers=carrier.headers, json={"amount_minor": 120_000}
            )
            assert r.status_code == 201, r.text
            bid_id = r.json()["id"]
            bid_row = page.locator(f"#bid-{bid_id}")
            await bid_row.wait_for(timeout=20_000)  # by the poll, without touching the page
            assert "1,200.00" in await bid_row.locator(".amount").inner_text()
            await keep_screenshot(page, "console-jobs")

            await bid_row.get_by_role("button", name="Award").click()
            await row.locator(".state", has_text="awarded").wait_for(timeout=10_000)
            job = (await http.get(f"/jobs/{job_id}", headers=mill.headers)).json()
            assert (job["status"], job["carrier_org_id"], job["award_price_minor"]) == (
                "awarded",
                carrier.org_id,
                120_000,
            )
        assert "won" in await bid_row.inner_text()
        assert await bid_row.get_by_role("button", name="Award").count() == 0

        # A second job: bulk cargo grabbed at a posted price.
        await nav.get_by_role("link", name="Post a job").click()
        await form.wait_for(timeout=10_000)
        await form.get_by_label("Pickup site").select_option(gate["id"])
        await form.get_by_label("Destination site").select_option(yard["id"])
        await form.get_by_label("Bulk", exact=True).check()
        await form.get_by_label("Description").fill("iron ore fines")
        await form.get_by_label("Weight (kg)").fill("25000")
        await form.get_by_label("Volume (m³)").fill("14.5")
        await form.get_by_label("Pickup from").fill(local(timedelta(hours=20)))
        await form.get_by_label("Pickup until").fill(local(timedelta(hours=30)))
        await form.get_by_label("Deliver by").fill(local(timedelta(hours=60)))
        await form.get_by_label("Bidding deadline").fill(local(timedelta(hours=2)))
        await form.get_by_label("Grab at a price").check()
        await form.get_by_label("Price (EUR)").fill("950.50")
        await form.get_by_role("button", name="Post the job").click()
        await page.locator("#posted").wait_for(timeout=10_000)
        grab = await db.fetchrow(
            "SELECT mode, cargo_kind, price_minor, ceiling_minor FROM jobs"
            " WHERE poster_org_id = $1 AND id <> $2",
            mill.org_id,
            stored["id"],
        )
        assert dict(grab) == {
            "mode": "grab",
            "cargo_kind": "bulk",
            "price_minor": 95_050,
            "ceiling_minor": None,
        }
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()


async def test_a_chinese_shipper_sees_yuan_and_cancels_a_job(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Tangshan Steel", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        r = await http.patch(f"/orgs/{mill.org_id}", headers=mill.headers, json={"country": "CN"})
        assert r.status_code == 200 and r.json()["currency"] == "CNY", r.text
        gate = await create_site(http, mill, "Mill gate")
        job = await post_job(
            http, mill, gate["id"], mode="auction", price=None, ceiling=900_000, currency="CNY"
        )
        r = await http.post(
            f"/jobs/{job['id']}/bids", headers=carrier.headers, json={"amount_minor": 850_000}
        )
        assert r.status_code == 201, r.text
        # The carrier's dispatcher bids but cannot post jobs: no job screens for them.
        dispatcher = await add_member(http, carrier, "dispatcher")

    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/jobs")
        await sign_in(page, mill.email, ("邮箱", "密码", "登录"))
        row = page.locator(f"#job-{job['id']}")
        await row.wait_for(timeout=10_000)
        assert "¥" in await row.locator(".price").inner_text()
        assert "开放" in await row.locator(".state").inner_text()
        await row.get_by_role("button", name="查看报价").click()
        amount = page.locator(f"#bids-{job['id']} .amount")
        await amount.wait_for(timeout=10_000)
        assert "¥" in await amount.inner_text() and "8,500" in await amount.inner_text()
        await keep_screenshot(page, "console-jobs-phone-zh-CN")
        await row.get_by_role("button", name="取消运单").click()
        await row.get_by_role("button", name="确认取消此运单").click()
        await row.locator(".state", has_text="已取消").wait_for(timeout=10_000)
        assert await db.fetchval("SELECT status FROM jobs WHERE id = $1", job["id"]) == "cancelled"
        # The posting form in Chinese, with the organization's currency.
        await page.goto(f"{server.base_url}/console#/jobs/new")
        await page.locator("#post-job").wait_for(timeout=10_000)
        assert await page.get_by_label("最高价（CNY）").count() == 1
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()

    # The carrier's dispatcher: no job screens listed, and one opened by hand is refused.
    async with chromium() as browser:
        context = await browser.new_context(locale="en-US")
        page = await context.new_page()
        await page.goto(f"{server.base_url}/console#/jobs/new")
        await sign_in(page, dispatcher.email)
        await page.get_by_role("alert").wait_for(timeout=10_000)
        assert "Not allowed" in await page.get_by_role("alert").inner_text()
        assert "Post a job" not in await page.locator("#nav").inner_text()
        assert await page.locator("#post-job").count() == 0
        await context.close()
