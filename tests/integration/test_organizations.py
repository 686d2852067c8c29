"""Organization isolation, members, and roles as permission sets."""

from uuid import UUID

import asyncpg
import pytest

from dispatch.accounts.permissions import Permission
from tests.support import add_member, bootstrap_org, problem, role_ids


async def _two_orgs(client, settings):
    a = await bootstrap_org(client, settings, "Alpha Steel", ["shipper"])
    b = await bootstrap_org(client, settings, "Beta Haulage", ["carrier"])
    return a, b


async def test_org_a_cannot_read_org_b_through_b_paths(client, settings):
    a, b = await _two_orgs(client, settings)
    for path in ["", "/members", "/roles", "/api-tokens", "/device-tokens", f"/members/{b.user_id}"]:
        problem(await client.get(f"/orgs/{b.org_id}{path}", headers=a.headers), 404, "organization_not_found")


async def test_org_a_cannot_touch_org_b_rows_by_id_through_its_own_paths(client, settings, db):
    """The SQL is scoped to the caller's org: B's ids under A's own path are simply not there."""
    a, b = await _two_orgs(client, settings)
    b_driver = await add_member(client, b, "driver")
    [b_viewer_role] = await role_ids(client, b, "viewer")
    b_role = (
        await client.post(
            f"/orgs/{b.org_id}/roles",
            headers=b.headers,
            json={"name": "auditor", "permissions": ["events.read"]},
        )
    ).json()
    b_api = (
        await client.post(
            f"/orgs/{b.org_id}/api-tokens", headers=b.headers, json={"name": "erp", "role_id": b_viewer_role}
        )
    ).json()
    b_dev = (
        await client.post(
            f"/orgs/{b.org_id}/device-tokens",
            headers=b.headers,
            json={"user_id": b_driver.user_id, "name": "phone"},
        )
    ).json()
    before = await db.fetchval("SELECT count(*) FROM events")

    mine = f"/orgs/{a.org_id}"
    problem(await client.get(f"{mine}/members/{b.user_id}", headers=a.headers), 404, "member_not_found")
    problem(
        await client.delete(f"{mine}/members/{b_driver.user_id}", headers=a.headers), 404, "member_not_found"
    )
    problem(
        await client.put(
            f"{mine}/members/{b.user_id}/roles", headers=a.headers, json={"role_ids": [b_viewer_role]}
        ),
        404,
        "member_not_found",
    )
    problem(await client.get(f"{mine}/roles/{b_role['id']}", headers=a.headers), 404, "role_not_found")
    problem(
        await client.patch(
            f"{mine}/roles/{b_role['id']}", headers=a.headers, json={"permissions": ["jobs.post"]}
        ),
        404,
        "role_not_found",
    )
    problem(await client.delete(f"{mine}/roles/{b_role['id']}", headers=a.headers), 404, "role_not_found")
    problem(
        await client.post(f"{mine}/api-tokens/{b_api['api_token']['id']}/revoke", headers=a.headers),
        404,
        "api_token_not_found",
    )
    problem(
        await client.post(f"{mine}/device-tokens/{b_dev['device_token']['id']}/revoke", headers=a.headers),
        404,
        "device_token_not_found",
    )
    problem(
        await client.post(
            f"{mine}/device-tokens", headers=a.headers, json={"user_id": b_driver.user_id, "name": "stolen"}
        ),
        404,
        "member_not_found",
    )
    # B's custom role cannot be granted inside A.
    a_member = await add_member(client, a, "viewer")
    problem(
        await client.put(
            f"{mine}/members/{a_member.user_id}/roles", headers=a.headers, json={"role_ids": [b_role["id"]]}
        ),
        404,
        "role_not_found",
    )
    problem(
        await client.post(
            f"{mine}/api-tokens", headers=a.headers, json={"name": "x", "role_id": b_role["id"]}
        ),
        404,
        "role_not_found",
    )

    # Nothing of B's changed, and no event was written for the refused attempts.
    assert await db.fetchval("SELECT count(*) FROM memberships WHERE org_id = $1", UUID(b.org_id)) == 2
    assert (
        await db.fetchval("SELECT count(*) FROM role_permissions WHERE role_id = $1", UUID(b_role["id"])) == 1
    )
    assert await db.fetchval("SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL") == 0
    assert await db.fetchval("SELECT count(*) FROM device_tokens WHERE revoked_at IS NOT NULL") == 0
    # Only the viewer added to A wrote an event.
    assert await db.fetchval("SELECT count(*) FROM events") == before + 1
    # B's members list is still its own.
    listed = (await client.get(f"/orgs/{b.org_id}/members", headers=b.headers)).json()["items"]
    assert {m["user_id"] for m in listed} == {b.user_id, b_driver.user_id}


async def test_the_database_refuses_a_foreign_role_grant_even_without_the_service(client, settings, db):
    a, b = await _two_orgs(client, settings)
    b_role = (
        await client.post(
            f"/orgs/{b.org_id}/roles",
            headers=b.headers,
            json={"name": "auditor", "permissions": ["events.read"]},
        )
    ).json()
    with pytest.raises(asyncpg.ForeignKeyViolationError, match="not available to organization"):
        await db.execute(
            "INSERT INTO membership_roles (org_id, user_id, role_id) VALUES ($1, $2, $3)",
            UUID(a.org_id),
            UUID(a.user_id),
            UUID(b_role["id"]),
        )


