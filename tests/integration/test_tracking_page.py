"""The tracking page in a real headless Chromium: the truck moves on the map as the driver's phone
posts GPS batches, without reload; a share link opens the page without an account (a revoked one
says so) and the login form signs in; a dropped socket or a reported gap resumes from the page's
cursor with no point missed or repeated; the receipt ends the stream for good; background tiles
are drawn when configured and failing ones leave the map intact. Everything else the page loads
comes from the app itself (no CDN, no tiles unless configured)."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, WebSocketRoute

from tests.browser import chromium, keep_screenshot
from tests.support import PASSWORD
from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server


def watch_requests(page: Page, server: Any) -> tuple[list[str], list[str]]:
    """Every request and websocket the page opens that does not go to the app's own origin."""
    foreign: list[str] = []
    sockets: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.base_url + "/") else foreign.append(r.url))
    page.on("websocket", lambda ws: sockets.append(ws.url))
    return foreign, sockets


async def wait_for_truck(page: Page, load_id: str, lon: float, lat: float, points: int) -> None:
    """Until the load's truck marker stands on (lon, lat) and its trail has `points` points."""
    await page.wait_for_function(
        """([id, lon, lat, points]) => {
            const truck = document.getElementById(`truck-${id}`);
            const trail = document.getElementById(`trail-${id}`);
            return truck && trail && Number(trail.dataset.points) === points
                && Math.abs(Number(truck.dataset.lon) - lon) < 1e-6
                && Math.abs(Number(truck.dataset.lat) - lat) < 1e-6;
        }""",
        arg=[load_id, lon, lat, points],
        timeout=10_000,
    )


async def truck_at(page: Page, load_id: str) -> tuple[str | None, str | None]:
    marker = page.locator(f"#truck-{load_id}")
    return await marker.get_attribute("data-lon"), await marker.get_attribute("data-lat")


async def post_points(http: httpx.AsyncClient, load: dict[str, Any], points: list[dict[str, Any]]) -> None:
    r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": points})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(points) and r.json()["rejected"] == [], r.text


