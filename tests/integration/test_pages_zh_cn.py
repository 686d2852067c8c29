"""The three pages in Chinese (zh-CN), in a real headless Chromium whose languages are Chinese (the
browser context's locale sets navigator.languages and Accept-Language) and whose clock is in China:
the gate board, the tracking page and the carriers' job board show Chinese texts from the catalogue,
dates, times and money formatted for zh-CN (¥ for a job posted in CNY), no raw catalogue key; the
gate board's times are the site's (Europe/Berlin), the others the viewer's (Asia/Shanghai). Switching
to English and back on the page re-renders it in place: no navigation, nothing typed is lost, the
same websocket stays open and live data still arrives. The language switcher is in the header at
phone, tablet and desktop widths, and works from the keyboard."""

# ruff: noqa: RUF001 (the pages write Chinese with full-width punctuation, and the multiplication sign and en dash)

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser import chromium, keep_screenshot
from tests.gate_support import dispatched_loads, next_slot
from tests.integration.test_tracking_page import post_points, wait_for_truck
from tests.market_support import BERLIN, create_site, post_job, save_area, square
from tests.support import bootstrap_org
from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server

VIEWER_ZONE = "Asia/Shanghai"
SWITCHER = "header select[data-i18n-switcher]"
# A catalogue key as a page would show it when its text were missing: "gate.waiting", "common.none".
RAW_KEY = re.compile(r"\b(?:gate|track|jobs|common)\.[a-z_]+(?:\.[a-z_.]+)?\b")
ZH_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
# A steel mill in Tangshan ships coil to a yard at Tianjin port (lon, lat).
TANGSHAN = (118.18, 39.63)
TIANJIN_PORT = (117.79, 39.0)
COIL = {
    "kind": "items",
    "lines": [{"description": "热轧卷", "count": 5, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2}],
}


async def rename_site(http: httpx.AsyncClient, owner: Any, site_id: str, name: str, address: str) -> None:
    r = await http.patch(f"/sites/{site_id}", headers=owner.headers, json={"name": name, "address": address})
    assert r.status_code == 200, r.text


async def chinese_page(browser: Browser, **options: Any) -> tuple[BrowserContext, Page, list[str], list[str]]:
    """A page in a Chinese browser in China; with the page's script errors and the websockets it opens."""
    context = await browser.new_context(locale="zh-CN", timezone_id=VIEWER_ZONE, **options)
    page = await context.new_page()
    errors: list[str] = []
    sockets: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    return context, page, errors, sockets


async def assert_fully_translated(page: Page) -> None:
    """No text the catalogue lacks was asked for, and no raw key is on the page."""
    assert await page.evaluate("[...DispatchI18n.missing]") == []
    body = await page.locator("body").inner_text()
    assert not RAW_KEY.search(body), RAW_KEY.search(body)


async def mark(page: Page) -> None:
    """A marker in the page's window: it survives only if the page is not loaded again."""
    await page.evaluate("window.__notReloaded = true")


async def still_the_same_page(page: Page) -> None:
    assert await page.evaluate("window.__notReloaded === true")


async def switch_to(page: Page, locale: str) -> None:
    await page.select_option(SWITCHER, locale)
    await page.wait_for_function("l => document.documentElement.lang === l", arg=locale)


async def switch_by_keyboard(page: Page, key: str, locale: str) -> None:
    """The switcher from the keyboard: Tab until it has the focus, then an arrow key."""
    for _ in range(30):
        if await page.evaluate(
            "document.activeElement && document.activeElement.matches('[data-i18n-switcher]')"
        ):
            break
        await page.keyboard.press("Tab")
    else:
        raise AssertionError("the language switcher cannot be reached with Tab")
    await page.keyboard.press(key)
    await page.wait_for_function("l => document.documentElement.lang === l", arg=locale)


async def switcher_fits_at_every_width(page: Page) -> None:
    """The switcher is visible inside the viewport on a phone, a tablet and a desktop."""
    for width, height in ((390, 844), (820, 1180), (1280, 800)):
        await page.set_viewport_size({"width": width, "height": height})
        switcher = page.locator(SWITCHER)
        assert await switcher.is_visible()
        box = await switcher.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        assert box["y"] + box["height"] <= height, (width, box)
        assert await switcher.input_value() in ("en", "zh-CN")


def formatted_in(page: Page, zone: str) -> Any:
    """The page's own zh-CN time format of an instant in `zone` (the test's expectation, from Intl)."""

    async def format_(iso: str) -> str:
        result: str = await page.evaluate(
            "([iso, zone]) => new Intl.DateTimeFormat('zh-CN', { timeStyle: 'short', timeZone: zone })"
            ".format(new Date(iso))",
            [iso, zone],
        )
        return result

    return format_


