"""An award withdrawn (the carrier gives the job back, the poster cancels the award) and the re-tender:
nothing of the old award stays in force, and the next carrier completes the job."""

from __future__ import annotations

from typing import Any

from tests.gate_support import dispatched_loads, gate_site, next_slot, plan_and_assign
from tests.market_support import BERLIN, HAMBURG, create_site
from tests.support import add_member, bootstrap_org, problem
from tests.tracking_support import depart, point


async def verify(client: Any, w: dict[str, Any], code: str, plate: str) -> dict[str, Any]:
    r = await client.post(
        "/gate/verify",
        headers=w["staff"].headers,
        json={"site_id": w["site"]["id"], "code": code, "plate": plate},
    )
    assert r.status_code == 200, r.text
    verdict: dict[str, Any] = r.json()
    return verdict


async def book(client: Any, carrier: Any, load_id: str, slot: str) -> Any:
    return await client.put(f"/loads/{load_id}/booking", headers=carrier.headers, json={"slot_start": slot})


async def test_a_given_back_job_is_withdrawn_everywhere_and_the_next_carrier_completes_it(
    client, settings, db
):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    yard = await create_site(client, buyer, "Buyer yard", at=HAMBURG, shared=True)
    site = await gate_site(client, mill, places=1)  # one place a slot: a booking left behind would fill it
    w = await dispatched_loads(
        client, settings, loads=1, mill=mill, site=site, destination_site_id=yard["id"]
    )
    old, job, load = w["carrier"], w["job"], w["loads"][0]
    slot = next_slot(ahead=2).isoformat()
    assert (await book(client, old, load["id"], slot)).status_code == 200
    job_code = (await client.get(f"/jobs/{job['id']}/authorization", headers=old.headers)).json()["code"]
    load_code = (await client.get(f"/loads/{load['id']}", headers=old.headers)).json()["pickup_code"]
    plate = load["vehicle"]["plate"]
    assert (await verify(client, w, load_code, plate))["result"] == "valid"

    # Giving back needs a reason, and only the awarded carrier may.
    problem(await client.post(f"/jobs/{job['id']}/give-back", headers=old.headers, json={"reason": ""}), 400)
    stranger = await bootstrap_org(client, settings, "Stranger", ["carrier"])
    problem(
        await client.post(f"/jobs/{job['id']}/give-back", headers=stranger.headers, json={"reason": "x"}),
        404,
        "job_not_found",
    )
    r = await client.post(
        f"/jobs/{job['id']}/give-back", headers=old.headers, json={"reason": "our truck broke down"}
    )
    assert r.status_code == 200, r.text
    assert r.json() | {"job_id": None} == {
        "job_id": None,
        "status": "returned",
        "carrier_org_id": old.org_id,
        "by": "carrier",
        "reason": "our truck broke down",
        "loads_cancelled": 1,
    }
    # The old codes are refused at the gate, saying why.
    for code in (load_code, job_code):
        verdict = await verify(client, w, code, plate)
        assert verdict["valid"] is False and verdict["result"] == "award_given_back", verdict
        assert verdict["revoke_reason"] == "our truck broke down" and "gave the job back" in verdict["detail"]
    # The driver's phone drops the load and is told.
    assert (await client.get("/driver/v1/assignments", headers=load["device"])).json() == []
    messages = (await client.get("/driver/v1/messages", headers=load["device"])).json()
    assert [m["kind"] for m in messages["items"]][-1:] == ["load_withdrawn"], messages
    # The job waits for its poster, the carrier left out; the old carrier sees it no more.
    mine = (await client.get(f"/jobs/{job['id']}", headers=mill.headers)).json()
    assert mine["status"] == "returned" and mine["carrier_org_id"] is None
    assert mine["excluded_carrier_org_ids"] == [old.org_id]
    problem(await client.get(f"/jobs/{job['id']}", headers=old.headers), 404, "job_not_found")
    problem(
        await client.post(f"/jobs/{job['id']}/give-back", headers=old.headers, json={"reason": "again"}),
        404,
        "job_not_found",
    )

    # One action re-tenders it: never to the carrier that failed it.
    new = await bootstrap_org(client, settings, "New haulers", ["carrier"])
    retender = f"/jobs/{job['id']}/retender"
    problem(
        await client.post(
            retender,
            headers=mill.headers,
            json={"to": "tender", "carriers": [old.org_id], "window_seconds": 60},
        ),
        422,
        "carrier_excluded",
    )
    problem(
        await client.post(retender, headers=mill.headers, json={"to": "tender", "carriers": [new.org_id]}),
        422,
        "tender_window_required",
    )
    r = await client.post(
        retender,
        headers=mill.headers,
        json={"to": "tender", "carriers": [new.org_id], "window_seconds": 3600},
    )
    assert r.status_code == 200 and r.json()["status"] == "tendering", r.text
    problem(await client.post(retender, headers=mill.headers, json={"to": "market"}), 409, "job_not_returned")
    offer = (await client.get("/tenders", headers=new.headers)).json()[0]
    r = await client.post(f"/tenders/{offer['id']}/accept", headers=new.headers)
    assert r.status_code == 200 and r.json()["carrier_org_id"] == new.org_id, r.text

    # The new carrier plans afresh; its loads number on, and the freed slot takes its booking.
    [fresh] = await plan_and_assign(client, new, job["id"], loads=1)
    assert fresh["seq"] == 2
    assert [x["id"] for x in (await client.get(f"/jobs/{job['id']}/loads", headers=mill.headers)).json()] == [
        fresh["id"]
    ]
    r = await book(client, new, fresh["id"], slot)
    assert r.status_code == 200, r.text
    new_code = (await client.get(f"/loads/{fresh['id']}", headers=new.headers)).json()["pickup_code"]
    assert (await verify(client, w, new_code, fresh["vehicle"]["plate"]))["result"] == "valid"
    assert (await verify(client, w, load_code, plate))["result"] == "award_given_back"

    # Through the gate (the truck comes now, as a walk-in), on the road, received: the job completes.
    assert (await client.delete(f"/loads/{fresh['id']}/booking", headers=new.headers)).status_code == 200
    await depart(client, w, fresh)
    await db.execute(
        "UPDATE load_tracking SET departed_at = now() - interval '4 hours' WHERE load_id = $1", fresh["id"]
    )
    r = await client.post("/driver/v1/positions", headers=fresh["device"], json={"points": [point(*HAMBURG)]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    receiver = await add_member(client, buyer, "buyer")
    r = await client.post(
        f"/loads/{fresh['id']}/receipt",
        headers=receiver.headers,
        json={"received": {"weight_kg": 24_000}, "condition": "good", "signer_name": "K. Krause"},
    )
    assert r.status_code == 201, r.text
    assert (await client.get(f"/jobs/{job['id']}", headers=mill.headers)).json()["status"] == "completed"
    kinds = await db.fetch(
        "SELECT type FROM events WHERE subject_id = $1 AND type IN ('job.awarded', 'job.given_back',"
        " 'job.retendered', 'tender.offered', 'tender.accepted', 'job.completed') ORDER BY id",
        job["id"],
    )
    assert [k["type"] for k in kinds] == [
        "job.awarded",
        "job.given_back",
        "tender.offered",
        "job.retendered",
        "tender.accepted",
        "job.awarded",
        "job.completed",
    ]


async def test_the_poster_cancels_an_award_until_loading_starts_and_re_tenders_to_the_market(
    client, settings, db
):
    w = await dispatched_loads(client, settings, loads=2)
    mill, carrier, job = w["mill"], w["carrier"], w["job"]
    first, _still_waiting = w["loads"]
    await depart(client, w, first)  # loaded and gone
    r = await client.post(
        f"/jobs/{job['id']}/give-back", headers=carrier.headers, json={"reason": "changed plans"}
    )
    assert problem(r, 409, "loading_started")["load_ids"] == [first["id"]]
    problem(
        await client.post(f"/jobs/{job['id']}/cancel-award", headers=mill.headers, json={"reason": "late"}),
        409,
        "loading_started",
    )
    # Nothing changed: the award, its loads and its codes stand.
    assert (await client.get(f"/jobs/{job['id']}", headers=mill.headers)).json()["status"] == "dispatched"
    assert await db.fetchval("SELECT count(*) FROM loads WHERE status = 'cancelled'") == 0

    # Before loading, the poster withdraws the award; the gate names the cause. The truck waiting
    # in the yard leaves the queue.
    w2 = await dispatched_loads(client, settings, loads=1, mill=mill, site=w["site"])
    job2, load2 = w2["job"], w2["loads"][0]
    at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
    r = await client.post(f"/driver/v1/loads/{load2['id']}/check-in", headers=load2["device"], json=at_gate)
    assert r.status_code == 201, r.text
    board = f"/gate/sites/{w['site']['id']}/board"
    assert [
        x["load_id"] for x in (await client.get(board, headers=w["staff"].headers)).json()["waiting"]
    ] == [load2["id"]]
    code = (await client.get(f"/loads/{load2['id']}", headers=w2["carrier"].headers)).json()["pickup_code"]
    buyer_side = await bootstrap_org(client, settings, "Someone", ["shipper"])
    problem(
        await client.post(
            f"/jobs/{job2['id']}/cancel-award", headers=buyer_side.headers, json={"reason": "x"}
        ),
        404,
        "job_not_found",
    )
    r = await client.post(
        f"/jobs/{job2['id']}/cancel-award",
        headers=mill.headers,
        json={"reason": "the carrier missed two slots"},
    )
    assert r.status_code == 200 and r.json()["by"] == "poster", r.text
    verdict = await verify(client, w2, code, load2["vehicle"]["plate"])
    assert (
        verdict["result"] == "award_cancelled" and verdict["revoke_reason"] == "the carrier missed two slots"
    )
    assert (await client.get(board, headers=w["staff"].headers)).json()["waiting"] == []
    problem(
        await client.post(f"/jobs/{job2['id']}/cancel-award", headers=mill.headers, json={"reason": "again"}),
        409,
        "job_not_awarded",
    )
    # To the market as a grab: the excluded carrier cannot take it back, another can.
    problem(
        await client.post(f"/jobs/{job2['id']}/retender", headers=mill.headers, json={"to": "market"}),
        422,
        "deadline_required",
    )
    deadline = next_slot(ahead=4).isoformat()
    r = await client.post(
        f"/jobs/{job2['id']}/retender",
        headers=mill.headers,
        json={"to": "market", "mode": "grab", "price_minor": 280_000, "deadline": deadline},
    )
    assert r.status_code == 200 and r.json()["status"] == "open" and r.json()["price_minor"] == 280_000, (
        r.text
    )
    problem(
        await client.post(f"/jobs/{job2['id']}/grab", headers=w2["carrier"].headers), 409, "carrier_excluded"
    )
    other = await bootstrap_org(client, settings, "Other", ["carrier"])
    r = await client.post(f"/jobs/{job2['id']}/grab", headers=other.headers)
    assert r.status_code == 200 and r.json()["award_price_minor"] == 280_000, r.text
    retendered = await db.fetchval(
        "SELECT data FROM events WHERE type = 'job.retendered' AND subject_id = $1", job2["id"]
    )
    assert '"to": "market"' in retendered and w2["carrier"].org_id in retendered
