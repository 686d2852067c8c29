"""Plates of the Chinese market and the generic form: registered as typed, matched by one key,
refused with the rule they break, and verified at the gate however the staff spell them."""

# ruff: noqa: RUF001 (full-width letters and digits are what these tests type)

import shutil

import asyncpg
import pytest

from dispatch.db.migrate import DEFAULT_DIR, migrate
from tests.gate_support import dispatched_loads
from tests.market_support import awarded_ex_works_job
from tests.support import add_member, bootstrap_org, problem

TRUCK = {"vehicle_type": "flatbed", "capacity_kg": 25_000, "capacity_m3": 90}


async def _register(client, carrier, plate):
    return await client.post("/fleet/vehicles", headers=carrier.headers, json={**TRUCK, "plate": plate})


async def test_chinese_plates_are_kept_as_typed_and_two_spellings_of_one_collide(client, settings, db):
    carrier = await bootstrap_org(client, settings, "Tangshan Haulage", ["carrier"])
    for plate, key in (("京A12345", "京A12345"), ("粤B·D12345", "粤BD12345"), ("鲁C1234挂", "鲁C1234挂")):
        r = await _register(client, carrier, plate)
        assert r.status_code == 201, r.text
        assert r.json()["plate"] == plate  # shown as typed
        stored = await db.fetchval("SELECT plate FROM vehicles WHERE id = $1::uuid", r.json()["id"])
        assert stored == key
    # The same new-energy truck without the dot, with a space, in full-width letters: one key.
    for spelling in ("粤BD12345", "粤B D12345", "粤Ｂ－ｄ１２３４５"):
        problem(await _register(client, carrier, spelling), 409, "plate_taken")
    # Old European plates keep working beside them.
    assert (await _register(client, carrier, "B-AB 1234")).status_code == 201
    plates = [v["plate"] for v in (await client.get("/fleet/vehicles", headers=carrier.headers)).json()]
    assert sorted(plates) == sorted(["京A12345", "粤B·D12345", "鲁C1234挂", "B-AB 1234"])


@pytest.mark.parametrize(
    ("plate", "code", "rule", "why"),
    [
        ("京A1234", "invalid_plate", "cn_plate", "not a Chinese plate"),  # one character short
        ("粤BX123456", "invalid_plate", "cn_plate", "not a Chinese plate"),  # 8 without D or F
        ("AB京12", "invalid_plate", "generic_plate", "2 to 15 letters and digits"),
        ("京A1234学", "plate_class_not_allowed", "cn_class", "learner"),
        ("京A1234警", "plate_class_not_allowed", "cn_class", "police"),
        ("沪A1234领", "plate_class_not_allowed", "cn_class", "consulate"),
    ],
)
async def test_a_plate_breaking_its_rule_is_422_naming_field_and_rule_and_nothing_is_stored(
    client, settings, db, plate, code, rule, why
):
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    body = problem(await _register(client, carrier, plate), 422, code)
    assert body["errors"] == [
        {"field": "$.plate", "rule": rule, "reason": body["errors"][0]["reason"], "source": "body"}
    ]
    assert why in body["errors"][0]["reason"] and plate in body["detail"]
    assert await db.fetchval("SELECT count(*) FROM vehicles WHERE org_id = $1", carrier.org_id) == 0
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'vehicle.added'") == 0


async def _dispatched(client, settings, plate):
    """A mill's gate and one load of one coil on the carrier's truck `plate`, with a driver."""
    world = await dispatched_loads(client, settings, loads=1, plates=[plate])
    return world["site"], world["loads"][0], world["staff"]


