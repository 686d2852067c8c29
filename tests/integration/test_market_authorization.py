"""The goods owner's pickup authorization and the gate's check of it."""

from uuid import UUID

from tests.market_support import awarded_ex_works_job, create_site, post_job
from tests.support import add_member, bootstrap_org, problem


async def _check(client, staff, site_id, code, plate="B-AB 1234", driver_id=None):
    body = {"site_id": site_id, "code": code, "plate": plate} | (
        {"driver_id": driver_id} if driver_id else {}
    )
    r = await client.post("/gate/verify", headers=staff.headers, json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def test_award_authorizes_automatically_and_the_gate_accepts_the_code(client, settings, db):
    mill, buyer, carrier, gate, _, job = await awarded_ex_works_job(client, settings)
    seen_by_carrier = (await client.get(f"/jobs/{job['id']}/authorization", headers=carrier.headers)).json()
    seen_by_buyer = (await client.get(f"/jobs/{job['id']}/authorization", headers=buyer.headers)).json()
    assert seen_by_carrier["code"] == seen_by_buyer["code"] and len(seen_by_carrier["code"]) == 14
    assert seen_by_carrier["issuer_org_id"] == buyer.org_id and seen_by_carrier["site_id"] == gate["id"]
    # The mill's gate is no party to the authorization's secret.
    problem(await client.get(f"/jobs/{job['id']}/authorization", headers=mill.headers), 404)

    staff = await add_member(client, mill, "gate_staff")
    verdict = await _check(client, staff, gate["id"], seen_by_carrier["code"].lower().replace("-", " "))
    assert verdict["valid"] is True and verdict["result"] == "valid"
    assert verdict["job_id"] == job["id"] and verdict["carrier_org_id"] == carrier.org_id
    assert await db.fetchval("SELECT result FROM gate_verifications") == "valid"


async def test_the_gate_refuses_with_the_reason(client, settings, db):
    mill, buyer, carrier, gate, _, job = await awarded_ex_works_job(client, settings)
    staff = await add_member(client, mill, "gate_staff")
    other_site = await create_site(client, mill, "Other mill site", at=(13.5, 52.6))
    old = (await client.get(f"/jobs/{job['id']}/authorization", headers=carrier.headers)).json()

    assert (await _check(client, staff, gate["id"], "ZZZZ-ZZZZ-ZZZZ"))["result"] == "unknown_code"
    assert (await _check(client, staff, other_site["id"], old["code"]))["result"] == "wrong_site"

    # The buyer narrows the authorization to one truck: revoke, then issue anew.
    revoked = await client.post(
        f"/jobs/{job['id']}/authorization/revoke",
        headers=buyer.headers,
        json={"reason": "carrier named its truck"},
    )
    assert revoked.status_code == 200 and revoked.json()["code"] is None
    verdict = await _check(client, staff, gate["id"], old["code"])
    assert (verdict["valid"], verdict["result"]) == (False, "revoked")
    assert "revoked" in verdict["detail"]

    r = await client.post(
        f"/jobs/{job['id']}/authorization", headers=buyer.headers, json={"allowed_plates": ["B-AB 1234"]}
    )
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["code"] != old["code"] and new["allowed_plates"] == ["BAB1234"]
    assert (await _check(client, staff, gate["id"], new["code"], plate="HH-XY 99"))["result"] == "wrong_plate"
    assert (await _check(client, staff, gate["id"], new["code"], plate="b ab-1234"))["result"] == "valid"

    await db.execute(
        "UPDATE pickup_authorizations SET valid_until = now() - interval '1 minute', "
        "valid_from = now() - interval '2 days' WHERE id = $1",
        UUID(new["id"]),
    )
    assert (await _check(client, staff, gate["id"], new["code"]))["result"] == "expired"
    await db.execute(
        "UPDATE pickup_authorizations SET valid_from = now() + interval '1 day', "
        "valid_until = now() + interval '2 days' WHERE id = $1",
        UUID(new["id"]),
    )
    assert (await _check(client, staff, gate["id"], new["code"]))["result"] == "not_yet_valid"

    # Every check was logged, valid or not.
    results = [r["result"] for r in await db.fetch("SELECT result FROM gate_verifications ORDER BY id")]
    assert results == [
        "unknown_code",
        "wrong_site",
        "revoked",
        "wrong_plate",
        "valid",
        "expired",
        "not_yet_valid",
    ]


async def test_only_the_goods_owner_authorizes_and_only_at_its_own_gate(client, settings):
    mill, buyer, carrier, gate, _, job = await awarded_ex_works_job(client, settings)
    problem(
        await client.post(
            f"/jobs/{job['id']}/authorization/revoke", headers=mill.headers, json={"reason": "x"}
        ),
        404,
        "authorization_not_found",
    )
    await client.post(f"/jobs/{job['id']}/authorization/revoke", headers=buyer.headers, json={"reason": "x"})
    problem(
        await client.post(f"/jobs/{job['id']}/authorization", headers=mill.headers, json={}),
        403,
        "not_the_goods_owner",
    )
    problem(
        await client.post(f"/jobs/{job['id']}/authorization", headers=carrier.headers, json={}),
        403,
        "not_the_goods_owner",
    )
    # The buyer has no gate: it cannot check codes at the mill's site.
    problem(
        await client.post(
            "/gate/verify",
            headers=buyer.headers,
            json={"site_id": gate["id"], "code": "ABCD-EFGH-JKMN", "plate": "B-AB 1"},
        ),
        404,
        "site_not_found",
    )


async def test_with_auto_authorization_off_the_owner_issues_by_hand(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    r = await client.put("/market/settings", headers=mill.headers, json={"auto_authorize_pickup": False})
    assert r.status_code == 200
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"])
    await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)
    problem(await client.get(f"/jobs/{job['id']}/authorization", headers=carrier.headers), 404)
    r = await client.post(f"/jobs/{job['id']}/authorization", headers=mill.headers, json={})
    assert r.status_code == 201 and r.json()["issuer_org_id"] == mill.org_id
    problem(
        await client.post(f"/jobs/{job['id']}/authorization", headers=mill.headers, json={}),
        409,
        "authorization_exists",
    )
