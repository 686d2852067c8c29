"""The buyer's receipt on the tracking page, in a real headless Chromium on a phone: a load weighed
at the mill's gate is driven to the buyer's yard; the buyer's receiver sees the receipt form on the
arrived load, sees the shortage against the weighbridge net as they type, is refused a bad weight
next to its field (nothing stored), then confirms with a photo from the camera and a signature
drawn on the screen; the page shows the receipt and the tracking ends; the database holds the
receipt with its signature, chained in the load's evidence. The second truck's load is received
from the keyboard alone: a bad item count is refused next to that item's count field (not the
weight's), and the receipt is signed with the signer's typed name, made into the signature's PNG."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.integration.test_receipts import at_the_buyer
from tests.steps.track import (
    attach_photos,
    discrepancy,
    draw_signature,
    fill_receipt,
    receipt_form,
    send_receipt,
)
from tests.tracking_support import depart, loads_in_transit

pytestmark = pytest.mark.server

PHONE = {"width": 390, "height": 844}
# A 1x1 PNG, as the camera's photo of the short-loaded bay.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


async def test_the_buyer_confirms_a_short_delivery_with_a_photo_and_a_drawn_signature(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=2, depart_all=False)
        load, second = w["loads"]
        for body in (
            {"kind": "weighbridge_tare", "weight_kg": 14_200, "weighbridge_id": "WB-1"},
            {"kind": "weighbridge_gross", "weight_kg": 38_210, "weighbridge_id": "WB-1"},  # net 24,010
        ):
            r = await http.post(f"/loads/{load['id']}/evidence", headers=w["staff"].headers, json=body)
            assert r.status_code == 201, r.text
        await depart(http, w, load)
        await at_the_buyer(http, db, load)
        await depart(http, w, second)
        await at_the_buyer(http, db, second)
        assert await db.fetchval("SELECT status FROM loads WHERE id = $1", load["id"]) == "arrived"

        async with chromium() as browser:
            context = await browser.new_context(viewport=PHONE, has_touch=False)
            page = await context.new_page()
            foreign, errors = watch(page, server)
            await page.goto(f"{server.base_url}/track/loads/{load['id']}#token={w['receiver'].token}")
            await page.wait_for_selector("#status.live", timeout=30_000)
            form = receipt_form(page)
            await form.wait_for(timeout=30_000)
            # Before anything is typed, what the load is measured against; then the shortage as typed.
            await form.get_by_text("Loaded: 24,010 kg net on the seller's weighbridge.").wait_for(
                timeout=30_000
            )
            # Coil comes by the piece: a count per cargo line (blank: all of it arrived).
            coil = form.get_by_label("coil (loaded: 1)")
            assert await coil.input_value() == ""
            await coil.fill("0")  # none arrived: the weight follows from the count
            assert (await discrepancy(page)).startswith("24,010 kg short (100%).")
            await coil.fill("")
            await fill_receipt(
                page,
                received_kg=-50,
                condition="good",
                discrepancy="shortage",
                notes="Two bags torn at the tailgate",
                signer="R. Receiver",
            )
            await draw_signature(page)
            assert "24,060 kg short" in await discrepancy(page)
            await send_receipt(page)
            # The API refuses the weight; the reason shows next to that field, and nothing is stored.
            refusal = form.locator(".field-error[data-field=received]")
            await refusal.wait_for(timeout=30_000)
            assert await form.get_by_label("Received weight (kg)").get_attribute("aria-invalid") == "true"
            assert await db.fetchval("SELECT count(*) FROM receipts") == 0
            assert await db.fetchval("SELECT status FROM loads WHERE id = $1", load["id"]) == "arrived"
            await assert_accessible(page, context="tracking page, receipt form with an error (en)")

            # In Chinese and back: the form is translated in place and keeps what was typed and drawn.
            switcher = page.locator("header select[data-i18n-switcher]")
            await switcher.select_option("zh-CN")
            await form.get_by_role("heading", name="确认收货").wait_for(timeout=30_000)
            assert await form.get_by_label("签收人姓名").input_value() == "R. Receiver"
            assert "短少" in await discrepancy(page)
            await switcher.select_option("en")
            await form.get_by_role("heading", name="Confirm receipt").wait_for(timeout=30_000)

            await form.get_by_label("Received weight (kg)").fill("23950")
            await refusal.wait_for(state="detached")  # corrected: the refusal goes
            assert (await discrepancy(page)).startswith("60 kg short (0.25%).")
            await attach_photos(page, {"name": "bay.png", "mimeType": "image/png", "buffer": PHOTO})
            await form.get_by_text("1 photo chosen").wait_for()
            await form.get_by_role("heading", name="Confirm receipt").scroll_into_view_if_needed()
            await keep_screenshot(page, "receipt-form")
            await send_receipt(page)

            # The receipt on the card; the stream ends; the form is gone.
            card = page.locator(f"#load-{load['id']}")
            await card.locator(".receipt").filter(has_text="signed by R. Receiver").wait_for(timeout=30_000)
            await page.wait_for_selector("#status.ended", timeout=30_000)
            assert await receipt_form(page).count() == 0
            assert "Receipt confirmed" in await card.locator(".timeline").inner_text()
            await assert_accessible(page, context="tracking page, receipt confirmed (en)")
            assert await page.evaluate("[...DispatchI18n.missing]") == []
            assert foreign == [] and errors == []
            await context.close()

            # The second load, from the keyboard alone.
            context = await browser.new_context(viewport=PHONE, has_touch=False)
            page = await context.new_page()
            foreign, errors = watch(page, server)
            await page.goto(f"{server.base_url}/track/loads/{second['id']}#token={w['receiver'].token}")
            form = receipt_form(page)
            await form.wait_for(timeout=30_000)
            await page.wait_for_selector("#status.live", timeout=30_000)
            coil = form.get_by_label("coil (loaded: 1)")
            await coil.focus()
            await page.keyboard.type("-1")
            await form.get_by_label("Signer's name").focus()
            await page.keyboard.type("K. Keys")
            typed = form.get_by_label("Sign with my typed name instead of drawing")
            await typed.focus()
            await page.keyboard.press("Space")
            assert await typed.is_checked()
            await form.get_by_text("Signed as: K. Keys").wait_for(timeout=30_000)
            await form.get_by_role("button", name="Confirm receipt").focus()
            await page.keyboard.press("Enter")
            # The count's refusal is beside that line's count, not the received weight.
            count_error = form.locator(".field-error[data-field=items-0]")
            await count_error.wait_for(timeout=30_000)
            assert await coil.get_attribute("aria-invalid") == "true"
            assert await form.locator(".field-error[data-field=received]").count() == 0
            assert await form.get_by_label("Received weight (kg)").get_attribute("aria-invalid") == "false"
            assert await db.fetchval("SELECT count(*) FROM receipts WHERE load_id = $1", second["id"]) == 0
            await assert_accessible(page, context="tracking page, receipt signed by typing, count refused")
            await coil.focus()
            await page.keyboard.press("Backspace")
            await page.keyboard.press("Backspace")
            await count_error.wait_for(state="detached")
            await form.get_by_label("Received weight (kg)").focus()
            await page.keyboard.type("24000")
            await form.get_by_role("button", name="Confirm receipt").focus()
            await page.keyboard.press("Enter")
            card = page.locator(f"#load-{second['id']}")
            await card.locator(".receipt").filter(has_text="signed by K. Keys").wait_for(timeout=30_000)
            assert foreign == [] and errors == []
            await context.close()

        row = await db.fetchrow("SELECT * FROM receipts WHERE load_id = $1", load["id"])
        assert (row["received_weight_kg"], row["loaded_net_kg"], row["discrepancy_kg"]) == (
            23_950,
            24_010,
            -60,
        )
        assert row["signer_name"] == "R. Receiver" and row["condition"] == "good"
        photo = hashlib.sha256(PHOTO).hexdigest()
        assert [(d["type"], d["notes"], d["photos"]) for d in json.loads(row["discrepancies"])] == [
            ("shortage", "Two bags torn at the tailgate", [photo])
        ]
        # The signature: a PNG drawn on the page, in the load's evidence, uploaded once although the
        # form was sent twice, and named by the receipt and its proof-of-delivery record.
        signature = row["signature_sha256"]
        r = await http.get(f"/evidence/photos/{signature}", headers=w["mill"].headers)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG") and hashlib.sha256(r.content).hexdigest() == signature
        kinds = [
            (k, c)
            for k, c in await db.fetch(
                "SELECT kind, data ->> 'caption' FROM evidence_records WHERE load_id = $1 ORDER BY seq",
                load["id"],
            )
        ]
        assert kinds == [
            ("weighbridge_tare", None),
            ("weighbridge_gross", None),
            ("photo", "signature"),
            ("photo", None),
            ("receipt", None),
        ]
        pod = await db.fetchval(
            "SELECT data ->> 'signature' FROM evidence_records WHERE load_id = $1 AND kind = 'receipt'",
            load["id"],
        )
        assert pod == signature

        # The typed signature: a PNG in the second load's evidence, captioned as typed, named by
        # its receipt.
        row = await db.fetchrow("SELECT * FROM receipts WHERE load_id = $1", second["id"])
        assert row["signer_name"] == "K. Keys" and row["received_weight_kg"] == 24_000
        r = await http.get(f"/evidence/photos/{row['signature_sha256']}", headers=w["mill"].headers)
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        captions = await db.fetch(
            "SELECT data ->> 'caption' AS caption FROM evidence_records"
            " WHERE load_id = $1 AND kind = 'photo'",
            second["id"],
        )
        assert [c["caption"] for c in captions] == ["typed signature"]
