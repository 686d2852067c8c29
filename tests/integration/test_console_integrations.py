"""The console's integrations screens in a real Chromium on a real server, with a real webhook
receiver on 127.0.0.1 (tests/webhook_support.py: it verifies every delivery with the Standard Webhooks
library): a mill's admin registers the receiver through the screen (a private address is refused next
to the URL), stores the secret shown once, sends a test event and sees its attempt answered 200,
redelivers it, pauses, rotates the secret (the new one signs), sees the endpoint disabled after the
receiver failed past the retry horizon, re-enables it, deletes it; then reads its events newest
first with a type filter and older ones by cursor, and downloads a load's waybill from an event and
from the job's screen; the load's driver downloads it from the driver app's trip screen. Only
127.0.0.1 is called (DISPATCH_WEBHOOK_ALLOW_HOSTS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.market_support import BERLIN
from tests.steps.app import open_load
from tests.steps.console import go, sign_in
from tests.support import problem
from tests.tracking_support import depart, loads_in_transit
from tests.webhook_support import Delivery, Receiver, wait_for

pytestmark = pytest.mark.server

WAIT = 30_000
SETTINGS = {
    "webhook_allow_hosts": ("127.0.0.1/32",),
    "webhook_poll_ms": 50,
    "webhook_retry_base_ms": 100,
    "webhook_retry_cap_s": 1,
    "webhook_retry_horizon_s": 3,
}


class Answers:
    """What the receiver answers: 200 "ok" while `status` is 200 (the attempts log shows it)."""

    status = 200

    def __call__(self, _: Delivery) -> tuple[int, dict[str, str]]:
        return self.status, {}


async def downloaded_pdf(page: Page, button: Any, tmp_path: Path, name: str) -> bytes:
    async with page.expect_download(timeout=WAIT) as started:
        await button.click()
    download = await started.value
    target = tmp_path / name
    await download.save_as(str(target))
    content = target.read_bytes()
    assert content.startswith(b"%PDF-"), content[:20]
    return content


async def test_an_admin_connects_a_receiver_and_reads_the_events(server_factory, settings, tmp_path):
    server = server_factory(**SETTINGS)
    answers = Answers()
    receiver = await Receiver(behaviour=answers).start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, depart_all=False)
        await depart(http, w, w["loads"][0])
        mill, load = w["mill"], w["loads"][0]

        async with chromium() as browser:
            context = await browser.new_context(
                locale="en-US", viewport={"width": 1280, "height": 900}, accept_downloads=True
            )
            page = await context.new_page()
            foreign, errors = watch(page, server)
            await sign_in(page, server.base_url, mill.email)
            nav = page.get_by_role("navigation", name="Console")
            for entry in ("Webhooks", "Events"):
                assert await nav.get_by_role("link", name=entry, exact=True).count() == 1
            await go(page, "/integrations/webhooks")
            await page.locator("#no-endpoints").wait_for(timeout=WAIT)

            # A private address is refused next to the URL, and nothing is registered.
            form = page.locator("#register-endpoint")
            await form.get_by_label("URL").fill("http://10.0.0.1/hooks")
            await form.get_by_role("button", name="Register").click()
            refusal = form.locator('.field-error[data-field="url"]')
            await refusal.wait_for(timeout=WAIT)
            assert "private" in (await refusal.inner_text()).lower()
            assert (await http.get("/webhooks/endpoints", headers=mill.headers)).json() == []

            # The receiver, for the test event and receipts only; the secret is shown this once.
            await form.get_by_label("URL").fill(receiver.url)
            await form.get_by_label("Description").fill("ERP")
            await form.get_by_label("Only the types chosen below").check()
            await form.get_by_label("webhook.test", exact=True).check()
            await form.get_by_label("load.received", exact=True).check()
            await assert_accessible(page, context="webhooks: registering")
            await form.get_by_role("button", name="Register").click()
            panel = page.locator("#webhook-secret")
            await panel.wait_for(timeout=WAIT)
            assert "shown this once" in await panel.inner_text()
            secret = await panel.get_by_label("Signing secret").input_value()
            assert secret.startswith("whsec_")
            receiver.secrets.append(secret)
            await panel.get_by_role("button", name="Copy the secret").wait_for(timeout=WAIT)
            await assert_accessible(page, context="webhooks: the secret shown once")
            await panel.get_by_role("button", name="I have stored it").click()
            await panel.wait_for(state="detached", timeout=WAIT)
            assert secret not in await page.content()
            row = page.locator("#endpoints tbody tr")
            assert await row.count() == 1
            assert await row.locator(".endpoint-state").inner_text() == "active"
            listed = (await http.get("/webhooks/endpoints", headers=mill.headers)).json()
            assert listed[0]["event_types"] == ["webhook.test", "load.received"]
            endpoint_id = listed[0]["id"]

            # The endpoint: a test event reaches the receiver, signed, and its attempt says 200.
            await row.get_by_role("link", name=receiver.url).click()
            await page.locator("#no-attempts").wait_for(timeout=WAIT)
            await page.get_by_role("button", name="Send a test event").click()
            notice = page.locator("#endpoint-notice")
            await notice.wait_for(timeout=WAIT)
            test_id = (await notice.inner_text()).split()[2]
            assert test_id.startswith("evt_")
            attempt = page.locator(f'#attempt-list tr.attempt[data-event-id="{test_id}"]')
            await attempt.wait_for(timeout=WAIT)
            assert await attempt.get_attribute("data-status") == "200"
            assert "HTTP 200" in await attempt.locator(".outcome").inner_text()
            assert "webhook.test" in await attempt.inner_text() and "ok" in await attempt.inner_text()
            assert receiver.ids() == [test_id] and not receiver.unverified
            assert receiver.acknowledged[0].event["type"] == "webhook.test"
            await page.locator(".last-attempt", has_text="HTTP 200").wait_for(timeout=WAIT)
            await assert_accessible(page, context="webhooks: an endpoint and its attempts")
            await keep_screenshot(page, "console-webhooks")

            # Redelivered: the same event (the same webhook-id) comes again, and is logged again.
            await attempt.get_by_role("button", name=f"Redeliver {test_id}").click()
            await wait_for(lambda: receiver.ids() == [test_id, test_id], "the redelivery")
            await (
                page.locator(f'#attempt-list tr.attempt[data-event-id="{test_id}"]')
                .nth(1)
                .wait_for(timeout=WAIT)
            )

            # Paused: the state says so, and the API agrees.
            await page.get_by_role("button", name="Pause").click()
            await page.locator("#endpoint-facts .endpoint-state[data-state=paused]").wait_for(timeout=WAIT)
            await page.locator("#paused-note").wait_for(timeout=WAIT)
            one = (await http.get(f"/webhooks/endpoints/{endpoint_id}", headers=mill.headers)).json()
            assert one["paused"] is True and one["secret"] is None
            await page.get_by_role("button", name="Resume").click()
            await page.locator("#endpoint-facts .endpoint-state[data-state=active]").wait_for(timeout=WAIT)

            # Rotated: asked once more, a new secret shown once with the grace period; the new one signs.
            await page.get_by_role("button", name="Rotate the secret").click()
            await page.get_by_role("button", name="Make a new secret").click()
            panel = page.locator("#webhook-secret")
            await panel.wait_for(timeout=WAIT)
            assert "The previous secret also signs every delivery until" in await panel.inner_text()
            rotated = await panel.get_by_label("Signing secret").input_value()
            assert rotated.startswith("whsec_") and rotated != secret
            receiver.secrets[:] = [rotated]  # only the new secret: a delivery must verify with it
            await panel.get_by_role("button", name="I have stored it").click()
            await page.get_by_role("button", name="Send a test event").click()
            await wait_for(lambda: len(receiver.acknowledged) == 3, "the test event after the rotation")
            assert not receiver.unverified

            # The receiver fails past the retry horizon: the endpoint is disabled, says why, re-enables.
            answers.status = 500
            await page.get_by_role("button", name="Send a test event").click()
            disabled = page.locator("#endpoint-disabled")
            await disabled.wait_for(timeout=WAIT)
            text = await disabled.inner_text()
            assert "retry horizon" in text and "HTTP 500" in text
            assert await page.locator(".failing-since").inner_text() != "—"
            await assert_accessible(page, context="webhooks: a disabled endpoint")
            answers.status = 200
            await disabled.get_by_role("button", name="Re-enable").click()
            await page.locator("#endpoint-facts .endpoint-state[data-state=active]").wait_for(timeout=WAIT)
            await wait_for(
                lambda: len(receiver.acknowledged) == 4, "the failed test event, after re-enabling"
            )
            await page.locator(".failing-since", has_text="—").wait_for(timeout=WAIT)

            # Deleted, after asking once more.
            await page.get_by_role("button", name="Delete").click()
            await page.get_by_role("button", name=f"Delete {receiver.url}").click()
            await page.locator("#no-endpoints").wait_for(timeout=WAIT)
            problem(await http.get(f"/webhooks/endpoints/{endpoint_id}", headers=mill.headers), 404)

            # The events: newest first; older ones by cursor; a type filter; the waybill they link to.
            await go(page, "/integrations/events")
            events = page.locator("#event-list li.event")
            await events.first.wait_for(timeout=WAIT)
            everything = (await http.get("/events?limit=500", headers=mill.headers)).json()["items"]
            assert len(everything) > 15
            assert await events.count() == 15  # a page
            newest = await events.first.get_attribute("data-type")
            assert newest == everything[-1]["type"] == "webhook.endpoint_disabled"
            while await page.get_by_role("button", name="Older events").count():
                shown = await events.count()
                await page.get_by_role("button", name="Older events").click()
                await events.nth(shown).wait_for(timeout=WAIT)
            shown_ids = [(await e.get_attribute("id")).removeprefix("event-") for e in await events.all()]
            assert shown_ids == [e["id"] for e in reversed(everything)]
            await page.get_by_label("Event type").select_option("load.loaded")
            await page.locator("#event-list li.event:not([data-type='load.loaded'])").first.wait_for(
                state="detached", timeout=WAIT
            )
            assert [await e.get_attribute("data-type") for e in await events.all()] == ["load.loaded"]
            loaded = events.first
            assert load["id"] in await loaded.locator(".subject").inner_text()
            await assert_accessible(page, context="events: filtered")
            await keep_screenshot(page, "console-events")
            pdf = await downloaded_pdf(
                page, loaded.get_by_role("button", name="Waybill", exact=False), tmp_path, "event.pdf"
            )
            assert b"%%EOF" in pdf[-1024:]

            # The job's screen: each load's waybill.
            await page.goto(f"{server.base_url}/console#/jobs/{w['job']['id']}")
            waybill = page.get_by_role("button", name="Waybill, Load 1 (PDF)")
            await waybill.wait_for(timeout=WAIT)
            await downloaded_pdf(page, waybill, tmp_path, "job.pdf")
            assert await page.get_by_role("button", name="Proof of delivery, Load 1 (PDF)").count() == 0

            # A phone and a tablet: the same screens, one column, nothing wider than the screen.
            for width, height in ((390, 844), (820, 1180)):
                await page.set_viewport_size({"width": width, "height": height})
                for screen in ("/integrations/webhooks", "/integrations/events"):
                    await page.goto(f"{server.base_url}/console#{screen}")
                    await page.locator("#register-endpoint, #event-list li.event").first.wait_for(
                        timeout=WAIT
                    )
                    overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
                    assert overflow <= 0, (width, screen, overflow)
                    await assert_accessible(page, context=f"{screen} at {width} px")
            assert not foreign and not errors, (foreign, errors)

            # The driver on the road: the trip screen hands over the waybill of the load.
            phone = await browser.new_context(
                locale="en-US",
                viewport={"width": 390, "height": 844},
                accept_downloads=True,
                permissions=["geolocation"],
                geolocation={"longitude": BERLIN[0], "latitude": BERLIN[1], "accuracy": 10},
            )
            app = await phone.new_page()
            foreign, errors = watch(app, server)
            token = load["device"]["Authorization"].removeprefix("Bearer ")
            await app.goto(f"{server.base_url}/app#token={token}")
            await open_load(app, load["id"])
            await app.locator("#do-trip").click(timeout=WAIT)
            await app.locator("#screen-trip").wait_for(timeout=WAIT)
            waybill = app.get_by_role("button", name="Waybill (PDF)")
            pdf = await downloaded_pdf(app, waybill, tmp_path, "app.pdf")
            assert b"%%EOF" in pdf[-1024:]
            assert not foreign and not errors, (foreign, errors)
    await receiver.stop()
