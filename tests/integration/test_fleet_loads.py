"""Fleet, plans, loads, assignment and per-load pickup codes, through the API."""

import asyncio
import json
import subprocess
import sys
from datetime import timedelta
from uuid import UUID

from tests.conftest import ROOT
from tests.market_support import HAMBURG, create_site, iso, post_job
from tests.support import PASSWORD, add_member, bootstrap_org, login, problem

COILS = {
    "kind": "items",
    "lines": [
        {"description": "hot-rolled coil", "count": 5, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2},
        {"description": "steel sheet bundle", "count": 5, "unit_weight_kg": 900, "unit_volume_m3": 1.1},
    ],
}


async def _vehicle(client, carrier, plate, kg=25_000, m3=90, cost=45_000, kind="flatbed"):
    r = await client.post(
        "/fleet/vehicles",
        headers=carrier.headers,
        json={
            "plate": plate,
            "vehicle_type": kind,
            "capacity_kg": kg,
            "capacity_m3": m3,
            "cost_per_trip_minor": cost,
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _driver(client, carrier, name):
    email = f"{name.lower().replace(' ', '.')}@haulers.test"
    r = await client.post(
        "/fleet/drivers",
        headers=carrier.headers,
        json={
            "email": email,
            "name": name,
            "password": PASSWORD,
            "phone": "+49 170 1234567",
            "licence_number": "B123456",
        },
    )
    assert r.status_code == 201, r.text
    return r.json() | {"email": email}


async def _awarded(client, settings, carrier=None, mill=None, cargo=COILS, hours=(1, 30)):
    mill = mill or await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = carrier or await bootstrap_org(client, settings, "Haulers", ["carrier"])
    site = await create_site(client, mill, f"Mill {hours}")
    job = await post_job(
        client,
        mill,
        site["id"],
        cargo=cargo,
        pickup_from=iso(timedelta(hours=hours[0])),
        pickup_until=iso(timedelta(hours=hours[1])),
        deliver_by=iso(timedelta(hours=60)),
    )
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)).status_code == 200
    return mill, carrier, site, job


async def test_plan_splits_by_capacity_and_confirming_twice_creates_nothing_new(client, settings, db):
    mill, carrier, _, job = await _awarded(client, settings)
    for plate in ("B-HL 101", "B-HL 102"):
        await _vehicle(client, carrier, plate)
    r = await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    assert r.status_code == 201, r.text
    plan = r.json()
    # 5 coils of 24 t: one per 25 t truck; a 900 kg sheet bundle rides along with each: 5 trips.
    assert plan["trips"] == 5 and plan["lower_bound"] == 5 and plan["optimal"] is True
    assert all(load["weight_kg"] <= 25_000 for load in plan["loads"])
    coils = sum(i["count"] for load in plan["loads"] for i in load["items"] if i["line"] == 0)
    sheets = sum(i["count"] for load in plan["loads"] for i in load["items"] if i["line"] == 1)
    assert (coils, sheets) == (5, 5)
    assert {load["plate"] for load in plan["loads"]} == {"B-HL 101", "B-HL 102"}  # repeat trips across both

    first = await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)
    again = await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)
    assert first.status_code == again.status_code == 200
    assert [x["id"] for x in first.json()] == [x["id"] for x in again.json()]
    assert await db.fetchval("SELECT count(*) FROM loads WHERE job_id = $1", UUID(job["id"])) == 5
    problem(
        await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={}), 409, "plan_confirmed"
    )
    # The shipper sees the loads, without their pickup codes.
    seen = (await client.get(f"/jobs/{job['id']}/loads", headers=mill.headers)).json()
    assert len(seen) == 5 and all(x["pickup_code"] is None for x in seen)


async def test_concurrent_confirmations_create_one_set_of_loads(client, settings, db):
    _, carrier, _, job = await _awarded(client, settings)
    await _vehicle(client, carrier, "B-HL 101")
    await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    answers = await asyncio.gather(
        *[client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers) for _ in range(8)]
    )
    assert {a.status_code for a in answers} == {200}
    assert len({tuple(x["id"] for x in a.json()) for a in answers}) == 1
    assert await db.fetchval("SELECT count(*) FROM loads") == 5


