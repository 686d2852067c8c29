"""The tracking page on GCJ-02 tiles (maps in mainland China), in a real headless Chromium: the
page's JS transform (static/datum.js) agrees with geo.datum on the published pairs and over a grid
of China, its inverse takes a drawn position back to WGS-84, and with DISPATCH_MAP_TILES_DATUM=gcj02
the truck is drawn shifted while the position it reports stays the stored WGS-84 one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Route

from geo import gcj02_to_wgs84, wgs84_to_gcj02
from tests.browser import chromium
from tests.datum_pairs import ABROAD, FORWARD, INVERSE
from tests.tracking_support import loads_in_transit, point

pytestmark = pytest.mark.server

AGREE_DEG = 1e-9  # the same formulas in double precision: equal but for rounding


async def test_the_pages_transform_agrees_with_geo_datum(server_factory):
    server = server_factory()
    async with chromium() as browser:
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Signed out, the page shows its login form; its scripts (datum.js among them) are loaded.
        await page.goto(f"{server.base_url}/track/jobs/00000000-0000-0000-0000-000000000000")
        await page.wait_for_selector("#login", state="visible", timeout=10_000)

        for name, (wgs, gcj) in FORWARD.items():
            js = await page.evaluate("([lon, lat]) => DispatchDatum.wgs84ToGcj02(lon, lat)", list(wgs))
            py = wgs84_to_gcj02(*wgs)
            assert js == pytest.approx(list(py), abs=AGREE_DEG), name
            assert js == pytest.approx(list(gcj), abs=1e-5), name  # and both with the published pair
            back = await page.evaluate("([lon, lat]) => DispatchDatum.gcj02ToWgs84(lon, lat)", list(gcj))
            assert back == pytest.approx(list(gcj02_to_wgs84(*gcj)), abs=AGREE_DEG), name
            assert back == pytest.approx(list(wgs), abs=1e-6), name
        for name, (gcj, wgs) in INVERSE.items():
            back = await page.evaluate("([lon, lat]) => DispatchDatum.gcj02ToWgs84(lon, lat)", list(gcj))
            assert back == pytest.approx(list(wgs), abs=1e-5), name
        for name, place in ABROAD.items():
            assert await page.evaluate(
                "([lon, lat]) => DispatchDatum.wgs84ToGcj02(lon, lat)", list(place)
            ) == list(place), name

        # A grid over mainland China, every 0.5 degrees: the page's forward transform equals Python's,
        # and its inverse takes every shifted point back to within 1e-6 degrees.
        grid = [(73.0 + 0.5 * i, 18.0 + 0.5 * j) for i in range(125) for j in range(72)]
        results = await page.evaluate(
            """grid => grid.map(([lon, lat]) => {
                const shifted = DispatchDatum.wgs84ToGcj02(lon, lat);
                return [shifted, DispatchDatum.gcj02ToWgs84(...shifted)];
            })""",
            grid,
        )
        worst_agreement = worst_round_trip = 0.0
        for (lon, lat), (shifted, back) in zip(grid, results, strict=True):
            py = wgs84_to_gcj02(lon, lat)
            worst_agreement = max(worst_agreement, abs(shifted[0] - py.lon), abs(shifted[1] - py.lat))
            worst_round_trip = max(worst_round_trip, abs(back[0] - lon), abs(back[1] - lat))
        assert worst_agreement < AGREE_DEG
        assert worst_round_trip < 1e-6
        assert errors == []


# Where the truck shows up: near Tianjin port, inside mainland China, so GCJ-02 tiles shift it.
TIANJIN = [(117.7000, 39.0000), (117.7010, 39.0005), (117.7020, 39.0010)]


@pytest.mark.parametrize("datum", ["gcj02", "wgs84"])
async def test_on_gcj02_tiles_the_truck_is_drawn_shifted(server_factory, settings, datum):
    # The scenario's trip starts at the mill near Berlin; demo time scaling lets its truck reach
    # China at once (the jump check would refuse that at real time). Tiles in the chosen datum.
    server = server_factory(
        map_tiles_url="http://tiles.invalid/{z}/{x}/{y}.png",
        map_tiles_datum=datum,
        tracking_time_scale=10_000,
    )
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        config = (await http.get("/track/config")).json()
        assert config.get("datum", "wgs84") == datum and config["tiles_url"]
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        # A minute ahead (within the 2 min of clock skew allowed): at 10 000x that is a week of
        # driving since the departure, plenty for the way to China.
        start = datetime.now(UTC) + timedelta(seconds=60)
        fixes = [point(lon, lat, start + timedelta(seconds=10 * i)) for i, (lon, lat) in enumerate(TIANJIN)]
        r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": fixes})
        assert r.status_code == 200 and r.json()["accepted"] == len(fixes), r.text
        # Stored as sent: WGS-84.
        async with chromium() as browser:
            page = await browser.new_page()

            async def no_tiles(r: Route) -> None:  # the tile server is down: the map still draws
                await r.fulfill(status=404)

            await page.route("http://tiles.invalid/**", no_tiles)
            await page.goto(f"{server.base_url}/track/jobs/{w['job']['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            last_lon, last_lat = TIANJIN[-1]
            # data-lon/lat: the stored WGS-84 position; data-map-lon/lat: where it is drawn.
            truck = await page.wait_for_function(
                """([id, lon, lat]) => {
                    const truck = document.getElementById(`truck-${id}`);
                    return truck && Math.abs(Number(truck.dataset.lon) - lon) < 1e-9
                        && Math.abs(Number(truck.dataset.lat) - lat) < 1e-9 && truck;
                }""",
                arg=[load["id"], last_lon, last_lat],
                timeout=10_000,
            )
            drawn: Any = await truck.evaluate("t => [Number(t.dataset.mapLon), Number(t.dataset.mapLat)]")
            expected = wgs84_to_gcj02(last_lon, last_lat) if datum == "gcj02" else (last_lon, last_lat)
            assert drawn == pytest.approx(list(expected), abs=AGREE_DEG)
            if datum == "gcj02":
                # Hundreds of metres: the offset that puts the truck on the road on Chinese tiles.
                assert abs(drawn[0] - last_lon) > 1e-3 or abs(drawn[1] - last_lat) > 1e-3
                # and the page's inverse gives the stored position back.
                back = await page.evaluate("([lon, lat]) => DispatchDatum.gcj02ToWgs84(lon, lat)", drawn)
                assert back == pytest.approx([last_lon, last_lat], abs=1e-6)
            assert await page.locator(f"#trail-{load['id']}").get_attribute("data-points") == str(
                len(TIANJIN)
            )
            assert await page.locator("#geofence-origin").count() == 1
