"""Webhooks to a real receiver (tests/webhook_support.py) from a real `dispatch serve`: an order's
every event arrives signed, exactly once per event id and in order per subject; faults (errors,
timeouts, a receiver that is down, a worker killed mid-delivery) lose nothing; past the retry
horizon the endpoint is disabled and an event says so. Only 127.0.0.1 is ever called (the servers
here allow it by DISPATCH_WEBHOOK_ALLOW_HOSTS)."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections import defaultdict
from typing import Any

import httpx
import pytest

from dispatch import procfs
from tests.gate_support import dispatched_loads
from tests.integration.test_receipts import at_the_buyer, receipt
from tests.market_support import HAMBURG, create_site
from tests.support import Account, add_member, bootstrap_org, problem
from tests.tracking_support import depart
from tests.webhook_support import HANG, Delivery, Receiver, holder_of, wait_for

pytestmark = pytest.mark.server
LOCAL = ("127.0.0.1/32",)
# Fast rounds and retries, so the faults play out in seconds.
FAST = {
    "webhook_allow_hosts": LOCAL,
    "webhook_poll_ms": 50,
    "webhook_retry_base_ms": 100,
    "webhook_retry_cap_s": 1,
}


async def register(http: httpx.AsyncClient, who: Account, receiver: Receiver, **body: Any) -> dict[str, Any]:
    r = await http.post("/webhooks/endpoints", headers=who.headers, json={"url": receiver.url, **body})
    assert r.status_code == 201, r.text
    endpoint: dict[str, Any] = r.json()
    assert endpoint["secret"].startswith("whsec_")
    receiver.secrets.append(endpoint["secret"])
    return endpoint


async def play_order(http: httpx.AsyncClient, settings: Any, db: Any, mill: Account) -> None:
    """A mill's coil from post to receipt: job, grab, plan, assignments, gate, departure, receipt."""
    buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
    yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
    w = await dispatched_loads(http, settings, loads=2, mill=mill, destination_site_id=yard["id"])
    receiver = await add_member(http, buyer, "buyer")
    for load in w["loads"]:
        await depart(http, w, load)
        await at_the_buyer(http, db, load)
        r = await http.post(f"/loads/{load['id']}/receipt", headers=receiver.headers, json=receipt())
        assert r.status_code == 201, r.text


async def feed_of(db: Any, org_id: str, after_id: int) -> list[tuple[str, str]]:
    """(event id, subject) of the organization's events after `after_id`, in feed order."""
    rows = await db.fetch(
        "SELECT id, subject_type || ':' || subject_id AS subject FROM events"
        " WHERE $1::uuid = ANY (org_ids) AND id > $2 ORDER BY tx, id",
        org_id,
        after_id,
    )
    return [(f"evt_{r['id']}", r["subject"]) for r in rows]


def assert_in_order_per_subject(received: list[Delivery], feed: list[tuple[str, str]]) -> None:
    position = {event_id: i for i, (event_id, _) in enumerate(feed)}
    by_subject: dict[str, list[int]] = defaultdict(list)
    for d in received:
        subject = f"{d.event['subject']['type']}:{d.event['subject']['id']}"
        by_subject[subject].append(position[d.event["id"]])
    for subject, positions in by_subject.items():
        assert positions == sorted(positions), (subject, positions)