async def test_the_gate_board_in_chinese_shows_site_times_and_switches_in_place(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=3, plates=["京A12345", "粤B·D12345", "鲁C1234挂"])
        first, second, third = w["loads"]
        await rename_site(http, w["mill"], w["site"]["id"], "唐山钢厂 1号门", "河北省唐山市丰南区钢厂路 1 号")
        # The first truck booked a slot an hour ahead and is early; the second walks in.
        slot = next_slot(ahead=2)
        r = await http.put(
            f"/driver/v1/loads/{first['id']}/booking",
            headers=first["device"],
            json={"slot_start": slot.isoformat()},
        )
        assert r.status_code in (200, 201), r.text
        at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
        r = await http.post(f"/driver/v1/loads/{first['id']}/check-in", headers=first["device"], json=at_gate)
        assert r.status_code == 201, r.text
        r = await http.post(
            f"/driver/v1/loads/{second['id']}/check-in", headers=second["device"], json=at_gate
        )
        assert r.status_code == 201, r.text
        async with chromium() as browser:
            context, page, errors, sockets = await chinese_page(browser)
            await page.goto(f"{server.base_url}/board/gate/{w['site']['id']}#token={w['staff'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            await page.wait_for_selector("#waiting tbody tr[data-plate='粤B·D12345']", timeout=10_000)

            assert await page.locator("html").get_attribute("lang") == "zh-CN"
            assert await page.locator("#status").inner_text() == "实时"
            assert await page.locator("#board h2").all_inner_texts() == ["月台作业", "排队等候 2"]
            assert await page.locator("#waiting thead th").all_inner_texts() == [
                "序号", "车牌", "司机", "到场情况", "预约时段", "预计等待",
            ]  # fmt: skip
            assert await page.locator("#zone-note").inner_text() == "时间均为场地当地时间（Europe/Berlin）。"
            early = page.locator("#waiting tbody tr[data-plate='京A12345']")
            assert await early.locator(".tag").inner_text() == "提前到达，等候预约时段"
            # The slot is shown at the site's time (Berlin), not the viewer's (Shanghai).
            berlin, shanghai = formatted_in(page, "Europe/Berlin"), formatted_in(page, VIEWER_ZONE)
            assert await early.locator("td.slot").inner_text() == await berlin(slot.isoformat())
            assert await berlin(slot.isoformat()) != await shanghai(slot.isoformat())
            # The clock: the date and time at the site, in the Chinese form (2026年12月7日 08:05).
            await page.wait_for_function(
                "() => document.querySelector('#clock').textContent === new Intl.DateTimeFormat('zh-CN',"
                " { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' }).format(new Date())",
                timeout=5_000,
            )
            assert ZH_DATE.search(await page.locator("#clock").inner_text())
            await assert_fully_translated(page)
            await page.set_viewport_size({"width": 1280, "height": 720})
            await keep_screenshot(page, "gate-board-zh-CN")

            # English and back, in place; then a truck that checks in still appears.
            await mark(page)
            await switch_to(page, "en")
            assert await page.locator("#board h2").all_inner_texts() == ["At the docks", "Waiting 2"]
            assert await early.locator(".tag").inner_text() == "early – waits for slot"
            assert await page.locator("#status").inner_text() == "live"
            assert "Europe/Berlin" in await page.locator("#zone-note").inner_text()
            await switch_by_keyboard(page, "ArrowDown", "zh-CN")
            assert await page.locator("#board h2").all_inner_texts() == ["月台作业", "排队等候 2"]
            r = await http.post(
                "/gate/check-in",
                headers=w["staff"].headers,
                json={"site_id": w["site"]["id"], "code": third["pickup_code"], "plate": "鲁C1234挂"},
            )
            assert r.status_code == 201, r.text
            await page.wait_for_selector("#waiting tbody tr[data-plate='鲁C1234挂']", timeout=10_000)
            assert await page.locator("#waiting-count").inner_text() == "3"
            await still_the_same_page(page)
            assert len(sockets) == 1  # the board's socket was kept through both switches
            await assert_fully_translated(page)
            await switcher_fits_at_every_width(page)
            assert errors == []
            await context.close()


async def test_the_tracking_page_in_chinese_and_for_a_share_link_viewer(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        await rename_site(http, w["mill"], w["site"]["id"], "唐山钢厂 1号门", "河北省唐山市丰南区钢厂路 1 号")
        await rename_site(
            http, w["buyer"], w["yard"]["id"], "天津港东疆堆场", "天津市滨海新区东疆港区海港路 9 号"
        )
        fixes = route(12)
        await post_points(http, load, fixes[:8])
        async with chromium() as browser:
            context, page, errors, sockets = await chinese_page(
                browser, viewport={"width": 1280, "height": 800}
            )
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            await wait_for_truck(page, load["id"], fixes[7]["lon"], fixes[7]["lat"], points=8)
            card = page.locator(f"#load-{load['id']}")
            await card.locator(".timeline li[data-type='load.left_origin']").wait_for(timeout=10_000)

            assert await page.locator("#job-name").inner_text() == "运单 PO-4711"
            assert await page.locator("#status").inner_text() == "实时"
            assert await card.locator(".facts dt").all_inner_texts() == [
                "预计到达",
                "剩余里程",
                "进度",
                "车速",
                "最后更新",
            ]
            timeline = await card.locator(".timeline").inner_text()
            assert "已出厂" in timeline and "已离开发货地" in timeline
            assert await card.locator(".load-status").inner_text() == "运输中"
            # The ETA with its date, in the Chinese form, in the viewer's zone (Shanghai).
            eta = await card.locator(".eta-at").inner_text()
            assert ZH_DATE.search(eta) and re.search(r"\d{2}:\d{2}$", eta), eta
            assert (await card.locator(".remaining").inner_text()).endswith(" 公里")
            assert (await card.locator(".speed").inner_text()).endswith(" 公里/小时")
            assert await page.locator("#zone-note").inner_text() == (
                "时间均为您所在时区（Asia/Shanghai）；场地的时间（时段、离开闸口）按场地时区显示，时区不同时会注明。"
            )
            await assert_fully_translated(page)
            await keep_screenshot(page, "tracking-zh-CN")

            # English and back, in place; points posted meanwhile still arrive on the same socket.
            await mark(page)
            await switch_to(page, "en")
            assert await page.locator("#job-name").inner_text() == "Delivery PO-4711"
            assert "Left the origin site" in await card.locator(".timeline").inner_text()
            assert await card.locator(".load-status").inner_text() == "on the way"
            assert not ZH_DATE.search(await card.locator(".eta-at").inner_text())
            await post_points(http, load, fixes[8:10])
            await wait_for_truck(page, load["id"], fixes[9]["lon"], fixes[9]["lat"], points=10)
            await switch_to(page, "zh-CN")
            assert await page.locator("#job-name").inner_text() == "运单 PO-4711"
            await post_points(http, load, fixes[10:12])
            await wait_for_truck(page, load["id"], fixes[11]["lon"], fixes[11]["lat"], points=12)
            await still_the_same_page(page)
            assert len(sockets) == 1 and await page.evaluate("document.body.dataset.reconnects") == "0"
            await assert_fully_translated(page)
            await switcher_fits_at_every_width(page)
            assert errors == []
            await context.close()

            # A share link's viewer has no account (no GET /me): the browser's language decides.
            r = await http.post(
                f"/jobs/{w['job']['id']}/share-links",
                headers=w["receiver"].headers,
                json={"expires_in_minutes": 60},
            )
            assert r.status_code == 201, r.text
            context, page, errors, _ = await chinese_page(browser)
            asked: list[str] = []
            page.on("request", lambda req: asked.append(req.url))
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#share={r.json()['token']}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            assert await page.locator("#status").inner_text() == "实时"
            assert "已出厂" in await page.locator(f"#load-{load['id']} .timeline").inner_text()
            await assert_fully_translated(page)
            assert not [url for url in asked if url.endswith("/me")]
            assert errors == []
            await context.close()


async def test_the_job_board_in_chinese_shows_yuan_and_switches_without_losing_input(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Tangshan Steel", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Jinghai Haulage", ["carrier"])
        site = await create_site(http, mill, "唐山钢厂", at=TANGSHAN)
        await rename_site(http, mill, site["id"], "唐山钢厂", "河北省唐山市丰南区钢厂路 1 号")
        await save_area(http, carrier, "唐山 50 公里", at=TANGSHAN)
        to_port = {
            "currency": "CNY",
            "cargo": COIL,
            "destination": {
                "address": "天津港东疆港区海港路 9 号",
                "location": {"lon": TIANJIN_PORT[0], "lat": TIANJIN_PORT[1]},
                "geofence": square(*TIANJIN_PORT),
            },
        }
        grab = await post_job(http, mill, site["id"], price=128_000, **to_port)
        auction = await post_job(
            http, mill, site["id"], mode="auction", price=None, ceiling=300_000, **to_port
        )
        async with chromium() as browser:
            context, page, errors, sockets = await chinese_page(
                browser, viewport={"width": 1280, "height": 800}
            )
            await page.goto(f"{server.base_url}/board/jobs#token={carrier.token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            grab_card, auction_card = (
                page.locator(f"#job-{grab['id']}"),
                page.locator(f"#job-{auction['id']}"),
            )
            await grab_card.wait_for(timeout=10_000)

            assert await page.locator("h1").inner_text() == "货源大厅"
            assert await page.locator("#open h2").inner_text() == "您区域附近的可接货源"
            assert await page.locator("#status").inner_text() == "实时"
            assert await page.locator("#open-count").inner_text() == "2 条可接"
            assert await grab_card.locator(".price").inner_text() == "¥1,280.00"
            assert await grab_card.locator("button.grab").inner_text() == "以 ¥1,280.00 抢单"
            assert await grab_card.locator(".mode").inner_text() == "抢单"
            assert await grab_card.locator(".vehicle").inner_text() == "平板车"
            cargo = await grab_card.locator(".cargo").inner_text()
            assert "120 吨" in cargo and "5 件：5 × 热轧卷" in cargo, cargo
            pickup = await grab_card.locator(".pickup").inner_text()
            assert ZH_DATE.search(pickup) and "\u2013" in pickup, pickup
            assert re.fullmatch(r"1 小时 5\d 分 \d\d 秒", await grab_card.locator(".countdown").inner_text())
            assert "最高限价 ¥3,000.00" in await auction_card.locator(".auction-facts").inner_text()
            assert await page.locator("#zone-note").inner_text() == "时间均为您所在时区（Asia/Shanghai）。"
            # A bid from the page, in yuan.
            await auction_card.locator(".bid-form input").fill("2400")
            await auction_card.locator(".bid-form button").click()
            await page.wait_for_function(
                "id => (document.querySelector(`#job-${id} .own-bid`) || {}).textContent"
                " === '您的报价：¥2,400.00 — 第 1 名，共 1 家'",
                arg=auction["id"],
                timeout=10_000,
            )
            assert await auction_card.locator(".message").inner_text() == "报价已提交：¥2,400.00。"
            assert await auction_card.locator(".bid-form button").inner_text() == "降低我的报价"
            await assert_fully_translated(page)
            await keep_screenshot(page, "job-board-zh-CN")

            # Typed, then English and back: the input stays, the page is the same, the socket too.
            await page.fill("#area-form input[name=area_name]", "唐山港 80 公里")
            await auction_card.locator(".bid-form input").fill("2350")
            await mark(page)
            # The switch is saved as the user's setting with the page's session (PATCH /me).
            async with page.expect_request(
                lambda r: r.method == "PATCH" and r.url == f"{server.base_url}/me"
            ) as save:
                await switch_to(page, "en")
            request = await save.value
            assert request.post_data_json == {"locale": "en"}
            assert request.headers["authorization"] == f"Bearer {carrier.token}"
            assert (await request.response()).status == 200
            assert (await http.get("/me", headers=carrier.headers)).json()["locale"] == "en"
            assert await page.locator("h1").inner_text() == "Job board"
            assert await grab_card.locator("button.grab").inner_text() == "Grab at CN¥1,280.00"
            assert (
                await auction_card.locator(".own-bid").inner_text() == "Your bid: CN¥2,400.00 — rank 1 of 1"
            )
            assert await auction_card.locator(".message").inner_text() == "Bid placed: CN¥2,400.00."
            assert await page.locator("#area-form input[name=area_name]").input_value() == "唐山港 80 公里"
            assert await auction_card.locator(".bid-form input").input_value() == "2350"
            await switch_by_keyboard(page, "ArrowDown", "zh-CN")
            assert await page.locator("h1").inner_text() == "货源大厅"
            assert await page.locator("#area-form input[name=area_name]").input_value() == "唐山港 80 公里"
            # New jobs still arrive live, and in the language now shown.
            later = await post_job(http, mill, site["id"], price=99_900, **to_port)
            await page.wait_for_selector(f"#job-{later['id']}", timeout=10_000)
            assert await page.locator(f"#job-{later['id']} .price").inner_text() == "¥999.00"
            assert await page.locator("#open-count").inner_text() == "3 条可接"
            await still_the_same_page(page)
            assert len(sockets) == 1
            await assert_fully_translated(page)
            await switcher_fits_at_every_width(page)
            assert errors == []
            await context.close()
            # The switch back was saved too (the PATCH may still be on its way when the page closes).
            for _ in range(50):
                if (await http.get("/me", headers=carrier.headers)).json()["locale"] == "zh-CN":
                    break
                await asyncio.sleep(0.1)
            assert (await http.get("/me", headers=carrier.headers)).json()["locale"] == "zh-CN"

            # The user's own setting comes before the browser's languages: the same carrier in an
            # English browser on another device reads the board in Chinese.
            english = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
            other_device = await english.new_page()
            await other_device.goto(f"{server.base_url}/board/jobs#token={carrier.token}")
            await other_device.wait_for_selector("#status.live", timeout=10_000)
            await other_device.wait_for_function("document.documentElement.lang === 'zh-CN'", timeout=10_000)
            assert await other_device.locator("h1").inner_text() == "货源大厅"
            await english.close()
