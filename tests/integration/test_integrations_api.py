"""What the console's integrations screen and the papers' links read: the registry of event types,
the events newest first, a load's gate events reaching its consignee, an endpoint's attempts log and
failing state (from a real server's delivery loop to a receiver on 127.0.0.1), and the driver's
waybill."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.test_documents import as_pdf, text_of
from tests.integration.test_receipts import at_the_buyer
from tests.support import bootstrap_org, problem
from tests.tracking_support import depart, loads_in_transit
from tests.webhook_support import Receiver, wait_for


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


@pytest.mark.server
async def test_an_endpoints_attempts_log_says_since_when_it_fails_and_pages_back(server_factory, settings):
    server = server_factory(
        webhook_allow_hosts=("127.0.0.1/32",),
        webhook_poll_ms=50,
        webhook_retry_base_ms=100,
        webhook_retry_cap_s=1,
    )
    answer = {"status": 500}
    receiver = await Receiver(behaviour=lambda _: (answer["status"], {})).start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        other = await bootstrap_org(http, settings, "Other", ["shipper"])
        r = await http.post("/webhooks/endpoints", headers=mill.headers, json={"url": receiver.url})
        assert r.status_code == 201, r.text
        receiver.secrets.append(r.json()["secret"])
        base = f"/webhooks/endpoints/{r.json()['id']}"
        fresh = (await http.get(base, headers=mill.headers)).json()
        assert fresh["last_attempt"] is None and fresh["failing_since"] is None

        async def attempts(**params: Any) -> dict[str, Any]:
            r = await http.get(f"{base}/attempts", headers=mill.headers, params=params)
            assert r.status_code == 200, r.text
            page: dict[str, Any] = r.json()
            return page

        async def failed_twice() -> bool:
            return len((await attempts())["items"]) >= 2

        test_id = (await http.post(f"{base}/test", headers=mill.headers)).json()["event_id"]
        await wait_for(failed_twice, "two failed attempts")
        failing = (await http.get(base, headers=mill.headers)).json()
        assert failing["failing_since"] is not None
        assert failing["last_attempt"]["status_code"] == 500 and failing["last_attempt"]["ok"] is False
        assert failing["last_attempt"]["response_excerpt"] == "ok"  # the receiver's body, whatever the status
        assert [e["id"] for e in (await http.get("/webhooks/endpoints", headers=mill.headers)).json()] == [
            failing["id"]
        ]

        answer["status"] = 200

        async def delivered() -> bool:
            return bool((await attempts())["items"][0]["ok"])

        await wait_for(delivered, "the delivery, once the receiver answers 200")
        healed = (await http.get(base, headers=mill.headers)).json()
        assert healed["failing_since"] is None
        assert healed["last_attempt"]["status_code"] == 200 and healed["last_attempt"]["ok"] is True
        log = (await attempts())["items"]
        assert log[0]["status_code"] == 200 and {a["status_code"] for a in log[1:]} == {500}
        assert {(a["event_id"], a["event_type"], a["delivery_state"]) for a in log} == {
            (test_id, "webhook.test", "delivered")
        }
        assert [a["id"] for a in log] == sorted((a["id"] for a in log), reverse=True)
        assert receiver.ids() == [test_id] and not receiver.unverified

        # Paged back one at a time by `before`: the same attempts, newest first.
        seen, before = [], None
        while True:
            page = await attempts(limit=1, **({"before": before} if before else {}))
            seen += [a["id"] for a in page["items"]]
            before = page["next_before"]
            if before is None:
                break
        assert seen[: len(log)] == [a["id"] for a in log]
        # Another organization's endpoint is not there.
        problem(await http.get(f"{base}/attempts", headers=other.headers), 404, "webhook_endpoint_not_found")
    await receiver.stop()
