"""Regional settings: the organization's country, currency, time zone and locale, the user's own
locale, and the defaults they give a job's currency and a vehicle's plate."""

import json
import shutil
import subprocess
import sys
from uuid import UUID

import asyncpg
import httpx
import pytest

from dispatch.accounts import service
from dispatch.accounts.passwords import Passwords
from dispatch.db.migrate import DEFAULT_DIR, migrate
from dispatch.db.pool import create_pool
from tests.conftest import ROOT, server_env
from tests.market_support import create_site, job_body
from tests.support import PASSWORD, Account, add_member, bootstrap_org, login, problem, role_ids

TRUCK = {"vehicle_type": "flatbed", "capacity_kg": 25_000, "capacity_m3": 90}
SETTINGS = ("country", "currency", "timezone", "locale")


async def bootstrap_in(client, settings, name, parties, **regional) -> Account:
    """An organization made as `dispatch create-org --country ...` makes it."""
    email = f"admin@{name.lower().replace(' ', '-')}.test"
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
            **regional,
        )
    finally:
        await pool.close()
    return Account(str(org.id), str(user_id), email, await login(client, email))


def regional(org: dict) -> tuple:
    return tuple(org[k] for k in SETTINGS)


async def test_a_chinese_organization_gets_yuan_shanghai_time_and_chinese_pages(client, settings):
    mill = await bootstrap_in(client, settings, "Tangshan Steel", ["shipper"], country="CN")
    org = (await client.get(f"/orgs/{mill.org_id}", headers=mill.headers)).json()
    assert regional(org) == ("CN", "CNY", "Asia/Shanghai", "zh-CN")
    me = (await client.get("/me", headers=mill.headers)).json()
    assert me["organization"] == org
    assert me["locale"] is None  # the person has not chosen one

    # What is named wins over the country's default.
    trader = await bootstrap_in(
        client, settings, "Tianjin Trading", ["consignee"], country="CN", currency="USD", locale="en"
    )
    org = (await client.get(f"/orgs/{trader.org_id}", headers=trader.headers)).json()
    assert regional(org) == ("CN", "USD", "Asia/Shanghai", "en")


