"""The job's screen in the console (#/jobs/:job), in a real headless Chromium on a real server: a
buyer that posted an auction from its supplier's gate opens it from "My jobs" and awards the bid
there; the carrier's loads appear by themselves with their tracking links; the buyer authorizes the
pickup (a learner's plate is refused next to its field and nothing is stored; then named trucks and
drivers), revokes it, shares the delivery with a link that opens without an account and revokes it,
and reads, exports and verifies the loading evidence (a photo altered on disk breaks the verdict).
The supplier finds the job in its "My jobs" too; another organization, and an id that is none, get
"not found". axe on the screen, in English and in Chinese; on a phone nothing is wider than the
screen. Nothing leaves the app's origin."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from dispatch.evidence.photos import photo_path
from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.market_support import HAMBURG, create_site, iso, post_job
from tests.steps.orders import authorize, load_links, open_job, verify_evidence
from tests.support import PASSWORD, Account, add_member, bootstrap_org

pytestmark = pytest.mark.server

# A valid 1x1 PNG: the loading photo.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
WAIT = 30_000


async def sign_in(
    browser: Browser, server: Any, who: Account, fragment: str
) -> tuple[Page, list[str], list[str]]:
    """A new browser context signed in to the console at `fragment`, watched from its first request."""
    context = await browser.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": 1280, "height": 1000}
    )
    page = await context.new_page()
    foreign, errors = watch(page, server)
    await page.goto(f"{server.base_url}/console#{fragment}")
    await page.locator("input[name=email]").fill(who.email)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    await page.locator("#nav").wait_for(timeout=WAIT)
    return page, foreign, errors


async def plan_and_assign(http: httpx.AsyncClient, carrier: Account, job_id: str) -> list[dict[str, Any]]:
    """The carrier's two trucks and drivers, the plan confirmed, one truck and driver per load."""
    drivers = []
    for i in range(2):
        r = await http.post(
            "/fleet/vehicles",
            headers=carrier.headers,
            json={
                "plate": f"B-OR {200 + i}",
                "vehicle_type": "flatbed",
                "capacity_kg": 25_000,
                "capacity_m3": 90,
            },
        )
        assert r.status_code == 201, r.text
        r = await http.post(
            "/fleet/drivers",
            headers=carrier.headers,
            json={
                "email": f"driver{i}-{secrets.token_hex(3)}@haulers.test",
                "name": f"Driver {i}",
                "password": PASSWORD,
                "phone": "+49 170 0000000",
                "licence_number": f"L{i:05d}",
            },
        )
        assert r.status_code == 201, r.text
        drivers.append(r.json())
    r = await http.post(f"/jobs/{job_id}/plan", headers=carrier.headers, json={})
    assert r.status_code == 201, r.text
    confirmed = (await http.post(f"/jobs/{job_id}/plan/confirm", headers=carrier.headers)).json()
    loads = []
    for load, driver in zip(confirmed, drivers, strict=True):
        r = await http.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": driver["user_id"], "vehicle_id": load["vehicle"]["id"]},
        )
        assert r.status_code == 200, r.text
        loads.append(r.json())
    return loads


async def record_evidence(http: httpx.AsyncClient, staff: Account, load_id: str) -> None:
    """The mill's gate staff weigh the truck empty and loaded, seal it, photograph it, keep a sample."""
    for record in (
        {"kind": "weighbridge_tare", "weight_kg": 14_000, "weighbridge_id": "WB-1", "ticket": "T-1"},
        {"kind": "weighbridge_gross", "weight_kg": 38_000, "weighbridge_id": "WB-1", "ticket": "T-2"},
        {"kind": "seal", "seal_numbers": ["S-1001", "S-1002"]},
        {"kind": "sample", "sample_id": "SMP-77", "description": "coil edge", "retained_by": "Mill QA"},
    ):
        r = await http.post(f"/loads/{load_id}/evidence", headers=staff.headers, json=record)
        assert r.status_code == 201, r.text
    r = await http.post(
        f"/loads/{load_id}/evidence/photos",
        headers=staff.headers,
        files={"file": ("truck.png", PNG, "image/png")},
        data={"caption": "sealed truck"},
    )
    assert r.status_code == 201, r.text


