"""axe-core on every page in its main states, in English and in Chinese (zh-CN), in a real headless
Chromium against a real server: the gate board, the tracking page and the job board (their sign-in
form, with a refused sign-in, and live with data) at a desktop's size, and the driver app (pairing, a
wrong code, the loads, a load, the slots, the dock call, the pickup code, the trip) on a phone. A serious or
critical WCAG 2.1 A/AA violation fails the test (tests/browser.py `assert_accessible`), with the
rule, what to do and the elements concerned."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from tests.app_support import phone
from tests.browser import assert_accessible, chromium
from tests.gate_support import dispatched_loads
from tests.integration.test_tracking_page import post_points, wait_for_truck
from tests.market_support import BERLIN, create_site, post_job, save_area
from tests.support import PASSWORD, add_member, bootstrap_org
from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server

LOCALES = ("en", "zh-CN")
DESKTOP = {"width": 1280, "height": 800}


async def desktop(browser: Browser, locale: str) -> tuple[Any, Page]:
    context = await browser.new_context(locale=locale, viewport=DESKTOP)
    return context, await context.new_page()


async def in_locale(page: Page, locale: str) -> None:
    """The page has applied its language (the catalogue is loaded and the texts are filled in)."""
    await page.wait_for_function("l => document.documentElement.lang === l", arg=locale, timeout=10_000)


async def check_sign_in(page: Page, url: str, locale: str, name: str) -> None:
    """The page's sign-in form as it first shows, then with the error of a refused sign-in."""
    await page.goto(url)
    await page.wait_for_selector("#login", state="visible", timeout=10_000)
    await in_locale(page, locale)
    await assert_accessible(page, context=f"{name}, sign-in form ({locale})")
    await page.fill("#login input[name=email]", "nobody@example.test")
    await page.fill("#login input[name=password]", "not the password at all")
    await page.click("#login button[type=submit]")
    await page.wait_for_function("document.querySelector('#login-error').textContent.trim() !== ''")
    await assert_accessible(page, context=f"{name}, sign-in refused ({locale})")


