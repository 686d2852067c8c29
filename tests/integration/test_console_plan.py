"""The carrier dispatcher's plan and loads on the console, in a real headless Chromium on a real
server: a dispatcher opens a won job, sees the planner's proposal against each truck's capacity,
makes an edit the API refuses (shown at the load it concerns, nothing stored), re-plans with fewer
vehicles, confirms, assigns a truck and a driver per load (a truck too small and a driver without a
profile are refused next to their fields; the profile is set on the fleet screen), messages a
driver (the driver API then has it) and watches a load's state change when its driver books a slot.
In Chinese on a phone; another organization's job is "not found", and a driver is refused the
screens. Nothing leaves the server."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.gate_support import gate_site, next_slot
from tests.integration.test_console_dispatcher import sign_in
from tests.market_support import iso, job_body
from tests.steps.plan import assign, confirm_plan, load_card, message_driver, open_won_job
from tests.support import Account, add_member, bootstrap_org

pytestmark = pytest.mark.server

WAIT = 30_000
COIL = {"description": "coil", "count": 2, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2}


async def vehicle(http: httpx.AsyncClient, admin: Account, plate: str, kg: int, m3: int) -> dict[str, Any]:
    r = await http.post(
        "/fleet/vehicles",
        headers=admin.headers,
        json={"plate": plate, "vehicle_type": "flatbed", "capacity_kg": kg, "capacity_m3": m3},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def won_job(http: httpx.AsyncClient, settings: Any) -> dict[str, Any]:
    """A mill's job of two 24 t coils from its gate (slots bookable now), grabbed by a carrier with
    two 25 t trucks and a 10 t one, a dispatcher, a driver with a profile and one without."""
    mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
    admin = await bootstrap_org(http, settings, "Haulers", ["carrier"])
    site = await gate_site(http, mill)
    body = job_body(
        site["id"],
        pickup_from=iso(timedelta(minutes=-5)),
        pickup_until=iso(timedelta(hours=30)),
        deliver_by=iso(timedelta(hours=60)),
        deadline=timedelta(hours=1),
        cargo={"kind": "items", "lines": [COIL]},
    )
    r = await http.post("/jobs", headers=mill.headers, json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert (await http.post(f"/jobs/{job['id']}/grab", headers=admin.headers)).status_code == 200
    for plate, kg, m3 in (("B-PL 1", 25_000, 90), ("B-PL 2", 25_000, 90), ("B-SM 1", 10_000, 40)):
        await vehicle(http, admin, plate, kg, m3)
    r = await http.post(
        "/fleet/drivers",
        headers=admin.headers,
        json={
            "email": f"anna-{secrets.token_hex(3)}@haulers.test",
            "name": "Anna Fahrer",
            "password": "correct horse battery staple",
            "phone": "+49 170 1234567",
            "licence_number": "L-4711",
        },
    )
    assert r.status_code == 201, r.text
    anna = r.json()
    device = await http.post(
        f"/orgs/{admin.org_id}/device-tokens",
        headers=admin.headers,
        json={"user_id": anna["user_id"], "name": "phone"},
    )
    assert device.status_code == 201, device.text
    other = await http.post(
        "/jobs", headers=mill.headers, json=job_body(site["id"])
    )  # open: not the carrier's
    assert other.status_code == 201, other.text
    return {
        "mill": mill,
        "admin": admin,
        "dispatcher": await add_member(http, admin, "dispatcher"),
        "newcomer": await add_member(http, admin, "driver"),  # "A Member": no fleet profile yet
        "anna": anna,
        "anna_phone": {"Authorization": f"Bearer {device.json()['token']}"},
        "job": job,
        "other_job": other.json(),
    }


async def stored_plan(db: Any, job_id: str) -> tuple[Any, ...]:
    row = await db.fetchrow("SELECT loads::text, edited, method FROM load_plans WHERE job_id = $1", job_id)
    return tuple(row) if row else ()


async def test_a_dispatcher_plans_assigns_messages_and_watches_the_loads(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await won_job(http, settings)
    job_id = w["job"]["id"]

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, w["dispatcher"])

        # The jobs won: this one, awarded, not planned yet; then its screen, with no plan yet.
        await page.get_by_role("navigation", name="Console").get_by_role("link", name="Jobs won").click()
        row = page.locator(f"#carrier-job-{job_id}")
        await row.wait_for(timeout=WAIT)
        assert "awarded" in await row.inner_text() and "not planned yet" in await row.inner_text()
        assert await page.locator("#carrier-jobs tbody tr").count() == 1  # the open job is not ours
        await open_won_job(page, job_id)
        await page.locator("#no-plan").wait_for(timeout=WAIT)

        # The planner's proposal: one coil per 25 t truck, each against its capacity, in words too.
        await page.get_by_role("button", name="Propose a plan").click()
        await page.locator("#proposal").wait_for(timeout=WAIT)
        planned = page.locator("#proposal article.planned-load")
        assert await planned.count() == 2
        first = await planned.first.inner_text()
        assert "1 \u00d7 coil" in first and "24 t of 25 t (96 %)" in first, first
        meter = planned.first.get_by_role("meter", name="Weight")
        assert await meter.get_attribute("value") == "24000" and await meter.get_attribute("max") == "25000"
        await assert_accessible(page, context="console, a job's plan")
        await keep_screenshot(page, "console-plan")
        proposed = await stored_plan(db, job_id)

        # An edit the API refuses: both coils on load 1. The reason at load 1, nothing stored.
        await page.get_by_role("button", name="Edit the plan").click()
        await page.locator("#edit-load-1").get_by_label("Units of coil").fill("2")
        await page.locator("#edit-load-2").get_by_label("Units of coil").fill("0")
        await page.get_by_role("button", name="Save the plan").click()
        refusal = page.locator("#edit-load-1 .load-error")
        await refusal.first.wait_for(timeout=WAIT)
        assert "48" in await refusal.first.inner_text(), await refusal.first.inner_text()
        assert await page.locator("#edit-load-1").get_attribute("aria-invalid") == "true"
        assert await page.locator("#edit-load-1").get_by_label("Units of coil").input_value() == "2"  # kept
        assert await stored_plan(db, job_id) == proposed
        await assert_accessible(page, context="console, a refused plan")

        # Re-plan with one truck only: two trips of B-PL 1.
        await page.get_by_label("B-PL 2", exact=False).uncheck()
        await page.get_by_label("B-SM 1", exact=False).uncheck()
        await page.get_by_role("button", name="Re-plan").click()
        await page.locator("#proposal", has_text="trip 2").wait_for(timeout=WAIT)
        titles = await page.locator("#proposal article.planned-load h4").all_inner_texts()
        assert titles == ["Load 1: B-PL 1, trip 1", "Load 2: B-PL 1, trip 2"], titles

        # Confirmed: two loads, each with its pickup code for the dispatcher to pass on.
        numbers = await confirm_plan(page, job_id)
        assert numbers == ["PO-4711/1", "PO-4711/2"]
        assert await page.locator("#loads .pickup-code").count() == 2
        assert "planned" in await load_card(page, "PO-4711/1").locator(".load-state").inner_text()

        # Assignments the API refuses, each next to its field, nothing stored.
        refused = await assign(page, job_id, "PO-4711/1", plate="B-SM 1", driver="Anna Fahrer")
        assert refused is not None and "does not fit" in refused, refused
        card = load_card(page, "PO-4711/1")
        assert await card.locator(".field-error[data-field=vehicle-1]").count() == 1
        refused = await assign(page, job_id, "PO-4711/2", plate="B-PL 2", driver="A Member")
        assert refused is not None and "fleet profile" in refused, refused
        assert await load_card(page, "PO-4711/2").locator(".field-error[data-field=driver-2]").count() == 1
        assert await db.fetchval("SELECT count(*) FROM loads WHERE driver_user_id IS NOT NULL") == 0
        await assert_accessible(page, context="console, a refused assignment")

        # The newcomer's profile, on the fleet screen; then both loads assigned.
        await page.get_by_role("navigation", name="Console").get_by_role("link", name="Drivers").click()
        await page.get_by_role("button", name="Edit the profile of A Member").click()
        profile = page.locator("#driver-profile")
        await profile.get_by_label("Phone").fill("+49 171 7654321")
        await profile.get_by_label("Licence number").fill("L-0815")
        await profile.get_by_role("button", name="Save the profile").click()
        await page.locator(f"#driver-{w['newcomer'].user_id}", has_text="L-0815").wait_for(timeout=WAIT)
        assert await assign(page, job_id, "PO-4711/1", plate="B-PL 1", driver="Anna Fahrer") is None
        assert await assign(page, job_id, "PO-4711/2", plate="B-PL 2", driver="A Member") is None
        stored = await db.fetch(
            "SELECT l.seq, v.plate_display, l.driver_user_id::text FROM loads l"
            " JOIN vehicles v ON v.id = l.vehicle_id WHERE l.job_id = $1 ORDER BY l.seq",
            job_id,
        )
        assert [tuple(r) for r in stored] == [
            (1, "B-PL 1", w["anna"]["user_id"]),
            (2, "B-PL 2", w["newcomer"].user_id),
        ]
        assert "assigned" in await load_card(page, "PO-4711/1").locator(".load-state").inner_text()
        assert "dispatched" in await page.locator("#job-summary").inner_text()  # every load has a driver

        # A message to the load's driver reaches the driver's phone.
        await message_driver(page, job_id, "PO-4711/1", "Gate 3, ask for Mr. Krause")
        load_id = await db.fetchval("SELECT id::text FROM loads WHERE job_id = $1 AND seq = 1", job_id)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.get("/driver/v1/messages", headers=w["anna_phone"])
            assert r.status_code == 200, r.text
            said = [(m["kind"], m["load_id"], m["text"]) for m in r.json()["items"]]
            assert ("dispatcher", load_id, "Gate 3, ask for Mr. Krause") in said, said

            # Live: the driver books a slot; the load's state changes on the open screen.
            r = await http.put(
                f"/driver/v1/loads/{load_id}/booking",
                headers=w["anna_phone"],
                json={"slot_start": next_slot(ahead=2).isoformat()},
            )
            assert r.status_code == 200, r.text
        await (
            load_card(page, "PO-4711/1").locator(".load-state", has_text="slot booked").wait_for(timeout=WAIT)
        )
        await page.locator("#loads").scroll_into_view_if_needed()
        await keep_screenshot(page, "console-loads")
        await assert_accessible(page, context="console, a job's loads")
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()


async def open_by_hand(page: Page, base_url: str, job_id: str) -> None:
    await page.goto(f"{base_url}/console#/carrier/jobs/{job_id}")


async def test_the_plan_speaks_chinese_and_is_only_for_the_carriers_dispatchers(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await won_job(http, settings)
        rival = await bootstrap_org(http, settings, "Rivals", ["carrier"])
        rival_dispatcher = await add_member(http, rival, "dispatcher")

    async with chromium() as browser:
        context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, w["dispatcher"], ("邮箱", "密码", "登录"))
        assert "已中标的运单" in await page.locator("#nav").inner_text()
        await open_won_job(page, w["job"]["id"])
        await page.get_by_role("button", name="生成装车计划").click()
        await page.locator("#proposal").wait_for(timeout=WAIT)
        first = await page.locator("#proposal article.planned-load").first.inner_text()
        assert "第 1 车" in first and "24 吨 / 25 吨（96%）" in first, first
        await assert_accessible(page, context="console, a job's plan on a phone (zh-CN)")

        # A job the organization does not carry (open on the market): not found, no plan shown.
        await open_by_hand(page, server.base_url, w["other_job"]["id"])
        await page.locator("#job-not-found").wait_for(timeout=WAIT)
        assert "未找到" in await page.locator("#job-not-found").inner_text()
        assert await page.locator("#plan, #loads").count() == 0
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()

        # A driver of the carrier: the dispatch screens are refused, the job's plan is not shown.
        context = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, w["newcomer"])
        assert await page.locator('#nav a[href="#/carrier/jobs"]').count() == 0
        for screen in ("/carrier/jobs", f"/carrier/jobs/{w['job']['id']}"):
            await page.goto(f"{server.base_url}/console#{screen}")
            refusal = page.get_by_role("alert")
            await refusal.wait_for(timeout=WAIT)
            assert "Not allowed" in await refusal.inner_text()
            assert await page.locator("#plan, #loads, #carrier-jobs").count() == 0
        assert foreign == [] and errors == []
        await context.close()

        # Another carrier's dispatcher: our job is not found for them either.
        context = await browser.new_context(locale="en-US", viewport={"width": 820, "height": 1100})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, rival_dispatcher)
        await open_by_hand(page, server.base_url, w["job"]["id"])
        await page.locator("#job-not-found").wait_for(timeout=WAIT)
        assert "Not found" in await page.locator("#job-not-found").inner_text()
        assert await page.locator("#plan, #loads").count() == 0
        assert foreign == [] and errors == []
        await context.close()
