"""Carrier scorecards: figures counted from a history played through the API match a hand count;
who may see them; the waterfall's order "by score".

Every event is played through the routes and the app's own loops: tenders accepted, declined and
timed out (the offer's window moved into the past in the database, the app's timeout loop ends it),
a give-back, a cancelled award. Slots in the past cannot be booked, deliveries cannot be made late
and a decline cannot be made 100 days ago in a test's time: those timestamps are moved in the
database during the setup, each where it happens, saying so.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from dispatch.db.pool import create_pool
from dispatch.scorecards.service import order_by_score
from tests.gate_support import dispatched_loads, gate_site, next_slot
from tests.market_support import HAMBURG, create_site, post_job
from tests.support import Account, add_member, bootstrap_org, problem
from tests.tracking_support import depart, point


async def _book(client: Any, load: dict[str, Any], slot: datetime) -> None:
    r = await client.put(
        f"/driver/v1/loads/{load['id']}/booking",
        headers=load["device"],
        json={"slot_start": slot.isoformat()},
    )
    assert r.status_code == 200, r.text


async def _slot_ended_ten_minutes_ago(db: Any, load: dict[str, Any]) -> None:
    """Backdated in the database: a slot in the past cannot be booked. Ended 10 minutes ago, inside
    the 30 minutes' grace, so the no-show loop running in this app leaves it alone."""
    await db.execute(
        "UPDATE slot_bookings SET slot_start = now() - interval '40 minutes',"
        " slot_end = now() - interval '10 minutes' WHERE load_id = $1",
        UUID(load["id"]),
    )


async def _slot_began_five_minutes_ago(db: Any, load: dict[str, Any]) -> None:
    """Moved in the database: the gate calls a truck only once its slot has begun."""
    await db.execute(
        "UPDATE slot_bookings SET slot_start = now() - interval '5 minutes',"
        " slot_end = now() + interval '25 minutes' WHERE load_id = $1",
        UUID(load["id"]),
    )