async def test_a_buyer_follows_its_job_authorizes_shares_and_verifies_the_evidence(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        stranger = await bootstrap_org(http, settings, "Other Buyer", ["consignee"])
        staff = await add_member(http, mill, "gate_staff")
        # The buyer authorizes by hand (not automatically on award): it names trucks and drivers.
        r = await http.put("/market/settings", headers=buyer.headers, json={"auto_authorize_pickup": False})
        assert r.status_code == 200, r.text
        gate = await create_site(http, mill, "Mill gate", shared=True)
        yard = await create_site(http, buyer, "Yard", at=HAMBURG)
        job = await post_job(
            http,
            buyer,
            gate["id"],
            mode="auction",
            price=None,
            ceiling=300_000,
            destination_site_id=yard["id"],
            pickup_from=iso(timedelta(minutes=-5)),
            cargo={
                "kind": "items",
                "lines": [
                    {"description": "coil", "count": 2, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2}
                ],
            },
        )
        job_id = job["id"]
        r = await http.post(f"/jobs/{job_id}/bids", headers=carrier.headers, json={"amount_minor": 250_000})
        assert r.status_code == 201, r.text
        bid_id = r.json()["id"]

        async with chromium() as browser:
            page, foreign, errors = await sign_in(browser, server, buyer, "/jobs")
            # 1. From "My jobs" to the job's screen: the summary and the open auction's bid, awarded here.
            await open_job(page, job_id)
            screen = page.locator("#job-view")
            assert "PO-4711" in await screen.get_by_role("heading", level=2).inner_text()
            assert "open" in await screen.locator("#job-summary .state").inner_text()
            assert "coil \u00d7 2" in await screen.locator("#job-summary").inner_text()
            bid = screen.locator(f"#bid-{bid_id}")
            await bid.wait_for(timeout=WAIT)
            assert "2,500.00" in await bid.inner_text()
            await bid.get_by_role("button", name="Award").click()
            await screen.locator("#job-summary .state", has_text="awarded").wait_for(timeout=WAIT)
            assert carrier.org_id[:8] in await screen.locator("#job-summary .carrier").inner_text()
            assert "2,500.00" in await screen.locator("#job-summary .price").inner_text()
            await screen.locator("#no-loads").wait_for(timeout=WAIT)
            await screen.locator("#no-authorization").wait_for(timeout=WAIT)

            # 2. The carrier plans and assigns; the loads appear by themselves, with tracking links.
            loads = await plan_and_assign(http, carrier, job_id)
            links = await load_links(page, job_id)
            assert links == [f"{server.base_url}/track/loads/{load['id']}" for load in loads]
            first = screen.locator(f"#load-{loads[0]['id']}")
            assert "assigned" in await first.locator(".state").inner_text()
            assert loads[0]["vehicle"]["plate"] in await first.inner_text()

            # 3. The pickup authorization: a learner's plate is refused next to its field, nothing
            #    stored; then the first truck and its driver; then revoked, once asked again.
            form = screen.locator("#authorize")
            await form.get_by_label("Other plates (separated by commas)").fill("学A12345")
            await form.get_by_role("button", name="Authorize the carrier").click()
            plate_error = form.locator(".field-error[data-field=allowed_plates]")
            await plate_error.wait_for(timeout=WAIT)
            assert "learner" in await plate_error.inner_text()
            other_plates = form.get_by_label("Other plates (separated by commas)")
            assert await other_plates.get_attribute("aria-invalid") == "true"
            assert (
                await db.fetchval("SELECT count(*) FROM pickup_authorizations WHERE job_id = $1", job_id) == 0
            )

            code = await authorize(page, job_id, plates=[loads[0]["vehicle"]["plate"]], drivers=["Driver 0"])
            stored = await db.fetchrow(
                "SELECT allowed_plates, allowed_driver_ids, revoked_at FROM pickup_authorizations"
                " WHERE job_id = $1",
                job_id,
            )
            plate_key = loads[0]["vehicle"]["plate"].replace("-", "").replace(" ", "")
            assert stored["allowed_plates"] == [plate_key] and stored["revoked_at"] is None
            assert [str(d) for d in stored["allowed_driver_ids"]] == [loads[0]["driver"]["user_id"]]
            current = screen.locator("#authorization-current")
            assert await current.locator(".auth-drivers").inner_text() == "Driver 0"
            r = await http.get(f"/jobs/{job_id}/authorization", headers=carrier.headers)
            assert r.json()["code"] == code
            await assert_accessible(page, context="job screen, authorization in force (en)")

            await screen.locator("#revoke-authorization").click()
            revoke = screen.locator("#revoke-authorization-form")
            await revoke.get_by_role("button", name="Revoke now").click()
            await revoke.locator(".field-error[data-field=reason]").wait_for(timeout=WAIT)
            await revoke.get_by_label("Reason").fill("the truck broke down")
            await revoke.get_by_role("button", name="Revoke now").click()
            await screen.locator("#authorization-current[data-state=revoked]").wait_for(timeout=WAIT)
            assert (
                await db.fetchval("SELECT revoke_reason FROM pickup_authorizations WHERE job_id = $1", job_id)
                == "the truck broke down"
            )
            await form.wait_for(timeout=WAIT)  # a new one may be issued

            # 4. A share link: shown once, opens the delivery without an account, then revoked.
            shares = screen.locator("#share-links")
            await shares.get_by_label("Label").fill("for the yard")
            await shares.get_by_role("button", name="Create a share link").click()
            url = await shares.locator("#new-share-link input").input_value()
            assert url.startswith(f"{server.base_url}/track/jobs/{job_id}#share=dsp_shr_")
            await shares.get_by_role("button", name="Copy").click()
            row = shares.locator("#share-link-list tbody tr", has_text="for the yard")
            assert "active" in await row.locator(".state").inner_text()
            anonymous = await browser.new_context(locale="en-US", timezone_id="UTC")
            watcher = await anonymous.new_page()
            elsewhere, watcher_errors = watch(watcher, server)
            await watcher.goto(url)
            await watcher.get_by_text(loads[0]["vehicle"]["plate"], exact=True).first.wait_for(timeout=WAIT)
            assert elsewhere == [] and watcher_errors == []
            await anonymous.close()
            await row.get_by_role("button", name="Revoke").click()
            await row.get_by_role("button", name="Revoke the link").click()
            await row.locator(".state[data-state=revoked]").wait_for(timeout=WAIT)
            assert await db.fetchval(
                "SELECT revoked_at IS NOT NULL FROM share_links WHERE job_id = $1", job_id
            )

            # 5. The evidence of the first load: the records, the photo, the export, the verdict.
            await record_evidence(http, staff, loads[0]["id"])
            assert await verify_evidence(page, job_id) is True
            await first.locator("button.show-evidence").click()
            evidence = screen.locator(f"#evidence-{loads[0]['id']}")
            await evidence.locator("ol.records > li").nth(4).wait_for(timeout=WAIT)
            kinds = await evidence.locator("ol.records > li").evaluate_all(
                "items => items.map((i) => i.dataset.kind)"
            )
            assert kinds == ["weighbridge_tare", "weighbridge_gross", "seal", "sample", "photo"]
            assert "S-1001, S-1002" in await evidence.inner_text()
            assert "24 t" in await evidence.locator("li[data-kind=weighbridge_gross]").inner_text()
            photo = evidence.get_by_role("img", name="sealed truck")
            await photo.wait_for(timeout=WAIT)
            assert (await photo.get_attribute("src") or "").startswith("data:image/png;base64,")
            async with page.expect_download() as started:
                await evidence.get_by_role("button", name="Download the export").click()
            download = await started.value
            exported = Path(await download.path())
            bundle = json.loads(await asyncio.to_thread(exported.read_text, encoding="utf-8"))
            assert bundle["load"]["id"] == loads[0]["id"] and bundle["verification"]["ok"] is True
            assert len(bundle["records"]) == 5
            await evidence.get_by_role("button", name="Verify the chain").click()
            await evidence.locator(".verdict[data-ok=true]", has_text="5 records").wait_for(timeout=WAIT)
            await page.evaluate("document.getElementById('loads').scrollIntoView()")
            await keep_screenshot(page, "console-job")
            await assert_accessible(page, context="job screen, evidence verified (en)")
            # A photo altered on disk: the verdict names the broken record.
            altered = photo_path(settings.state_path, bundle["photos"][0]["sha256"])
            altered.write_bytes(PNG + b"\x00")
            await evidence.get_by_role("button", name="Verify the chain").click()
            broken = evidence.locator(".verdict[data-ok=false]")
            await broken.wait_for(timeout=WAIT)
            assert "Record 5" in await broken.inner_text()
            altered.write_bytes(PNG)

            # 6. In Chinese, in place: the screen's texts from the catalogue, still accessible.
            await page.get_by_label("Language").select_option("zh-CN")
            await screen.get_by_role("heading", name="提货授权").wait_for(timeout=WAIT)
            assert await screen.get_by_role("heading", name="分享链接", exact=True).count() == 1
            assert "已派车" in await first.locator(".state").inner_text()
            await assert_accessible(page, context="job screen (zh-CN)")
            # On a phone: one column, nothing wider than the screen.
            await page.set_viewport_size({"width": 390, "height": 844})
            assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            await keep_screenshot(page, "console-job-phone-zh-CN")
            assert await page.evaluate("[...DispatchI18n.missing]") == []
            assert foreign == [] and errors == []

            # 7. The mill (the shipper, not the poster) finds the job in its "My jobs"; another
            #    organization, and an id that is none, get "not found".
            mill_page, mill_foreign, mill_errors = await sign_in(browser, server, mill, "/jobs")
            await open_job(mill_page, job_id)
            assert await mill_page.locator("#authorization-by-owner").count() == 1
            assert await mill_page.locator("#job-view .actions button.danger").count() == 0
            other, other_foreign, other_errors = await sign_in(browser, server, stranger, f"/jobs/{job_id}")
            not_found = other.locator("#job-not-found")
            await not_found.wait_for(timeout=WAIT)
            assert "Job not found" in await not_found.inner_text()
            assert await other.locator("#job-view").count() == 0
            await other.goto(f"{server.base_url}/console#/jobs/no-such-job")
            await other.locator("#job-not-found").wait_for(timeout=WAIT)
            await assert_accessible(other, context="job screen, not found (en)")
            assert mill_foreign == mill_errors == other_foreign == other_errors == []