async def test_custom_role_grants_exactly_its_permissions(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper", "consignee"])
    r = await client.post(
        f"/orgs/{acme.org_id}/roles",
        headers=acme.headers,
        json={
            "name": "token_keeper",
            "description": "Runs the ERP link",
            "permissions": ["org.manage_tokens", "events.read"],
        },
    )
    assert r.status_code == 201, r.text
    role = r.json()
    assert role["builtin"] is False and role["permissions"] == ["events.read", "org.manage_tokens"]
    keeper = await add_member(client, acme, role_id_list=[role["id"]])

    me = (await client.get("/me", headers=keeper.headers)).json()
    assert sorted(me["permissions"]) == ["events.read", "org.manage_tokens"]
    # What the role grants works ...
    assert (await client.get(f"/orgs/{acme.org_id}/api-tokens", headers=keeper.headers)).status_code == 200
    # ... and nothing else does.
    body = problem(
        await client.get(f"/orgs/{acme.org_id}/members", headers=keeper.headers), 403, "permission_missing"
    )
    assert body["permissions"] == ["org.manage_members"]
    problem(
        await client.post(
            f"/orgs/{acme.org_id}/roles",
            headers=keeper.headers,
            json={"name": "x", "permissions": ["events.read"]},
        ),
        403,
        "permission_missing",
    )
    problem(await client.get(f"/orgs/{acme.org_id}/device-tokens", headers=keeper.headers), 403)

    # Changing the role changes what its members can do, at once.
    r = await client.patch(
        f"/orgs/{acme.org_id}/roles/{role['id']}",
        headers=acme.headers,
        json={"permissions": ["org.manage_members"]},
    )
    assert r.status_code == 200 and r.json()["permissions"] == ["org.manage_members"]
    assert (await client.get(f"/orgs/{acme.org_id}/members", headers=keeper.headers)).status_code == 200
    problem(await client.get(f"/orgs/{acme.org_id}/api-tokens", headers=keeper.headers), 403)


async def test_nobody_grants_more_than_they_hold(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    hr_role = (
        await client.post(
            f"/orgs/{acme.org_id}/roles",
            headers=acme.headers,
            json={
                "name": "hr",
                "permissions": ["org.manage_members", "org.manage_roles", "tracking.view", "events.read"],
            },
        )
    ).json()
    hr = await add_member(client, acme, role_id_list=[hr_role["id"]])
    [admin_role, viewer_role, driver_role] = await role_ids(client, acme, "admin", "viewer", "driver")

    body = problem(
        await client.put(
            f"/orgs/{acme.org_id}/members/{hr.user_id}/roles",
            headers=hr.headers,
            json={"role_ids": [admin_role]},
        ),
        403,
        "permission_escalation",
    )
    assert "jobs.post" in body["permissions"]
    problem(
        await client.post(
            f"/orgs/{acme.org_id}/roles",
            headers=hr.headers,
            json={"name": "sneaky", "permissions": ["jobs.award"]},
        ),
        403,
        "permission_escalation",
    )
    # Within their own permissions (and making someone a driver) is fine.
    assert (await add_member(client, hr, role_id_list=[viewer_role, driver_role])).user_id


async def test_builtin_roles_are_fixed_and_role_names_unique(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [admin_role] = await role_ids(client, acme, "admin")
    problem(
        await client.patch(
            f"/orgs/{acme.org_id}/roles/{admin_role}", headers=acme.headers, json={"description": "mine now"}
        ),
        403,
        "builtin_role",
    )
    problem(
        await client.delete(f"/orgs/{acme.org_id}/roles/{admin_role}", headers=acme.headers),
        403,
        "builtin_role",
    )
    problem(
        await client.post(
            f"/orgs/{acme.org_id}/roles",
            headers=acme.headers,
            json={"name": "admin", "permissions": ["events.read"]},
        ),
        409,
        "role_name_taken",
    )


async def test_role_in_use_cannot_be_deleted(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    role = (
        await client.post(
            f"/orgs/{acme.org_id}/roles",
            headers=acme.headers,
            json={"name": "auditor", "permissions": ["events.read"]},
        )
    ).json()
    member = await add_member(client, acme, role_id_list=[role["id"]])
    problem(
        await client.delete(f"/orgs/{acme.org_id}/roles/{role['id']}", headers=acme.headers),
        409,
        "role_in_use",
    )
    [viewer] = await role_ids(client, acme, "viewer")
    await client.put(
        f"/orgs/{acme.org_id}/members/{member.user_id}/roles",
        headers=acme.headers,
        json={"role_ids": [viewer]},
    )
    assert (
        await client.delete(f"/orgs/{acme.org_id}/roles/{role['id']}", headers=acme.headers)
    ).status_code == 204


async def test_member_listing_pages_by_email(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    for _ in range(4):
        await add_member(client, acme, "viewer")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"after": cursor} if cursor else {})
        page = (await client.get(f"/orgs/{acme.org_id}/members", headers=acme.headers, params=params)).json()
        seen += [m["email"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, key=str.lower)
    problem(await client.get(f"/orgs/{acme.org_id}/members", headers=acme.headers, params={"limit": 0}), 400)


async def test_cannot_remove_yourself_and_email_is_unique(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    problem(
        await client.delete(f"/orgs/{acme.org_id}/members/{acme.user_id}", headers=acme.headers),
        409,
        "cannot_remove_self",
    )
    [viewer] = await role_ids(client, acme, "viewer")
    r = await client.post(
        f"/orgs/{acme.org_id}/members",
        headers=acme.headers,
        json={"email": acme.email.upper(), "name": "Dup", "password": "long enough pw", "role_ids": [viewer]},
    )
    problem(r, 409, "email_taken")


async def test_permission_catalogue_matches_the_code(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    listed = (await client.get("/permissions", headers=acme.headers)).json()
    assert {p["code"] for p in listed} == {p.value for p in Permission}
    assert all(p["description"] for p in listed)