@pytest.mark.parametrize(
    ("plate", "key", "as_the_gate_writes_it"),
    [
        ("京A12345", "京A12345", "京a 12345"),
        ("粤B·D12345", "粤BD12345", "粤Ｂ-Ｄ12345"),
        ("鲁C1234挂", "鲁C1234挂", "鲁C·1234 挂"),
    ],
)
async def test_a_chinese_truck_is_verified_and_checked_in_however_the_gate_spells_its_plate(
    client, settings, db, plate, key, as_the_gate_writes_it
):
    site, load, staff = await _dispatched(client, settings, plate)

    async def verify(spelling):
        body = {"site_id": site["id"], "code": load["pickup_code"], "plate": spelling}
        r = await client.post("/gate/verify", headers=staff.headers, json=body)
        assert r.status_code == 200, r.text
        return r.json()

    verdict = await verify(as_the_gate_writes_it)
    assert (verdict["result"], verdict["plate"], verdict["load_id"]) == ("valid", key, load["id"])
    assert (await verify("京B54321"))["result"] == "wrong_plate"
    logged = await db.fetch("SELECT plate, result FROM gate_verifications ORDER BY id")
    assert [(r["plate"], r["result"]) for r in logged] == [(key, "valid"), ("京B54321", "wrong_plate")]

    r = await client.post(
        "/gate/check-in",
        headers=staff.headers,
        json={"site_id": site["id"], "code": load["pickup_code"], "plate": as_the_gate_writes_it},
    )
    assert r.status_code == 201, r.text
    assert r.json()["load_id"] == load["id"] and r.json()["plate"] == plate  # the board shows it as typed


async def test_an_authorization_names_chinese_plates_by_their_key_and_refuses_a_learner_plate(
    client, settings, db
):
    mill, buyer, _, gate, _, job = await awarded_ex_works_job(client, settings)
    r = await client.post(
        f"/jobs/{job['id']}/authorization/revoke", headers=buyer.headers, json={"reason": "name the truck"}
    )
    assert r.status_code == 200, r.text
    before = await db.fetchval("SELECT count(*) FROM pickup_authorizations")

    url = f"/jobs/{job['id']}/authorization"
    body = problem(
        await client.post(url, headers=buyer.headers, json={"allowed_plates": ["粤B·D12345", "鲁C1234学"]}),
        422,
        "plate_class_not_allowed",
    )
    assert body["errors"][0]["field"] == "$.allowed_plates[1]" and "learner" in body["errors"][0]["reason"]
    assert await db.fetchval("SELECT count(*) FROM pickup_authorizations") == before  # nothing issued

    r = await client.post(url, headers=buyer.headers, json={"allowed_plates": ["粤B·D12345", "鲁C1234挂"]})
    assert r.status_code == 201, r.text
    auth = r.json()
    assert auth["allowed_plates"] == ["粤BD12345", "鲁C1234挂"]
    staff = await add_member(client, mill, "gate_staff")

    async def verify(plate):
        json = {"site_id": gate["id"], "code": auth["code"], "plate": plate}
        r = await client.post("/gate/verify", headers=staff.headers, json=json)
        assert r.status_code == 200, r.text
        return r.json()["result"]

    assert await verify("粤ｂ d１２３４５") == "valid"
    assert await verify("鲁C-1234 挂") == "valid"
    assert await verify("京A12345") == "wrong_plate"


async def test_migration_0009_keeps_stored_plates_and_takes_chinese_keys(empty_database_url, tmp_path):
    before, through_0009 = tmp_path / "migrations", tmp_path / "through_0009"
    before.mkdir()
    through_0009.mkdir()
    for f in sorted(DEFAULT_DIR.glob("*.sql")):
        if f.name < "0009":
            shutil.copy(f, before)
        if f.name < "0010":  # later migrations are not this test's subject
            shutil.copy(f, through_0009)
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn, before)
        org = await conn.fetchval(
            "INSERT INTO organizations (name, parties) VALUES ('H', '{carrier}') RETURNING id"
        )
        add = """INSERT INTO vehicles (org_id, plate, plate_display, vehicle_type, capacity_kg, capacity_m3)
                 VALUES ($1, $2, $3, 'flatbed', 25000, 90)"""
        await conn.execute(add, org, "BAB1234", "B-AB 1234")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute(add, org, "京A12345", "京A12345")  # what issue 18 found

        assert await migrate(conn, through_0009) == ["0009_plates.sql"]
        assert (
            await conn.fetchval("SELECT plate_display FROM vehicles WHERE plate = 'BAB1234'") == "B-AB 1234"
        )
        for key in ("京A12345", "粤BD12345", "鲁C1234挂"):
            await conn.execute(add, org, key, key)
        with pytest.raises(asyncpg.UniqueViolationError):
            await conn.execute(add, org, "粤BD12345", "粤B·D12345")  # one key, two spellings
        for not_a_key in ("京a12345", "京A1234学", "粤B·D12345"):
            with pytest.raises(asyncpg.CheckViolationError):
                await conn.execute(add, org, not_a_key, not_a_key)
    finally:
        await conn.close()
