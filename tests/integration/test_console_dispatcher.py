"""The carrier dispatcher's console screens in a real headless Chromium, on a real server: a
dispatcher adds a vehicle (a malformed plate is shown next to the plate field and nothing is
stored), sees it listed, pairs a driver's phone (the code shown redeems, the QR code decodes to the
pair link, a withdrawn code no longer works); the screens speak Chinese with no raw key; a driver
sees no fleet screens and is refused one opened by hand. Nothing the pages load comes from outside."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.app_support import decode_qr
from tests.browser import chromium, keep_screenshot, watch
from tests.support import PASSWORD, Account, add_member, bootstrap_org, problem

pytestmark = pytest.mark.server


async def sign_in(
    page: Page, account: Account, words: tuple[str, str, str] = ("Email", "Password", "Sign in")
) -> None:
    """Sign in on the console's form; `words` are its email and password labels and its button."""
    email, secret, submit = words
    await page.get_by_label(email).fill(account.email)
    await page.get_by_label(secret).fill(PASSWORD)
    await page.get_by_role("button", name=submit).click()
    await page.wait_for_selector("#nav", timeout=10_000)


async def carrier(http: httpx.AsyncClient, settings: Any) -> tuple[Account, Account, Account]:
    """A carrier with a dispatcher and a driver."""
    admin = await bootstrap_org(http, settings, "Haulers", ["carrier"])
    return admin, await add_member(http, admin, "dispatcher"), await add_member(http, admin, "driver")


async def test_a_dispatcher_adds_a_vehicle_and_pairs_a_drivers_phone(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin, dispatcher, driver = await carrier(http, settings)

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, dispatcher)
        nav = page.get_by_role("navigation", name="Console")
        for entry in ("Vehicles", "Drivers"):
            assert await nav.get_by_role("link", name=entry).count() == 1

        # A vehicle with a malformed plate: the API's reason next to the plate field, nothing stored.
        await nav.get_by_role("link", name="Vehicles").click()
        await page.wait_for_selector("#no-vehicles", timeout=10_000)
        form = page.locator("#add-vehicle")
        await form.get_by_label("Plate").fill("京A1234")
        await form.get_by_label("Type").select_option("bulk_tipper")
        await form.get_by_label("Capacity (kg)").fill("25000")
        await form.get_by_label("Capacity (m³)").fill("30")
        await form.get_by_role("button", name="Add vehicle").click()
        plate_error = form.locator(".field-error[data-field=plate]")
        await plate_error.wait_for(timeout=10_000)
        assert "not a Chinese plate" in await plate_error.inner_text()
        assert await form.get_by_label("Plate").get_attribute("aria-invalid") == "true"
        assert await form.locator(".field-error").count() == 1  # only the plate is wrong
        assert await form.get_by_label("Capacity (kg)").input_value() == "25000"  # what was typed stays
        assert await db.fetchval("SELECT count(*) FROM vehicles WHERE org_id = $1", admin.org_id) == 0

        # Corrected: stored and listed.
        await form.get_by_label("Plate").fill("B-AB 1234")
        await form.get_by_role("button", name="Add vehicle").click()
        row = page.locator("#vehicles tbody tr", has_text="B-AB 1234")
        await row.wait_for(timeout=10_000)
        assert "bulk tipper" in await row.inner_text()
        assert await form.locator(".field-error").count() == 0
        stored = await db.fetch(
            "SELECT plate, vehicle_type, capacity_kg, capacity_m3 FROM vehicles WHERE org_id = $1",
            admin.org_id,
        )
        assert [tuple(r) for r in stored] == [("BAB1234", "bulk_tipper", 25000, 30)]  # the plate's key

        # The driver's row: pair a phone. The code is shown big with its expiry and QR code.
        await nav.get_by_role("link", name="Drivers").click()
        driver_row = page.locator(f"#driver-{driver.user_id}")
        await driver_row.wait_for(timeout=10_000)
        assert await page.locator("#drivers tbody tr").count() == 1  # the dispatcher does not drive
        await driver_row.get_by_role("button", name="Pair a phone for A Member").click()
        await page.wait_for_selector("#no-pairings", timeout=10_000)
        await page.locator("#make-pairing").click()
        code = (await page.locator("#pairing-code").inner_text(timeout=10_000)).strip()
        assert len(code) == 9 and code[4] == "-", code
        assert "Valid until" in await page.locator("#pairing-expires").inner_text()
        await page.locator("#pairings tbody tr").first.wait_for(timeout=10_000)
        assert await page.locator("#pairings tbody tr").count() == 1
        src = await page.locator("#pairing-qr").get_attribute("src")
        assert src is not None and src.startswith("data:image/svg+xml")
        await page.wait_for_function("document.getElementById('pairing-qr').complete")
        scanned = await decode_qr(browser, await page.locator("#pairing-qr-box").screenshot())
        assert scanned == [f"{server.base_url}/app#pair={code}"]
        await keep_screenshot(page, "console-pairing")

        # The code works once on the driver's phone.
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.post("/driver/v1/pairing", json={"code": code, "device_name": "Pixel 8"})
            assert r.status_code == 201, r.text
            assert r.json()["driver"]["user_id"] == driver.user_id

            # Another code, withdrawn from the list: it no longer works.
            await page.locator("#make-pairing").click()
            await page.wait_for_function(
                "(old) => document.getElementById('pairing-code').innerText.trim() !== old", arg=code
            )
            withdrawn = (await page.locator("#pairing-code").inner_text()).strip()
            await page.locator("#close-pairing").click()
            await driver_row.get_by_role("button", name="Pair a phone for A Member").click()
            rows = page.locator("#pairings tbody tr")
            await rows.first.wait_for(timeout=10_000)
            assert await rows.count() == 1  # the used code is no longer open
            await rows.get_by_role("button", name="Withdraw").click()
            await rows.get_by_role("button", name="Withdraw this code").click()
            await page.wait_for_selector("#no-pairings", timeout=10_000)
            r = await http.post("/driver/v1/pairing", json={"code": withdrawn, "device_name": "Pixel 9"})
            problem(r, 401, "pairing_code_invalid")
        assert await db.fetchval("SELECT count(*) FROM device_tokens WHERE user_id = $1", driver.user_id) == 1
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()


