"""Login and the three kinds of bearer credential, against the real database."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from dispatch.accounts.credentials import sign_session
from tests.conftest import TEST_SECRET
from tests.support import PASSWORD, add_member, bootstrap_org, login, problem, role_ids


async def test_login_gives_a_token_that_acts_for_the_organization(client, settings):
    acme = await bootstrap_org(client, settings, "Acme Steel", ["shipper"])
    r = await client.post("/auth/login", json={"email": acme.email, "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["organization_id"] == acme.org_id
    me = await client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["user_id"] == acme.user_id and me.json()["credential"] == "user"
    assert "org.manage_members" in me.json()["permissions"]


async def test_wrong_password_and_unknown_email_get_the_same_401(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    wrong = await client.post("/auth/login", json={"email": acme.email, "password": "not the password"})
    unknown = await client.post("/auth/login", json={"email": "nobody@nowhere.test", "password": PASSWORD})
    assert (
        problem(wrong, 401, "bad_credentials")["detail"] == problem(unknown, 401, "bad_credentials")["detail"]
    )


async def test_no_token_malformed_header_tampered_and_expired_tokens_get_401(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    problem(await client.get("/me"), 401, "token_missing")
    problem(await client.get("/me", headers={"Authorization": f"Basic {acme.token}"}), 401, "token_malformed")
    # One character of the signature changed.
    last = acme.token[-1]
    tampered = acme.token[:-1] + ("A" if last != "A" else "B")
    problem(await client.get("/me", headers={"Authorization": f"Bearer {tampered}"}), 401, "token_invalid")
    expired, _ = sign_session(
        TEST_SECRET, UUID(acme.user_id), UUID(acme.org_id), 60, datetime.now(UTC) - timedelta(hours=1)
    )
    body = problem(
        await client.get("/me", headers={"Authorization": f"Bearer {expired}"}), 401, "token_expired"
    )
    assert "expired at" in body["detail"]
    problem(await client.get("/me", headers={"Authorization": "Bearer dsp_nonsense"}), 401, "token_malformed")


async def test_user_of_several_organizations_chooses_one_at_login(client, settings, db):
    a = await bootstrap_org(client, settings, "Alpha", ["shipper"])
    b = await bootstrap_org(client, settings, "Beta", ["carrier"])
    # The same person joins Beta too (arranged directly: there is no cross-org invitation API yet).
    await db.execute(
        "INSERT INTO memberships (org_id, user_id) VALUES ($1, $2)", UUID(b.org_id), UUID(a.user_id)
    )
    r = await client.post("/auth/login", json={"email": a.email, "password": PASSWORD})
    assert set(problem(r, 400, "organization_required")["organization_ids"]) == {a.org_id, b.org_id}
    token = await login(client, a.email, org_id=b.org_id)
    me = (await client.get("/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert me["organization"]["id"] == b.org_id
    assert me["permissions"] == []  # a member of Beta with no roles there holds nothing there


async def test_removed_member_token_stops_working(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    viewer = await add_member(client, acme, "viewer")
    assert (await client.get("/me", headers=viewer.headers)).status_code == 200
    r = await client.delete(f"/orgs/{acme.org_id}/members/{viewer.user_id}", headers=acme.headers)
    assert r.status_code == 204
    problem(await client.get("/me", headers=viewer.headers), 401, "membership_gone")


async def test_api_token_acts_with_its_role_until_revoked(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [integration] = await role_ids(client, acme, "integration")
    r = await client.post(
        f"/orgs/{acme.org_id}/api-tokens", headers=acme.headers, json={"name": "ERP", "role_id": integration}
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    secret, token_id = issued["token"], issued["api_token"]["id"]
    headers = {"Authorization": f"Bearer {secret}"}
    me = (await client.get("/me", headers=headers)).json()
    assert me["credential"] == "api_token" and me["user_id"] is None
    assert sorted(me["permissions"]) == ["events.read", "jobs.post", "tracking.view", "webhooks.manage"]
    # Only the hash is stored.
    stored = await db.fetchval("SELECT token_hash FROM api_tokens WHERE id = $1", UUID(token_id))
    assert secret.encode() not in stored and len(stored) == 32
    # The secret is never shown again.
    listed = (await client.get(f"/orgs/{acme.org_id}/api-tokens", headers=acme.headers)).json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]

    r = await client.post(f"/orgs/{acme.org_id}/api-tokens/{token_id}/revoke", headers=acme.headers)
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    problem(await client.get("/me", headers=headers), 401, "token_revoked")


async def test_expired_api_token_is_refused(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [viewer] = await role_ids(client, acme, "viewer")
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    issued = (
        await client.post(
            f"/orgs/{acme.org_id}/api-tokens",
            headers=acme.headers,
            json={"name": "ERP", "role_id": viewer, "expires_at": soon},
        )
    ).json()
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert (await client.get("/me", headers=headers)).status_code == 200
    await db.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
        UUID(issued["api_token"]["id"]),
    )
    problem(await client.get("/me", headers=headers), 401, "token_expired")


async def test_device_token_opens_only_the_driver_api_until_revoked(client, settings):
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    driver = await add_member(client, carrier, "driver")
    r = await client.post(
        f"/orgs/{carrier.org_id}/device-tokens",
        headers=carrier.headers,
        json={"user_id": driver.user_id, "name": "Pixel 6"},
    )
    assert r.status_code == 201, r.text
    device = {"Authorization": f"Bearer {r.json()['token']}"}
    token_id = r.json()["device_token"]["id"]

    me = await client.get("/driver/v1/me", headers=device)
    assert me.status_code == 200
    assert me.json()["user_id"] == driver.user_id and me.json()["credential"] == "device"
    # A device token is no key to the platform API, and a user session none to the driver API.
    problem(await client.get("/me", headers=device), 403, "wrong_credential_kind")
    problem(await client.get("/driver/v1/me", headers=driver.headers), 403, "wrong_credential_kind")

    r = await client.post(f"/orgs/{carrier.org_id}/device-tokens/{token_id}/revoke", headers=carrier.headers)
    assert r.status_code == 200
    problem(await client.get("/driver/v1/me", headers=device), 401, "token_revoked")


async def test_device_tokens_only_for_drivers(client, settings):
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    clerk = await add_member(client, carrier, "viewer")
    r = await client.post(
        f"/orgs/{carrier.org_id}/device-tokens",
        headers=carrier.headers,
        json={"user_id": clerk.user_id, "name": "phone"},
    )
    problem(r, 409, "not_a_driver")
