"""New passwords must not be easy to guess (zxcvbn), wherever a password is set."""

import subprocess
import sys

import pytest

from dispatch.accounts import service
from dispatch.accounts.passwords import Passwords
from dispatch.db.pool import create_pool
from dispatch.errors import Unprocessable
from tests.conftest import ROOT, server_env
from tests.support import bootstrap_org, login, problem, role_ids


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("1234567890", "common password"),
        ("password12", "common password"),
        (" " * 10, "Repeats"),
        ("EMAIL", "easy to guess"),
    ],
)
async def test_weak_passwords_are_refused_with_the_reason(client, settings, db, password, why):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [viewer] = await role_ids(client, acme, "viewer")
    email = "jana.novak@wienermetall.test"
    r = await client.post(
        f"/orgs/{acme.org_id}/members",
        headers=acme.headers,
        json={
            "email": email,
            "name": "Jana Novak",
            "password": email if password == "EMAIL" else password,
            "role_ids": [viewer],
        },
    )
    body = problem(r, 422, "password_too_weak")
    assert why in body["detail"] and body["warning"] and body["suggestions"] and body["score"] < 3
    # Nothing was written.
    assert await db.fetchval("SELECT count(*) FROM users WHERE email = $1", email) == 0


async def test_the_members_own_name_and_organization_count_against_the_password(client, settings):
    acme = await bootstrap_org(client, settings, "Wachau Cargo", ["carrier"])
    [viewer] = await role_ids(client, acme, "viewer")
    weak = {"email": "franz@example.test", "name": "Franz Huber", "role_ids": [viewer]}
    for password in ("franzhuber2026", "wachaucargo1"):
        r = await client.post(
            f"/orgs/{acme.org_id}/members", headers=acme.headers, json={**weak, "password": password}
        )
        problem(r, 422, "password_too_weak")
    r = await client.post(
        f"/orgs/{acme.org_id}/members",
        headers=acme.headers,
        json={**weak, "password": "gravel quarry tandem lantern"},
    )
    assert r.status_code == 201, r.text
    assert await login(client, "franz@example.test", "gravel quarry tandem lantern")


async def test_an_organizations_first_admin_gets_the_same_policy(settings):
    assert settings.database_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        with pytest.raises(Unprocessable) as exc:
            await service.create_organization(
                pool,
                Passwords(time_cost=1, memory_kib=1024),
                name="Acme",
                parties=["shipper"],
                admin_email="boss@acme.test",
                admin_name="Boss",
                admin_password="password12",
            )
        assert exc.value.code == "password_too_weak"
        assert await pool.fetchval("SELECT count(*) FROM organizations") == 0
    finally:
        await pool.close()


def test_create_org_on_the_command_line_refuses_a_weak_password(settings):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dispatch",
            "create-org",
            "--name",
            "Acme",
            "--parties",
            "shipper",
            "--admin-email",
            "boss@acme.test",
            "--password-stdin",
        ],
        input="boss@acme.test\n",
        env=server_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "too easy to guess" in result.stderr, result.stderr