async def _arrive(client: Any, db: Any, load: dict[str, Any]) -> None:
    """The truck reports from Hamburg (its trip started four hours ago, so the fix is reachable)."""
    await db.execute(
        "UPDATE load_tracking SET departed_at = now() - interval '4 hours' WHERE load_id = $1",
        UUID(load["id"]),
    )
    r = await client.post("/driver/v1/positions", headers=load["device"], json={"points": [point(*HAMBURG)]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert await db.fetchval("SELECT arrived_at FROM load_tracking WHERE load_id = $1", UUID(load["id"]))


async def _receive(client: Any, receiver: Account, load: dict[str, Any], **over: Any) -> None:
    body = {"received": {"weight_kg": 24_000}, "condition": "good", "signer_name": "K. Krause"} | over
    r = await client.post(f"/loads/{load['id']}/receipt", headers=receiver.headers, json=body)
    assert r.status_code == 201, r.text


async def _offer_out(client: Any, carrier: Account, job_id: str) -> dict[str, Any]:
    """The job's offer out now to the carrier, as its job board reads it."""
    offers = (await client.get("/tenders", params={"current": "true"}, headers=carrier.headers)).json()
    (offer,) = [o for o in offers if o["job_id"] == job_id]
    return offer


def _accept(client: Any) -> Any:
    """The carrier accepts the job's tender (its route): that is its award."""

    async def award(job: dict[str, Any], carrier: Account) -> None:
        offer = await _offer_out(client, carrier, job["id"])
        r = await client.post(f"/tenders/{offer['id']}/accept", headers=carrier.headers)
        assert r.status_code == 200 and r.json()["status"] == "awarded", r.text

    return award


def _let_time_out(client: Any, db: Any) -> Any:
    """The carrier lets the job's tender time out: its offer's window is moved into the past in the
    database (a window is minutes long) and the app's own timeout loop ends it; the job goes to the
    market (`then: market`), where the carrier grabs it."""

    async def award(job: dict[str, Any], carrier: Account) -> None:
        offer = await _offer_out(client, carrier, job["id"])
        await db.execute(
            "UPDATE tender_offers SET expires_at = now() - interval '1 second' WHERE id = $1",
            UUID(offer["id"]),
        )
        deadline = time.monotonic() + 30
        while (await client.get(f"/jobs/{job['id']}", headers=carrier.headers)).json()["status"] != "open":
            assert time.monotonic() < deadline, "the timeout loop never ended the offer"
            await asyncio.sleep(0.1)
        assert (await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)).status_code == 200

    return award


def fig(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": round(numerator / denominator, 4) if denominator else None,
    }


async def test_scorecard_figures_from_a_played_history_match_a_hand_count(client, settings, db):
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    yard = await create_site(client, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
    receiver = await add_member(client, buyer, "buyer")
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    site = await gate_site(client, mill)
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    tendered = {"carriers": [carrier.org_id], "window_seconds": 600, "then": "market"}
    # J1: the mill's gate to the buyer's yard, four loads; tendered to the carrier, which accepts.
    w1 = await dispatched_loads(
        client,
        settings,
        loads=4,
        mill=mill,
        site=site,
        carrier=carrier,
        destination_site_id=yard["id"],
        tender=tendered,
        award=_accept(client),
    )
    a, b, c, d = w1["loads"]
    # J2: the mill's gate to an address in Hamburg (no site: the lane ends in an area), one load;
    # tendered to the carrier, which lets the offer time out, then grabs the job on the market.
    w2 = await dispatched_loads(
        client,
        settings,
        loads=1,
        mill=mill,
        site=site,
        carrier=carrier,
        plates=["B-GT 900"],
        tender=tendered,
        award=_let_time_out(client, db),
    )
    (e,) = w2["loads"]
    j2 = w2["job"]["id"]

    slot = next_slot(ahead=2)
    # a: booked, checks in before its slot ends (on time), delivered in time, received in good order.
    await _book(client, a, slot)
    await _slot_began_five_minutes_ago(db, a)
    await depart(client, w1, a)
    await _arrive(client, db, a)
    await _receive(client, receiver, a)
    # b: booked, its slot ended 10 minutes ago, checks in now (late); delivered in time, received short.
    await _book(client, b, slot)
    await _slot_ended_ten_minutes_ago(db, b)
    await depart(client, w1, b)
    await _arrive(client, db, b)
    await _receive(
        client,
        receiver,
        b,
        received={"weight_kg": 23_000},
        discrepancies=[{"type": "shortage", "notes": "a tonne short on our weighbridge"}],
    )
    # c: booked, its slot ended 10 minutes ago, never came (a no-show).
    await _book(client, c, slot + timedelta(minutes=30))
    await _slot_ended_ten_minutes_ago(db, c)
    # d: booked, then the booking was cancelled: counts nowhere.
    await _book(client, d, slot + timedelta(minutes=30))  # two places a slot
    r = await client.delete(f"/driver/v1/loads/{d['id']}/booking", headers=d["device"])
    assert r.status_code in (200, 204), r.text
    # e: walks in (no booking), and arrives after J2's deliver-by. Backdated in the database: a job
    # cannot be posted due in the past; J2 was due an hour ago.
    await depart(client, w2, e)
    await db.execute(
        "UPDATE jobs SET pickup_from = now() - interval '3 hours', deliver_by = now() - interval '1 hour'"
        " WHERE id = $1",
        UUID(j2),
    )
    await _arrive(client, db, e)

    # J3 and J4: two more jobs to the yard, grabbed by the carrier; it gives J3 back, the mill
    # cancels J4's award (their routes). J3 was tendered to the carrier first, which declined it (its
    # route) before grabbing it on the market; that decline is moved to 100 days ago below. J5:
    # tendered to the carrier, then to another carrier; both decline, and the job goes to the market.
    j3 = (await post_job(client, mill, site["id"], destination_site_id=yard["id"], tender=tendered))["id"]
    offer = await _offer_out(client, carrier, j3)
    r = await client.post(
        f"/tenders/{offer['id']}/decline", headers=carrier.headers, json={"reason": "long ago"}
    )
    assert r.status_code == 200, r.text
    j4 = (await post_job(client, mill, site["id"], destination_site_id=yard["id"]))["id"]
    for job in (j3, j4):
        assert (await client.post(f"/jobs/{job}/grab", headers=carrier.headers)).status_code == 200
    r = await client.post(
        f"/jobs/{j3}/give-back", headers=carrier.headers, json={"reason": "truck broke down"}
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/jobs/{j4}/cancel-award", headers=mill.headers, json={"reason": "order cancelled"}
    )
    assert r.status_code == 200, r.text
    other = await bootstrap_org(client, settings, "Other Haulers", ["carrier"])
    tender = {"carriers": [carrier.org_id, other.org_id], "window_seconds": 600}
    j5 = (await post_job(client, mill, site["id"], destination_site_id=yard["id"], tender=tender))["id"]
    for who, reason in ((carrier, "no trucks free"), (other, "full")):
        offers = (await client.get("/tenders", params={"current": "true"}, headers=who.headers)).json()
        (offer,) = [o for o in offers if o["job_id"] == j5]
        r = await client.post(f"/tenders/{offer['id']}/decline", headers=who.headers, json={"reason": reason})
        assert r.status_code == 200, r.text
    # The carrier's decline of J3 is moved to 100 days ago (backdated): outside the 90 days.
    await db.execute(
        "UPDATE events SET occurred_at = now() - interval '100 days'"
        " WHERE type = 'tender.declined' AND subject_id = $1",
        j3,
    )

    # J3's award is moved to 100 days ago (backdated): given back within the window, it still counts
    # as an award, so the carrier never has more give-backs than awards.
    await db.execute(
        "UPDATE events SET occurred_at = now() - interval '100 days'"
        " WHERE type = 'job.awarded' AND subject_id = $1",
        j3,
    )

    # The hand count. Awards: J1 (by tender), J2, J3, J4 (grabs) = 4.
    overall = {
        "tender_acceptance": fig(1, 3),  # J1 accepted; J5 declined, J2 timed out
        "slot_on_time": fig(1, 2),  # a before its slot's end, b after; c and d never checked in
        "no_shows": fig(1, 2),  # slots ended: b (came), c (did not); a's is still ahead, d cancelled
        "delivery_on_time": fig(2, 3),  # a, b by J1's deliver-by; e after J2's
        "receipt_discrepancies": fig(1, 2),  # b's shortage; a received in good order
        "given_back": fig(1, 4),  # J3
        "award_cancelled": fig(1, 4),  # J4, by the poster: listed, not held against the carrier
    }
    url = f"/carriers/{carrier.org_id}/scorecard"
    card = (await client.get(url, headers=carrier.headers)).json()
    assert card["figures"] == overall and card["days"] == 90 and card["lane"] is None
    assert card["carrier_name"] == "Haulers"
    # The score: Laplace-smoothed (good + 1) / (counted + 2), averaged over the six carrier figures.
    by_hand = (2 / 5 + 2 / 4 + 3 / 5 + 2 / 4 + 2 / 4 + 4 / 6) / 6
    assert card["score"] == round(by_hand, 4)
    # With a year's window, the old decline counts too.
    year = (await client.get(url, params={"days": 365}, headers=carrier.headers)).json()
    assert year["figures"]["tender_acceptance"] == fig(1, 4)

    # Per lane: the gate to the yard (J1, J3, J4, J5), and the gate to Hamburg's area (J2).
    to_yard = f"{site['id']}:{yard['id']}"
    to_area = f"{site['id']}:{round(HAMBURG[1], 1)},{round(HAMBURG[0], 1)}"
    lanes = (await client.get(f"{url}/lanes", headers=mill.headers)).json()
    assert [x["lane"]["key"] for x in lanes] == [to_yard, to_area]
    yard_lane, area_lane = (x["figures"] for x in lanes)
    assert yard_lane == overall | {
        "tender_acceptance": fig(1, 2),
        "delivery_on_time": fig(2, 2),
        "given_back": fig(1, 3),  # of J1, J3, J4
        "award_cancelled": fig(1, 3),
    }
    assert area_lane == {
        "tender_acceptance": fig(0, 1),
        "slot_on_time": fig(0, 0),
        "no_shows": fig(0, 0),
        "delivery_on_time": fig(0, 1),
        "receipt_discrepancies": fig(0, 0),
        "given_back": fig(0, 1),
        "award_cancelled": fig(0, 1),
    }
    assert lanes[1]["lane"]["destination_area"] == {"lat": 53.6, "lon": 10.0}
    assert lanes[0]["lane"]["destination_name"] == "Buyer yard Hamburg"
    one = (await client.get(url, params={"lane": to_area}, headers=carrier.headers)).json()
    assert one["figures"] == area_lane and one["lane"]["key"] == to_area

    # Who sees it: the carrier, the shipper and the consignee it served (the consignee only the lanes
    # it is a party of); nobody else, and nothing for an unknown id.
    assert (await client.get(url, headers=buyer.headers)).json()["figures"] == overall
    buyer_lanes = (await client.get(f"{url}/lanes", headers=buyer.headers)).json()
    assert [x["lane"]["key"] for x in buyer_lanes] == [to_yard]
    problem(await client.get(url, params={"lane": to_area}, headers=buyer.headers), 404, "lane_not_found")
    stranger = await bootstrap_org(client, settings, "Stranger", ["shipper"])
    problem(await client.get(url, headers=stranger.headers), 404, "carrier_not_found")
    problem(await client.get(f"{url}/lanes", headers=stranger.headers), 404, "carrier_not_found")
    problem(
        await client.get(f"/carriers/{UUID(int=7)}/scorecard", headers=mill.headers), 404, "carrier_not_found"
    )
    # A shipper whose job the carrier bid on sees it (the figures beside the bid).
    gate = await create_site(client, stranger, "Stranger gate")
    auction = await post_job(client, stranger, gate["id"], mode="auction", price=None)
    r = await client.post(
        f"/jobs/{auction['id']}/bids", headers=carrier.headers, json={"amount_minor": 90_000}
    )
    assert r.status_code == 201, r.text
    assert (await client.get(url, headers=stranger.headers)).json()["figures"] == overall
    assert (await client.get(f"{url}/lanes", headers=stranger.headers)).json() == []
    problem(await client.get(url, params={"days": 0}, headers=carrier.headers), 400, "validation_failed")
    problem(await client.get(url, params={"days": 366}, headers=carrier.headers), 400, "validation_failed")
    problem(
        await client.get(url, params={"lane": "nowhere"}, headers=carrier.headers), 400, "validation_failed"
    )

    # The waterfall "by score": the carrier (0.53) before two without a record (0.5 each), which keep
    # the order they were given in. On the lane to Hamburg's area its record there is poor (0.47:
    # a timeout, a late delivery; figures it has none of there are its overall ones): last.
    third = await bootstrap_org(client, settings, "Third Haulers", ["carrier"])
    fourth = await bootstrap_org(client, settings, "Fourth Haulers", ["carrier"])
    ids = [UUID(third.org_id), UUID(carrier.org_id), UUID(fourth.org_id)]
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        assert await order_by_score(pool, ids) == [ids[1], ids[0], ids[2]]
        assert await order_by_score(pool, ids, lane=to_area) == [ids[0], ids[2], ids[1]]
        on_the_yard_lane = await order_by_score(pool, ids, lane=to_yard)
    finally:
        await pool.close()

    # A tender posted "by score" offers the job in that order, on the job's own lane.
    async def tendered_order(**to: Any) -> list[str]:
        tender = {"carriers": [str(i) for i in ids], "order": "by_score", "window_seconds": 600}
        job = await post_job(client, mill, site["id"], tender=tender, **to)
        stand = (await client.get(f"/jobs/{job['id']}/tender", headers=mill.headers)).json()
        return [o["carrier_org_id"] for o in sorted(stand["offers"], key=lambda o: o["rank"])]

    assert await tendered_order() == [str(ids[0]), str(ids[2]), str(ids[1])]  # to Hamburg's area
    assert await tendered_order(destination_site_id=yard["id"]) == [str(i) for i in on_the_yard_lane]
