"""One order played through the pages alone, as the people who do the work would play it: a mill
(the seller), a buyer, three carriers, the mill's gate clerk and the winning carrier's driver, each
in their own browser context, on a real server. After the organizations are made with `dispatch
create-org` (the one thing done outside the pages: the first admin of each), the test makes no API
call: it clicks, types and reads what the pages show, and checks the database only at the end.

The order: the mill draws its gate (shared, with a dock and a slot calendar) and adds a gate clerk;
the buyer draws its yard and posts a reverse auction from the mill's gate to it; two carriers bid
on the job board; the buyer awards the lower bid; the winner adds a truck and a driver, pairs the
driver's phone, confirms the plan and assigns truck and driver; the buyer, who owns the goods,
authorizes them; the driver books a slot (the mill sees the appointment), then, already at the
gate, gives it back and checks in as a walk-in (an early truck waits for its slot); the clerk
verifies the code, calls the truck to the dock, records the weighbridge, seals, a photo and a
sample and marks it loaded; the driver departs and drives to the yard; the buyer watches the load
arrive and signs the receipt with a shortage, then verifies the evidence chain. Along the way: a
losing carrier finds no such job among its won ones, the driver is refused the dispatch screens,
and the gate clerk's screen shows no price."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.app_support import PHONE, count, wait_count
from tests.browser import chromium, keep_screenshot, watch
from tests.conftest import ROOT, server_env
from tests.steps import app, board, console, gate, orders, plan, sites, track
from tests.support import PASSWORD

pytestmark = pytest.mark.server

# The mill's gate in Berlin and the buyer's yard 1.7 km north of it, each a square geofence.
MILL = (13.405, 52.52)
YARD = (13.405, 52.535)
HALF = 0.002  # half the side of a geofence, in degrees (about 220 m north-south)
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US", "timezone_id": "UTC"}
TABLET = {"viewport": {"width": 820, "height": 1180}, "locale": "en-US", "timezone_id": "UTC"}
# A 1-pixel PNG, as the clerk's tablet camera would give a photo of the loaded truck.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def square(centre: tuple[float, float]) -> list[tuple[float, float]]:
    lon, lat = centre
    return [
        (lon - HALF, lat - HALF),
        (lon + HALF, lat - HALF),
        (lon + HALF, lat + HALF),
        (lon - HALF, lat + HALF),
    ]


def create_org(settings: Any, name: str, parties: str, email: str) -> None:
    """`dispatch create-org`, as an operator runs it for each new customer."""
    made = subprocess.run(
        [sys.executable, "-m", "dispatch", "create-org", "--name", name, "--parties", parties,
         "--admin-email", email, "--password-stdin", "--country", "DE"],
        input=PASSWORD + "\n",
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr


class Party:
    """One person in their own browser context (their own session, their own screen size)."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context, self.page = context, page

    @classmethod
    async def open(cls, browser: Browser, server: Any, problems: list[list[str]], **options: Any) -> Party:
        context = await browser.new_context(**options)
        page = await context.new_page()
        foreign, errors = watch(page, server)
        problems.extend([foreign, errors])
        return cls(context, page)


async def drive(driver: Party, lat_from: float, lat_to: float, steps: int) -> None:
    """The phone moves north in `steps` fixes; each is recorded by the app before the next."""
    for i in range(1, steps + 1):
        before = await count(driver.page, "#trip-recorded")
        lat = lat_from + (lat_to - lat_from) * i / steps
        await driver.context.set_geolocation({"longitude": MILL[0], "latitude": lat, "accuracy": 10})
        await wait_count(driver.page, "#trip-recorded", f"n > {before}", within_ms=30_000)
        await asyncio.sleep(0.5)  # a moment on the road before the next fix


