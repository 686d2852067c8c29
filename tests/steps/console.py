"""Steps on the console's first screens (sign-in, members, fleet, post a job, my jobs), as the
people who use them take them: each takes a Playwright page, does one thing a person does there in
English, and reads the outcome from the page. Used by the whole-order test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.async_api import Page

from tests.support import PASSWORD

WAIT_MS = 30_000


def local(delta: timedelta) -> str:
    """A datetime-local value in the browser's time zone (the contexts run in UTC)."""
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M")


async def sign_in(page: Page, base_url: str, email: str, *, path: str = "/") -> None:
    """Open the console at `path` and sign in, unless this tab is signed in already (on the job
    board, say: one session per tab); waits for the navigation."""
    await page.goto(f"{base_url}/console#{path}")
    nav, email_field = page.locator("#nav"), page.get_by_label("Email")
    await nav.or_(email_field).first.wait_for(timeout=WAIT_MS)
    if await nav.count():
        return
    await email_field.fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#nav").wait_for(timeout=WAIT_MS)


async def go(page: Page, path: str) -> None:
    """Follow the navigation's link to `path` (e.g. "/fleet/vehicles")."""
    await page.locator(f'#nav a[href="#{path}"]').click()


async def add_member(page: Page, *, email: str, name: str, role: str) -> None:
    """Add a member with an initial password and one of the organization's roles (its name)."""
    await go(page, "/admin/members")
    form = page.locator("#add-member")
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Name").fill(name)
    await form.get_by_label("Initial password").fill(PASSWORD)
    await form.get_by_label(role, exact=True).check()
    await form.get_by_role("button", name="Add member").click()
    await page.locator("#members tr", has_text=email).wait_for(timeout=WAIT_MS)


async def add_vehicle(
    page: Page, *, plate: str, vehicle_type: str, capacity_kg: int, capacity_m3: float
) -> None:
    """Add a truck to the fleet; waits for its row."""
    await go(page, "/fleet/vehicles")
    form = page.locator("#add-vehicle")
    await form.get_by_label("Plate").fill(plate)
    await form.get_by_label("Type").select_option(vehicle_type)
    await form.get_by_label("Capacity (kg)").fill(str(capacity_kg))
    await form.get_by_label("Capacity (m³)").fill(str(capacity_m3))
    await form.get_by_role("button", name="Add vehicle").click()
    await page.locator("#vehicles tbody tr", has_text=plate).wait_for(timeout=WAIT_MS)


async def set_driver_profile(page: Page, name: str, *, phone: str, licence: str) -> None:
    """A driver's fleet profile (a load is assigned only to a driver who has one)."""
    await go(page, "/fleet/drivers")
    await page.get_by_role("button", name=f"Edit the profile of {name}").click()
    profile = page.locator("#driver-profile")
    await profile.get_by_label("Phone").fill(phone)
    await profile.get_by_label("Licence number").fill(licence)
    await profile.get_by_role("button", name="Save the profile").click()
    await profile.wait_for(state="detached", timeout=WAIT_MS)


async def pair_phone(page: Page, name: str) -> str:
    """Make a one-time pairing code for the driver's phone; the code as the screen shows it."""
    await go(page, "/fleet/drivers")
    await page.get_by_role("button", name=f"Pair a phone for {name}").click()
    await page.locator("#make-pairing").click()
    code = (await page.locator("#pairing-code").inner_text(timeout=WAIT_MS)).strip()
    await page.locator("#close-pairing").click()
    return code


async def post_auction(
    page: Page,
    *,
    pickup: str,
    destination: str,
    description: str,
    count: int,
    unit_kg: int,
    unit_m3: float,
    ceiling: str,
    step: str,
    reference: str,
) -> str:
    """Post a reverse auction of item cargo between two sites (chosen by their names), pickup from
    now for a day; the new job's id, from the notice that links to it."""
    await go(page, "/jobs/new")
    form = page.locator("#post-job")
    await form.wait_for(timeout=WAIT_MS)
    for label, name in (("Pickup site", pickup), ("Destination site", destination)):
        select = form.get_by_label(label)
        option = select.locator("option", has_text=name)
        await select.select_option(await option.first.get_attribute("value"))
    await form.get_by_label("Line 1: description").fill(description)
    await form.get_by_label("Count").fill(str(count))
    await form.get_by_label("Weight per item (kg)").fill(str(unit_kg))
    await form.get_by_label("Volume per item (m³)").fill(str(unit_m3))
    await form.get_by_label("Pickup from").fill(local(timedelta(minutes=1)))
    await form.get_by_label("Pickup until").fill(local(timedelta(hours=24)))
    await form.get_by_label("Deliver by").fill(local(timedelta(hours=48)))
    await form.get_by_label("Bidding deadline").fill(local(timedelta(hours=2)))
    await form.get_by_label("Reference").fill(reference)
    await form.get_by_label("Reverse auction").check()
    await form.get_by_label("Ceiling", exact=False).fill(ceiling)
    await form.get_by_label("Minimum step", exact=False).fill(step)
    await form.get_by_role("button", name="Post the job").click()
    posted = page.locator("#posted")
    await posted.wait_for(timeout=WAIT_MS)
    job_id = await posted.get_attribute("data-job-id")
    assert job_id, "the notice names no job"
    return job_id


async def award_bid(page: Page, job_id: str, amount: str) -> None:
    """In my jobs, open the job's bids and award the bid of `amount` (as shown, e.g. "2,350.00");
    waits until the job says awarded."""
    await go(page, "/jobs")
    row = page.locator(f"#job-{job_id}")
    await row.wait_for(timeout=WAIT_MS)
    await row.get_by_role("button", name="Bids").click()
    bid = page.locator(f"#bids-{job_id} tr[id^=bid-]", has_text=amount)
    await bid.get_by_role("button", name="Award").click(timeout=WAIT_MS)
    await row.locator(".state", has_text="awarded").wait_for(timeout=WAIT_MS)
