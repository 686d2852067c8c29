"""The console's site screens in a real headless Chromium on a real server, for a mill's site
manager: a new site whose geofence is drawn by clicking the map (a self-crossing one first: refused
next to the geofence, nothing stored), docks, the slot calendar, then the day's appointments (a
booked truck and a walk-in) appearing live; the same in Chinese; axe on the site's screens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.gate_support import dispatched_loads
from tests.integration.test_console_gate import sign_in
from tests.market_support import BERLIN
from tests.steps.sites import appointments, create_site, draw_geofence, fill_new_site, set_calendar
from tests.support import bootstrap_org

pytestmark = pytest.mark.server

WAIT = 30_000
LON, LAT = BERLIN
# A square of about 270 by 440 m around the gate, corner by corner; crossing its diagonals instead
# makes a bow tie, which no site can be.
SQUARE = [
    (LON - 0.002, LAT - 0.002),
    (LON + 0.002, LAT - 0.002),
    (LON + 0.002, LAT + 0.002),
    (LON - 0.002, LAT + 0.002),
]
BOW_TIE = [SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3]]
ADDRESS = {"country": "DE", "street": "Werkstrasse", "number": "1", "postcode": "10115", "city": "Berlin"}


async def test_a_site_manager_draws_a_site_sets_its_calendar_and_sees_who_comes(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, mill.email)
        assert "Sites" in await page.locator("#nav a").all_inner_texts()

        # A bow tie: the API refuses it, the refusal stands next to the geofence, nothing is stored.
        await fill_new_site(page, name="North gate", address=ADDRESS, corners=BOW_TIE)
        assert await page.locator("#corners li").count() == 4
        await page.get_by_role("button", name="Create the site").click()
        refusal = page.locator("#geofence-error[data-field=geofence]")
        await refusal.wait_for(timeout=WAIT)
        assert "geofence" in (await refusal.inner_text()).lower()
        assert await page.locator("#geofence").get_attribute("aria-invalid") == "true"
        assert await db.fetchval("SELECT count(*) FROM sites") == 0
        assert await page.get_by_label("Name", exact=True).input_value() == "North gate"  # kept

        # The keyboard's way: remove the corners, draw the square, click once too many and undo it.
        await page.get_by_role("button", name="Remove all corners").click()
        assert await page.locator("#no-corners").is_visible()
        await draw_geofence(page, [*SQUARE, (LON, LAT + 0.001)])
        await page.get_by_role("button", name="Undo the last corner").click()
        assert await page.locator("#corners li").count() == 4
        await page.get_by_role("button", name="Create the site").click()
        await page.wait_for_url("**/console#/sites/*", timeout=WAIT)
        site_id = page.url.rsplit("/", 1)[1]
        row = await db.fetchrow(
            "SELECT name, address, geofence, timezone FROM sites WHERE id = $1", UUID(site_id)
        )
        assert (row["name"], row["address"]) == ("North gate", "Werkstrasse 1, 10115 Berlin, DE")
        assert row["timezone"] == "Europe/Vienna"  # the organization's, offered by the form
        stored = json.loads(row["geofence"]) if isinstance(row["geofence"], str) else row["geofence"]
        ring = stored["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        # Clicked to the pixel (a click lands on whole pixels: about 3 m at the map's zoom).
        for (lon, lat), (want_lon, want_lat) in zip(ring[:4], SQUARE, strict=True):
            assert abs(lon - want_lon) < 5e-5 and abs(lat - want_lat) < 5e-5

        # The site's screen shows it as stored; an edit (a corner moved by typing) is saved.
        edit = page.locator("#edit-site")
        await edit.wait_for(timeout=WAIT)
        assert await edit.locator("#corners li").count() == 4
        await edit.get_by_label("Corner 3: latitude").fill(str(LAT + 0.003))
        await edit.get_by_role("button", name="Save the site").click()
        await page.locator("#site-saved").wait_for(timeout=WAIT)
        stored = await db.fetchval("SELECT geofence FROM sites WHERE id = $1", UUID(site_id))
        stored = json.loads(stored) if isinstance(stored, str) else stored
        assert stored["coordinates"][0][2][1] == LAT + 0.003

        # Docks and the calendar; a calendar asking more places than docks is refused at its field.
        for dock in ("Dock A", "Dock B"):
            await page.locator("#add-dock").get_by_label("Dock name").fill(dock)
            await page.get_by_role("button", name="Add the dock").click()
            await page.locator("#dock-list tbody tr", has_text=dock).wait_for(timeout=WAIT)
        await page.locator("#calendar").get_by_label("Trucks per slot").fill("3")
        await page.get_by_role("button", name="Save the calendar").click()
        await page.locator("#calendar .field-error[data-field=places_per_slot]").wait_for(timeout=WAIT)
        assert await db.fetchval("SELECT count(*) FROM site_calendars") == 0
        await set_calendar(page, site_id, places_per_slot=2)
        calendar = await db.fetchrow("SELECT * FROM site_calendars WHERE site_id = $1", UUID(site_id))
        assert (calendar["slot_minutes"], calendar["places_per_slot"], calendar["cutoff_minutes"]) == (
            30,
            2,
            0,
        )
        await assert_accessible(page, context="console, a site's screen (en)")
        await page.locator("#geofence-map").scroll_into_view_if_needed()
        await keep_screenshot(page, "console-site")

        # Nobody is expected yet; then a carrier's truck books a slot and another walks in.
        assert await appointments(page, site_id) == []
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            site = (await http.get(f"/sites/{site_id}", headers=mill.headers)).json()
            w = await dispatched_loads(http, settings, loads=2, mill=mill, site=site)
            booked, walk_in = w["loads"]
            now = datetime.now(UTC)
            slot = now.replace(minute=(now.minute // 30) * 30, second=0, microsecond=0) + timedelta(
                minutes=30
            )
            r = await http.put(
                f"/driver/v1/loads/{booked['id']}/booking",
                headers=booked["device"],
                json={"slot_start": slot.isoformat()},
            )
            assert r.status_code == 200, r.text
            r = await http.post(
                f"/driver/v1/loads/{walk_in['id']}/check-in",
                headers=walk_in["device"],
                json={"position": {"lat": LAT, "lon": LON}, "accuracy_m": 5},
            )
            assert r.status_code == 201, r.text
        # The screen polls: the walk-in appears without a reload (the booked one too when its slot is today).
        walk_in_row = page.locator(f"#appointment-{walk_in['id']}")
        await walk_in_row.wait_for(timeout=WAIT)
        text = await walk_in_row.inner_text()
        assert walk_in["vehicle"]["plate"] in text and "Haulers" in text and "Driver 1" in text
        assert "walk-in" in text and "checked in" in text
        vienna = ZoneInfo("Europe/Vienna")  # the site's zone: the organization's (Austria by default)
        if slot.astimezone(vienna).date() == now.astimezone(vienna).date():
            booked_row = page.locator(f"#appointment-{booked['id']}")
            await booked_row.wait_for(timeout=WAIT)
            assert "booked slot" in await booked_row.inner_text()
        assert not any(word in text for word in ("€", "EUR", "price"))
        await keep_screenshot(page, "console-appointments")
        await assert_accessible(page, context="console, the day's appointments (en)")

        # In Chinese: the same rows in Chinese words, no raw keys (watch() fails on those).
        await page.get_by_label("Language").select_option("zh-CN")
        await page.locator("#appointments-title", has_text="的预约").wait_for(timeout=WAIT)
        assert "未预约到场" in await walk_in_row.inner_text() and "已签到" in await walk_in_row.inner_text()
        await assert_accessible(page, context="console, the day's appointments (zh-CN)")
        await page.evaluate("id => { location.hash = `#/sites/${id}`; }", site_id)
        await page.locator("#calendar-title", has_text="时段日历").wait_for(timeout=WAIT)
        await assert_accessible(page, context="console, a site's screen (zh-CN)")
        assert foreign == [] and errors == []
        await context.close()


async def test_the_create_site_step_makes_a_site_with_docks(server_factory, settings, db):
    """The steps the whole-order test calls, end to end: create_site and set_calendar."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 390, "height": 900})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, mill.email)
        square = [(LON - 0.001, LAT - 0.001), (LON + 0.001, LAT - 0.001), (LON, LAT + 0.001)]
        site_id = await create_site(
            page, name="South gate", address=ADDRESS, corners=square, docks=["Dock 1"]
        )
        await set_calendar(page, site_id)
        docks = await db.fetch("SELECT name FROM docks WHERE site_id = $1", UUID(site_id))
        assert [d["name"] for d in docks] == ["Dock 1"]
        assert await appointments(page, site_id) == []
        assert foreign == [] and errors == []
        await context.close()
