"""The console (`/console`) and the front door (`/`) in a real headless Chromium, on a real server:
an admin signs in from the front door, lands in the console, adds a member with a role (a bad email
is shown next to its field and nothing is stored), creates an API token that is shown once, and
revokes it; a gate clerk sees no admin screens and is refused one opened by hand; the console in a
Chinese browser shows Chinese and no raw key. Nothing the pages load comes from outside the app."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page

from tests.browser import assert_accessible, chromium, keep_screenshot, watch
from tests.support import PASSWORD, add_member, bootstrap_org

pytestmark = pytest.mark.server


async def sign_in(page: Page, email: str) -> None:
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_an_admin_manages_members_and_api_tokens_from_the_front_door(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin = await bootstrap_org(http, settings, "Mill", ["shipper"])
        r = await http.get("/", headers={"accept": "text/html"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
        assert "/" not in (await http.get("/schema/openapi.json")).json()["paths"]

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
        page = await context.new_page()
        foreign, errors = watch(page, server)

        # The front door: the ways in for each kind of visitor, then the sign-in to the console.
        await page.goto(f"{server.base_url}/")
        for link, href in [
            ("#link-job-board", "/board/jobs"),
            ("#link-driver-app", "/app"),
            ("#link-swagger", "/schema/swagger"),
            ("#link-openapi", "/schema/openapi.json"),
        ]:
            assert await page.locator(link).get_attribute("href") == href
        await sign_in(page, admin.email)
        await page.wait_for_url(f"{server.base_url}/console", timeout=10_000)
        await page.wait_for_selector("#nav", timeout=10_000)
        assert "Mill" in await page.locator("#who").inner_text()
        nav = page.get_by_role("navigation", name="Console")
        for entry in ("Members", "Roles", "API tokens", "Device tokens"):
            assert await nav.get_by_role("link", name=entry).count() == 1

        # Members: a bad email is shown next to its field and nothing is stored.
        await nav.get_by_role("link", name="Members").click()
        await page.wait_for_selector("#members")
        form = page.locator("#add-member")
        await form.get_by_label("Email").fill("not-an-email")
        await form.get_by_label("Name").fill("Gate Clerk")
        await form.get_by_label("Initial password").fill(PASSWORD)
        await form.get_by_label("gate_staff").check()
        await form.get_by_role("button", name="Add member").click()
        email_error = form.locator(".field-error[data-field=email]")
        await email_error.wait_for(timeout=10_000)
        assert await form.get_by_label("Email").get_attribute("aria-invalid") == "true"
        assert await form.locator(".field-error").count() == 1  # only the email is wrong
        assert await db.fetchval("SELECT count(*) FROM users WHERE name = 'Gate Clerk'") == 0
        # Corrected, the member is added with the role and the list shows them.
        await form.get_by_label("Email").fill("clerk@mill.test")
        await form.get_by_role("button", name="Add member").click()
        row = page.locator("#members tr", has_text="clerk@mill.test")
        await row.wait_for(timeout=10_000)
        assert "gate_staff" in await row.inner_text()
        assert await form.locator(".field-error").count() == 0
        roles = await db.fetch(
            "SELECT r.name FROM users u JOIN membership_roles mr ON mr.user_id = u.id"
            " JOIN roles r ON r.id = mr.role_id WHERE u.email = 'clerk@mill.test'"
        )
        assert [x["name"] for x in roles] == ["gate_staff"]

        # An API token: its secret is shown once, works, and stops working when revoked.
        await nav.get_by_role("link", name="API tokens").click()
        token_form = page.locator("#add-api-token")
        await token_form.get_by_label("Name").fill("ERP")
        await token_form.get_by_label("Role").select_option(label="integration")
        await token_form.get_by_role("button", name="Create token").click()
        secret = await page.locator("#secret-value").input_value(timeout=10_000)
        assert secret
        row = page.locator("#api-tokens tbody tr", has_text="ERP")
        await row.wait_for()
        assert "active" in await row.inner_text()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.get("/me", headers={"Authorization": f"Bearer {secret}"})
            assert r.status_code == 200 and r.json()["credential"] == "api_token", r.text
            await keep_screenshot(page, "console-admin")
            await page.locator("#secret-done").click()
            assert await page.locator("#secret").count() == 0
            assert secret not in await page.content()  # shown once: gone from the page
            await row.get_by_role("button", name="Revoke").click()
            await row.get_by_role("button", name="Revoke ERP").click()
            await page.locator("#api-tokens tbody tr", has_text="revoked").wait_for(timeout=10_000)
            r = await http.get("/me", headers={"Authorization": f"Bearer {secret}"})
            assert r.status_code == 401, r.text

        # My account: the password is changed; each refusal shows next to its field and changes
        # nothing; then the other session (the one bootstrap logged in) is signed out, this one stays.
        await page.get_by_role("banner").get_by_role("link", name="My account").click()
        pw_form = page.locator("#change-password")
        await pw_form.wait_for(timeout=30_000)
        current = pw_form.get_by_label("Current password", exact=True)
        new = pw_form.get_by_label("New password", exact=True)
        repeat = pw_form.get_by_label("Repeat the new password", exact=True)
        change = pw_form.get_by_role("button", name="Change password")
        stored = await db.fetchval("SELECT password_hash FROM users WHERE email = $1", admin.email)
        new_password = "quartz lantern orbit mosaic"
        await current.fill(PASSWORD)
        await new.fill(new_password)
        await repeat.fill(new_password + "!")
        await change.click()
        await pw_form.locator(".field-error[data-field=repeat_password]").wait_for(timeout=30_000)
        assert await repeat.get_attribute("aria-invalid") == "true"
        await current.fill("not my password")
        await repeat.fill(new_password)
        await change.click()
        await pw_form.locator(".field-error[data-field=current_password]").wait_for(timeout=30_000)
        assert await pw_form.locator(".field-error").count() == 1
        await current.fill(PASSWORD)
        await new.fill("1234567890")
        await repeat.fill("1234567890")
        await change.click()
        weak = pw_form.locator(".field-error[data-field=new_password]")
        await weak.wait_for(timeout=30_000)
        assert "too easy to guess" in await weak.inner_text()
        assert await db.fetchval("SELECT password_hash FROM users WHERE email = $1", admin.email) == stored
        await new.fill(new_password)
        await repeat.fill(new_password)
        await change.click()
        changed = page.get_by_role("status").filter(has_text="Password changed")
        await changed.wait_for(timeout=30_000)
        assert "1 other session was signed out" in await changed.inner_text()
        assert await pw_form.locator(".field-error").count() == 0
        assert await current.input_value() == ""
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.get("/me", headers=admin.headers)
            assert r.status_code == 401 and r.json()["code"] == "session_revoked", r.text
            r = await http.post("/auth/login", json={"email": admin.email, "password": new_password})
            assert r.status_code == 200, r.text
        await assert_accessible(page, context="console, my account after a password change (en)")

        # Signing out ends the session: the console shows the sign-in again, the token is dead.
        session = await page.evaluate("sessionStorage.getItem('dispatch.console.token')")
        await page.get_by_role("button", name="Sign out").click()
        await page.wait_for_selector("#signin", timeout=10_000)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            r = await http.get("/me", headers={"Authorization": f"Bearer {session}"})
            assert r.status_code == 401, r.text
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()


async def test_a_gate_clerk_sees_no_admin_screens_and_is_refused_one_opened_by_hand(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin = await bootstrap_org(http, settings, "Mill", ["shipper"])
        clerk = await add_member(http, admin, "gate_staff")
        # The clerk works for a second organization too (arranged directly, as test_auth does):
        # the sign-in asks which one.
        other = await bootstrap_org(http, settings, "Port", ["consignee"])
        await db.execute(
            "INSERT INTO memberships (org_id, user_id) VALUES ($1::uuid, $2::uuid)",
            other.org_id,
            clerk.user_id,
        )

    async with chromium() as browser:
        # A tablet at the gate.
        context = await browser.new_context(locale="en-US", viewport={"width": 800, "height": 1100})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console")
        await sign_in(page, clerk.email)
        choice = page.get_by_label("You belong to several organizations", exact=False)
        await choice.wait_for(timeout=10_000)
        await choice.select_option(admin.org_id)
        await page.get_by_role("button", name="Sign in").click()
        await page.wait_for_selector("#nav", timeout=10_000)
        assert "Mill" in await page.locator("#who").inner_text()
        links = await page.locator("#nav a").all_inner_texts()
        assert links == ["Overview", "Gate"]  # the gate screen (test_console_gate.py), no admin screen

        await page.goto(f"{server.base_url}/console#/admin/members")
        refusal = page.get_by_role("alert")
        await refusal.wait_for(timeout=10_000)
        assert "Not allowed" in await refusal.inner_text()
        assert await page.locator("#members").count() == 0
        assert foreign == [] and errors == []
        await context.close()


async def test_the_console_speaks_chinese_in_a_chinese_browser(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin = await bootstrap_org(http, settings, "Mill", ["shipper"])

    async with chromium() as browser:
        # A phone.
        context = await browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/")
        await page.wait_for_selector("#signin", timeout=10_000)
        assert "大宗货运调度" in await page.locator("body").inner_text()
        await page.get_by_label("邮箱").fill(admin.email)
        await page.get_by_label("密码").fill(PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_selector("#nav", timeout=10_000)
        for screen in ("#/admin/members", "#/admin/roles", "#/admin/api-tokens", "#/admin/device-tokens"):
            await page.goto(f"{server.base_url}/console{screen}")
            await page.wait_for_selector("main h2", timeout=10_000)
            await page.wait_for_function("!document.querySelector('main').innerText.includes('加载中')")
        nav = await page.locator("#nav").inner_text()
        assert all(word in nav for word in ("成员", "角色", "API 令牌", "设备令牌")), nav
        # A bad email answered in Chinese, next to the field.
        await page.goto(f"{server.base_url}/console#/admin/members")
        form = page.locator("#add-member")
        await form.get_by_label("邮箱").fill("x")
        await form.get_by_role("button", name="添加成员").click()
        await form.locator(".form-error").wait_for(timeout=10_000)
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await keep_screenshot(page, "console-members-phone-zh-CN")
        # Switching to English re-renders in place.
        await page.get_by_label("语言").select_option("en")
        await page.get_by_role("heading", name="Members").wait_for()
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        assert foreign == [] and errors == []
        await context.close()


async def test_an_admin_manages_roles_member_roles_and_device_tokens(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        admin = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        viewer = await add_member(http, admin, "viewer")
        driver = await add_member(http, admin, "driver")
        r = await http.post(
            f"/orgs/{admin.org_id}/device-tokens",
            headers=admin.headers,
            json={"user_id": driver.user_id, "name": "Pixel 7"},
        )
        assert r.status_code == 201, r.text
        device = r.json()["device_token"]

    async with chromium() as browser:
        context = await browser.new_context(locale="en-US", viewport={"width": 1280, "height": 860})
        page = await context.new_page()
        foreign, errors = watch(page, server)
        await page.goto(f"{server.base_url}/console#/admin/roles")
        await sign_in(page, admin.email)
        await page.wait_for_selector("#roles", timeout=10_000)

        # A role without a name is refused next to the name field; nothing is stored.
        form = page.locator("#add-role")
        await form.get_by_label("gate.operate", exact=False).check()
        await form.get_by_role("button", name="Create role").click()
        await form.locator(".field-error[data-field=name]").wait_for(timeout=10_000)
        assert await db.fetchval("SELECT count(*) FROM roles WHERE org_id = $1", admin.org_id) == 0
        await form.get_by_label("Name").fill("weighbridge")
        await form.get_by_label("evidence.record", exact=False).check()
        await form.get_by_role("button", name="Create role").click()
        row = page.locator("#roles tbody tr", has_text="weighbridge")
        await row.wait_for(timeout=10_000)
        assert "evidence.record, gate.operate" in await row.inner_text()
        await row.get_by_role("button", name="Delete").click()
        await row.get_by_role("button", name="Delete weighbridge").click()
        await row.wait_for(state="detached", timeout=10_000)
        assert await db.fetchval("SELECT count(*) FROM roles WHERE org_id = $1", admin.org_id) == 0

        # A member's roles changed, then the member removed.
        await page.get_by_role("navigation", name="Console").get_by_role("link", name="Members").click()
        row = page.locator(f"#member-{viewer.user_id}")
        await row.get_by_role("button", name="Change roles").click()
        await row.get_by_label("dispatcher").check()
        await row.get_by_role("button", name="Save").click()
        await row.get_by_role("button", name="Change roles").wait_for(timeout=10_000)
        assert "dispatcher, viewer" in await row.inner_text()  # shown as stored, sorted by name
        names = await db.fetch(
            "SELECT r.name FROM membership_roles mr JOIN roles r ON r.id = mr.role_id"
            " WHERE mr.user_id = $1 ORDER BY r.name",
            viewer.user_id,
        )
        assert [n["name"] for n in names] == ["dispatcher", "viewer"]
        await row.get_by_role("button", name="Remove").click()
        await row.get_by_role("button", name="Remove A Member").click()
        await row.wait_for(state="detached", timeout=10_000)
        assert await db.fetchval("SELECT count(*) FROM memberships WHERE user_id = $1", viewer.user_id) == 0

        # The driver's phone: listed with the driver's name, revoked.
        await page.get_by_role("navigation", name="Console").get_by_role("link", name="Device tokens").click()
        row = page.locator(f"#device-token-{device['id']}")
        await row.wait_for(timeout=10_000)
        assert "Pixel 7" in await row.inner_text() and "A Member" in await row.inner_text()
        await row.get_by_role("button", name="Revoke").click()
        await row.get_by_role("button", name="Revoke Pixel 7").click()
        await row.locator(".state", has_text="revoked").wait_for(timeout=10_000)
        assert await db.fetchval(
            "SELECT revoked_at IS NOT NULL FROM device_tokens WHERE id = $1", device["id"]
        )
        assert foreign == [] and errors == []
        assert await page.evaluate("[...DispatchI18n.missing]") == []
        await context.close()
