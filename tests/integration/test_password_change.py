"""A user changes their own password (POST /me/password): the current one is checked under the
login throttle, the new one under the password policy; the other sessions end, the caller's stays;
any refusal changes nothing; API and device tokens are refused."""

from __future__ import annotations

from uuid import UUID

from tests.support import PASSWORD, add_member, bootstrap_org, login, problem, role_ids

NEW = "quartz lantern orbit mosaic"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _hash(db, account) -> str:
    return await db.fetchval("SELECT password_hash FROM users WHERE id = $1", UUID(account.user_id))


async def test_the_new_password_logs_in_the_old_does_not_and_other_sessions_end(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    phone = await login(client, acme.email)
    bystander = await add_member(client, acme, "viewer")

    r = await client.post(
        "/me/password", headers=acme.headers, json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"other_sessions_ended": 1}

    # The caller's session goes on; the phone's ended; another user's is untouched.
    assert (await client.get("/me", headers=acme.headers)).status_code == 200
    problem(await client.get("/me", headers=_bearer(phone)), 401, "session_revoked")
    assert (await client.get("/me", headers=bystander.headers)).status_code == 200
    # The old password no longer logs in; the new one does.
    old = await client.post("/auth/login", json={"email": acme.email, "password": PASSWORD})
    problem(old, 401, "bad_credentials")
    assert (await client.get("/me", headers=_bearer(await login(client, acme.email, NEW)))).status_code == 200
    stored = await _hash(db, acme)
    assert stored.startswith("$argon2id$") and NEW not in stored


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_login(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    phone = await login(client, acme.email)
    before = await _hash(db, acme)

    wrong = {"current_password": "not my password", "new_password": NEW}
    r = await client.post("/me/password", headers=acme.headers, json=wrong)
    problem(r, 403, "current_password_wrong")
    assert await _hash(db, acme) == before
    assert (await client.get("/me", headers=_bearer(phone))).status_code == 200
    assert await login(client, acme.email)  # the old password still logs in (which ends the streak)

    # A stolen session guesses no faster than a login: the account's streak of 5 checks, shared
    # with logins of that email, then 429 without a check, even for the right password.
    for _ in range(4):
        r = await client.post(
            "/me/password", headers=acme.headers, json={"current_password": "guess", "new_password": NEW}
        )
        problem(r, 403, "current_password_wrong")
    problem(await client.post("/auth/login", json={"email": acme.email, "password": "guess"}), 401)
    r = await client.post(
        "/me/password", headers=acme.headers, json={"current_password": PASSWORD, "new_password": NEW}
    )
    problem(r, 429, "login_throttled")
    assert int(r.headers["retry-after"]) > 0
    assert await _hash(db, acme) == before
    problem(await client.post("/auth/login", json={"email": acme.email, "password": PASSWORD}), 429)


async def test_a_weak_new_password_is_refused_with_the_policys_feedback(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    phone = await login(client, acme.email)
    before = await _hash(db, acme)
    for weak in ("1234567890", acme.email):
        r = await client.post(
            "/me/password", headers=acme.headers, json={"current_password": PASSWORD, "new_password": weak}
        )
        body = problem(r, 422, "password_too_weak")
        assert body["warning"] and body["suggestions"] and body["score"] < 3
    # Too short for the wire type: refused with the field named.
    r = await client.post(
        "/me/password", headers=acme.headers, json={"current_password": PASSWORD, "new_password": "short"}
    )
    body = problem(r, 400)
    assert [e["field"] for e in body["errors"]] == ["$.new_password"]
    assert await _hash(db, acme) == before
    assert (await client.get("/me", headers=_bearer(phone))).status_code == 200


async def test_api_and_device_tokens_cannot_change_a_password(client, settings, db):
    acme = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    [integration] = await role_ids(client, acme, "integration")
    r = await client.post(
        f"/orgs/{acme.org_id}/api-tokens", headers=acme.headers, json={"name": "ERP", "role_id": integration}
    )
    assert r.status_code == 201, r.text
    api_token = _bearer(r.json()["token"])
    driver = await add_member(client, acme, "driver")
    r = await client.post(
        f"/orgs/{acme.org_id}/device-tokens",
        headers=acme.headers,
        json={"user_id": driver.user_id, "name": "Pixel 6"},
    )
    assert r.status_code == 201, r.text
    device = _bearer(r.json()["token"])
    before = await _hash(db, driver)

    body = {"current_password": PASSWORD, "new_password": NEW}
    problem(await client.post("/me/password", headers=api_token, json=body), 403, "not_a_session")
    problem(await client.post("/me/password", headers=device, json=body), 403, "wrong_credential_kind")
    assert await _hash(db, driver) == before
    assert await login(client, driver.email)