async def test_an_order_reaches_a_real_receiver_signed_once_per_event_in_order(server_factory, settings, db):
    server = server_factory(**FAST, webhook_concurrency=4)
    receiver = await Receiver().start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        before = await db.fetchval("SELECT coalesce(max(id), 0) FROM events")
        endpoint = await register(http, mill, receiver, description="ERP")
        base = f"/webhooks/endpoints/{endpoint['id']}"
        # The secret is shown once: never in later answers.
        listed = (await http.get("/webhooks/endpoints", headers=mill.headers)).json()
        assert [e["id"] for e in listed] == [endpoint["id"]] and listed[0]["secret"] is None
        assert (await http.get(base, headers=mill.headers)).json()["secret"] is None

        await play_order(http, settings, db, mill)
        feed = await feed_of(db, mill.org_id, before)
        assert len(feed) > 15
        await wait_for(lambda: len(receiver.acknowledged) >= len(feed), "every event of the order")
        await asyncio.sleep(1)  # a duplicate would come now
        assert not receiver.unverified
        assert sorted(receiver.ids()) == sorted(e for e, _ in feed)  # each exactly once
        assert_in_order_per_subject(receiver.acknowledged, feed)
        first = receiver.acknowledged[0]
        assert first.headers["webhook-id"] == first.event["id"]
        assert set(first.event) >= {"id", "cursor", "type", "version", "occurred_at", "subject", "data"}

        # Every attempt is visible: status and latency of each.
        page = (await http.get(f"{base}/deliveries?limit=500", headers=mill.headers)).json()
        assert len(page["items"]) == len(feed) and {d["state"] for d in page["items"]} == {"delivered"}
        one = page["items"][0]
        attempts = (await http.get(f"{base}/deliveries/{one['id']}/attempts", headers=mill.headers)).json()
        assert [(a["status_code"], a["ok"]) for a in attempts] == [(204, True)]

        # A test event, then a rotated secret: both secrets sign during the grace period.
        r = await http.post(f"{base}/test", headers=mill.headers)
        assert r.status_code == 202, r.text
        test_id = r.json()["event_id"]
        await wait_for(lambda: test_id in receiver.ids(), "the test event")
        assert receiver.acknowledged[-1].event["type"] == "webhook.test"
        old = receiver.secrets.pop()
        r = await http.post(f"{base}/rotate-secret", headers=mill.headers)
        assert r.status_code == 200 and r.json()["secret"].startswith("whsec_") and r.json()["secret"] != old
        only_old = Receiver(secrets=[old])
        only_new = Receiver(secrets=[r.json()["secret"]])
        receiver.secrets.append(r.json()["secret"])

        # Any event is redelivered on request: the first of the order arrives a second time.
        again = feed[0][0]
        r = await http.post(f"{base}/redeliver", headers=mill.headers, json={"event_id": again})
        assert r.status_code == 202, r.text
        await wait_for(lambda: receiver.ids().count(again) == 2, "the redelivery")
        resent = receiver.acknowledged[-1]
        assert only_old._verified(resent) and only_new._verified(resent)
        assert resent.headers["webhook-signature"].count("v1,") == 2

        # Paused: nothing is sent until resumed, then all of it.
        r = await http.patch(
            base, headers=mill.headers, json={"paused": True, "event_types": ["webhook.test"]}
        )
        assert r.status_code == 200 and r.json()["paused"] and r.json()["event_types"] == ["webhook.test"]
        test_id = (await http.post(f"{base}/test", headers=mill.headers)).json()["event_id"]
        await asyncio.sleep(1)
        assert test_id not in receiver.ids()
        assert (await http.patch(base, headers=mill.headers, json={"paused": False})).status_code == 200
        await wait_for(lambda: test_id in receiver.ids(), "the test event after resuming")

        # Other organizations see nothing of it; bad input changes nothing.
        other = await bootstrap_org(http, settings, "Other", ["carrier"])
        problem(await http.get(base, headers=other.headers), 404, "webhook_endpoint_not_found")
        problem(
            await http.post(f"{base}/redeliver", headers=mill.headers, json={"event_id": "evt_999999999"}),
            404,
            "event_not_found",
        )
        problem(
            await http.post(
                "/webhooks/endpoints", headers=mill.headers, json={"url": "ftp://example.test/x"}
            ),
            422,
            "webhook_url_refused",
        )
        moved = await http.patch(base, headers=mill.headers, json={"url": "http://10.0.0.1/hooks"})
        problem(moved, 422, "webhook_url_refused")
        assert (await http.get(base, headers=mill.headers)).json()["url"] == receiver.url
        assert (await http.delete(base, headers=mill.headers)).status_code == 204
        problem(await http.get(base, headers=mill.headers), 404, "webhook_endpoint_not_found")
    await receiver.stop()