async def test_the_gate_board_is_accessible(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
        first, second = w["loads"]
        site_id, staff = w["site"]["id"], w["staff"].headers
        at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
        for load in (first, second):
            r = await http.post(
                f"/driver/v1/loads/{load['id']}/check-in", headers=load["device"], json=at_gate
            )
            assert r.status_code == 201, r.text
        # One truck at a dock, one waiting: both tables have rows.
        board = (await http.get(f"/gate/sites/{site_id}/board", headers=staff)).json()
        r = await http.post(
            f"/gate/sites/{site_id}/call", headers=staff, json={"dock_id": board["docks"][0]["id"]}
        )
        assert r.status_code == 200, r.text
        url = f"{server.base_url}/board/gate/{site_id}"
        async with chromium() as browser:
            for locale in LOCALES:
                context, page = await desktop(browser, locale)
                await check_sign_in(page, url, locale, "gate board")
                await context.close()
                context, page = await desktop(browser, locale)
                await page.goto(f"{url}#token={w['staff'].token}")
                await page.wait_for_selector("#status.live", timeout=10_000)
                await page.wait_for_selector("#waiting tbody tr", timeout=10_000)
                await page.wait_for_selector("#at-docks tbody tr", timeout=10_000)
                await in_locale(page, locale)
                await assert_accessible(page, context=f"gate board, live ({locale})")
                await context.close()


async def test_the_tracking_page_is_accessible(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        (load,) = w["loads"]
        fixes = route(6)
        await post_points(http, load, fixes)
        url = f"{server.base_url}/track/jobs/{w['job']['id']}"
        async with chromium() as browser:
            for locale in LOCALES:
                context, page = await desktop(browser, locale)
                await check_sign_in(page, url, locale, "tracking page")
                await context.close()
                context, page = await desktop(browser, locale)
                await page.goto(f"{url}#token={w['receiver'].token}")
                await page.wait_for_selector("#status.live", timeout=10_000)
                await wait_for_truck(page, load["id"], fixes[-1]["lon"], fixes[-1]["lat"], points=6)
                await page.locator(f"#load-{load['id']} .timeline li").first.wait_for(timeout=10_000)
                await in_locale(page, locale)
                await assert_accessible(page, context=f"tracking page, live ({locale})")
                await context.close()


async def test_the_job_board_is_accessible(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        site = await create_site(http, mill, "Mill Berlin")
        await save_area(http, carrier, "Berlin 50 km")
        # A grab job for each language's run: the carrier takes one on the page in each.
        grabs = {locale: await post_job(http, mill, site["id"], price=120_000) for locale in LOCALES}
        auction = await post_job(http, mill, site["id"], mode="auction", price=None, ceiling=300_000)
        url = f"{server.base_url}/board/jobs"
        async with chromium() as browser:
            for locale in LOCALES:
                context, page = await desktop(browser, locale)
                await check_sign_in(page, url, locale, "job board")
                await context.close()
                context, page = await desktop(browser, locale)
                await page.goto(f"{url}#token={carrier.token}")
                await page.wait_for_selector("#status.live", timeout=10_000)
                await page.locator(f"#job-{grabs[locale]['id']}").wait_for(timeout=10_000)
                await page.locator(f"#job-{auction['id']}").wait_for(timeout=10_000)
                await in_locale(page, locale)
                await assert_accessible(page, context=f"job board, live with jobs ({locale})")
                # A bid placed: the card shows the carrier's own bid and the message.
                card = page.locator(f"#job-{auction['id']}")
                await card.locator(".bid-form input").fill("2400" if locale == "en" else "2300")
                await card.locator(".bid-form button").click()
                await card.locator(".own-bid").wait_for(timeout=10_000)
                await assert_accessible(page, context=f"job board, after a bid ({locale})")
                # A job grabbed: it moves to the won list.
                taken = grabs[locale]["id"]
                await page.locator(f"#job-{taken} button.grab").click()
                await page.locator(f"#won-{taken}").wait_for(timeout=10_000)
                await assert_accessible(page, context=f"job board, a job grabbed ({locale})")
                await context.close()


async def test_the_driver_app_is_accessible(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
        site_id, staff = w["site"]["id"], w["staff"].headers
        async with chromium() as browser:
            # One driver and load per language: each pairs a phone and takes the load to the trip.
            for locale, load in zip(LOCALES, w["loads"], strict=True):
                r = await http.post(
                    f"/fleet/drivers/{load['driver']['user_id']}/pairings", headers=w["carrier"].headers
                )
                assert r.status_code == 201, r.text
                context = await phone(browser, lon=BERLIN[0], lat=BERLIN[1], locale=locale)
                page = await context.new_page()
                await page.goto(f"{server.base_url}/app")
                await page.wait_for_selector("#screen-pair:not([hidden])")
                await in_locale(page, locale)
                await assert_accessible(page, context=f"driver app, pairing ({locale})")
                await page.fill("#pair-code", "ZZZZ-ZZZZ")
                await page.click("#pair-form button[type=submit]")
                await page.wait_for_function(
                    "document.querySelector('#pair-error').textContent.trim() !== ''"
                )
                await assert_accessible(page, context=f"driver app, a wrong pairing code ({locale})")

                await page.fill("#pair-code", r.json()["code"])
                await page.click("#pair-form button[type=submit]")
                card = page.locator(f"button.load[data-load-id='{load['id']}']")
                await card.wait_for()
                await page.wait_for_selector("#status.live")
                await assert_accessible(page, context=f"driver app, the loads ({locale})")

                await card.click()
                await page.wait_for_selector("#screen-load:not([hidden])")
                await assert_accessible(page, context=f"driver app, a load ({locale})")
                await page.click("#do-book")
                await page.locator("button.slot").first.wait_for()
                await assert_accessible(page, context=f"driver app, the free slots ({locale})")
                # Back without booking: a booked slot in the future would make the truck wait for it.
                await page.click("#back")
                await page.wait_for_selector("#screen-load:not([hidden])")
                await page.click("#do-checkin")
                await page.wait_for_selector("#ticket[data-status=waiting]")
                await assert_accessible(page, context=f"driver app, checked in ({locale})")
                board = (await http.get(f"/gate/sites/{site_id}/board", headers=staff)).json()
                busy = {t["dock"]["id"] for t in board["at_docks"]}
                dock = next(d for d in board["docks"] if d["id"] not in busy)
                r = await http.post(
                    f"/gate/sites/{site_id}/call", headers=staff, json={"dock_id": dock["id"]}
                )
                assert r.status_code == 200, r.text
                ticket_id = r.json()["id"]
                await page.wait_for_selector("#call-banner:not([hidden])")
                await assert_accessible(page, context=f"driver app, called to a dock ({locale})")
                await page.click("#call-ok")

                await page.click("#do-code")
                await page.locator("#qr svg").wait_for()
                await assert_accessible(page, context=f"driver app, the pickup code ({locale})")
                await page.click("#back")

                for step in ("loading", "loaded"):
                    r = await http.post(f"/gate/tickets/{ticket_id}/{step}", headers=staff)
                    assert r.status_code == 200, r.text
                await page.wait_for_selector("#do-depart:not([hidden])")
                await page.click("#do-depart")
                await page.wait_for_selector("#screen-trip:not([hidden])")
                await page.wait_for_function(
                    "() => Number(document.querySelector('#trip-recorded').dataset.count || 0) > 0",
                    timeout=20_000,
                )
                await assert_accessible(page, context=f"driver app, the trip ({locale})")
                await context.close()


async def test_the_check_fails_on_a_page_with_violations_and_names_them():
    """The check itself: a page with an unlabelled field, an image without text and grey-on-white text
    fails, and the message says which rule, how serious, what to do and which element."""
    async with chromium() as browser:
        page = await browser.new_page()
        await page.set_content(
            "<!doctype html><html lang='en'><head><title>Broken</title></head><body><main>"
            "<h1>Broken</h1><input id='nameless'><img id='wordless' src='data:,'>"
            "<p id='faint' style='color:#bbb;background:#fff'>hard to read</p></main></body></html>"
        )
        with pytest.raises(AssertionError) as failure:
            await assert_accessible(page, context="a broken page")
        message = str(failure.value)
        assert message.startswith("a broken page: 3 serious or critical accessibility violation(s)")
        assert "- label (critical): Form elements must have labels" in message
        assert "- image-alt (critical):" in message and "- color-contrast (serious):" in message
        for selector in ("#nameless", "#wordless", "#faint"):
            assert f"    {selector}: Fix" in message, message
        # The same page mended passes.
        await page.set_content(
            "<!doctype html><html lang='en'><head><title>Mended</title></head><body><main>"
            "<h1>Mended</h1><label>Name <input id='named'></label><img src='data:,' alt='A logo'>"
            "<p style='color:#595959;background:#fff'>easy to read</p></main></body></html>"
        )
        await assert_accessible(page, context="a mended page")
        await page.close()


async def test_the_front_door_and_the_console_are_accessible(server_factory, settings):
    """The front door and every console screen there is (the admin's, the carrier dispatcher's
    fleet, pairing and jobs won (a won job's plan and loads: test_console_plan.py), the shipper's
    jobs, the gate's), with a form's field error showing, in both languages."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_member(http, admin, "driver")
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        await create_site(http, mill, "Works", BERLIN)
    words = {"en": ("Email", "Password", "Sign in"), "zh-CN": ("邮箱", "密码", "登录")}
    screens = (
        "#/admin/members",
        "#/admin/roles",
        "#/admin/api-tokens",
        "#/admin/device-tokens",
        "#/fleet/vehicles",
        "#/fleet/drivers",
        "#/carrier/jobs",
    )
    async with chromium() as browser:
        for locale in LOCALES:
            context, page = await desktop(browser, locale)
            await page.goto(f"{server.base_url}/")
            await page.wait_for_selector("#signin", timeout=10_000)
            await in_locale(page, locale)
            await assert_accessible(page, context=f"front door ({locale})")
            email, secret, submit = words[locale]
            await page.get_by_label(email).fill(admin.email)
            await page.get_by_label(secret).fill(PASSWORD)
            await page.get_by_role("button", name=submit).click()
            await page.wait_for_selector("#nav", timeout=10_000)
            for screen in screens:
                await page.goto(f"{server.base_url}/console{screen}")
                await page.wait_for_selector("main h2", timeout=10_000)
                await page.wait_for_load_state("networkidle")
                await assert_accessible(page, context=f"console {screen} ({locale})")
            # A refused form: the field error next to its field.
            await page.goto(f"{server.base_url}/console#/admin/members")
            form = page.locator("#add-member")
            await form.get_by_label(email).fill("x")
            await form.locator("button[type=submit]").click()
            await form.locator(".form-error").wait_for(timeout=10_000)
            await assert_accessible(page, context=f"console, a member refused ({locale})")
            # The pairing panel with its code and QR.
            await page.goto(f"{server.base_url}/console#/fleet/drivers")
            await page.locator(f"#driver-{driver.user_id} button").first.click()
            await page.locator("#make-pairing").click()
            await page.locator("#pairing-code").wait_for(timeout=10_000)
            await page.wait_for_function("document.getElementById('pairing-qr').complete")
            await assert_accessible(page, context=f"console, a phone's pairing ({locale})")
            await context.close()

            # The shipper's screens and the gate's, as the mill's admin.
            context, page = await desktop(browser, locale)
            await page.goto(f"{server.base_url}/console")
            await page.get_by_label(email).fill(mill.email)
            await page.get_by_label(secret).fill(PASSWORD)
            await page.get_by_role("button", name=submit).click()
            await page.wait_for_selector("#nav", timeout=10_000)
            for screen in ("#/jobs/new", "#/jobs", "#/gate"):
                await page.goto(f"{server.base_url}/console{screen}")
                await page.wait_for_selector("main h2", timeout=10_000)
                await page.wait_for_load_state("networkidle")
                await assert_accessible(page, context=f"console {screen} ({locale})")
            await context.close()
