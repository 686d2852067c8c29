"""The API shell: validation at the edge, problem details, body limit, request ids, OpenAPI."""

import pytest

from tests.support import bootstrap_org, problem, role_ids

VIEWER = "00000000-0000-4000-8000-000000000000"  # well-formed; validation fails before it is looked up
COUNTED = ["users", "memberships", "membership_roles", "roles", "api_tokens", "device_tokens", "events"]


async def _counts(db):
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}  # noqa: S608 - fixed names


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (
            {"email": "x@y.test", "name": "N", "password": 12345678901, "role_ids": []},
            "$.password",
            "Expected `str`",
        ),
        (
            {"email": "x@y.test", "name": "N", "password": "long enough pw", "role_ids": ["nope"]},
            "$.role_ids[0]",
            "Invalid UUID",
        ),
        (
            {"email": "not-an-email", "name": "N", "password": "long enough pw", "role_ids": []},
            "$.email",
            "Expected `str` matching regex",
        ),
        (
            {"email": "x@y.test", "name": "N", "password": "short", "role_ids": []},
            "$.password",
            "Expected `str` of length >= 10",
        ),
        (
            {"email": "x@y.test", "name": "", "password": "long enough pw", "role_ids": []},
            "$.name",
            "length >= 1",
        ),
        (
            {"email": "x@y.test", "name": "N", "password": "long enough pw"},
            "$",
            "missing required field `role_ids`",
        ),
        (
            {
                "email": "x@y.test",
                "name": "N",
                "password": "long enough pw",
                "role_ids": [VIEWER],
                "is_admin": True,
            },
            "$",
            "unknown field `is_admin`",
        ),
        (
            {"email": "x@y.test", "name": "N", "password": "long enough pw", "role_ids": []},
            "$.role_ids",
            "length >= 1",
        ),
    ],
)
async def test_bad_member_bodies_name_the_field_and_change_nothing(client, settings, db, body, field, reason):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    before = await _counts(db)
    r = await client.post(f"/orgs/{acme.org_id}/members", headers=acme.headers, json=body)
    error = problem(r, 400, "validation_failed")
    assert any(e["field"] == field and reason in e["reason"] for e in error["errors"]), error
    assert await _counts(db) == before


async def test_malformed_json_is_refused_and_changes_nothing(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    before = await _counts(db)
    r = await client.post(
        f"/orgs/{acme.org_id}/roles",
        headers=acme.headers | {"content-type": "application/json"},
        content=b'{"name": "auditor", "permissions": ["events.read"',
    )
    assert "not valid JSON" in problem(r, 400, "malformed_body")["detail"]
    assert await _counts(db) == before


async def test_unknown_permission_in_a_role_is_refused(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    before = await _counts(db)
    r = await client.post(
        f"/orgs/{acme.org_id}/roles",
        headers=acme.headers,
        json={"name": "auditor", "permissions": ["events.read", "launch.missiles"]},
    )
    error = problem(r, 400, "validation_failed")
    assert error["errors"][0]["field"] == "$.permissions[1]"
    assert await _counts(db) == before


async def test_oversized_body_gets_413_and_changes_nothing(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [viewer] = await role_ids(client, acme, "viewer")
    before = await _counts(db)
    huge = "x" * (settings.max_body_bytes + 1)
    r = await client.post(
        f"/orgs/{acme.org_id}/members",
        headers=acme.headers,
        json={"email": "big@y.test", "name": huge, "password": "long enough pw", "role_ids": [viewer]},
    )
    problem(r, 413, "body_too_large")
    assert await _counts(db) == before


async def test_bad_path_id_and_unknown_route_are_problems(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    problem(await client.get("/orgs/not-a-uuid/members", headers=acme.headers), 404)
    problem(await client.get("/no/such/route", headers=acme.headers), 404, "not_found")
    problem(await client.put("/auth/login", json={}), 405, "method_not_allowed")


async def test_request_id_is_echoed_and_put_in_problems(client, settings):
    r = await client.get("/me", headers={"x-request-id": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"
    assert problem(r, 401)["request_id"] == "trace-123"
    # An unsafe id is replaced, not echoed.
    r = await client.get("/healthz", headers={"x-request-id": "bad id\r\nx"})
    assert r.headers["x-request-id"] != "bad id\r\nx" and len(r.headers["x-request-id"]) == 16


async def test_healthz_checks_the_database(client):
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["database"] == "ok"


async def test_openapi_has_an_operation_id_on_every_route(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    operations = [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 20
    ids = [op.get("operationId") for _, _, op in operations]
    assert all(ids), [(p, m) for p, m, op in operations if not op.get("operationId")]
    assert len(ids) == len(set(ids))
    assert "driverGetMe" in ids and "login" in ids
