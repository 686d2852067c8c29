"""Pairing a driver's phone against a real server: a dispatcher's one-time code (and its QR code), or
the driver's own sign-in, gives the phone a device token of its own and a tracker id."""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import segno

from dispatch.accounts import throttle
from tests.support import PASSWORD, Account, add_member, bootstrap_org, problem

pytestmark = pytest.mark.server

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
TRACKER_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{20}$")
SVG = "{http://www.w3.org/2000/svg}"


async def add_driver(http: httpx.AsyncClient, carrier: Account, name: str = "Anna Fahrer") -> dict[str, Any]:
    r = await http.post(
        "/fleet/drivers",
        headers=carrier.headers,
        json={
            "email": f"driver-{secrets.token_hex(3)}@haulers.test",
            "name": name,
            "password": PASSWORD,
            "phone": "+49 170 0000000",
            "licence_number": "L00001",
        },
    )
    assert r.status_code == 201, r.text
    driver: dict[str, Any] = r.json()
    return driver


async def new_code(http: httpx.AsyncClient, carrier: Account, user_id: str) -> dict[str, Any]:
    r = await http.post(f"/fleet/drivers/{user_id}/pairings", headers=carrier.headers)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def device_tokens(http: httpx.AsyncClient, carrier: Account) -> list[dict[str, Any]]:
    r = await http.get(f"/orgs/{carrier.org_id}/device-tokens", headers=carrier.headers)
    assert r.status_code == 200, r.text
    tokens: list[dict[str, Any]] = r.json()
    return tokens


