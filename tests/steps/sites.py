"""Steps on the console's site screens (dispatch/web/static/console/sites.js, appointments.js), as a
site manager does them: each takes a Playwright page already on the console, signed in (English),
does one thing through labels, roles and clicks, and reads the outcome from the page."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from playwright.async_api import Page

WAIT = 30_000
SITE_URL = re.compile(r"#/sites/([0-9a-f-]{36})$")


async def _open(page: Page, hash_path: str) -> None:
    """Follow a link inside the console (the hash route), as a bookmark or a link would."""
    await page.evaluate("path => { location.hash = path; }", hash_path)


def _world_px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    # Web Mercator pixels at this zoom (256 px tiles), as Leaflet's default map projects.
    size = 256 * 2**zoom
    siny = math.sin(math.radians(lat))
    return (lon + 180) / 360 * size, (0.5 - math.log((1 + siny) / (1 - siny)) / (4 * math.pi)) * size


async def draw_geofence(
    page: Page, corners: Sequence[tuple[float, float]], *, centred_on: tuple[float, float] | None = None
) -> None:
    """Click the geofence map at each corner (lon, lat) in turn. The map shows the site's location
    (`centred_on`, once it has moved there) at its element's centre and zoom (data-center-lon/lat,
    data-zoom); the map has no tiles in tests, so no datum shift."""
    box_el = page.locator("#geofence-map")
    if centred_on is not None:
        await page.wait_for_function(
            """([lon, lat]) => { const d = document.querySelector('#geofence-map').dataset;
                 return Math.abs(Number(d.centerLon) - lon) < 1e-6
                     && Math.abs(Number(d.centerLat) - lat) < 1e-6; }""",
            arg=list(centred_on),
            timeout=WAIT,
        )
    # Leaflet measures from the padding box (inside the border), as a click's position is given.
    box = await box_el.evaluate(
        """e => ({lon: +e.dataset.centerLon, lat: +e.dataset.centerLat, zoom: +e.dataset.zoom,
                  width: e.clientWidth, height: e.clientHeight})"""
    )
    data = box
    cx, cy = _world_px(data["lon"], data["lat"], data["zoom"])
    before = await page.locator("#corners li").count()
    for n, (lon, lat) in enumerate(corners, start=1):
        x, y = _world_px(lon, lat, data["zoom"])
        at = {"x": x - cx + box["width"] / 2, "y": y - cy + box["height"] / 2}
        assert 50 < at["x"] < box["width"] - 10 and 10 < at["y"] < box["height"] - 10, (
            f"corner {n} is off the map"
        )
        await box_el.click(position=at)
        await page.locator("#corners li").nth(before + n - 1).wait_for(timeout=WAIT)


async def fill_new_site(
    page: Page, *, name: str, address: Mapping[str, str], corners: Sequence[tuple[float, float]]
) -> None:
    """On #/sites, fill the new-site form: the name, the address parts (keys: country, province, city,
    district, street, number, postcode), the location at the corners' mean, and the geofence drawn
    by clicking the map. Does not submit."""
    if SITE_URL.search(page.url) or not page.url.endswith("#/sites"):
        await page.locator('#nav a[href="#/sites"]').click()
    form = page.locator("#new-site")
    await form.wait_for(timeout=WAIT)
    await form.get_by_label("Name", exact=True).fill(name)
    labels = {
        "country": "Country",
        "province": "Province or state",
        "city": "City",
        "district": "District",
        "street": "Street",
        "number": "Number",
        "postcode": "Postcode",
    }
    for part, value in address.items():
        await form.get_by_label(labels[part], exact=part != "country").fill(value)
    lon = sum(c[0] for c in corners) / len(corners)
    lat = sum(c[1] for c in corners) / len(corners)
    await form.get_by_label("Latitude", exact=True).fill(repr(lat))
    await form.get_by_label("Longitude", exact=True).fill(repr(lon))
    await draw_geofence(page, corners, centred_on=(lon, lat))


async def create_site(
    page: Page,
    *,
    name: str,
    address: Mapping[str, str],
    corners: list[tuple[float, float]],
    docks: list[str],
    shared: bool = False,
) -> str:
    """Create a site from #/sites (name, address in parts, geofence clicked on the map around the
    location, open around the clock), then add its docks on the site's screen. Returns the site's id,
    read from the URL the console moves to. `shared`: other organizations may name it in their jobs
    (a mill's gate that buyers send their carriers to)."""
    await fill_new_site(page, name=name, address=address, corners=corners)
    if shared:
        await page.locator("#new-site").get_by_label("Shared", exact=False).check()
    await page.locator("#new-site").get_by_role("button", name="Create the site").click()
    await page.wait_for_url(SITE_URL, timeout=WAIT)
    match = SITE_URL.search(page.url)
    assert match is not None
    for dock in docks:
        await add_dock(page, dock)
    return match.group(1)


async def add_dock(page: Page, name: str) -> None:
    """On the site's screen: add a dock serving any vehicle type; waits for it in the list."""
    form = page.locator("#add-dock")
    await form.get_by_label("Dock name").fill(name)
    await form.get_by_role("button", name="Add the dock").click()
    await page.locator("#dock-list tbody tr", has_text=name).wait_for(timeout=WAIT)


async def set_calendar(
    page: Page,
    site_id: str,
    *,
    slot_minutes: int = 30,
    places_per_slot: int = 1,
    min_lead_minutes: int = 0,
    cutoff_minutes: int = 0,
) -> None:
    """Give the site its slot calendar on its screen (by default slots of 30 minutes, one truck each,
    bookable up to their start: with the new site's round-the-clock hours a slot can be booked in the
    next hours). Waits until the console says it is saved."""
    if not page.url.endswith(f"#/sites/{site_id}"):
        await _open(page, f"#/sites/{site_id}")
    form = page.locator("#calendar")
    await form.wait_for(timeout=WAIT)
    await form.get_by_label("Slot length (minutes)").fill(str(slot_minutes))
    await form.get_by_label("Trucks per slot").fill(str(places_per_slot))
    await form.get_by_label("Booked at least (minutes ahead)").fill(str(min_lead_minutes))
    await form.get_by_label("No changes within (minutes of the slot)").fill(str(cutoff_minutes))
    await form.get_by_role("button", name="Save the calendar").click()
    await page.locator("#calendar-saved").wait_for(timeout=WAIT)


async def appointments(page: Page, site_id: str) -> list[str]:
    """Open the site's appointments for today and return the rows' texts (empty when no one is
    expected)."""
    await _open(page, f"#/sites/{site_id}/appointments")
    await page.locator("#appointment-list, #no-appointments").first.wait_for(timeout=WAIT)
    return await page.locator("#appointment-list tbody tr").all_inner_texts()
