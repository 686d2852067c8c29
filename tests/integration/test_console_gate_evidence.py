"""The console's gate screen at a tablet (820 px) with a camera, in a real headless Chromium on a
real server: the clerk reads the pickup code from the QR code on the driver's phone (Chromium's fake
camera shows a QR code made by segno, as the driver app draws it: the code alone) and the verdict
names the load by its number, the truck, the driver and the carrier; the truck is checked in and
called to a dock; the loading evidence is recorded (weighbridge, seals, a photo, the sample) with
refused values shown next to their fields and nothing stored for them; the truck is marked loaded
and the database holds exactly the evidence recorded. axe finds nothing serious on the screen. A
tablet in Chinese whose camera is refused says so and still verifies a typed code."""

from __future__ import annotations

import hashlib
import io
import json
from uuid import UUID

import httpx
import pytest
import segno

from tests.browser import assert_accessible, chromium, keep_screenshot, qr_video, watch
from tests.gate_support import dispatched_loads
from tests.integration.test_console_gate import sign_in
from tests.steps import gate as steps

pytestmark = pytest.mark.server

TABLET = {"width": 820, "height": 1180}
WAIT = 30_000
# The elements reaching past the window's right edge (named in a failure).
WIDER_THAN = """w => [...document.querySelectorAll('body *')]
  .filter((e) => e.getBoundingClientRect().right > w + 1)
  .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`)"""


def png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text).save(out, kind="png", scale=6)
    return out.getvalue()