async def test_the_dispatcher_screens_speak_chinese(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin, dispatcher, _ = await carrier(http, settings)

    async with chromium() as browser:
        # A phone.
        context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/fleet/vehicles")
        await sign_in(page, dispatcher, ("邮箱", "密码", "登录"))
        nav = await page.locator("#nav").inner_text()
        assert "车辆" in nav and "司机" in nav, nav
        form = page.locator("#add-vehicle")
        await form.get_by_label("车牌号").fill("京A1234")
        await form.get_by_label("车型").select_option("silo")
        await form.get_by_label("载重（千克）").fill("30000")
        await form.get_by_label("容积（立方米）").fill("40")
        await form.get_by_role("button", name="添加车辆").click()
        plate_error = form.locator(".field-error[data-field=plate]")
        await plate_error.wait_for(timeout=10_000)
        assert "此项无效" in await plate_error.inner_text()
        assert await db.fetchval("SELECT count(*) FROM vehicles WHERE org_id = $1", admin.org_id) == 0

        await page.goto(f"{server.base_url}/console#/fleet/drivers")
        await page.get_by_role("button", name="为 A Member 绑定手机").click()
        await page.get_by_role("button", name="生成绑定码").click()
        await page.locator("#pairing-code").wait_for(timeout=10_000)
        assert "有效期至" in await page.locator("#pairing-expires").inner_text()
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()


async def test_a_driver_sees_no_fleet_screens_and_is_refused_one_opened_by_hand(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        _, _, driver = await carrier(http, settings)

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 800, "height": 1100})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, driver)
        assert await page.locator("#nav a").all_inner_texts() == ["Overview"]
        for screen in ("#/fleet/vehicles", "#/fleet/drivers"):
            await page.goto(f"{server.base_url}/console{screen}")
            refusal = page.get_by_role("alert")
            await refusal.wait_for(timeout=10_000)
            assert "Not allowed" in await refusal.inner_text()
            assert await page.locator("#add-vehicle, #drivers").count() == 0
        assert foreign == [] and errors == []
        await context.close()
