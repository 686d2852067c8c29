"""What gate staff do on the console's gate screen (`/console#/gate`), one step a person takes each,
read back from the page. Each takes a Playwright page already on the gate screen, signed in."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Locator, Page

WAIT = 30_000  # milliseconds: the machine running the tests may be busy


async def verify_code(page: Page, code: str, plate: str | None = None) -> str:
    """Type a pickup code (and the truck's plate, which the gate check needs: without `plate` the
    field keeps what it holds) and verify it; the verdict's text."""
    form = page.locator("#verify")
    await form.get_by_label("Pickup code").fill(code)
    if plate is not None:
        await form.get_by_label("Plate").fill(plate)
    return await _verdict_after(page, form.get_by_role("button", name="Verify"))


async def scan_code(page: Page, plate: str) -> str:
    """Type the truck's plate, then read the pickup code from the QR code on the driver's phone with
    the tablet's camera; the code is verified once read. The verdict's text."""
    form = page.locator("#verify")
    await form.get_by_label("Plate").fill(plate)
    return await _verdict_after(page, form.get_by_role("button", name="Scan the QR code"))


async def _verdict_after(page: Page, button: Locator) -> str:
    """Click `button` and wait for a new verdict (the old one, if any, is marked first)."""
    await page.evaluate("() => { const v = document.querySelector('#verdict'); if (v) v.dataset.old = '1'; }")
    await button.click()
    verdict = page.locator("#verdict:not([data-old])")
    await verdict.wait_for(timeout=WAIT)
    return await verdict.inner_text()


async def check_in(page: Page) -> str:
    """Check in the truck whose code was just found valid; the page's "checked in" line."""
    await page.get_by_role("button", name="Check the truck in").click()
    done = page.locator("#checked-in")
    await done.wait_for(timeout=WAIT)
    return await done.inner_text()


async def call_next(page: Page, dock: str) -> None:
    """Call the next truck in the queue to `dock` (its name); waits until the page says who comes."""
    await page.locator("#call").get_by_label("Dock", exact=True).select_option(label=dock)
    await page.get_by_role("button", name="Call the next truck to this dock").click()
    await page.locator("#called", has_text=f"called to {dock}").wait_for(timeout=WAIT)


async def open_evidence(page: Page, plate: str | None = None) -> Locator:
    """Open the loading evidence of the truck at a dock (with `plate`, else the first one)."""
    rows = page.locator("#at-docks tbody tr")
    row = rows.filter(has_text=plate) if plate else rows.first
    toggle = row.get_by_role("button", name="Weighbridge and evidence")
    if await toggle.get_attribute("aria-expanded") != "true":
        await toggle.click()
    panel = page.locator("#evidence")
    await panel.wait_for(timeout=WAIT)
    return panel


async def record_evidence(
    page: Page,
    *,
    tare_kg: int,
    gross_kg: int,
    seals: list[str],
    sample: str,
    sample_description: str = "Retained sample of the load",
    photo: Path | None = None,
    weighbridge: str = "WB-1",
    plate: str | None = None,
) -> None:
    """Record the loading evidence of the truck at a dock (with `plate`, else the first): the
    weighbridge's tare and gross, the seal numbers, a photo (a file, as the camera would give it)
    and the sample's reference; waits for each to be confirmed on the page."""
    panel = await open_evidence(page, plate)
    records = panel.locator("#evidence-records li")
    for kind, kg, said in (
        ("weighbridge_tare", tare_kg, "Tare recorded"),
        ("weighbridge_gross", gross_kg, "Gross recorded"),
    ):
        weigh = panel.get_by_role("form", name="Weighbridge ticket for")
        await weigh.get_by_label("Weighing").select_option(kind)
        await weigh.get_by_label("Weight (kg)").fill(str(kg))
        await weigh.get_by_label("Weighbridge", exact=True).fill(weighbridge)
        await weigh.get_by_role("button", name="Record").click()
        await weigh.get_by_role("status").filter(has_text=said).wait_for(timeout=WAIT)
    form = panel.get_by_role("form", name="Seals for")
    for index, number in enumerate(seals):
        if index:
            await form.get_by_role("button", name="Add a seal").click()
        await form.get_by_label(f"Seal {index + 1}", exact=True).fill(number)
    await form.get_by_role("button", name="Record the seals").click()
    await form.get_by_role("status").filter(has_text="Seals recorded").wait_for(timeout=WAIT)
    if photo is not None:
        form = panel.get_by_role("form", name="Photo for")
        await form.get_by_label("Photo (camera)").set_input_files(photo)
        await form.get_by_role("button", name="Upload the photo").click()
        await form.get_by_role("status").filter(has_text="Photo recorded").wait_for(timeout=WAIT)
    form = panel.get_by_role("form", name="Sample for")
    await form.get_by_label("Sample reference").fill(sample)
    await form.get_by_label("What the sample is").fill(sample_description)
    await form.get_by_role("button", name="Record the sample").click()
    await form.get_by_role("status").filter(has_text=f"Sample {sample} recorded").wait_for(timeout=WAIT)
    await records.filter(has_text=f"Sample {sample}").wait_for(timeout=WAIT)


async def mark_loaded(page: Page, plate: str | None = None) -> None:
    """Mark the truck at a dock (with `plate`, else the first) loaded, starting the loading first if
    it has not been; waits until its row says loaded."""
    rows = page.locator("#at-docks tbody tr")
    row = rows.filter(has_text=plate) if plate else rows.first
    started = row.get_by_role("button", name="Loading started")
    if await started.count():
        await started.click()
        await row.locator("td.state[data-state=loading]").wait_for(timeout=WAIT)
    await row.get_by_role("button", name="Loading complete").click()
    await row.locator("td.state[data-state=loaded]").wait_for(timeout=WAIT)
