"""The carrier dispatcher's steps on the console (dispatch/web/static/console/plan.js), as a person
does them: each takes a Playwright page on the console, signed in as a dispatcher (`loads.dispatch`),
does one thing and reads the outcome from the page. Used by tests/integration/test_console_plan.py
and by the whole-order test."""

from __future__ import annotations

from playwright.async_api import Locator, Page

WAIT = 30_000


async def open_won_job(page: Page, job_id: str) -> None:
    """From the navigation, open "Jobs won" and follow the job's link to its plan and loads."""
    await page.locator('#nav a[href="#/carrier/jobs"]').click()
    row = page.locator(f"#carrier-job-{job_id}")
    await row.get_by_role("link").click(timeout=WAIT)
    await page.locator("#plan, #loads").first.wait_for(timeout=WAIT)


async def _on_job(page: Page, job_id: str) -> None:
    if not page.url.split("#", 1)[-1].startswith(f"/carrier/jobs/{job_id}"):
        await open_won_job(page, job_id)


async def confirm_plan(page: Page, job_id: str) -> list[str]:
    """Confirm the job's plan (asking the planner for one first when there is none) and return the
    numbers of the loads it created, as the page shows them ("PO-4711/1", ...)."""
    await _on_job(page, job_id)
    await page.locator("#plan, #loads").first.wait_for(timeout=WAIT)
    if await page.locator("#loads").count() == 0:
        await page.locator("#no-plan, #proposal").first.wait_for(timeout=WAIT)
        if await page.locator("#no-plan").count():
            await page.locator("#propose button[type=submit]").click()
            await page.locator("#proposal").wait_for(timeout=WAIT)
        await page.locator("#confirm-plan").click()
    await page.locator("#loads article.load").first.wait_for(timeout=WAIT)
    numbers: list[str] = await page.locator("#loads article.load").evaluate_all(
        "cards => cards.map((card) => card.dataset.number)"
    )
    return numbers


async def _submit(form: Locator) -> None:
    """Submit the form and wait until the page has the API's answer (its `data-settled` grows)."""
    before = int(await form.get_attribute("data-settled") or 0)
    await form.locator("button[type=submit]").click()
    await form.and_(form.page.locator(f'form[data-settled="{before + 1}"]')).wait_for(timeout=WAIT)


def load_card(page: Page, load_number: str) -> Locator:
    """The load's card on the job's screen."""
    return page.locator(f'#loads article.load[data-number="{load_number}"]')


async def assign(page: Page, job_id: str, load_number: str, *, plate: str, driver: str) -> str | None:
    """Assign the load to the truck with `plate` and the driver named `driver`. Returns None once the
    card shows that driver, or the refusal the page shows next to a field (or above the button)."""
    await _on_job(page, job_id)
    card = load_card(page, load_number)
    form = card.locator("form.assign")
    truck = form.locator("select[name^=vehicle-]")
    await truck.wait_for(timeout=WAIT)
    value = await truck.locator("option", has_text=plate).first.get_attribute("value")
    await truck.select_option(value)
    await form.locator("select[name^=driver-]").select_option(label=driver)
    await _submit(form)
    refused = form.locator(".error")
    if await refused.count():
        return (await refused.first.inner_text()).strip()
    assert (await card.locator(".load-driver").inner_text()).strip() == driver
    return None


async def message_driver(page: Page, job_id: str, load_number: str, text: str) -> None:
    """Send the load's driver `text` and wait until the page says it was sent."""
    await _on_job(page, job_id)
    form = load_card(page, load_number).locator("form.message")
    await form.locator("input").fill(text)
    await _submit(form)
    await form.get_by_role("status").wait_for(timeout=WAIT)