async def test_an_organization_made_without_a_country_keeps_todays_euro_and_english(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    org = (await client.get(f"/orgs/{acme.org_id}", headers=acme.headers)).json()
    assert regional(org) == ("AT", "EUR", "Europe/Vienna", "en")


async def test_an_admin_changes_the_settings_and_a_new_country_brings_its_defaults(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    path = f"/orgs/{acme.org_id}"

    r = await client.patch(path, headers=acme.headers, json={"country": "CN"})
    assert r.status_code == 200, r.text
    assert regional(r.json()) == ("CN", "CNY", "Asia/Shanghai", "zh-CN")
    r = await client.patch(path, headers=acme.headers, json={"currency": "USD", "locale": "en"})
    assert regional(r.json()) == ("CN", "USD", "Asia/Shanghai", "en")
    r = await client.patch(path, headers=acme.headers, json={"country": "DE", "timezone": "Europe/Vienna"})
    assert regional(r.json()) == ("DE", "EUR", "Europe/Vienna", "en")
    assert regional((await client.get(path, headers=acme.headers)).json()) == (
        "DE",
        "EUR",
        "Europe/Vienna",
        "en",
    )

    changes = await db.fetch(
        "SELECT data FROM events WHERE type = 'organization.updated' AND subject_id = $1 ORDER BY id",
        acme.org_id,
    )
    assert [json.loads(c["data"]) for c in changes] == [
        {"country": "CN", "currency": "CNY", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        {"currency": "USD", "locale": "en"},
        {"country": "DE", "currency": "EUR", "timezone": "Europe/Vienna"},
    ]
    # A change to what it already is changes nothing and records nothing.
    r = await client.patch(path, headers=acme.headers, json={"currency": "EUR"})
    assert r.status_code == 200 and regional(r.json()) == ("DE", "EUR", "Europe/Vienna", "en")
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'organization.updated'") == 3


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"country": "ZZ"}, 422, "invalid_country", "$.country"),
        ({"currency": "ABC"}, 422, "invalid_currency", "$.currency"),
        ({"country": "CN", "timezone": "Mars/Olympus_Mons"}, 422, "invalid_timezone", "$.timezone"),
        ({"country": "BR"}, 200, None, None),  # outside the table: keeps EUR and Vienna
        ({"locale": "fr"}, 400, "validation_failed", "$.locale"),
        ({"country": "cn"}, 400, "validation_failed", "$.country"),
        ({"currency": "EURO"}, 400, "validation_failed", "$.currency"),
        ({"name": "Renamed"}, 400, "validation_failed", "$"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field_and_nothing_changes(
    client, settings, db, body, status, code, field
):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    r = await client.patch(f"/orgs/{acme.org_id}", headers=acme.headers, json=body)
    if status == 200:
        assert regional(r.json()) == ("BR", "EUR", "Europe/Vienna", "en")
        return
    refused = problem(r, status, code)
    assert field in [e["field"] for e in refused["errors"]], refused
    row = await db.fetchrow(
        "SELECT country, currency, timezone, locale, name FROM organizations WHERE id = $1", UUID(acme.org_id)
    )
    assert tuple(row) == ("AT", "EUR", "Europe/Vienna", "en", "Acme")
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'organization.updated'") == 0


async def test_only_those_who_manage_the_organization_change_it_and_only_their_own(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    other = await bootstrap_org(client, settings, "Other", ["carrier"])
    viewer = await add_member(client, acme, "viewer")
    body = problem(
        await client.patch(f"/orgs/{acme.org_id}", headers=viewer.headers, json={"country": "CN"}),
        403,
        "permission_missing",
    )
    assert body["permissions"] == ["org.manage_members"]
    # Anyone of the organization reads its settings.
    assert (await client.get(f"/orgs/{acme.org_id}", headers=viewer.headers)).json()["currency"] == "EUR"
    problem(
        await client.patch(f"/orgs/{other.org_id}", headers=acme.headers, json={"country": "CN"}),
        404,
        "organization_not_found",
    )
    assert await db.fetchval("SELECT count(*) FROM organizations WHERE country = 'CN'") == 0


async def test_an_api_token_of_an_admin_role_changes_the_settings(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    [admin_role] = await role_ids(client, acme, "admin")
    issued = (
        await client.post(
            f"/orgs/{acme.org_id}/api-tokens",
            headers=acme.headers,
            json={"name": "erp", "role_id": admin_role},
        )
    ).json()
    r = await client.patch(
        f"/orgs/{acme.org_id}",
        headers={"Authorization": f"Bearer {issued['token']}"},
        json={"timezone": "Europe/Berlin"},
    )
    assert r.status_code == 200 and r.json()["timezone"] == "Europe/Berlin"


async def test_a_user_sets_their_own_language_which_goes_with_them_to_every_organization(
    client, settings, db
):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    r = await client.patch("/me", headers=acme.headers, json={"locale": "zh-CN"})
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["locale"] == "zh-CN" and me["organization"]["locale"] == "en"  # the person's, not the org's
    assert (await client.get("/me", headers=acme.headers)).json()["locale"] == "zh-CN"
    assert await db.fetchval("SELECT locale FROM users WHERE id = $1", UUID(acme.user_id)) == "zh-CN"

    # The same person acting for another organization speaks the same language.
    other = await bootstrap_org(client, settings, "Other", ["carrier"])
    await db.execute(
        "INSERT INTO memberships (org_id, user_id) VALUES ($1, $2)", UUID(other.org_id), UUID(acme.user_id)
    )
    there = await login(client, acme.email, org_id=other.org_id)
    me = (await client.get("/me", headers={"Authorization": f"Bearer {there}"})).json()
    assert me["organization"]["id"] == other.org_id and me["locale"] == "zh-CN"

    # An empty change changes nothing; null takes the choice back.
    assert (await client.patch("/me", headers=acme.headers, json={})).json()["locale"] == "zh-CN"
    r = await client.patch("/me", headers=acme.headers, json={"locale": None})
    assert r.status_code == 200 and r.json()["locale"] is None
    assert await db.fetchval("SELECT locale FROM users WHERE id = $1", UUID(acme.user_id)) is None


async def test_a_users_language_is_refused_unless_it_is_spoken_and_an_api_token_has_none(
    client, settings, db
):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    for body in ({"locale": "fr"}, {"locale": "zh"}, {"language": "en"}):
        refused = problem(
            await client.patch("/me", headers=acme.headers, json=body), 400, "validation_failed"
        )
        assert refused["errors"][0]["field"] in ("$.locale", "$"), refused
    [viewer_role] = await role_ids(client, acme, "viewer")
    issued = (
        await client.post(
            f"/orgs/{acme.org_id}/api-tokens",
            headers=acme.headers,
            json={"name": "erp", "role_id": viewer_role},
        )
    ).json()
    token = {"Authorization": f"Bearer {issued['token']}"}
    problem(await client.patch("/me", headers=token, json={"locale": "zh-CN"}), 403, "not_a_session")
    assert (await client.get("/me", headers=token)).json()["locale"] is None
    assert await db.fetchval("SELECT count(*) FROM users WHERE locale IS NOT NULL") == 0


async def test_a_job_posted_without_a_currency_is_in_the_posters_currency(client, settings):
    mill = await bootstrap_in(client, settings, "Tangshan Steel", ["shipper"], country="CN")
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    gates = {}
    for poster, currency in ((mill, "CNY"), (acme, "EUR")):
        site = gates[poster.org_id] = await create_site(client, poster, "Gate")
        body = job_body(site["id"], price=1_850_000)  # ¥18,500.00 / €18,500.00: minor units, 2 digits
        del body["currency"]
        r = await client.post("/jobs", headers=poster.headers, json=body)
        assert r.status_code == 201, r.text
        assert (r.json()["currency"], r.json()["price_minor"]) == (currency, 1_850_000)
    # Named, it is taken as named, as before.
    body = job_body(gates[mill.org_id]["id"], currency="EUR")
    r = await client.post("/jobs", headers=mill.headers, json=body)
    assert r.status_code == 201 and r.json()["currency"] == "EUR"
    # And a change of the organization's currency applies to the next job.
    await client.patch(f"/orgs/{acme.org_id}", headers=acme.headers, json={"currency": "CHF"})
    body = job_body(gates[acme.org_id]["id"])
    del body["currency"]
    assert (await client.post("/jobs", headers=acme.headers, json=body)).json()["currency"] == "CHF"


async def test_a_chinese_carriers_plate_without_a_province_is_read_as_chinese(client, settings, db):
    cn = await bootstrap_in(client, settings, "Tianjin Haulage", ["carrier"], country="CN")
    at = await bootstrap_org(client, settings, "Linz Haulage", ["carrier"])
    refused = problem(
        await client.post("/fleet/vehicles", headers=cn.headers, json={**TRUCK, "plate": "B-AB 1234"}),
        422,
        "invalid_plate",
    )
    assert refused["errors"] == [
        {"field": "$.plate", "rule": "cn_plate", "reason": refused["errors"][0]["reason"], "source": "body"}
    ]
    assert "registered in China" in refused["detail"]
    assert await db.fetchval("SELECT count(*) FROM vehicles") == 0
    # Its Chinese plates pass; the same European plate passes for the Austrian carrier.
    for account, plate in ((cn, "京A12345"), (cn, "粤B·D12345"), (at, "B-AB 1234"), (at, "鲁C1234挂")):
        r = await client.post("/fleet/vehicles", headers=account.headers, json={**TRUCK, "plate": plate})
        assert r.status_code == 201, r.text


async def test_create_org_on_the_command_line_takes_the_country_and_the_server_shows_it(
    settings, db, server_factory, http
):
    def create_org(name, email, *extra):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "dispatch",
                "create-org",
                "--name",
                name,
                "--parties",
                "shipper",
                "--admin-email",
                email,
                "--password-stdin",
                *extra,
            ],
            input=PASSWORD + "\n",
            env=server_env(settings),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    made = create_org("Tangshan Steel", "boss@tangshan.test", "--country", "cn", "--timezone", "Asia/Harbin")
    assert made.returncode == 0, made.stderr
    assert "settings: country CN, currency CNY, time zone Asia/Harbin, locale zh-CN" in made.stdout
    refused = create_org("Nowhere", "boss@nowhere.test", "--country", "ZZ")
    assert refused.returncode != 0 and "not an ISO 3166-1 alpha-2 country code" in refused.stderr
    assert await db.fetchval("SELECT count(*) FROM organizations") == 1

    server = server_factory()
    r = await http.post(
        server.base_url + "/auth/login", json={"email": "boss@tangshan.test", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    me = await http.get(
        server.base_url + "/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert regional(me.json()["organization"]) == ("CN", "CNY", "Asia/Harbin", "zh-CN")


async def test_migration_0010_gives_existing_rows_todays_settings(empty_database_url, tmp_path):
    before = tmp_path / "migrations"
    before.mkdir()
    for f in sorted(DEFAULT_DIR.glob("*.sql")):
        if f.name < "0010":
            shutil.copy(f, before)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn, before)
        org = await conn.fetchval(
            "INSERT INTO organizations (name, parties) VALUES ('H', '{shipper}') RETURNING id"
        )
        await conn.execute("INSERT INTO users (email, name, password_hash) VALUES ('a@h.test', 'A', 'x')")
        await conn.execute(
            """INSERT INTO sites (org_id, name, address, lon, lat, geofence, timezone)
               VALUES ($1, 'Gate', 'Industriestrasse 1, Linz', 14.3, 48.3, '{}', 'Europe/Vienna')""",
            org,
        )

        assert "0010_org_defaults.sql" in await migrate(conn)
        row = await conn.fetchrow("SELECT country, currency, timezone, locale FROM organizations")
        assert tuple(row) == ("AT", "EUR", "Europe/Vienna", "en")
        assert await conn.fetchval("SELECT locale FROM users") is None
        site = await conn.fetchrow("SELECT address, address_parts, country FROM sites")
        assert tuple(site) == ("Industriestrasse 1, Linz", None, None)
        # A site's country is its parts' own.
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE sites SET country = 'CN'")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE organizations SET locale = 'fr'")
    finally:
        await conn.close()


async def test_the_server_answers_the_settings_over_http(server_factory, settings):
    """The same answers from a real `dispatch serve` as in process: the types are the wire's."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as real:
        acme = await bootstrap_org(real, settings, "Acme", ["shipper"])
        r = await real.patch(f"/orgs/{acme.org_id}", headers=acme.headers, json={"country": "CN"})
        assert r.status_code == 200 and regional(r.json()) == ("CN", "CNY", "Asia/Shanghai", "zh-CN")
        r = await real.patch("/me", headers=acme.headers, json={"locale": "en"})
        assert r.status_code == 200 and r.json()["locale"] == "en"
