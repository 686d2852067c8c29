"""Steps on the console's job screen (`#/jobs/:job`, dispatch/web/static/console/orders.js) as the
shipper or consignee takes them: each takes a Playwright page on the console, signed in, does one
thing a person does there and reads the outcome from the page. They find controls by the screen's
element ids (not by texts), so they work in either language."""

from __future__ import annotations

from playwright.async_api import Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

# Generous: the machines that run the browser tests are shared and slow.
WAIT_MS = 30_000


async def open_job(page: Page, job_id: str) -> None:
    """Open the job's screen from "My jobs" (the row's link), and wait for its summary."""
    screen = page.locator(f"#job-view[data-job-id='{job_id}']")
    if await screen.count():
        return
    await page.locator("#nav a[href='#/jobs']").click()
    await page.locator(f"#job-{job_id} a[href='#/jobs/{job_id}']").click(timeout=WAIT_MS)
    await screen.locator("#job-summary").wait_for(timeout=WAIT_MS)


async def authorize(page: Page, job_id: str, *, plates: list[str], drivers: list[str]) -> str:
    """Authorize the job's carrier to collect with these trucks (`plates`) and drivers (their names),
    as the goods owner; empty lists allow any. A plate of the carrier's trucks on the job is ticked,
    another is typed. An authorization already in force (the automatic one on award) is revoked
    first, with a reason. Returns the pickup code the screen then shows; a refusal fails the step
    with the screen's error texts."""
    await open_job(page, job_id)
    panel = page.locator("#authorization")
    form = panel.locator("#authorize")
    revoke = panel.locator("#revoke-authorization")
    await form.or_(revoke).first.wait_for(timeout=WAIT_MS)
    if await revoke.count():
        await revoke.click()
        confirm = panel.locator("#revoke-authorization-form")
        await confirm.locator("input[name=reason]").fill("replaced by an authorization for named trucks")
        await confirm.locator("button[type=submit]").click()
        await form.wait_for(timeout=WAIT_MS)
    known = form.locator("fieldset input[name=known_plates]")
    typed = []
    for plate in plates:
        box = known.and_(page.locator(f"[value='{plate}']"))
        if await box.count():
            await box.check()
        else:
            typed.append(plate)
    await form.locator("input[name=allowed_plates]").fill(", ".join(typed))
    for name in drivers:
        driver = form.get_by_role("checkbox", name=name, exact=True)
        await driver.and_(form.locator("input[name=allowed_driver_ids]")).check()
    await form.locator("button[type=submit]").click()
    code = panel.locator("#authorization-current[data-state=in_force] .auth-code")
    try:
        await code.wait_for(timeout=WAIT_MS)
    except PlaywrightTimeout:
        refused = await form.locator(".error").all_inner_texts()
        raise AssertionError(f"the authorization was refused: {refused}") from None
    return await code.inner_text()


async def load_links(page: Page, job_id: str) -> list[str]:
    """The tracking page of each of the job's loads, as the screen links them (absolute URLs), in
    load order; waits until the carrier's loads are listed."""
    await open_job(page, job_id)
    links = page.locator("#load-list a.track")
    await links.first.wait_for(timeout=WAIT_MS)
    hrefs: list[str] = await links.evaluate_all("links => links.map((a) => a.href)")
    return hrefs


async def verify_evidence(page: Page, job_id: str) -> bool:
    """Open each load's evidence and verify its chain: True when every load's verdict is intact."""
    await open_job(page, job_id)
    rows = page.locator("#load-list tbody tr")
    await rows.first.wait_for(timeout=WAIT_MS)
    intact = True
    for i in range(await rows.count()):
        row = rows.nth(i)
        load_id = (await row.get_attribute("id") or "").removeprefix("load-")
        button = row.locator("button.show-evidence")
        if await button.get_attribute("aria-expanded") != "true":
            await button.click()
        panel = page.locator(f"#evidence-{load_id}")
        await panel.locator("button.verify").click()
        verdict = panel.locator(".verdict")
        await verdict.wait_for(timeout=WAIT_MS)
        intact = intact and await verdict.get_attribute("data-ok") == "true"
    return intact