async def test_errors_timeouts_and_a_receiver_down_lose_nothing_and_retries_back_off(
    server_factory, settings, db
):
    server = server_factory(**FAST, webhook_timeout_ms=500)
    receiver = await Receiver().start()
    phase = {"now": "error"}

    def faulty(_: Delivery) -> tuple[int, dict[str, str]] | str:
        return {"error": (500, {}), "timeout": HANG, "ok": (200, {})}[phase["now"]]

    receiver.behaviour = faulty
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        before = await db.fetchval("SELECT coalesce(max(id), 0) FROM events")
        endpoint = await register(http, mill, receiver)
        w = await dispatched_loads(http, settings, loads=1, mill=mill)
        await depart(http, w, w["loads"][0])
        feed = await feed_of(db, mill.org_id, before)

        failed = "SELECT count(*) FROM webhook_attempts WHERE NOT ok AND response_excerpt {}"
        await wait_for(lambda: len(receiver.requests) >= 12, "a dozen answers of 500")
        phase["now"] = "timeout"
        await wait_for(lambda: db.fetchval(failed.format("= 'timed out'")), "attempts timing out")
        await receiver.stop()
        phase["now"] = "ok"
        await wait_for(lambda: db.fetchval(failed.format("LIKE 'Client%'")), "attempts finding it down")
        receiver = Receiver(secrets=receiver.secrets, port=receiver.port)
        await receiver.start()
        await wait_for(lambda: len(receiver.acknowledged) >= len(feed), "every event after the faults")
        await asyncio.sleep(1)
        assert sorted(receiver.ids()) == sorted(e for e, _ in feed)  # none twice
        assert not receiver.unverified
        assert_in_order_per_subject(receiver.acknowledged, feed)

        # The first delivery's attempts: failures with their status, then success; each wait at
        # least the backoff's (base x 2^(n-1), capped; jitter only lengthens it).
        base = f"/webhooks/endpoints/{endpoint['id']}"
        page = (await http.get(f"{base}/deliveries?limit=500", headers=mill.headers)).json()
        first = min(page["items"], key=lambda d: d["id"])
        attempts = (await http.get(f"{base}/deliveries/{first['id']}/attempts", headers=mill.headers)).json()
    statuses = [a["status_code"] for a in attempts]
    assert statuses[0] == 500 and statuses[-1] == 204 and None in statuses, statuses
    assert [a["ok"] for a in attempts] == [False] * (len(attempts) - 1) + [True]
    times = await db.fetch(
        "SELECT attempted_at FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id", first["id"]
    )
    for n, (a, b) in enumerate(itertools.pairwise(times), start=1):
        floor_s = min(0.1 * 2 ** (n - 1), 1.0)
        assert (b["attempted_at"] - a["attempted_at"]).total_seconds() >= floor_s, (n, times)
    await receiver.stop()


async def test_a_worker_killed_mid_delivery_loses_nothing(server_factory, settings, db):
    server = server_factory(workers=2, **FAST, webhook_claim_seconds=4, webhook_timeout_ms=30_000)
    receiver = await Receiver().start()
    held: list[str] = []

    def hold_the_first(d: Delivery) -> tuple[int, dict[str, str]] | str:
        if not held:
            held.append(d.headers["webhook-id"])
            return HANG
        return 204, {}

    receiver.behaviour = hold_the_first
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        before = await db.fetchval("SELECT coalesce(max(id), 0) FROM events")
        await register(http, mill, receiver)
        w = await dispatched_loads(http, settings, loads=1, mill=mill)
        await depart(http, w, w["loads"][0])
        await wait_for(receiver.hanging.is_set, "a delivery in flight")
        # The worker holding the connection to the receiver is the one mid-delivery: kill it.
        workers = procfs.worker_pids(server.process.pid)
        holding = holder_of(workers, receiver.hanging_peer, receiver.port)
        assert len(holding) == 1, (workers, holding)
        os.kill(holding[0], signal.SIGKILL)
        feed = await feed_of(db, mill.org_id, before)
        await wait_for(lambda: set(receiver.ids()) >= {e for e, _ in feed}, "every event after the kill")
    assert held[0] in receiver.ids()  # the one in flight was sent again after its claim expired
    assert not receiver.unverified
    await receiver.stop()


