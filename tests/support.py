"""Arranging accounts through the public API (bootstrap uses the CLI's own service call)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from dispatch.accounts import service
from dispatch.accounts.passwords import Passwords
from dispatch.db.pool import create_pool
from dispatch.parties import Party
from dispatch.settings import Settings

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    org_id: str
    user_id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert a problem-details answer and return its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and body["type"].startswith("/problems/")
    if code is not None:
        assert body["code"] == code, body
    return body


async def login(client: Any, email: str, password: str = PASSWORD, org_id: str | None = None) -> str:
    body: dict[str, Any] = {"email": email, "password": password}
    if org_id:
        body["organization_id"] = org_id
    r = await client.post("/auth/login", json=body)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


async def bootstrap_org(client: Any, settings: Settings, name: str, parties: list[Party]) -> Account:
    assert settings.database_url
    email = f"admin-{secrets.token_hex(4)}@{name.lower().replace(' ', '-')}.test"
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        org, user_id = await service.create_organization(
            pool,
            Passwords(time_cost=1, memory_kib=1024),
            name=name,
            parties=parties,
            admin_email=email,
            admin_name=f"{name} admin",
            admin_password=PASSWORD,
        )
    finally:
        await pool.close()
    return Account(str(org.id), str(user_id), email, await login(client, email))


async def role_ids(client: Any, admin: Account, *names: str) -> list[str]:
    r = await client.get(f"/orgs/{admin.org_id}/roles", headers=admin.headers)
    assert r.status_code == 200, r.text
    by_name = {role["name"]: role["id"] for role in r.json()}
    return [by_name[n] for n in names]


async def add_member(
    client: Any, admin: Account, *role_names: str, role_id_list: list[str] | None = None
) -> Account:
    ids = role_id_list if role_id_list is not None else await role_ids(client, admin, *role_names)
    email = f"member-{secrets.token_hex(4)}@example.test"
    r = await client.post(
        f"/orgs/{admin.org_id}/members",
        headers=admin.headers,
        json={"email": email, "name": "A Member", "password": PASSWORD, "role_ids": ids},
    )
    assert r.status_code == 201, r.text
    return Account(admin.org_id, r.json()["user_id"], email, await login(client, email))
