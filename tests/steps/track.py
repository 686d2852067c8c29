"""Steps on the tracking page (/track/loads/{load}, /track/jobs/{job}) as a person takes them, for
the whole-order test and the page's own tests: each works on a Playwright page already on the
tracking page, signed in, and reads the outcome from the page."""

from __future__ import annotations

from playwright.async_api import Locator, Page

WAIT_MS = 30_000


def receipt_form(page: Page) -> Locator:
    """The receipt form (one arrived load on the page)."""
    return page.locator("form.receipt-form")


async def draw_signature(page: Page) -> None:
    """Sign in the signature box with the mouse: a few strokes across it."""
    pad = receipt_form(page).get_by_role("img", name="Sign here with a finger, a pen or the mouse")
    await pad.scroll_into_view_if_needed()
    box = await pad.bounding_box()
    assert box is not None, "the signature box is not shown"
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    for row in (0.35, 0.6):
        await page.mouse.move(x + w * 0.1, y + h * row)
        await page.mouse.down()
        for i in range(1, 9):
            await page.mouse.move(
                x + w * (0.1 + 0.1 * i), y + h * (row + (0.15 if i % 2 else -0.15)), steps=3
            )
        await page.mouse.up()


async def discrepancy(page: Page) -> str:
    """The discrepancy against what was loaded, as the form shows it while the buyer types."""
    return await receipt_form(page).locator(".discrepancy").inner_text()


async def attach_photos(page: Page, *files: dict[str, object]) -> None:
    """Photos for the discrepancy, as the phone's camera gives them ({name, mimeType, buffer})."""
    await receipt_form(page).get_by_label("Photos (camera)").set_input_files(list(files))  # type: ignore[arg-type]


async def fill_receipt(
    page: Page, *, received_kg: int | str, condition: str, discrepancy: str | None, notes: str, signer: str
) -> None:
    """Fill the receipt form (nothing is sent): what arrived, its condition (good, damaged), the
    discrepancy (shortage, overage, damage, or None), notes and the signer's name."""
    form = receipt_form(page)
    await form.wait_for(timeout=WAIT_MS)
    await form.get_by_label("Received weight (kg)").fill(str(received_kg))
    await form.get_by_label("Condition").select_option(condition)
    await form.get_by_label("Discrepancy").select_option(discrepancy or "")
    await form.get_by_label("Notes").fill(notes)
    await form.get_by_label("Signer's name").fill(signer)


async def send_receipt(page: Page) -> None:
    """Press "Confirm receipt" (the outcome: the receipt on the load's card, or errors in the form)."""
    await receipt_form(page).get_by_role("button", name="Confirm receipt").click()


async def submit_receipt(
    page: Page, *, received_kg: int, condition: str, discrepancy: str | None, notes: str, signer: str
) -> None:
    """Confirm receipt of the arrived load on the tracking page: fill the form, sign it with the
    mouse, send it, and wait until the load's card shows the receipt (the form is gone)."""
    await fill_receipt(
        page,
        received_kg=received_kg,
        condition=condition,
        discrepancy=discrepancy,
        notes=notes,
        signer=signer,
    )
    await draw_signature(page)
    await send_receipt(page)
    await page.locator(".load .receipt").filter(has_text=f"signed by {signer}").wait_for(timeout=WAIT_MS)
    assert await receipt_form(page).count() == 0