async def test_an_edit_that_overloads_a_vehicle_is_refused_naming_load_and_limit(client, settings, db):
    _, carrier, _, job = await _awarded(client, settings)
    truck = await _vehicle(client, carrier, "B-HL 101")
    plan = (await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})).json()
    two_coils = {
        "loads": [
            {"vehicle_id": truck["id"], "items": [2, 5]},
            *[{"vehicle_id": truck["id"], "items": [1, 0]} for _ in range(3)],
        ]
    }
    body = problem(
        await client.put(f"/jobs/{job['id']}/plan", headers=carrier.headers, json=two_coils),
        422,
        "plan_invalid",
    )
    first = body["violations"][0]
    assert first["load"] == 0 and first["code"] == "overweight"
    assert "B-HL 101" in first["detail"] and "25,000" in first["detail"]
    # A valid edit is kept and marked as edited; the stored plan is unchanged by the refused one.
    assert (await client.get(f"/jobs/{job['id']}/plan", headers=carrier.headers)).json()["loads"] == plan[
        "loads"
    ]
    ok = {"loads": [{"vehicle_id": truck["id"], "items": [1, 1]} for _ in range(5)]}
    edited = (await client.put(f"/jobs/{job['id']}/plan", headers=carrier.headers, json=ok)).json()
    assert edited["edited"] is True and [x["trip"] for x in edited["loads"]] == [1, 2, 3, 4, 5]
    # Items that do not add up to the order are refused too.
    short = {"loads": [{"vehicle_id": truck["id"], "items": [1, 1]}]}
    body = problem(
        await client.put(f"/jobs/{job['id']}/plan", headers=carrier.headers, json=short), 422, "plan_invalid"
    )
    assert any(v["code"] == "items_mismatch" for v in body["violations"])


async def test_only_the_awarded_carrier_plans_and_only_with_fitting_vehicles(client, settings):
    _, carrier, _, job = await _awarded(client, settings)
    rival = await bootstrap_org(client, settings, "Rival", ["carrier"])
    await _vehicle(client, rival, "HH-R 1")
    problem(
        await client.post(f"/jobs/{job['id']}/plan", headers=rival.headers, json={}), 404, "job_not_found"
    )
    problem(
        await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={}), 422, "no_vehicles"
    )
    tanker = await _vehicle(client, carrier, "B-T 1", kind="tanker")
    problem(
        await client.post(
            f"/jobs/{job['id']}/plan", headers=carrier.headers, json={"vehicle_ids": [tanker["id"]]}
        ),
        422,
        "vehicle_not_usable",
    )
    small = await _vehicle(client, carrier, "B-S 1", kg=12_000, m3=40)
    body = problem(
        await client.post(
            f"/jobs/{job['id']}/plan", headers=carrier.headers, json={"vehicle_ids": [small["id"]]}
        ),
        422,
        "item_fits_no_vehicle",
    )
    assert "coil" in body["detail"]


async def test_assigning_drivers_dispatches_the_job_and_busy_drivers_are_refused(client, settings, db):
    mill, carrier, _, job = await _awarded(client, settings)
    trucks = [await _vehicle(client, carrier, f"B-HL 10{i}") for i in range(3)]
    alice, bob = await _driver(client, carrier, "Alice Driver"), await _driver(client, carrier, "Bob Driver")
    await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    loads = (await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)).json()
    for i, load in enumerate(loads):
        driver = alice if i % 2 == 0 else bob
        r = await client.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": driver["user_id"]},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "assigned" and r.json()["driver"]["name"] == driver["name"]
        expected = "dispatched" if i == len(loads) - 1 else "awarded"
        assert (await client.get(f"/jobs/{job['id']}", headers=carrier.headers)).json()["status"] == expected

    # A second job whose pickup window overlaps: Alice and the trucks are busy, a new driver is not.
    _, _, _, other = await _awarded(client, settings, carrier=carrier, mill=mill, hours=(2, 20))
    await client.post(
        f"/jobs/{other['id']}/plan", headers=carrier.headers, json={"vehicle_ids": [trucks[2]["id"]]}
    )
    body = problem(
        await client.post(f"/jobs/{other['id']}/plan/confirm", headers=carrier.headers), 409, "vehicle_busy"
    )
    assert "B-HL 102" in body["detail"]
    spare = await _vehicle(client, carrier, "B-HL 200")
    await client.post(
        f"/jobs/{other['id']}/plan", headers=carrier.headers, json={"vehicle_ids": [spare["id"]]}
    )
    other_loads = (await client.post(f"/jobs/{other['id']}/plan/confirm", headers=carrier.headers)).json()
    body = problem(
        await client.put(
            f"/loads/{other_loads[0]['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": alice["user_id"]},
        ),
        409,
        "driver_busy",
    )
    assert "overlaps" in body["detail"]
    carol = await _driver(client, carrier, "Carol Driver")
    problem(
        await client.put(
            f"/loads/{other_loads[0]['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": carol["user_id"], "vehicle_id": trucks[0]["id"]},
        ),
        409,
        "vehicle_busy",
    )
    r = await client.put(
        f"/loads/{other_loads[0]['id']}/assignment",
        headers=carrier.headers,
        json={"driver_user_id": carol["user_id"]},
    )
    assert r.status_code == 200