def qr_path(svg: str) -> str:
    """The modules of a segno SVG (its one path's drawing)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own server's SVG
    assert root.tag == f"{SVG}svg"
    (path,) = root.iter(f"{SVG}path")
    return path.attrib["d"]


async def test_a_dispatcher_pairs_a_phone_with_a_code_and_the_phone_gets_its_own_token(
    server_factory, settings
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_driver(http, carrier)
        before = datetime.now(UTC)
        created = await new_code(http, carrier, driver["user_id"])
        assert CODE.match(created["code"]), created["code"]
        expires = datetime.fromisoformat(created["expires_at"])
        assert before + timedelta(minutes=9) < expires < datetime.now(UTC) + timedelta(minutes=11)
        assert created["pair_url"] == f"{server.base_url}/app#pair={created['code']}"
        # The QR code holds the pair URL: the same modules as segno draws for it, and it says so.
        root = ET.fromstring(created["qr_svg"])  # noqa: S314 - our own server's SVG
        assert root.find(f"{SVG}title").text == created["pair_url"]
        drawn = io.BytesIO()
        segno.make(created["pair_url"], error="m").save(drawn, kind="svg")
        assert qr_path(created["qr_svg"]) == qr_path(drawn.getvalue().decode())

        r = await http.get(f"/fleet/drivers/{driver['user_id']}/pairings", headers=carrier.headers)
        assert r.status_code == 200, r.text
        (listed,) = r.json()
        assert listed["id"] == created["id"] and listed["user_id"] == driver["user_id"]
        assert listed["created_by"] == carrier.user_id and "code" not in listed

        # The driver types it as read aloud: lower case, no dash.
        typed = created["code"].lower().replace("-", "")
        r = await http.post("/driver/v1/pairing", json={"code": typed, "device_name": "Anna's Pixel"})
        assert r.status_code == 201, r.text
        paired = r.json()
        assert paired["driver"] == {"user_id": driver["user_id"], "name": "Anna Fahrer"}
        assert paired["organization"] == {"id": carrier.org_id, "name": "Haulers"}
        assert paired["device_token"].startswith("dsp_dev_") and TRACKER_ID.match(paired["tracker_id"])
        phone = {"Authorization": f"Bearer {paired['device_token']}"}
        r = await http.get("/driver/v1/me", headers=phone)
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == driver["user_id"] and r.json()["credential"] == "device"

        # An ordinary device token: named after the phone, listed, and revoked like the others.
        (token,) = await device_tokens(http, carrier)
        assert token["id"] == paired["device_id"] and token["name"] == "Anna's Pixel"
        r = await http.get(f"/fleet/drivers/{driver['user_id']}/pairings", headers=carrier.headers)
        assert r.json() == []
        r = await http.post(
            f"/orgs/{carrier.org_id}/device-tokens/{token['id']}/revoke", headers=carrier.headers
        )
        assert r.status_code == 200, r.text
        problem(await http.get("/driver/v1/me", headers=phone), 401, "token_revoked")


async def test_a_code_works_once_expires_and_can_be_withdrawn(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_driver(http, carrier)
        pairings = f"/fleet/drivers/{driver['user_id']}/pairings"

        used = await new_code(http, carrier, driver["user_id"])
        r = await http.post("/driver/v1/pairing", json={"code": used["code"], "device_name": "first"})
        assert r.status_code == 201, r.text
        r = await http.post("/driver/v1/pairing", json={"code": used["code"], "device_name": "second"})
        problem(r, 401, "pairing_code_used")
        body = problem(
            await http.delete(f"{pairings}/{used['id']}", headers=carrier.headers), 409, "pairing_used"
        )
        assert body["device_token_id"] == (await device_tokens(http, carrier))[0]["id"]

        expired = await new_code(http, carrier, driver["user_id"])
        await db.execute(
            "UPDATE pairings SET created_at = now() - interval '11 minutes', "
            "expires_at = now() - interval '1 minute' WHERE id = $1",
            expired["id"],
        )
        r = await http.post("/driver/v1/pairing", json={"code": expired["code"], "device_name": "late"})
        assert "expired" in problem(r, 401, "pairing_code_expired")["detail"]
        assert (await http.get(pairings, headers=carrier.headers)).json() == []

        withdrawn = await new_code(http, carrier, driver["user_id"])
        assert (
            await http.delete(f"{pairings}/{withdrawn['id']}", headers=carrier.headers)
        ).status_code == 204
        r = await http.post("/driver/v1/pairing", json={"code": withdrawn["code"], "device_name": "x"})
        problem(r, 401, "pairing_code_invalid")
        problem(
            await http.delete(f"{pairings}/{withdrawn['id']}", headers=carrier.headers),
            404,
            "pairing_not_found",
        )

        # One phone only, from the one code that worked.
        assert [t["name"] for t in await device_tokens(http, carrier)] == ["first"]
        kinds = await db.fetch("SELECT type FROM events WHERE type LIKE 'pairing.%' ORDER BY id")
        assert [k["type"] for k in kinds] == ["pairing.created"] * 3 + ["pairing.revoked"]

        # The hourly purge forgets codes a day past their expiry, and only those.
        await db.execute(
            "UPDATE pairings SET created_at = now() - interval '3 days', "
            "expires_at = now() - interval '25 hours' WHERE id = $1",
            expired["id"],
        )
        await throttle.purge(db)
        left = {str(r["id"]) for r in await db.fetch("SELECT id FROM pairings")}
        assert left == {used["id"], withdrawn["id"]}


async def test_phones_racing_for_one_code_through_two_workers_exactly_one_wins(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_driver(http, carrier)
        phones = 5
        for round_ in range(2):
            created = await new_code(http, carrier, driver["user_id"])
            # One connection per phone, so the kernel spreads them over both workers.
            clients = [httpx.AsyncClient(base_url=server.base_url, timeout=30) for _ in range(phones)]
            try:
                answers = await asyncio.gather(
                    *(
                        c.post(
                            "/driver/v1/pairing", json={"code": created["code"], "device_name": f"phone {i}"}
                        )
                        for i, c in enumerate(clients)
                    )
                )
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))
            won = [r for r in answers if r.status_code == 201]
            assert len(won) == 1, [r.text for r in answers]
            for r in answers:
                if r.status_code != 201:
                    problem(r, 401, "pairing_code_used")
            stored = await db.fetchrow(
                "SELECT used_at, device_token_id FROM pairings WHERE id = $1", created["id"]
            )
            assert str(stored["device_token_id"]) == won[0].json()["device_id"]
            assert len(await device_tokens(http, carrier)) == round_ + 1
        # Each winner's token works.
        for token in await device_tokens(http, carrier):
            assert token["revoked_at"] is None


async def test_wrong_codes_from_one_address_are_throttled(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_driver(http, carrier)
        created = await new_code(http, carrier, driver["user_id"])
        guesses = ["ABCD-2345", "not a code!", "0000-0000", "ZZZZZZZZ", "ABCD-234"] + [
            f"QQQQ-{i:04d}" for i in range(9)
        ]
        wrong = [g for g in guesses if g.replace("-", "") != created["code"].replace("-", "")][:10]
        for guess in wrong:
            r = await http.post("/driver/v1/pairing", json={"code": guess, "device_name": "guesser"})
            problem(r, 401, "pairing_code_invalid")
        r = await http.post("/driver/v1/pairing", json={"code": "WXYZ-6789", "device_name": "guesser"})
        body = problem(r, 429, "pairing_throttled")
        assert 1 <= int(r.headers["retry-after"]) <= 60 and body["retry_after"] == int(
            r.headers["retry-after"]
        )
        # While the address waits, not even the right code is checked.
        r = await http.post("/driver/v1/pairing", json={"code": created["code"], "device_name": "phone"})
        problem(r, 429, "pairing_throttled")
        assert await device_tokens(http, carrier) == []
        # The code itself is still good for the driver's phone on another network (not consumed).
        r = await http.get(f"/fleet/drivers/{driver['user_id']}/pairings", headers=carrier.headers)
        assert [p["id"] for p in r.json()] == [created["id"]]


async def test_a_driver_pairs_by_signing_in_with_the_logins_rules(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        driver = await add_driver(http, carrier, name="Bo Driver")
        sign_in = {"email": driver["email"].upper(), "password": PASSWORD, "device_name": "Bo's iPhone"}
        r = await http.post("/driver/v1/pairing/sign-in", json=sign_in)
        assert r.status_code == 201, r.text
        paired = r.json()
        assert paired["driver"] == {"user_id": driver["user_id"], "name": "Bo Driver"}
        assert paired["organization"] == {"id": carrier.org_id, "name": "Haulers"}
        assert TRACKER_ID.match(paired["tracker_id"])
        r = await http.get("/driver/v1/me", headers={"Authorization": f"Bearer {paired['device_token']}"})
        assert r.status_code == 200 and r.json()["user_id"] == driver["user_id"]
        (token,) = await device_tokens(http, carrier)
        assert token["id"] == paired["device_id"] and token["name"] == "Bo's iPhone"

        # The login's errors and throttle: 5 checks of the account in a streak, then 429.
        wrong = sign_in | {"password": "not the password"}
        for _ in range(5):
            problem(await http.post("/driver/v1/pairing/sign-in", json=wrong), 401, "bad_credentials")
        r = await http.post("/driver/v1/pairing/sign-in", json=sign_in)
        problem(r, 429, "login_throttled")
        assert int(r.headers["retry-after"]) >= 1
        r = await http.post("/auth/login", json={"email": driver["email"], "password": PASSWORD})
        problem(r, 429, "login_throttled")  # one throttle for both doors
        assert len(await device_tokens(http, carrier)) == 1


async def test_only_drivers_of_the_callers_carrier_are_paired(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        other = await bootstrap_org(http, settings, "Other Haulers", ["carrier"])
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        clerk = await add_member(http, carrier, "dispatcher")
        driver = await add_driver(http, carrier)
        stranger = await add_driver(http, other)

        # A dispatcher signing in on a phone is refused: not a driver; nothing is issued.
        r = await http.post(
            "/driver/v1/pairing/sign-in",
            json={"email": clerk.email, "password": PASSWORD, "device_name": "clerk's phone"},
        )
        problem(r, 403, "not_a_driver")
        problem(
            await http.post(f"/fleet/drivers/{clerk.user_id}/pairings", headers=carrier.headers),
            409,
            "not_a_driver",
        )
        for user in (stranger["user_id"], "00000000-0000-4000-8000-000000000000"):
            r = await http.post(f"/fleet/drivers/{user}/pairings", headers=carrier.headers)
            problem(r, 404, "driver_not_found")
            problem(
                await http.get(f"/fleet/drivers/{user}/pairings", headers=carrier.headers),
                404,
                "driver_not_found",
            )
        problem(
            await http.post(f"/fleet/drivers/{driver['user_id']}/pairings", headers=mill.headers),
            403,
            "not_a_carrier",
        )
        looker = await add_member(http, carrier, "viewer")
        r = await http.post(f"/fleet/drivers/{driver['user_id']}/pairings", headers=looker.headers)
        problem(r, 403, "permission_missing")
        # A dispatcher (fleet.manage) may make one.
        r = await http.post(f"/fleet/drivers/{driver['user_id']}/pairings", headers=clerk.headers)
        assert r.status_code == 201, r.text

        # A code whose driver lost the drive permission before the phone used it pairs nothing.
        created = await new_code(http, carrier, driver["user_id"])
        viewer = (await http.get(f"/orgs/{carrier.org_id}/roles", headers=carrier.headers)).json()
        viewer_id = next(role["id"] for role in viewer if role["name"] == "viewer")
        r = await http.put(
            f"/orgs/{carrier.org_id}/members/{driver['user_id']}/roles",
            headers=carrier.headers,
            json={"role_ids": [viewer_id]},
        )
        assert r.status_code == 200, r.text
        r = await http.post("/driver/v1/pairing", json={"code": created["code"], "device_name": "phone"})
        problem(r, 403, "not_a_driver")
        assert await device_tokens(http, carrier) == []
        assert await db.fetchval("SELECT used_at FROM pairings WHERE id = $1", created["id"]) is None
