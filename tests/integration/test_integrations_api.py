"""What the console's integrations screen and the papers' links read: the registry of event types,
the events newest first, a load's gate events reaching its consignee, and the driver's waybill."""

from __future__ import annotations

from typing import Any

from tests.integration.test_documents import as_pdf, text_of
from tests.integration.test_receipts import at_the_buyer
from tests.support import problem
from tests.tracking_support import depart, loads_in_transit


async def _all_recent(client: Any, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """Every event newest first, page by page through `before`."""
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 3, **query}
    while True:
        r = await client.get("/events/recent", headers=headers, params=params)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        if r.json()["next_before"] is None:
            return items
        params["before"] = r.json()["next_before"]


async def test_the_consignee_follows_its_load_through_the_gate_and_back_through_recent_events(
    client, settings, db
):
    w = await loads_in_transit(client, settings, depart_all=False)
    load, buyer = w["loads"][0], w["buyer"]
    evidence = f"/loads/{load['id']}/evidence"
    r = await client.post(
        evidence,
        headers=w["staff"].headers,
        json={"kind": "seal", "seal_numbers": ["S-7"]},
    )
    assert r.status_code == 201, r.text
    await depart(client, w, load)
    await at_the_buyer(client, db, load)
    r = await client.post(
        f"/loads/{load['id']}/receipt",
        headers=w["receiver"].headers,
        json={"received": {"weight_kg": 24_000}, "condition": "good", "signer_name": "Ada"},
    )
    assert r.status_code == 201, r.text
    receipt = r.json()

    # The buyer (the consignee, not the gate's organization nor the carrier) reads the load's way
    # through the gate and every evidence head from its own feed.
    r = await client.get("/events", headers=buyer.headers, params={"limit": 500})
    assert r.status_code == 200, r.text
    mine = [e for e in r.json()["items"] if e["subject"] == {"type": "load", "id": load["id"]}]
    types = [e["type"] for e in mine]
    for expected in ("load.checked_in", "load.loading", "load.loaded", "load.departed", "load.received"):
        assert types.count(expected) == 1, (expected, types)
    assert types.index("load.loaded") < types.index("load.departed") < types.index("load.received")
    heads = [e["data"] for e in mine if e["type"] == "evidence.recorded"]
    assert heads[0]["kind"] == "seal"
    assert heads[-1]["head"] == receipt["evidence_hash"]
    loaded = next(e for e in mine if e["type"] == "load.loaded")
    assert loaded["links"] == {"waybill": f"/loads/{load['id']}/documents/waybill.pdf"}
    # The carrier hears of its load at the gate too, as before.
    r = await client.get("/events", headers=w["carrier"].headers, params={"types": "load.departed"})
    assert [e["subject"]["id"] for e in r.json()["items"]] == [load["id"]]

    # Newest first, paged by `before`, is the same feed reversed; a type filter narrows it.
    everything = (await client.get("/events", headers=buyer.headers, params={"limit": 500})).json()
    backward = await _all_recent(client, buyer.headers)
    assert [e["id"] for e in backward] == [e["id"] for e in reversed(everything["items"])]
    received = await _all_recent(client, buyer.headers, types="load.received,load.loaded")
    assert [e["type"] for e in received] == ["load.received", "load.loaded"]
    assert received[0]["links"]["proof_of_delivery"] == f"/loads/{load['id']}/documents/proof-of-delivery.pdf"
    problem(
        await client.get("/events/recent", headers=buyer.headers, params={"before": "x"}), 400, "bad_cursor"
    )
    problem(await client.get("/events/recent", headers=buyer.headers, params={"types": "load.nope"}), 400)


async def test_the_event_types_registry_names_every_type_once(client, settings):
    w = await loads_in_transit(client, settings, depart_all=False)
    r = await client.get("/events/types", headers=w["buyer"].headers)
    assert r.status_code == 200, r.text
    listed = r.json()
    names = [t["type"] for t in listed]
    assert names == sorted(set(names))
    by_name = {t["type"]: t for t in listed}
    assert by_name["load.received"]["version"] == 1
    assert "proof of delivery" in by_name["load.received"]["summary"]
    assert "webhook.test" in by_name
    assert (await client.get("/events/types")).status_code == 401


async def test_a_driver_downloads_the_waybill_of_its_own_load_only(client, settings):
    w = await loads_in_transit(client, settings, loads=2, depart_all=False)
    mine, other = w["loads"]
    assert mine["device"] != other["device"]
    r = await client.get(f"/driver/v1/loads/{mine['id']}/waybill.pdf", headers=mine["device"])
    text = text_of(as_pdf(r))
    assert "Waybill" in text and mine["vehicle"]["plate"] in text
    # The carrier's other driver's load, a job's id, and an unknown id: not found, alike.
    for wrong in (other["id"], w["job"]["id"], "00000000-0000-0000-0000-000000000000"):
        r = await client.get(f"/driver/v1/loads/{wrong}/waybill.pdf", headers=mine["device"])
        problem(r, 404, "load_not_found")
    # The platform route still takes no device token; the driver route takes nothing else.
    r = await client.get(f"/loads/{mine['id']}/documents/waybill.pdf", headers=mine["device"])
    problem(r, 403, "wrong_credential_kind")
    r = await client.get(f"/driver/v1/loads/{mine['id']}/waybill.pdf", headers=w["carrier"].headers)
    problem(r, 403, "wrong_credential_kind")
