"""Receipt: the proof of delivery against what was loaded, chained to the loading evidence, ending
the tracking; racing receipts complete the job exactly once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.market_support import HAMBURG
from tests.support import add_member, problem
from tests.tracking_support import depart, loads_in_transit, point, route

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def receipt(**over: Any) -> dict[str, Any]:
    return {"received": {"weight_kg": 23_950}, "condition": "good", "signer_name": "K. Krause"} | over


async def at_the_buyer(client: Any, db: Any, load: dict[str, Any]) -> None:
    """The truck reports from inside the buyer's yard (a trip started four hours ago, if it has no
    fix yet: the first fix must be reachable from the mill)."""
    await db.execute(
        "UPDATE load_tracking SET departed_at = now() - interval '4 hours'"
        " WHERE load_id = $1 AND last_recorded_at IS NULL",
        load["id"],
    )
    r = await client.post("/driver/v1/positions", headers=load["device"], json={"points": [point(*HAMBURG)]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


async def test_a_shortfall_is_measured_against_the_weighbridge_and_chained_to_the_evidence(
    client, settings, db
):
    w = await loads_in_transit(client, settings, depart_all=False)
    load = w["loads"][0]
    evidence = f"/loads/{load['id']}/evidence"
    for body in (
        {"kind": "weighbridge_tare", "weight_kg": 14_200, "weighbridge_id": "WB-1"},
        {"kind": "weighbridge_gross", "weight_kg": 38_210, "weighbridge_id": "WB-1"},  # net 24,010
        {"kind": "seal", "seal_numbers": ["S-1001"]},
    ):
        assert (await client.post(evidence, headers=w["staff"].headers, json=body)).status_code == 201
    await depart(client, w, load)
    # The truck left three hours ago and reported near the mill: receipt needs the truck at the
    # yard, or a reason.
    await db.execute("UPDATE load_tracking SET departed_at = now() - interval '3 hours'")
    early = route(3, start=datetime.now(UTC) - timedelta(hours=3))
    r = await client.post("/driver/v1/positions", headers=load["device"], json={"points": early})
    assert r.json()["accepted"] == 3, r.text
    r = await client.post(f"/loads/{load['id']}/receipt", headers=w["receiver"].headers, json=receipt())
    assert "outside the destination" in problem(r, 422, "outside_destination")["detail"]
    assert await db.fetchval("SELECT count(*) FROM receipts") == 0
    await at_the_buyer(client, db, load)
    # The buyer photographs the damage at unloading; the photo joins the load's evidence.
    r = await client.post(
        f"{evidence}/photos",
        headers=w["receiver"].headers,
        files={"file": ("dent.png", PNG, "image/png")},
        data={"caption": "dented coil edge"},
    )
    assert r.status_code == 201, r.text
    sha = hashlib.sha256(PNG).hexdigest()
    body = receipt(
        condition="damaged",
        discrepancies=[
            {"type": "shortage", "notes": "60 kg short on our weighbridge"},
            {"type": "damage", "notes": "edge dented", "photos": [sha]},
        ],
        notes="Unloaded at bay 4",
    )
    r = await client.post(f"/loads/{load['id']}/receipt", headers=w["receiver"].headers, json=body)
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["received_weight_kg"], got["loaded_net_kg"], got["loaded_net_source"]) == (
        23_950,
        24_010,
        "weighbridge",
    )
    assert got["discrepancy_kg"] == -60 and got["discrepancy_pct"] == -0.25
    assert got["items"] == [{"line": 0, "loaded": 1, "received": 1, "difference": 0}]
    assert got["inside_geofence"] is True and got["override_reason"] is None
    assert got["job_status"] == "completed" and got["evidence_seq"] == 5
    # The proof of delivery is the last record of the chain, which still verifies.
    records = (await client.get(evidence, headers=w["mill"].headers)).json()
    assert [r["kind"] for r in records] == [
        "weighbridge_tare",
        "weighbridge_gross",
        "seal",
        "photo",
        "receipt",
    ]
    pod = records[-1]
    assert pod["hash"] == got["evidence_hash"] and pod["prev_hash"] == records[-2]["hash"]
    assert pod["data"]["discrepancy_kg"] == -60 and pod["recorder_org_id"] == w["buyer"].org_id
    assert pod["position"] == {"lat": HAMBURG[1], "lon": HAMBURG[0]}
    verdict = (await client.get(f"{evidence}/verify", headers=w["carrier"].headers)).json()
    assert verdict["ok"] is True and verdict["records"] == 5
    assert (await client.get(f"/loads/{load['id']}/receipt", headers=w["carrier"].headers)).json() == got
    types = [r["type"] for r in await db.fetch("SELECT type FROM events ORDER BY id")]
    assert types[-2:] == ["load.received", "job.completed"]
    assert await db.fetchval("SELECT status FROM jobs WHERE id = $1", w["job"]["id"]) == "completed"


async def test_only_the_consignee_confirms_once_and_bad_receipts_change_nothing(client, settings, db):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    url = f"/loads/{load['id']}/receipt"
    await at_the_buyer(client, db, load)
    seller = await add_member(client, w["mill"], "shipper")
    problem(await client.post(url, headers=seller.headers, json=receipt()), 403, "permission_missing")
    problem(await client.post(url, headers=w["mill"].headers, json=receipt()), 403, "not_the_consignee")
    other = await loads_in_transit(client, settings)
    problem(await client.post(url, headers=other["receiver"].headers, json=receipt()), 404, "load_not_found")
    problem(await client.post(url, headers=w["receiver"].headers, json=receipt(condition="lost")), 400)
    nothing = receipt(received={})
    problem(await client.post(url, headers=w["receiver"].headers, json=nothing), 422, "received_required")
    bad_photo = receipt(discrepancies=[{"type": "damage", "photos": ["0" * 64]}])
    problem(
        await client.post(url, headers=w["receiver"].headers, json=bad_photo), 422, "photo_not_in_evidence"
    )
    no_line = receipt(received={"items": [{"line": 3, "count": 1}]})
    problem(await client.post(url, headers=w["receiver"].headers, json=no_line), 422, "no_such_line")
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", load["id"]) == "arrived"
    assert await db.fetchval("SELECT count(*) FROM evidence_records WHERE kind = 'receipt'") == 0
    # Counting items: no coil arrived at all (the weight follows from the counts).
    r = await client.post(
        url, headers=w["receiver"].headers, json=receipt(received={"items": [{"line": 0, "count": 0}]})
    )
    assert r.status_code == 201, r.text
    assert r.json()["received_weight_kg"] == 0 and r.json()["loaded_net_source"] == "plan"
    assert r.json()["items"][0]["difference"] == -1
    problem(await client.post(url, headers=w["receiver"].headers, json=receipt()), 409, "already_received")


@pytest.mark.server
async def test_the_drawn_signature_is_a_png_in_the_evidence_and_a_bad_one_stores_nothing(
    client, settings, db
):
    w = await loads_in_transit(client, settings)
    load = w["loads"][0]
    url = f"/loads/{load['id']}/receipt"
    await at_the_buyer(client, db, load)
    photos = f"/loads/{load['id']}/evidence/photos"
    # The buyer's photo of the dent (not a signature: a JPEG) and the drawn signature (a PNG), both
    # uploaded by the consignee into the load's evidence.
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 32
    r = await client.post(
        photos, headers=w["receiver"].headers, files={"file": ("dent.jpg", jpeg, "image/jpeg")}
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        photos,
        headers=w["receiver"].headers,
        files={"file": ("signature.png", PNG, "image/png")},
        data={"caption": "signature"},
    )
    assert r.status_code == 201, r.text
    signature = hashlib.sha256(PNG).hexdigest()
    records = await db.fetchval("SELECT count(*) FROM evidence_records WHERE load_id = $1", load["id"])
    for bad in ("0" * 64, hashlib.sha256(jpeg).hexdigest()):  # unknown, or not a PNG
        body = problem(
            await client.post(url, headers=w["receiver"].headers, json=receipt(signature=bad)),
            422,
            "signature_not_in_evidence",
        )
        assert body["errors"][0]["field"] == "$.signature"
    problem(await client.post(url, headers=w["receiver"].headers, json=receipt(signature="not-a-hash")), 400)
    assert await db.fetchval("SELECT count(*) FROM receipts") == 0
    assert await db.fetchval("SELECT status FROM loads WHERE id = $1", load["id"]) == "arrived"
    assert (
        await db.fetchval("SELECT count(*) FROM evidence_records WHERE load_id = $1", load["id"]) == records
    )

    r = await client.post(url, headers=w["receiver"].headers, json=receipt(signature=signature))
    assert r.status_code == 201, r.text
    assert r.json()["signature"] == signature
    assert (await client.get(url, headers=w["mill"].headers)).json()["signature"] == signature
    assert (
        await db.fetchval("SELECT signature_sha256 FROM receipts WHERE load_id = $1", load["id"]) == signature
    )
    # The signature is chained in the proof of delivery and served to the job's parties.
    pod = await db.fetchval(
        "SELECT data ->> 'signature' FROM evidence_records WHERE load_id = $1 AND kind = 'receipt'",
        load["id"],
    )
    assert pod == signature
    r = await client.get(f"/evidence/photos/{signature}", headers=w["carrier"].headers)
    assert r.status_code == 200 and r.content == PNG and r.headers["content-type"] == "image/png"


async def test_racing_receipts_complete_the_job_exactly_once(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=4)
        for load in w["loads"]:
            await at_the_buyer(http, db, load)
        second = await add_member(http, w["buyer"], "buyer")
        # Every load confirmed twice at once (two people at the yard), all loads together.
        answers = await asyncio.gather(
            *(
                http.post(f"/loads/{load['id']}/receipt", headers=who.headers, json=receipt())
                for load in w["loads"]
                for who in (w["receiver"], second)
            )
        )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 4 + [409] * 4, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"already_received"}
    assert await db.fetchval("SELECT count(*) FROM receipts") == 4
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'job.completed'") == 1
    assert await db.fetchval("SELECT status FROM jobs WHERE id = $1", w["job"]["id"]) == "completed"
    assert await db.fetchval("SELECT count(*) FROM evidence_records WHERE kind = 'receipt'") == 4


@pytest.mark.server
async def test_points_racing_the_receipt_are_either_stored_before_it_or_refused(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        await at_the_buyer(http, db, load)
        # A truck creeping through the yard after its arrival fix, a fix a second 70 cm apart (the last
        # 40 s ahead, within the clock skew allowed): plausible in whatever order the racing posts
        # arrive, where fixes microseconds apart would be impossible jumps.
        start = datetime.now(UTC)
        fixes = [
            point(HAMBURG[0] + 0.00001 * i, HAMBURG[1], at=start + timedelta(seconds=i)) for i in range(1, 41)
        ]
        posts = [
            http.post("/driver/v1/positions", headers=load["device"], json={"points": [f]}) for f in fixes
        ]
        confirm = http.post(f"/loads/{load['id']}/receipt", headers=w["receiver"].headers, json=receipt())
        *answers, confirmed = await asyncio.gather(*posts, confirm)
    assert confirmed.status_code == 201, confirmed.text
    stored = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code != 200]
    assert all(r.status_code == 409 and r.json()["code"] == "load_received" for r in refused)
    assert all(r.json()["accepted"] == 1 for r in stored), [
        r.json() for r in stored if r.json()["accepted"] != 1
    ]
    rows = await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load["id"])
    assert rows == 1 + len(stored)  # the arrival fix, and each accepted one: nothing after the receipt
    last_seq = await db.fetchval("SELECT last_seq FROM load_tracking WHERE load_id = $1", load["id"])
    assert last_seq == rows


BIG_JOB_LOADS = 40  # a big job (issue 21): most receipts find a witness, the tail does not


@pytest.mark.server
async def test_every_load_of_a_big_job_received_at_once_completes_it_once(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as http:
        w = await loads_in_transit(http, settings, loads=BIG_JOB_LOADS)
        for load in w["loads"]:
            await at_the_buyer(http, db, load)
        answers = await asyncio.gather(
            *(
                http.post(f"/loads/{load['id']}/receipt", headers=w["receiver"].headers, json=receipt())
                for load in w["loads"]
            )
        )
    assert [r.status_code for r in answers] == [201] * BIG_JOB_LOADS, [r.text for r in answers]
    # Only the receipt that completed the job can see it completed: exactly one says so.
    assert [r.json()["job_status"] for r in answers].count("completed") == 1
    assert await db.fetchval("SELECT count(*) FROM events WHERE type = 'job.completed'") == 1
    assert await db.fetchval("SELECT status FROM jobs WHERE id = $1", w["job"]["id"]) == "completed"
    received = await db.fetchval(
        "SELECT count(*) FROM loads WHERE job_id = $1 AND status = 'received'", w["job"]["id"]
    )
    assert received == BIG_JOB_LOADS