async def test_past_the_retry_horizon_the_endpoint_is_disabled_and_an_event_says_so(
    server_factory, settings, db
):
    server = server_factory(**FAST, webhook_retry_horizon_s=2)
    broken = await Receiver(behaviour=lambda _: (503, {})).start()
    watcher = await Receiver().start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        endpoint = await register(http, mill, broken)
        await register(http, mill, watcher, event_types=["webhook.endpoint_disabled"])
        base = f"/webhooks/endpoints/{endpoint['id']}"
        sent = await http.post(f"{base}/test", headers=mill.headers)
        assert sent.status_code == 202, sent.text
        await wait_for(lambda: watcher.acknowledged, "the endpoint_disabled event")
        told = watcher.acknowledged[0].event
        assert told["type"] == "webhook.endpoint_disabled"
        assert told["data"]["endpoint_id"] == endpoint["id"] and told["data"]["url"] == broken.url
        assert told["data"]["last_attempt"]["status_code"] == 503
        shown = (await http.get(base, headers=mill.headers)).json()
        assert shown["disabled_at"] is not None
        tries = len(broken.requests)
        assert tries >= 2
        await asyncio.sleep(1)
        assert len(broken.requests) == tries  # nothing more is sent to a disabled endpoint
        # Fixed and resumed: what failed and what waited arrive after all (the test event, and the
        # endpoint_disabled event, which concerns the organization's every endpoint).
        broken.behaviour = lambda _: (200, {})
        r = await http.patch(base, headers=mill.headers, json={"paused": False})
        assert r.status_code == 200 and r.json()["disabled_at"] is None, r.text
        expected = {sent.json()["event_id"], told["id"]}
        await wait_for(lambda: set(broken.ids()) == expected, "the failed deliveries after resuming")
    await broken.stop()
    await watcher.stop()


async def test_signing_secrets_are_sealed_at_rest_and_one_stored_in_clear_is_sealed_at_start(
    server_factory, settings, db
):
    server = server_factory(**FAST)
    receiver = await Receiver().start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        endpoint = await register(http, mill, receiver)
        shown = endpoint["secret"]
        stored = await db.fetchval("SELECT secret FROM webhook_endpoints WHERE id = $1", endpoint["id"])
        assert stored.startswith("sealed1:") and shown not in stored and shown[6:] not in stored
        base = f"/webhooks/endpoints/{endpoint['id']}"
        r = await http.post(f"{base}/rotate-secret", headers=mill.headers)
        assert r.status_code == 200, r.text
        receiver.secrets.append(r.json()["secret"])
        row = await db.fetchrow(
            "SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1", endpoint["id"]
        )
        assert row["secret"].startswith("sealed1:") and row["previous_secret"] == stored
        # The sealed secrets sign: a test event arrives verified by both.
        first = (await http.post(f"{base}/test", headers=mill.headers)).json()["event_id"]
        await wait_for(lambda: first in receiver.ids(), "the test event")
        assert receiver.acknowledged[-1].headers["webhook-signature"].count("v1,") == 2

        # A secret stored in clear (before sealing existed) still signs, and the next start seals it.
        server.stop()
        clear = receiver.secrets[0]
        await db.execute(
            "UPDATE webhook_endpoints SET secret = $2, previous_secret = NULL WHERE id = $1",
            endpoint["id"],
            clear,
        )
        server = server_factory(**FAST)
        sealed = await db.fetchval("SELECT secret FROM webhook_endpoints WHERE id = $1", endpoint["id"])
        assert sealed.startswith("sealed1:") and clear not in sealed
        http.base_url = httpx.URL(server.base_url)
        only_clear = Receiver(secrets=[clear])
        second = (await http.post(f"{base}/test", headers=mill.headers)).json()["event_id"]
        await wait_for(lambda: second in receiver.ids(), "the test event after the restart")
        assert only_clear._verified(receiver.acknowledged[-1])
        assert not receiver.unverified
    await receiver.stop()