async def test_the_truck_moves_on_the_map_as_points_arrive_without_reload(server_factory, settings, tmp_path):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        plate = load["vehicle"]["plate"]
        config = (await http.get("/track/config")).json()
        assert config == {"tiles_url": None, "attribution": ""}  # no background map configured
        async with chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            foreign, sockets = watch_requests(page, server)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            assert not await page.locator("#login").is_visible()  # the token signed the page in
            assert "#token" not in page.url  # and left the address bar
            navigations: list[str] = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))

            # The snapshot: both sites' geofences, the load's card, its departure; no position yet.
            await page.wait_for_selector("#geofence-origin", state="attached")  # drawn on the next frame
            assert await page.locator("#geofence-destination").count() == 1
            card = page.locator(f"#load-{load['id']}")
            assert await card.locator(".plate").inner_text() == plate
            assert "Left the gate" in await card.locator(".timeline").inner_text()
            assert await page.locator(f"#truck-{load['id']}").count() == 0

            fixes = route(12)
            before = None
            for n, batch in enumerate((fixes[0:4], fixes[4:8], fixes[8:12]), start=1):
                await post_points(http, load, batch)
                last = batch[-1]
                await wait_for_truck(page, load["id"], last["lon"], last["lat"], points=4 * n)
                now = await truck_at(page, load["id"])
                assert now != before  # it moved
                before = now

            # The first fixes lie inside the mill's geofence, the later ones outside it.
            await page.wait_for_selector(f"#load-{load['id']} .timeline li[data-type='load.left_origin']")
            assert "Left the origin site" in await card.locator(".timeline").inner_text()
            assert ":" in await card.locator(".eta-at").inner_text()  # a local time
            assert (await card.locator(".remaining").inner_text()).endswith(" km")
            assert (await card.locator(".progress").inner_text()).endswith("%")
            assert await page.locator("#status").inner_text() == "live"
            # Every point came live over the one socket: no reconnection was needed.
            assert await page.evaluate("document.body.dataset.reconnects") == "0"

            await page.screenshot(path=str(tmp_path / "tracking.png"))
            await keep_screenshot(page, "tracking")
            assert navigations == [] and foreign == [] and errors == []
            assert len(sockets) == 1
            assert sockets[0].startswith(f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live?access_token=")


async def test_a_share_link_shows_the_delivery_without_an_account(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        fixes = route(5)
        await post_points(http, load, fixes)
        r = await http.post(
            f"/jobs/{w['job']['id']}/share-links",
            headers=w["receiver"].headers,
            json={"expires_in_minutes": 60},
        )
        assert r.status_code == 201, r.text
        link = r.json()
        assert link["token"] and link["url"].startswith(f"/track/jobs/{w['job']['id']}")
        async with chromium() as browser:
            page = await browser.new_page()
            foreign, sockets = watch_requests(page, server)
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#share={link['token']}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            assert not await page.locator("#login").is_visible()
            await wait_for_truck(page, load["id"], fixes[-1]["lon"], fixes[-1]["lat"], points=5)
            card = page.locator(f"#load-{load['id']}")
            assert await card.locator(".plate").inner_text() == load["vehicle"]["plate"]
            assert await page.locator("#geofence-destination").count() == 1
            assert foreign == [] and len(sockets) == 1 and "share=" in sockets[0]

        # A revoked link is refused, and the page says so.
        revoke = f"/jobs/{w['job']['id']}/share-links/{link['id']}/revoke"
        r = await http.post(revoke, headers=w["receiver"].headers)
        assert r.status_code == 200, r.text
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{server.base_url}{link['url']}")
            await page.wait_for_selector("#status.error", timeout=15_000)
            assert "expired or was revoked" in await page.locator("#status").inner_text()

        # A session that is no longer valid, or none at all: the page asks to sign in, then shows
        # the same delivery.
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token=u1.not-a-token")
            await page.wait_for_selector("#login", state="visible", timeout=10_000)
            assert "sign in again" in await page.locator("#login-error").inner_text()
            await page.fill("#login input[name=email]", w["receiver"].email)
            await page.fill("#login input[name=password]", PASSWORD)
            await page.click("#login button[type=submit]")
            await page.wait_for_selector("#status.live", timeout=10_000)
            assert not await page.locator("#login").is_visible()
            await wait_for_truck(page, load["id"], fixes[-1]["lon"], fixes[-1]["lat"], points=5)


async def wait(event: asyncio.Event) -> None:
    async with asyncio.timeout(10):
        await event.wait()


async def test_a_dropped_socket_or_a_gap_resumes_from_the_cursor_and_receipt_ends_it(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        fixes = route(12)
        async with chromium() as browser:
            page = await browser.new_page()
            foreign, _ = watch_requests(page, server)
            # Every socket goes through the test, which can cut it, hold back the next one, and
            # drop frames from the server as a slow socket's outbox does.
            routes: list[WebSocketRoute] = []
            release = asyncio.Event()
            dropping = asyncio.Event()
            dropped: list[str | bytes] = []
            opened = [asyncio.Event() for _ in range(3)]  # the page opened its 1st, 2nd, 3rd socket
            lost = asyncio.Event()

            async def relay(ws: WebSocketRoute) -> None:
                routes.append(ws)
                if len(routes) <= len(opened):
                    opened[len(routes) - 1].set()
                if len(routes) > 1:
                    await release.wait()
                server_side = ws.connect_to_server()

                def forward(message: str | bytes) -> None:
                    if dropping.is_set() and '"points"' in str(message):
                        dropped.append(message)
                        lost.set()
                    else:
                        ws.send(message)

                server_side.on_message(forward)

            await page.route_web_socket("**/tracking/**", relay)
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            await post_points(http, load, fixes[:6])
            await wait_for_truck(page, load["id"], fixes[5]["lon"], fixes[5]["lat"], points=6)

            # The line drops; points are stored meanwhile; the page reconnects from its cursor.
            await routes[0].close(code=4000, reason="test: connection lost")
            await page.wait_for_selector("#status:not(.live)", timeout=5_000)
            await post_points(http, load, fixes[6:10])
            await wait(opened[1])
            assert f"after={load['id']}%3A6" in routes[1].url, routes[1].url
            release.set()
            await page.wait_for_selector("#status.live", timeout=10_000)
            # Exactly the missed points, once each.
            await wait_for_truck(page, load["id"], fixes[9]["lon"], fixes[9]["lat"], points=10)

            # A points frame is lost and the server reports the gap: the page fetches it again.
            dropping.set()
            await post_points(http, load, fixes[10:11])
            await wait(lost)
            assert len(dropped) == 1
            dropping.clear()
            routes[1].send(
                json.dumps({"type": "gap", "load_id": load["id"], "after_seq": 10, "before_seq": 12})
            )
            await wait(opened[2])
            assert f"after={load['id']}%3A10" in routes[2].url, routes[2].url
            await wait_for_truck(page, load["id"], fixes[10]["lon"], fixes[10]["lat"], points=11)
            await post_points(http, load, fixes[11:12])  # and live ones follow
            await wait_for_truck(page, load["id"], fixes[11]["lon"], fixes[11]["lat"], points=12)
            assert await page.evaluate("document.body.dataset.reconnects") == "2"

            # The buyer confirms receipt: the stream ends and the page does not reconnect.
            r = await http.post(
                f"/loads/{load['id']}/receipt",
                headers=w["receiver"].headers,
                json={
                    "received": {"weight_kg": 23_990},
                    "condition": "good",
                    "signer_name": "R. Receiver",
                    "override_reason": "unloaded at the yard gate",
                },
            )
            assert r.status_code == 201, r.text
            await page.wait_for_selector("#status.ended", timeout=10_000)
            assert await page.locator("#status").inner_text() == "Delivered — receipt confirmed"
            card = page.locator(f"#load-{load['id']}")
            assert "Receipt confirmed" in await card.locator(".timeline").inner_text()
            assert await card.get_attribute("data-status") == "received"
            await asyncio.sleep(3)  # longer than the first reconnection backoff
            assert len(routes) == 3 and await page.locator("#status.ended").count() == 1
            assert foreign == []


def png() -> bytes:
    """A 1x1 grey PNG, for a tile."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x80")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


async def test_background_tiles_when_configured_and_the_map_survives_failing_ones(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        fixes = route(3)
        await post_points(http, load, fixes)
        async with chromium() as browser:
            page = await browser.new_page()
            foreign, _ = watch_requests(page, server)
            # As if the server were configured with a tile server; the "tile server" is the test:
            # tiles in even columns load, the others fail.
            template = "http://tiles.invalid/{z}/{x}/{y}.png"
            config = {"tiles_url": template, "attribution": "Tiles: test"}
            await page.route(f"{server.base_url}/track/config", lambda r: r.fulfill(json=config))

            async def tiles(r: Route) -> None:
                x = int(r.request.url.split("/")[-2])
                if x % 2 == 0:
                    await r.fulfill(body=png(), content_type="image/png")
                else:
                    await r.fulfill(status=404)

            await page.route("http://tiles.invalid/**", tiles)
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            await wait_for_truck(page, load["id"], fixes[-1]["lon"], fixes[-1]["lat"], points=3)
            assert await page.locator("#attribution").inner_text() == "Tiles: test"
            tile_url = re.compile(r"^http://tiles\.invalid/(\d+)/(\d+)/(\d+)\.png$")
            # The tiles are drawn all at once; the failed ones (odd columns) are dropped.
            await page.wait_for_function(
                "(images => images.length > 0"
                " && images.every(i => i.getAttribute('href').split('/')[4] % 2 === 0))"
                "([...document.querySelectorAll('#tiles image')])"
            )
            requested = [m.groups() for m in map(tile_url.match, foreign) if m]
            assert requested and len(requested) == len(foreign)  # nothing else left the origin
            assert len({z for z, _, _ in requested}) == 1  # one zoom level
            assert any(int(x) % 2 for _, x, _ in requested)  # some of them failed,
            # while the geofences, the trail and the truck are all drawn.
            assert await page.locator("#geofence-origin").count() == 1
            assert await page.locator("#geofence-destination").count() == 1
            assert await page.locator(f"#truck-{load['id']}").count() == 1
