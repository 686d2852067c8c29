"""Steps on the carriers' job board (`/board/jobs`), as a carrier's dispatcher takes them: each does
one thing a person does on the page, signed in there or on the console in the same tab (the step
opens the board then), and reads the outcome from the page.
Used by tests/integration/test_job_board_bids.py, and by the whole-order test."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.async_api import Page

from tests.support import PASSWORD

# Browser tests share two cores with other work: generous waits, never timing assertions.
WAIT_MS = 30_000


async def open_board(page: Page) -> None:
    """Open the job board in this tab unless it shows already: a page signed in on the console is
    signed in on the board too (one session per tab); wait until the market feed is live."""
    url = urlsplit(page.url)
    if url.path != "/board/jobs":
        await page.goto(f"{url.scheme}://{url.netloc}/board/jobs")
    await page.wait_for_selector("#status.live", timeout=WAIT_MS)


async def sign_in(page: Page, email: str) -> None:
    """Sign in with the board's own form (the page is open on /board/jobs); waits until the board
    shows either the live feed or that the organization has no saved area yet."""
    await page.wait_for_selector("#login", state="visible", timeout=WAIT_MS)
    await page.fill("#login input[name=email]", email)
    await page.fill("#login input[name=password]", PASSWORD)
    await page.click("#login button[type=submit]")
    await page.locator("#status.live, #no-areas:visible").first.wait_for(timeout=WAIT_MS)


async def save_area(page: Page, *, name: str, lon: float, lat: float, radius_km: int) -> None:
    """Save an area (a circle) where the carrier takes jobs; waits until the feed is live."""
    await page.fill("#area-form input[name=area_name]", name)
    await page.fill("#area-form input[name=lat]", str(lat))
    await page.fill("#area-form input[name=lon]", str(lon))
    await page.fill("#area-form input[name=radius_km]", str(radius_km))
    await page.click("#area-form button[type=submit]")
    await page.locator("#area-list", has_text=name).wait_for(timeout=WAIT_MS)
    await page.wait_for_selector("#status.live", timeout=WAIT_MS)


async def _card(page: Page, job_id: str) -> str:
    """The job's card, once the market feed has brought it; its selector."""
    await open_board(page)
    card = f"#job-{job_id}"
    await page.wait_for_selector(card, timeout=WAIT_MS)
    return card


async def bid(page: Page, job_id: str, amount: str) -> str:
    """Type `amount` (in the job's currency, as a person types it: "2400" or "2350.50") into the
    auction's card and send it: a first bid, or the organization's bid lowered when it has one.
    Returns the card's message once the API has answered: "Bid placed: €2,400.00." or the API's
    reason for refusing it (with what the page adds, e.g. the most one may offer now)."""
    card = await _card(page, job_id)
    message = page.locator(f"{card} .message")
    before = int(await message.get_attribute("data-seq") or 0)
    await page.fill(f"{card} .bid-form input", amount)
    await page.click(f"{card} .bid-form button[type=submit]")
    # The message after "sending…": numbered past the one shown before, and no longer pending.
    await page.wait_for_function(
        """([selector, before]) => {
            const m = document.querySelector(selector);
            return !m || (Number(m.dataset.seq) > before
                && (m.classList.contains("ok") || m.classList.contains("error")));
        }""",
        arg=[f"{card} .message", before],
        timeout=WAIT_MS,
    )
    return await message.inner_text()


async def grab(page: Page, job_id: str) -> bool:
    """Click "Grab at <price>" on the job's card. True when the job is awarded to the carrier (it
    leaves the open jobs for "Awarded to you"); False when the API refused (the card says why, e.g.
    another carrier took it first)."""
    card = await _card(page, job_id)
    await page.click(f"{card} button.grab")
    won = page.locator(f"#won-{job_id}")
    refused = page.locator(f"{card} .message.error")
    await won.or_(refused).first.wait_for(timeout=WAIT_MS)
    return await won.count() == 1
