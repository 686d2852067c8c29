"""Login throttling per account and per address, shared by every worker (issue 16, item 7)."""

import asyncio

import httpx
import pytest

from dispatch.accounts import throttle
from dispatch.db.pool import create_pool
from tests.support import PASSWORD, bootstrap_org, problem


async def _login(client, email, password):
    return await client.post("/auth/login", json={"email": email, "password": password})


def _throttled(r) -> int:
    body = problem(r, 429, "login_throttled")
    retry_after = int(r.headers["retry-after"])
    assert body["retry_after"] == retry_after
    return retry_after


async def test_after_five_wrong_passwords_the_account_waits_without_its_password_being_checked(
    client, settings, db
):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    for _ in range(throttle.ACCOUNT_ATTEMPTS):
        problem(await _login(client, acme.email, "wrong password 1"), 401, "bad_credentials")
    wait = _throttled(await _login(client, acme.email, "wrong password 2"))
    assert 1 <= wait <= throttle.FIRST_WAIT_S
    # Even the right password is not checked while the account waits; the email's case is no way round.
    _throttled(await _login(client, acme.email, PASSWORD))
    _throttled(await _login(client, acme.email.upper(), PASSWORD))

    # The wait is over (arranged: the tests do not sleep): one more check, which failing doubles the wait.
    await db.execute("UPDATE login_attempts SET blocked_until = now() - interval '1 second'")
    problem(await _login(client, acme.email, "wrong password 3"), 401, "bad_credentials")
    assert _throttled(await _login(client, acme.email, PASSWORD)) > throttle.FIRST_WAIT_S

    # Once over, the right password gets in, and the account's streak is gone.
    await db.execute("UPDATE login_attempts SET blocked_until = now() - interval '1 second'")
    assert (await _login(client, acme.email, PASSWORD)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM login_attempts WHERE kind = 'account'") == 0


async def test_a_successful_login_clears_the_accounts_streak(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    for _ in range(throttle.ACCOUNT_ATTEMPTS - 1):
        problem(await _login(client, acme.email, "a typo in it"), 401, "bad_credentials")
    assert (await _login(client, acme.email, PASSWORD)).status_code == 200
    # A fresh streak: the limit's worth of checks again before the wait.
    for _ in range(throttle.ACCOUNT_ATTEMPTS):
        problem(await _login(client, acme.email, "a typo in it"), 401, "bad_credentials")
    _throttled(await _login(client, acme.email, PASSWORD))


async def test_an_address_spraying_many_accounts_waits_and_unknown_emails_are_throttled_alike(
    client, settings
):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    # Unknown emails and a known one answer alike, each within its account's own limit.
    for i in range(throttle.ADDRESS_FAILURES):
        email = acme.email if i == 0 else f"nobody{i}@nowhere.test"
        problem(await _login(client, email, "Summer2026!"), 401, "bad_credentials")
    # Now the address waits, for every account, the right password included.
    _throttled(await _login(client, "someone-else@nowhere.test", "Summer2026!"))
    _throttled(await _login(client, acme.email, PASSWORD))


@pytest.mark.server
async def test_fifty_racing_wrong_logins_through_two_workers_get_exactly_five_checks(
    server_factory, settings
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        acme = await bootstrap_org(http, settings, "Acme", ["shipper"])

    # Each attempt on a connection of its own, so the kernel spreads them over both workers.
    async def attempt() -> httpx.Response:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as c:
            return await _login(c, acme.email, "guess guess guess")

    answers = await asyncio.gather(*[attempt() for _ in range(50)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * throttle.ACCOUNT_ATTEMPTS + [429] * (50 - throttle.ACCOUNT_ATTEMPTS)
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        _throttled(await _login(http, acme.email, PASSWORD))


async def test_idle_streaks_and_long_expired_sessions_are_purged(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    problem(await _login(client, acme.email, "wrong password 1"), 401, "bad_credentials")
    problem(await _login(client, "nobody@nowhere.test", "wrong password 1"), 401, "bad_credentials")
    await db.execute(
        "UPDATE login_attempts SET last_attempt = now() - interval '2 days' WHERE subject = $1", acme.email
    )
    await db.execute("UPDATE sessions SET expires_at = now() - interval '2 days'")
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        await throttle.purge(pool)
    finally:
        await pool.close()
    assert await db.fetchval("SELECT array_agg(subject ORDER BY subject) FROM login_attempts") == [
        "nobody@nowhere.test",
        "testclient",
    ]
    assert await db.fetchval("SELECT count(*) FROM sessions") == 0