async def test_one_order_from_posting_to_signed_receipt_through_the_pages_alone(
    server_factory, settings, db, tmp_path
):
    # Each second between GPS fixes counts as ten minutes of driving: the 1.7 km trip takes seconds
    # (the server refuses a fix that the truck could not have reached from the last one).
    server = server_factory(workers=2, tracking_time_scale=600)
    orgs = [
        ("Mill", "shipper", "admin@mill.test"),
        ("Buyer", "consignee", "admin@buyer.test"),
        ("Alpha Haulage", "carrier", "admin@alpha.test"),
        ("Beta Trucking", "carrier", "admin@beta.test"),
        ("Gamma Freight", "carrier", "admin@gamma.test"),
    ]
    for name, parties, email in orgs:
        create_org(settings, name, parties, email)

    problems: list[list[str]] = []
    async with chromium() as browser:
        seller = await Party.open(browser, server, problems, **DESKTOP)
        buyer = await Party.open(browser, server, problems, **DESKTOP)
        alpha = await Party.open(browser, server, problems, **DESKTOP)
        beta = await Party.open(browser, server, problems, **DESKTOP)
        gamma = await Party.open(browser, server, problems, **DESKTOP)
        clerk = await Party.open(browser, server, problems, **TABLET)
        driver_at_desk = await Party.open(browser, server, problems, **DESKTOP)
        driver = await Party.open(
            browser,
            server,
            problems,
            **(PHONE | {"locale": "en-US", "timezone_id": "UTC"}),
            geolocation={"longitude": MILL[0], "latitude": MILL[1], "accuracy": 10},
        )

        # The mill: its gate, shared so that buyers may send carriers to it, a dock, a slot calendar;
        # and a gate clerk.
        await console.sign_in(seller.page, server.base_url, "admin@mill.test")
        mill_gate = await sites.create_site(
            seller.page,
            name="Mill gate",
            address={
                "country": "DE",
                "city": "Berlin",
                "street": "Werkstraße",
                "number": "1",
                "postcode": "10115",
            },
            corners=square(MILL),
            docks=["Dock 1"],
            shared=True,
        )
        await sites.set_calendar(seller.page, mill_gate)
        await seller.page.locator("#geofence-map").scroll_into_view_if_needed()
        await keep_screenshot(seller.page, "order-01-seller-site")
        await console.add_member(seller.page, email="clerk@mill.test", name="Gate Clerk", role="gate_staff")

        # The buyer: its yard, and a reverse auction for eight coils from the mill's gate to it.
        await console.sign_in(buyer.page, server.base_url, "admin@buyer.test")
        await sites.create_site(
            buyer.page,
            name="Buyer yard",
            address={
                "country": "DE",
                "city": "Berlin",
                "street": "Hofweg",
                "number": "9",
                "postcode": "10117",
            },
            corners=square(YARD),
            docks=[],
        )
        job_id = await console.post_auction(
            buyer.page,
            pickup="Mill gate",
            destination="Buyer yard",
            description="hot-rolled coil",
            count=8,
            unit_kg=3000,
            unit_m3=1.5,
            ceiling="2,500.00",
            step="10.00",
            reference="PO-4711",
        )
        await keep_screenshot(buyer.page, "order-02-buyer-post")

        # Two carriers bid from the job board (each first saves an area around the mill).
        for party, email, amount in ((alpha, "admin@alpha.test", "2350"), (beta, "admin@beta.test", "2400")):
            await party.page.goto(f"{server.base_url}/board/jobs")
            await board.sign_in(party.page, email)
            await board.save_area(party.page, name="Berlin", lon=MILL[0], lat=MILL[1], radius_km=50)
            said = await board.bid(party.page, job_id, amount)
            assert "Bid placed" in said, said
        await keep_screenshot(alpha.page, "order-03-carrier-board")
        # A third carrier sees the job on its board and lets it go.
        await gamma.page.goto(f"{server.base_url}/board/jobs")
        await board.sign_in(gamma.page, "admin@gamma.test")
        await board.save_area(gamma.page, name="Berlin", lon=MILL[0], lat=MILL[1], radius_km=50)
        await gamma.page.locator(f"#job-{job_id}").wait_for(timeout=30_000)

        # The buyer awards the lower bid on the job's screen.
        await console.award_bid(buyer.page, job_id, "2,350.00")
        await orders.open_job(buyer.page, job_id)
        await keep_screenshot(buyer.page, "order-04-buyer-award")
        # Awarded, the job leaves the third carrier's board by itself.
        await gamma.page.locator(f"#job-{job_id}").wait_for(state="detached", timeout=30_000)

        # The winner: a truck, a driver with a fleet profile, the driver's phone paired.
        await console.sign_in(alpha.page, server.base_url, "admin@alpha.test")
        await console.add_vehicle(
            alpha.page, plate="B-AH 2350", vehicle_type="flatbed", capacity_kg=25000, capacity_m3=40
        )
        await console.add_member(alpha.page, email="driver@alpha.test", name="Dana Driver", role="driver")
        await console.set_driver_profile(
            alpha.page, "Dana Driver", phone="+49 171 2345678", licence="DL-2350"
        )
        code = await console.pair_phone(alpha.page, "Dana Driver")

        # The plan: one load; the truck and the driver assigned to it.
        (load_number,) = await plan.confirm_plan(alpha.page, job_id)
        await keep_screenshot(alpha.page, "order-05-carrier-plan")
        refused = await plan.assign(alpha.page, job_id, load_number, plate="B-AH 2350", driver="Dana Driver")
        assert refused is None, refused
        await keep_screenshot(alpha.page, "order-06-carrier-loads")
        # The driver's phone pairs with the code the dispatcher read out, and shows the load.
        await driver.page.goto(f"{server.base_url}/app")
        await app.pair(driver.page, code)

        # A losing carrier finds no such job among the jobs it won.
        await console.sign_in(beta.page, server.base_url, "admin@beta.test", path=f"/carrier/jobs/{job_id}")
        await beta.page.get_by_role("alert").filter(has_text="not found").wait_for(timeout=30_000)

        # The buyer owns the goods: it authorizes the truck and the driver; it shows the job's pickup code.
        job_code = await orders.authorize(buyer.page, job_id, plates=["B-AH 2350"], drivers=["Dana Driver"])
        assert len(job_code.replace("-", "").strip()) >= 8, job_code
        await keep_screenshot(buyer.page, "order-07-buyer-authorize")

        # The driver books the first slot; the mill sees who is coming.
        await app.book_first_slot(driver.page)
        await keep_screenshot(driver.page, "order-08-driver-booked")
        rows = await sites.appointments(seller.page, mill_gate)
        assert len(rows) == 1 and "B-AH 2350" in rows[0] and "Dana Driver" in rows[0], rows
        assert "Alpha Haulage" in rows[0], rows
        await keep_screenshot(seller.page, "order-09-seller-appointments")

        # Already at the gate and the slot still ahead: the driver gives it back and walks in.
        await app.open_load(driver.page)
        await driver.page.click("#do-cancel")
        await driver.page.wait_for_selector("#load-booking:text('not booked')", timeout=30_000)
        ticket = await app.check_in(driver.page)
        assert ticket == "Number 1 in the queue", ticket
        # The load's own pickup code, on the phone (it verifies while the buyer's authorization is
        # in force for this truck and driver).
        await driver.page.locator("#do-code").click()
        await driver.page.locator("#code-text").wait_for(timeout=60_000)
        shown_code = (await driver.page.locator("#code-text").inner_text()).strip()
        await driver.page.locator("#back").click()

        # The gate clerk: the code read off the driver's phone, the truck called, the evidence.
        await console.sign_in(clerk.page, server.base_url, "clerk@mill.test", path="/gate")
        verdict = await gate.verify_code(clerk.page, shown_code, plate="B-AH 2350")
        assert "valid" in verdict.lower() and load_number in verdict and "Dana Driver" in verdict, verdict
        await keep_screenshot(clerk.page, "order-10-gate-verify")
        screen = await clerk.page.locator("#screen").inner_text()
        assert "€" not in screen and "2,350" not in screen  # gate staff see no prices
        await gate.call_next(clerk.page, "Dock 1")
        await driver.page.wait_for_selector("#call-banner:not([hidden])", timeout=60_000)
        await driver.page.click("#call-ok")
        photo = tmp_path / "truck.png"
        photo.write_bytes(PHOTO)
        await gate.record_evidence(
            clerk.page,
            tare_kg=14_000,
            gross_kg=38_000,
            seals=["S-1001", "S-1002"],
            sample="SMP-7",
            photo=photo,
        )
        await keep_screenshot(clerk.page, "order-11-gate-evidence")
        await gate.mark_loaded(clerk.page)

        # The driver leaves and drives to the yard; the buyer watches the load on its tracking page.
        await app.depart(driver.page)
        (tracking_url,) = await orders.load_links(buyer.page, job_id)
        await buyer.page.goto(tracking_url)
        await drive(driver, MILL[1], YARD[1], steps=6)
        await buyer.page.locator("form.receipt-form").wait_for(timeout=60_000)
        await keep_screenshot(buyer.page, "order-12-buyer-tracking")
        await track.fill_receipt(
            buyer.page,
            received_kg=23_700,
            condition="good",
            discrepancy="shortage",
            notes="one coil short by weight",
            signer="Bea Buyer",
        )
        shown = await track.discrepancy(buyer.page)
        assert "300" in shown, shown  # 24,000 kg net at the weighbridge, 23,700 kg arrived
        await track.draw_signature(buyer.page)
        await keep_screenshot(buyer.page, "order-13-buyer-receipt")
        await track.send_receipt(buyer.page)
        await (
            buyer.page.locator(".load .receipt")
            .filter(has_text="signed by Bea Buyer")
            .wait_for(timeout=30_000)
        )

        # The evidence chain, verified from the job's screen.
        await buyer.page.goto(f"{server.base_url}/console#/jobs/{job_id}")
        assert await orders.verify_evidence(buyer.page, job_id)
        await keep_screenshot(buyer.page, "order-14-buyer-evidence")

        # The driver may not open the dispatch screens.
        desk = driver_at_desk.page
        await console.sign_in(desk, server.base_url, "driver@alpha.test", path="/carrier/jobs")
        await desk.get_by_role("alert").wait_for(timeout=30_000)
        assert await desk.locator('#nav a[href="#/carrier/jobs"]').count() == 0

        for found in problems:
            assert found == [], found

    # What the pages did, as the database has it.
    job = await db.fetchrow(
        "SELECT j.status, j.award_price_minor, o.name AS carrier FROM jobs j"
        " JOIN organizations o ON o.id = j.carrier_org_id WHERE j.id = $1",
        job_id,
    )
    assert (job["status"], job["award_price_minor"], job["carrier"]) == (
        "completed",
        235_000,
        "Alpha Haulage",
    )
    assert await db.fetchval("SELECT count(*) FROM bids WHERE job_id = $1", job_id) == 2
    load = await db.fetchrow("SELECT id, status FROM loads WHERE job_id = $1", job_id)
    assert load["status"] == "received"
    receipt = await db.fetchrow(
        "SELECT received_weight_kg, loaded_net_kg, signer_name, signature_sha256"
        " FROM receipts WHERE load_id = $1",
        load["id"],
    )
    assert (receipt["received_weight_kg"], receipt["loaded_net_kg"], receipt["signer_name"]) == (
        23_700,
        24_000,
        "Bea Buyer",
    )
    assert receipt["signature_sha256"] is not None
    kinds = [
        r["kind"]
        for r in await db.fetch(
            "SELECT kind FROM evidence_records WHERE load_id = $1 ORDER BY seq", load["id"]
        )
    ]
    for kind in ("weighbridge_tare", "weighbridge_gross", "seal", "photo", "sample"):
        assert kind in kinds, kinds
    points = await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load["id"])
    assert points >= 6
