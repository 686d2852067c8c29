"""Steps a driver takes in the phone app (/app), for page tests: each does one thing a driver does
and reads the outcome from the page. `page` is the app's page in a phone context whose geolocation
the test sets (tests/app_support.py `phone`); the steps find their way from the screen they are on
(the pairing, today's loads or a load)."""

from __future__ import annotations

from playwright.async_api import Page

WAIT_MS = 30_000


async def _outcome(page: Page, shown: str, error: str) -> None:
    """Wait until `shown` appears or the error paragraph `error` says why not; raise with its words."""
    await page.locator(shown).or_(page.locator(f"{error}:not(:empty)")).first.wait_for(timeout=WAIT_MS)
    await _refused(page, error)


async def _refused(page: Page, error: str) -> None:
    """Raise with the page's own words when `error` (an error paragraph) is shown with a text."""
    found = page.locator(error)
    text = (await found.inner_text()).strip() if await found.count() else ""
    if text:
        raise AssertionError(f"the app refused: {text}")


async def open_load(page: Page, load_id: str | None = None) -> None:
    """Open a load (the first of today's loads, or `load_id`) unless its screen is shown already."""
    if await page.locator("#screen-load").is_visible() and load_id is None:
        return
    if not await page.locator("#screen-loads").is_visible():
        # Back to today's loads from wherever the app is (the slots, the code, the trip).
        while await page.locator("#back").is_visible():
            await page.locator("#back").click()
    card = page.locator(f"button.load[data-load-id='{load_id}']" if load_id else "button.load").first
    await card.click(timeout=WAIT_MS)
    await page.locator("#screen-load").wait_for(timeout=WAIT_MS)


async def pair(page: Page, code: str) -> None:
    """Pair the phone with the code the dispatcher gave (typed as read out); the app then shows
    today's loads. Raises with the app's reason when the code is refused."""
    await page.locator("#screen-pair").wait_for(timeout=WAIT_MS)
    await page.locator("#pair-code").fill(code)
    await page.locator("#pair-form button[type=submit]").click()
    await _outcome(page, "#screen-loads", "#pair-error")
    await page.locator("button.load").first.wait_for(timeout=WAIT_MS)


async def book_first_slot(page: Page, load_id: str | None = None) -> str:
    """Book the first free slot of the load (moving the booking if there is one): the slot's start
    (ISO, as the app offered it). Back on the load screen, which shows the booking."""
    await open_load(page, load_id)
    await page.locator("#do-book").click()
    slot = page.locator("button.slot:not(.mine)").first
    await _outcome(page, "button.slot:not(.mine) >> nth=0", "#slots-error")
    start = await slot.get_attribute("data-start") or ""
    await slot.click()
    await _outcome(page, "#screen-load", "#slots-error")
    return start


async def check_in(page: Page, load_id: str | None = None) -> str:
    """Check in at the gate from where the phone is (its geolocation): the ticket's line ("Number 1
    in the queue"). Raises with the app's reason when refused (outside the gate area, say)."""
    await open_load(page, load_id)
    await page.locator("#do-checkin").click()
    await _outcome(page, "#ticket", "#load-error")
    return (await page.locator("#ticket-main").inner_text()).strip()


async def depart(page: Page, load_id: str | None = None) -> None:
    """Start the trip once the gate has marked the truck loaded (the button appears then, live);
    the app shows the trip and records the phone's positions."""
    await open_load(page, load_id)
    await page.locator("#do-depart").click(timeout=60_000)
    await _outcome(page, "#screen-trip", "#load-error")
