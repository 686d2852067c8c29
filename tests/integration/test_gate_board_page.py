"""The gate board page in a real headless Chromium: a truck that checks in appears without reload."""

import httpx
import pytest

from tests.browser import chromium, keep_screenshot
from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN

pytestmark = pytest.mark.server


async def test_a_checked_in_truck_appears_on_the_board_without_reload(server_factory, settings, tmp_path):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
        first, second = w["loads"]
        async with chromium() as browser:
            page = await browser.new_page()
            # Everything the page loads must come from the app itself.
            foreign: list[str] = []
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith(server.base_url) or r.url.startswith("ws://127.0.0.1")
                    else foreign.append(r.url)
                ),
            )
            await page.goto(f"{server.base_url}/board/gate/{w['site']['id']}#token={w['staff'].token}")
            await page.wait_for_selector("#status.live", timeout=10_000)
            assert await page.locator("#waiting tbody tr").count() == 0
            assert not await page.locator("#login").is_visible()  # the token signed the page in
            navigations = []
            page.on("framenavigated", lambda frame: navigations.append(frame.url))

            r = await http.post(
                f"/driver/v1/loads/{first['id']}/check-in",
                headers=first["device"],
                json={"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5},
            )
            assert r.status_code == 201, r.text
            plate = first["vehicle"]["plate"]
            await page.wait_for_selector(f"#waiting tbody tr[data-plate='{plate}']", timeout=10_000)

            r = await http.post(
                "/gate/check-in",
                headers=w["staff"].headers,
                json={
                    "site_id": w["site"]["id"],
                    "code": second["pickup_code"],
                    "plate": second["vehicle"]["plate"],
                },
            )
            assert r.status_code == 201, r.text
            await page.wait_for_selector(
                f"#waiting tbody tr[data-plate='{second['vehicle']['plate']}']", timeout=10_000
            )
            assert await page.locator("#waiting tbody tr").count() == 2
            assert await page.locator("#waiting-count").inner_text() == "2"
            await page.screenshot(path=str(tmp_path / "gate-board.png"))
            await keep_screenshot(page, "gate-board")
            assert navigations == [] and foreign == []