async def test_each_load_has_its_own_code_bound_to_truck_and_driver(client, settings):
    mill, carrier, site, job = await _awarded(client, settings)
    truck = await _vehicle(client, carrier, "B-HL 101")
    alice, bob = await _driver(client, carrier, "Alice Driver"), await _driver(client, carrier, "Bob Driver")
    await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    load = (await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)).json()[0]
    assigned = (
        await client.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": alice["user_id"]},
        )
    ).json()
    staff = await add_member(client, mill, "gate_staff")

    async def check(code, plate="B-HL 101", driver=None):
        body = {"site_id": site["id"], "code": code, "plate": plate} | (
            {"driver_id": driver} if driver else {}
        )
        return (await client.post("/gate/verify", headers=staff.headers, json=body)).json()

    verdict = await check(assigned["pickup_code"], driver=alice["user_id"])
    assert verdict["result"] == "valid" and verdict["load_id"] == load["id"]
    assert verdict["plate"] == "BHL101" and verdict["driver_name"] == "Alice Driver"
    assert (await check(assigned["pickup_code"], plate="HH-XX 1"))["result"] == "wrong_plate"
    assert (await check(assigned["pickup_code"], driver=bob["user_id"]))["result"] == "wrong_driver"
    # Reassigning changes the code: the old one no longer opens the gate.
    reassigned = (
        await client.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": bob["user_id"]},
        )
    ).json()
    assert reassigned["pickup_code"] != assigned["pickup_code"]
    assert (await check(assigned["pickup_code"]))["result"] == "unknown_code"
    assert (await check(reassigned["pickup_code"], driver=bob["user_id"]))["result"] == "valid"
    assert truck["id"] == reassigned["vehicle"]["id"]


async def test_the_driver_phone_lists_its_assignments(client, settings):
    _, carrier, _, job = await _awarded(client, settings)
    await _vehicle(client, carrier, "B-HL 101")
    alice = await _driver(client, carrier, "Alice Driver")
    await client.post(f"/jobs/{job['id']}/plan", headers=carrier.headers, json={})
    loads = (await client.post(f"/jobs/{job['id']}/plan/confirm", headers=carrier.headers)).json()
    await client.put(
        f"/loads/{loads[0]['id']}/assignment",
        headers=carrier.headers,
        json={"driver_user_id": alice["user_id"]},
    )
    device = (
        await client.post(
            f"/orgs/{carrier.org_id}/device-tokens",
            headers=carrier.headers,
            json={"user_id": alice["user_id"], "name": "Alice's phone"},
        )
    ).json()
    mine = (
        await client.get("/driver/v1/assignments", headers={"Authorization": f"Bearer {device['token']}"})
    ).json()
    assert [x["id"] for x in mine] == [loads[0]["id"]] and mine[0]["pickup_code"]
    # The driver's own login (not a device) is for the platform, where it can do nothing here.
    token = await login(client, alice["email"])
    problem(await client.get("/driver/v1/assignments", headers={"Authorization": f"Bearer {token}"}), 403)


def test_dispatch_plan_reads_json_and_prints_the_plan(tmp_path):
    request = {
        "cargo": {"kind": "bulk", "description": "wheat", "weight_kg": 100_000, "volume_m3": 130.0},
        "vehicles": [{"id": "B-XY 1", "capacity_kg": 25_000, "capacity_m3": 90, "cost_per_trip": 45_000}],
    }
    result = subprocess.run(
        [sys.executable, "-m", "dispatch", "plan"],
        input=json.dumps(request),
        text=True,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["trips"] == 4 and [x["bulk_kg"] for x in plan["loads"]] == [25_000] * 4
    file = tmp_path / "cargo.json"
    file.write_text(json.dumps({**request, "vehicles": []}))
    result = subprocess.run(
        [sys.executable, "-m", "dispatch", "plan", str(file)],
        text=True,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode != 0 and "vehicles" in (result.stdout + result.stderr)
    assert HAMBURG