async def test_a_gate_clerk_scans_the_drivers_qr_code_and_records_the_loading_evidence(
    server_factory, settings, db, tmp_path
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
    load, other = w["loads"]
    plate = load["vehicle"]["plate"]
    camera = qr_video(load["pickup_code"], tmp_path / "phone.y4m")
    photo = tmp_path / "coil.png"
    photo.write_bytes(png("coil 1, seal S-1"))

    async with chromium(fake_camera=camera) as browser:
        context = await browser.new_context(locale="en-US", viewport=TABLET, permissions=["camera"])
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/gate")
        await sign_in(page, w["staff"].email)
        await page.locator("#live-state", has_text="live").wait_for(timeout=WAIT)

        # The code from the driver's phone, through the camera: verified at once (the plate is typed).
        verdict = await steps.scan_code(page, plate)
        assert "Valid" in verdict
        facts = page.locator("#verdict dl")
        assert await facts.locator("[data-name=load-number] dd").inner_text() == f"PO-4711/{load['seq']}"
        assert await facts.locator("[data-name=plate] dd").inner_text() == plate
        assert await facts.locator("[data-name=driver] dd").inner_text() == "Driver 0"
        assert await facts.locator("[data-name=carrier] dd").inner_text() == "Haulers"
        assert await page.locator("#scanner").count() == 0  # the camera is closed once the code is read
        # The other truck's code typed with this plate: refused, as before.
        assert "Refused" in await steps.verify_code(page, other["pickup_code"], plate)
        assert "Valid" in await steps.scan_code(page, plate)
        assert "place 1" in await steps.check_in(page)
        await steps.call_next(page, "Dock 1")

        # The evidence: refused values first, each next to its field, nothing stored.
        panel = await steps.open_evidence(page, plate)
        seals = panel.get_by_role("form", name=f"Seals for {plate}")
        await seals.get_by_label("Seal 1", exact=True).fill("S-1")
        await seals.get_by_role("button", name="Add a seal").click()
        await seals.get_by_label("Seal 2", exact=True).fill("S-1")
        await seals.get_by_role("button", name="Record the seals").click()
        repeated = seals.locator(".field-error[data-field=seal_numbers]")
        await repeated.wait_for(timeout=WAIT)
        assert "S-1" in await repeated.inner_text()
        assert await seals.get_by_role("group", name="Seal numbers").get_attribute("aria-invalid") == "true"
        photos = panel.get_by_role("form", name=f"Photo for {plate}")
        await photos.get_by_label("Photo (camera)").set_input_files(
            files=[{"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"not a picture at all"}]
        )
        await photos.get_by_role("button", name="Upload the photo").click()
        await photos.locator(".field-error[data-field=file]").wait_for(timeout=WAIT)
        assert await photos.get_by_label("Photo (camera)").get_attribute("aria-invalid") == "true"
        sample = panel.get_by_role("form", name=f"Sample for {plate}")
        await sample.get_by_label("Sample reference").fill("SMP-7")
        await sample.get_by_role("button", name="Record the sample").click()
        await sample.locator(".field-error[data-field=description]").wait_for(timeout=WAIT)
        assert await sample.get_by_label("Sample reference").input_value() == "SMP-7"  # kept for correcting
        assert await db.fetchval("SELECT count(*) FROM evidence_records") == 0
        assert await panel.locator("#evidence-records-empty").is_visible()
        await assert_accessible(page, context="console gate screen, evidence refused (820 px)")

        # Then the evidence as it should be, and the truck loaded.
        await seals.get_by_label("Seal 2", exact=True).fill("S-2")
        await seals.get_by_role("button", name="Record the seals").click()
        await seals.get_by_role("status").filter(has_text="Seals recorded: S-1, S-2").wait_for(timeout=WAIT)
        await steps.record_evidence(
            page, tare_kg=14_000, gross_kg=38_000, seals=["S-3"], sample="SMP-7", photo=photo, plate=plate
        )
        listed = await panel.locator("#evidence-records li").all_inner_texts()
        assert [line.split(" ")[0] for line in listed] == [
            "Seals",
            "Tare",
            "Gross",
            "Seals",
            "Photo",
            "Sample",
        ]
        await panel.scroll_into_view_if_needed()
        await keep_screenshot(page, "console-gate-evidence")
        await steps.mark_loaded(page, plate)
        await assert_accessible(page, context="console gate screen, evidence recorded (820 px)")
        # The same screen on a phone and on a desktop: nothing wider than the window.
        for width in (390, 1280):
            await page.set_viewport_size({"width": width, "height": 900})
            overflow = await page.evaluate("document.documentElement.scrollWidth")
            wide = await page.evaluate(WIDER_THAN, width)
            assert overflow <= width, (width, overflow, wide)

        rows = await db.fetch(
            "SELECT kind, data FROM evidence_records WHERE load_id = $1 ORDER BY seq", UUID(load["id"])
        )
        data = [
            (r["kind"], r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])) for r in rows
        ]
        assert [kind for kind, _ in data] == [
            "seal",
            "weighbridge_tare",
            "weighbridge_gross",
            "seal",
            "photo",
            "sample",
        ]
        assert data[0][1]["seal_numbers"] == ["S-1", "S-2"] and data[3][1]["seal_numbers"] == ["S-3"]
        assert data[2][1]["net_kg"] == 24_000
        assert data[4][1]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
        assert (data[5][1]["sample_id"], data[5][1]["description"]) == (
            "SMP-7",
            "Retained sample of the load",
        )
        assert (
            await db.fetchval("SELECT status FROM queue_tickets WHERE load_id = $1", UUID(load["id"]))
            == "loaded"
        )
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()

        # A tablet in Chinese whose camera is refused: the screen says so; a typed code is verified as
        # ever; the loaded truck's evidence reads in Chinese, with no text missing from the catalogue.
        context = await browser.new_context(locale="zh-CN", viewport=TABLET)
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/gate")
        await sign_in(page, w["staff"].email, ("邮箱", "密码", "登录"))
        form = page.locator("#verify")
        await form.get_by_role("button", name="扫描二维码").click()
        problem = page.locator("#scan-problem")
        await problem.wait_for(timeout=WAIT)
        assert "请手动输入提货码" in await problem.inner_text()
        await form.get_by_label("提货码").fill(other["pickup_code"])
        await form.get_by_label("车牌").fill(other["vehicle"]["plate"])
        await form.get_by_role("button", name="核验").click()
        await page.locator("#verdict[data-result=valid]").wait_for(timeout=WAIT)
        assert "承运商" in await page.locator("#verdict").inner_text()
        row = page.locator("#at-docks tbody tr", has_text=plate)
        await row.get_by_role("button", name="地磅与装货证据").click()
        records = page.locator("#evidence-records li")
        await records.nth(5).wait_for(timeout=WAIT)
        assert (await records.nth(5).inner_text()).startswith("样品 SMP-7")
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()
