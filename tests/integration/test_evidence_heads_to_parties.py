"""Issue 22, item 3: each evidence record's chain head goes out as an event to the shipper and the
consignee (and the job's other parties) when it is written, so each holds its own copy; a later
rewrite of the evidence table, even one that also rewrites the server's own copy of the heads (the
event rows), is provable from the heads a party received."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from dispatch.evidence.verify import verify_bundle
from tests.integration.test_evidence import REWRITE, Scene, _behind_the_api, _readme_hash, _record, _scene
from tests.support import Account


async def _heads(client: Any, party: Account) -> dict[int, str]:
    """What a party's system keeps: seq -> head, read from its own events feed."""
    r = await client.get(
        "/events", headers=party.headers, params={"types": "evidence.recorded", "limit": 500}
    )
    assert r.status_code == 200, r.text
    return {e["data"]["seq"]: e["data"]["head"] for e in r.json()["items"]}


async def _export(client: Any, scene: Scene, party: Account) -> dict[str, Any]:
    r = await client.get(f"{scene.evidence}/export", headers=party.headers)
    assert r.status_code == 200, r.text
    bundle: dict[str, Any] = r.json()
    return bundle


async def test_each_party_keeps_the_heads_and_a_full_rewrite_is_provable_from_them(client, settings, db):
    scene = await _scene(client, settings)
    await _record(client, scene, {"kind": "weighbridge_tare", "weight_kg": 14_000, "weighbridge_id": "WB-1"})
    await _record(client, scene, {"kind": "weighbridge_gross", "weight_kg": 38_000, "weighbridge_id": "WB-1"})
    await _record(client, scene, {"kind": "seal", "seal_numbers": ["S-1", "S-2"]})
    await _record(client, scene, {"kind": "note", "text": "loaded clean"})
    records = (await client.get(scene.evidence, headers=scene.mill.headers)).json()

    # The shipper and the consignee (and the carrier) each received every head, with its seq.
    shipper_heads = await _heads(client, scene.mill)
    consignee_heads = await _heads(client, scene.buyer)
    assert shipper_heads == consignee_heads == {r["seq"]: r["hash"] for r in records}
    assert await _heads(client, scene.carrier) == shipper_heads
    assert await _heads(client, scene.stranger) == {}
    org_ids = await db.fetch(
        "SELECT org_ids FROM events WHERE type = 'evidence.recorded' AND subject_id = $1", scene.load["id"]
    )
    for row in org_ids:
        assert {UUID(scene.mill.org_id), UUID(scene.buyer.org_id)} <= set(row["org_ids"])

    # Someone with the database rewrites the net weight (record 2) and every later record with
    # consistent hashes, AND the heads the server itself announced (the event rows).
    load_id = UUID(scene.load["id"])
    prev = records[0]["hash"]
    for record in records[1:]:
        if record["kind"] == "weighbridge_gross":
            record["data"] = record["data"] | {"weight_kg": 39_000, "net_kg": 25_000}
        record["prev_hash"] = prev
        prev = record["hash"] = _readme_hash(record)
        await _behind_the_api(
            db,
            REWRITE,
            load_id,
            record["seq"],
            json.dumps(record["data"]),
            bytes.fromhex(record["prev_hash"]),
            bytes.fromhex(record["hash"]),
        )
        await db.execute(
            """UPDATE events SET data = jsonb_set(data, '{head}', to_jsonb($3::text))
               WHERE type = 'evidence.recorded' AND subject_id = $1 AND (data->>'seq')::int = $2""",
            scene.load["id"],
            record["seq"],
            record["hash"],
        )

    # The server on its own can no longer tell: its chain and its own copy of the heads agree.
    verified = (await client.get(f"{scene.evidence}/verify", headers=scene.buyer.headers)).json()
    assert verified["ok"] is True
    assert verified["head"] != shipper_heads[4]

    # Each party's own copy proves it: the exported chain no longer contains the heads they hold.
    for party, kept in ((scene.mill, shipper_heads), (scene.buyer, consignee_heads)):
        bundle = await _export(client, scene, party)
        assert bundle["verification"]["ok"] is True
        result = verify_bundle(bundle, heads=list(kept.values()))
        assert result["ok"] is False
        assert [b["code"] for b in result["breaks"]] == ["head_mismatch"] * 3, result  # seq 2, 3, 4
        assert verify_bundle(bundle, heads=[kept[1]])["ok"] is True  # record 1 was left alone
        # And what the feed says now differs from what the party kept, from seq 2 on.
        now = await _heads(client, party)
        assert [seq for seq in kept if now[seq] != kept[seq]] == [2, 3, 4]
