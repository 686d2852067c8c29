"""The driver app (/app) in a headless Chromium phone against a real server: a whole load from
pairing to the trip, a dead zone mid-trip (offline, positions still recorded, a reload while
offline, then every fix reaches the server and the watchers exactly once, in order), and the app
opening from its service worker with the server stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.app_support import count, decode_qr, phone, wait_count
from tests.browser import chromium, keep_screenshot
from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN, HAMBURG, create_site
from tests.steps import app as steps
from tests.support import add_member, bootstrap_org
from tests.tracking_support import depart

pytestmark = pytest.mark.server

LON, LAT = BERLIN
OUTSIDE = (LON, LAT + 0.03)  # about 3.3 km north of the mill's gate


async def _watch(url: str, frames: list[dict[str, Any]], arrived: asyncio.Event) -> None:
    async with connect(url) as ws:
        async for raw in ws:
            frames.append(json.loads(raw))
            arrived.set()


async def _move(page: Any, context: Any, lon: float, lat: float) -> None:
    """The phone moves: the app records one more fix (stored before it is sent)."""
    before = await count(page, "#trip-recorded")
    await context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 10})
    await wait_count(page, "#trip-recorded", f"n > {before}", within_ms=20_000)


async def test_a_driver_takes_a_load_from_pairing_through_a_dead_zone(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
        yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
        w = await dispatched_loads(http, settings, loads=1, destination_site_id=yard["id"])
        receiver = await add_member(http, buyer, "buyer")
        (load,) = w["loads"]
        site, staff = w["site"], w["staff"].headers
        r = await http.post(
            f"/fleet/drivers/{load['driver']['user_id']}/pairings", headers=w["carrier"].headers
        )
        assert r.status_code == 201, r.text
        code = r.json()["code"]

        # The service worker may control /app (its scope, allowed by the header), and is asked for anew.
        r = await http.get("/app/sw.js")
        assert r.headers["service-worker-allowed"] == "/app" and r.headers["cache-control"] == "no-cache"
        assert r.headers["content-type"].startswith("text/javascript")
        manifest = (await http.get("/app/manifest.webmanifest")).json()
        assert manifest["start_url"] == manifest["scope"] == "/app" and manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            assert (await http.get(icon["src"])).status_code == 200

        async with chromium() as browser:
            context = await phone(browser, lon=OUTSIDE[0], lat=OUTSIDE[1])
            page = await context.new_page()
            foreign: list[str] = []
            page.on(
                "request",
                lambda q: (
                    None if q.url.startswith((server.base_url, "ws://127.0.0.1")) else foreign.append(q.url)
                ),
            )
            versions: list[str | None] = []
            page.on(
                "request",
                lambda q: versions.append(q.headers.get("x-app-version")) if "/driver/v1/" in q.url else None,
            )

            # Pairing: the driver types the code the dispatcher read out.
            await page.goto(f"{server.base_url}/app")
            await page.wait_for_selector("#screen-pair:not([hidden])")
            assert (
                await page.locator(".tracker-url").first.text_content() == f"{server.base_url}/tracker/osmand"
            )
            await page.fill("#pair-code", code)
            await keep_screenshot(page, "app-pair")
            await steps.pair(page, code)
            card = page.locator(f"button.load[data-load-id='{load['id']}']")
            await card.wait_for()
            assert site["name"] in await card.inner_text()
            await page.wait_for_selector("#status.live")
            r = await http.get(f"/orgs/{w['carrier'].org_id}/device-tokens", headers=w["carrier"].headers)
            names = {t["id"]: t["name"] for t in r.json()}
            assert names[await page.evaluate("DriverApi.device().device_id")].startswith("Driver app")
            tracker = await page.evaluate("DriverApi.device().tracker_id")
            assert tracker and await page.locator(".tracker-id").first.text_content() == tracker
            await keep_screenshot(page, "app-loads")

            # The dispatcher's message: on top of every screen until the driver has read it.
            r = await http.post(
                f"/loads/{load['id']}/messages",
                headers=w["carrier"].headers,
                json={"text": "Use gate 2 today"},
            )
            assert r.status_code == 202, r.text
            message = page.locator("#message")
            await message.get_by_text("Use gate 2 today").wait_for()

            # The load: where and when (the site's time zone said), the route in the maps app.
            await card.click()
            await page.wait_for_selector("#screen-load:not([hidden])")
            assert "Use gate 2 today" in await message.inner_text()
            await page.click("#message-ok")
            await message.wait_for(state="hidden")
            await page.wait_for_selector("#screen-load:not([hidden])")
            assert await page.inner_text("#load-site") == site["name"]
            assert await page.inner_text("#load-address") == site["address"]
            assert "Europe/Berlin" in await page.inner_text("#load-zone")
            route = await page.get_attribute("#do-route", "href")
            assert route and route.startswith(f"geo:{LAT},{LON}")

            # Book the first free slot, then move it to the next one.
            for pick in (0, 1):
                if pick:
                    assert await page.inner_text("#do-book") == "Move the slot"
                    await page.click("#do-book")
                    await page.locator("button.slot.mine").wait_for()
                    # The "Booked" note belonged to the load's screen: it is not carried onto this one.
                    assert await page.locator("#message").is_hidden()
                    assert "Europe/Berlin" in await page.inner_text("#slots-zone")
                    await keep_screenshot(page, "app-slots")
                    slot = page.locator("button.slot:not(.mine)").first
                    start = await slot.get_attribute("data-start")
                    await slot.click()
                    await page.wait_for_selector("#screen-load:not([hidden])")
                else:
                    start = await steps.book_first_slot(page)
                r = await http.get(f"/driver/v1/loads/{load['id']}/booking", headers=load["device"])
                assert r.status_code == 200, r.text
                assert r.json()["slot_start"][:16] == (start or "")[:16]
                assert await page.inner_text("#load-booking") != "not booked"
            # The first slot begins in the future and an early truck waits for it: the driver, already
            # at the mill, gives the slot back and checks in as a walk-in, to be called at once.
            await page.click("#do-cancel")
            await page.wait_for_selector("#load-booking:text('not booked')")
            r = await http.get(f"/driver/v1/loads/{load['id']}/booking", headers=load["device"])
            assert r.status_code == 404, r.text

            # Check in 3 km away: refused, with the distance. Then at the gate: a ticket.
            await page.click("#do-checkin")
            error = page.locator("#load-error[data-distance-m]")
            await error.wait_for()
            distance_m = int(await error.get_attribute("data-distance-m") or 0)
            assert 2_500 < distance_m < 4_000
            assert "outside the gate area" in await error.inner_text()
            assert f"{distance_m / 1000:.1f} km" in await error.inner_text()
            await context.set_geolocation({"longitude": LON, "latitude": LAT, "accuracy": 10})
            await steps.check_in(page)
            await page.wait_for_selector("#ticket[data-status=waiting]")
            assert await page.inner_text("#ticket-main") == "Number 1 in the queue"
            assert await page.locator("#load-error").inner_text() == ""

            # Gate staff call the truck: the banner, a vibration and a system notification.
            board = (await http.get(f"/gate/sites/{site['id']}/board", headers=staff)).json()
            dock = board["docks"][0]
            r = await http.post(f"/gate/sites/{site['id']}/call", headers=staff, json={"dock_id": dock["id"]})
            assert r.status_code == 200, r.text
            ticket_id = r.json()["id"]
            await page.wait_for_selector("#call-banner:not([hidden])")
            assert await page.inner_text("#call-text") == f"Go to {dock['name']}"
            await page.wait_for_function("window.__alerts.notifications.length > 0")
            alerts = await page.evaluate("window.__alerts")
            assert [n["title"] for n in alerts["notifications"]] == [f"Go to {dock['name']}"]
            assert alerts["vibrations"] == 1
            await keep_screenshot(page, "app-dock-call")
            await page.click("#call-ok")

            # The pickup code, full screen: the gate's verify accepts what the QR code says.
            await page.click("#do-code")
            qr = page.locator("#qr svg")
            await qr.wait_for()
            # The whole title fits the phone's header (it was cut to "Pickup c…" at 390 px).
            title = page.locator("#title")
            assert await title.evaluate("el => el.scrollWidth <= el.clientWidth")
            await keep_screenshot(page, "app-code")
            (scanned,) = await decode_qr(browser, await page.screenshot())
            assert scanned == load["pickup_code"]
            r = await http.post(
                "/gate/verify",
                headers=staff,
                json={"site_id": site["id"], "code": scanned, "plate": load["vehicle"]["plate"]},
            )
            assert r.status_code == 200 and r.json()["result"] == "valid", r.text
            await page.click("#back")

            # Loaded at the dock: the driver starts the trip.
            for step in ("loading", "loaded"):
                assert (
                    await http.post(f"/gate/tickets/{ticket_id}/{step}", headers=staff)
                ).status_code == 200
            await page.wait_for_selector("#do-depart:not([hidden])")
            watched: list[dict[str, Any]] = []
            arrived = asyncio.Event()
            watch_url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={receiver.token}"
            # With the cursor at 0 the watcher gets every point as a frame, also those stored before it
            # connected (the app sends its first fix as the trip starts).
            watch_url += f"&after={load['id']}:0"
            await steps.depart(page)
            await page.wait_for_selector("#screen-trip:not([hidden])")
            watcher = asyncio.create_task(_watch(watch_url, watched, arrived))

            # Moving: a few metres per fix (the server refuses jumps faster than 250 km/h).
            step = 0.00005
            lat = LAT
            for _ in range(3):
                lat += step
                await _move(page, context, LON, lat)
            await wait_count(page, "#trip-waiting", "n === 0")
            await keep_screenshot(page, "app-trip")

            # A dead zone: offline, still moving, the page reloaded (the service worker serves it).
            await context.set_offline(True)
            for _ in range(3):
                lat += step
                await _move(page, context, LON, lat)
            banner = page.locator("#offline-banner")
            await banner.wait_for()
            assert int(await banner.get_attribute("data-waiting") or 0) >= 3
            assert "wait to be sent" in await banner.inner_text()
            await keep_screenshot(page, "app-offline")
            async with page.expect_response(f"{server.base_url}/app") as shell:
                await page.reload()
            assert (await shell.value).from_service_worker
            await page.wait_for_selector("#screen-trip:not([hidden])")
            await wait_count(page, "#trip-waiting", "n >= 3")
            for _ in range(2):
                lat += step
                await _move(page, context, LON, lat)
            assert await count(page, "#trip-waiting") >= 5

            # Signal again: every fix recorded reaches the server once, and each watcher once, in order.
            await context.set_offline(False)
            await wait_count(page, "#trip-waiting", "n === 0", within_ms=120_000)
            recorded = await count(page, "#trip-recorded")
            assert await page.get_attribute("#trip-recorded", "data-rejected") == "0"
            rows = await db.fetch(
                "SELECT seq, lat FROM positions WHERE load_id = $1 ORDER BY recorded_at", load["id"]
            )
            assert len(rows) == recorded >= 8
            assert [row["seq"] for row in rows] == list(range(1, recorded + 1))  # numbered as recorded
            stored = {round(row["lat"], 6) for row in rows}
            assert {round(LAT + step * i, 6) for i in range(1, 9)} <= stored  # every move arrived

            def watcher_saw() -> list[int]:
                return [p["seq"] for f in watched if f["type"] == "points" for p in f["points"]]

            async def watcher_has_all() -> None:
                while len(watcher_saw()) < recorded:
                    arrived.clear()
                    await arrived.wait()

            await asyncio.wait_for(watcher_has_all(), 30)
            assert watcher_saw() == list(range(1, recorded + 1))
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

            # The server away: the app still opens, from its service worker, with the last loads.
            server.stop()
            async with page.expect_response(f"{server.base_url}/app") as shell:
                await page.reload()
            assert (await shell.value).from_service_worker
            await page.wait_for_selector("#screen-trip:not([hidden])")
            await page.click("#back")
            card = page.locator(f"button.load[data-load-id='{load['id']}']")
            await card.wait_for()
            assert site["name"] in await card.inner_text()
            assert await page.locator("#loads-stale").is_visible()

            assert foreign == []
            assert versions and all(v == "1.0.0" for v in versions)
            assert await page.evaluate("[...DispatchI18n.missing]") == []
            await context.close()


async def test_a_pairing_link_in_chinese_a_lost_answer_and_the_receipt_at_the_end(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
        yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
        w = await dispatched_loads(http, settings, loads=1, destination_site_id=yard["id"])
        receiver = await add_member(http, buyer, "buyer")
        (load,) = w["loads"]
        await depart(http, w, load)  # the trip began on the driver's old phone
        r = await http.post(
            f"/fleet/drivers/{load['driver']['user_id']}/pairings", headers=w["carrier"].headers
        )
        assert r.status_code == 201, r.text
        code, pair_url = r.json()["code"], r.json()["pair_url"]
        assert pair_url.endswith(f"/app#pair={code}")

        async with chromium() as browser:
            # Without the service worker here: the test intercepts the app's requests (page.route does
            # not see requests a service worker handles).
            context = await phone(browser, lon=LON, lat=LAT, locale="zh-CN", service_workers="block")
            page = await context.new_page()
            # The first batch of positions reaches the server, but its answer is lost on the way back.
            posted: list[tuple[str | None, str | None]] = []

            async def lose_first_answer(route: Any) -> None:
                request = route.request
                posted.append((request.headers.get("idempotency-key"), request.post_data))
                if len(posted) == 1:
                    await route.fetch()  # the server stores the batch ...
                    await route.abort("internetdisconnected")  # ... and the phone hears nothing
                else:
                    await route.continue_()

            await page.route("**/driver/v1/positions", lose_first_answer)
            # The dispatcher's QR code opens the app with the code in the fragment: paired at once.
            await page.goto(f"{server.base_url}/app#pair={code}")
            card = page.locator(f"button.load[data-load-id='{load['id']}']")
            await card.wait_for()
            assert page.url == f"{server.base_url}/app"  # the code left the address bar
            assert await page.inner_text("#title") == "今天的运单"
            assert "运输中" in await card.inner_text()
            await card.click()
            await page.click("#do-trip")
            await page.wait_for_selector("#screen-trip:not([hidden])")
            await wait_count(page, "#trip-recorded", "n >= 1", within_ms=20_000)
            await context.set_geolocation({"longitude": LON, "latitude": LAT + 0.00005, "accuracy": 10})
            await wait_count(page, "#trip-recorded", "n >= 2", within_ms=20_000)
            await wait_count(page, "#trip-waiting", "n === 0")
            # The batch whose answer was lost was sent again as it was, with its key: the server
            # answered the retry as the first time (accepted, not duplicates), and stored it once.
            assert len(posted) >= 2 and posted[0] == posted[1] and posted[0][0]
            recorded = await count(page, "#trip-recorded")
            counts = {
                f: await page.get_attribute("#trip-recorded", f"data-{f}") for f in ("accepted", "duplicates")
            }
            assert counts == {"accepted": str(recorded), "duplicates": "0"}
            assert len({key for key, _ in posted}) == len(posted) - 1  # one key per batch

            # The buyer confirms the receipt: the app shows how the trip ended.
            r = await http.post(
                f"/loads/{load['id']}/receipt",
                headers=receiver.headers,
                json={
                    "received": {"items": [{"line": 0, "count": 1}]},
                    "condition": "good",
                    "signer_name": "K. Krause",
                    "override_reason": "Unloaded at the roadside depot by arrangement",
                },
            )
            assert r.status_code == 201, r.text
            outcome = page.locator("#trip-outcome[data-kind=received]")
            await outcome.wait_for(timeout=60_000)
            assert "已送达" in await outcome.inner_text()
            await keep_screenshot(page, "app-delivered")

            # Switching the language re-renders in place.
            await page.select_option("select[data-i18n-switcher]", "en")
            await page.wait_for_selector("#title:text-is('Trip')")
            assert "Delivered" in await outcome.inner_text()
            assert await page.evaluate("[...DispatchI18n.missing]") == []
            await context.close()


async def test_a_driver_signs_in_with_their_account_and_an_old_app_is_told_to_update(
    server_factory, settings
):
    server = server_factory(driver_app_min_version="2.0.0")
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        r = await http.post(
            "/fleet/drivers",
            headers=carrier.headers,
            json={
                "email": "anna@haulers.test",
                "name": "Anna Fahrer",
                "password": "correct horse battery staple",
                "phone": "+49 170 0000000",
                "licence_number": "L00001",
            },
        )
        assert r.status_code == 201, r.text
        async with chromium() as browser:
            context = await phone(browser, lon=LON, lat=LAT)
            page = await context.new_page()
            await page.goto(f"{server.base_url}/app")
            await page.fill("#signin-email", "anna@haulers.test")
            await page.fill("#signin-password", "wrong password")
            await page.click("#signin-form button[type=submit]")
            await page.wait_for_selector("#signin-error:not(:empty)")
            await page.fill("#signin-password", "correct horse battery staple")
            await page.click("#signin-form button[type=submit]")
            await page.wait_for_selector("#screen-loads:not([hidden])")
            r = await http.get(f"/orgs/{carrier.org_id}/device-tokens", headers=carrier.headers)
            assert [t["name"] for t in r.json()] == ["Driver app (Linux)"]
            # This app (1.0.0) is older than the server serves: it says so instead of failing.
            await page.wait_for_selector("#upgrade-banner:not([hidden])")
            assert "too old" in await page.inner_text("#upgrade-banner")
            # Paired it stays, across a restart of the app.
            await page.reload()
            await page.wait_for_selector("#screen-loads:not([hidden])")
            assert await page.evaluate("DriverApi.device().driver.name") == "Anna Fahrer"
            await context.close()
