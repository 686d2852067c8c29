"""Reverse auctions: bids, ranks, withdrawal, early award, the automatic close and its races."""

import asyncio
import random
import time
from datetime import timedelta
from uuid import UUID

from tests.market_support import create_site, post_job
from tests.support import bootstrap_org, problem


async def _wait_for_status(client, account, job_id, status, within_s=15.0):
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        job = (await client.get(f"/jobs/{job_id}", headers=account.headers)).json()
        if job["status"] == status:
            return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} never became {status}: {job}")


async def _market(client, settings, carriers=3):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    bidders = [await bootstrap_org(client, settings, f"Carrier {i}", ["carrier"]) for i in range(carriers)]
    site = await create_site(client, mill, "Mill")
    return mill, bidders, site


async def _bid(client, carrier, job_id, amount):
    return await client.post(f"/jobs/{job_id}/bids", headers=carrier.headers, json={"amount_minor": amount})


async def test_the_close_awards_the_lowest_bid_and_ties_go_to_the_earliest(client, settings, db):
    mill, (a, b, c), site = await _market(client, settings)
    job = await post_job(
        client, mill, site["id"], mode="auction", ceiling=300_000, deadline=timedelta(seconds=3)
    )
    assert (await _bid(client, a, job["id"], 250_000)).status_code == 201
    assert (await _bid(client, b, job["id"], 240_000)).status_code == 201  # lowest, first
    assert (await _bid(client, c, job["id"], 240_000)).status_code == 201  # lowest, later
    awarded = await _wait_for_status(client, mill, job["id"], "awarded")
    assert awarded["carrier_org_id"] == b.org_id and awarded["award_price_minor"] == 240_000
    statuses = {
        r["carrier_org_id"]: r["status"]
        for r in await db.fetch(
            "SELECT carrier_org_id::text, status FROM bids WHERE job_id = $1", UUID(job["id"])
        )
    }
    assert statuses == {b.org_id: "won", a.org_id: "lost", c.org_id: "lost"}
    assert (
        await db.fetchval(
            "SELECT count(*) FROM events WHERE type = 'job.awarded' AND subject_id = $1", job["id"]
        )
        == 1
    )


async def test_an_auction_without_bids_expires_and_late_bids_are_refused(client, settings):
    mill, (a, _, _), site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], mode="auction", deadline=timedelta(seconds=1))
    await _wait_for_status(client, mill, job["id"], "expired")
    problem(await _bid(client, a, job["id"], 100_000), 409, "auction_closed")


async def test_withdrawing_the_leading_bid_hands_the_win_to_the_next(client, settings):
    mill, (a, b, _), site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], mode="auction", deadline=timedelta(seconds=3))
    leader = (await _bid(client, a, job["id"], 200_000)).json()
    await _bid(client, b, job["id"], 210_000)
    r = await client.post(f"/jobs/{job['id']}/bids/{leader['id']}/withdraw", headers=a.headers)
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    awarded = await _wait_for_status(client, mill, job["id"], "awarded")
    assert awarded["carrier_org_id"] == b.org_id and awarded["award_price_minor"] == 210_000


async def test_the_poster_can_award_any_active_bid_before_the_deadline(client, settings):
    mill, (a, b, _), site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], mode="auction", deadline=timedelta(hours=1))
    await _bid(client, a, job["id"], 200_000)
    chosen = (await _bid(client, b, job["id"], 230_000)).json()  # not the lowest: the poster may prefer it
    problem(await client.post(f"/jobs/{job['id']}/bids/{chosen['id']}/award", headers=a.headers), 404)
    r = await client.post(f"/jobs/{job['id']}/bids/{chosen['id']}/award", headers=mill.headers)
    assert r.status_code == 200
    assert r.json()["carrier_org_id"] == b.org_id and r.json()["award_price_minor"] == 230_000
    problem(await _bid(client, a, job["id"], 150_000), 409, "auction_closed")
    bids = {
        x["carrier_org_id"]: x["status"]
        for x in (await client.get(f"/jobs/{job['id']}/bids", headers=mill.headers)).json()
    }
    assert bids == {a.org_id: "lost", b.org_id: "won"}


async def test_carriers_see_their_own_bid_and_rank_never_a_competitors_price(client, settings):
    mill, (a, b, c), site = await _market(client, settings)
    job = await post_job(
        client, mill, site["id"], mode="auction", ceiling=500_000, deadline=timedelta(hours=1)
    )
    await _bid(client, a, job["id"], 300_000)
    await _bid(client, b, job["id"], 280_000)
    mine = (await _bid(client, c, job["id"], 290_000)).json()
    assert (mine["rank"], mine["active_bids"]) == (2, 3)
    seen_by_c = (await client.get(f"/jobs/{job['id']}/bids", headers=c.headers)).json()
    assert [(x["carrier_org_id"], x["amount_minor"], x["rank"]) for x in seen_by_c] == [
        (c.org_id, 290_000, 2)
    ]
    seen_by_poster = (await client.get(f"/jobs/{job['id']}/bids", headers=mill.headers)).json()
    assert [x["amount_minor"] for x in seen_by_poster] == [280_000, 290_000, 300_000]
    # The public job view counts bids but shows no amounts.
    public = (await client.get(f"/jobs/{job['id']}", headers=a.headers)).json()
    assert public["bid_count"] == 3 and "bids" not in public
    # Lowering: by at least the step, never up; then the rank follows.
    problem(
        await client.put(
            f"/jobs/{job['id']}/bids/{mine['id']}", headers=c.headers, json={"amount_minor": 295_000}
        ),
        422,
        "step_too_small",
    )
    lowered = (
        await client.put(
            f"/jobs/{job['id']}/bids/{mine['id']}", headers=c.headers, json={"amount_minor": 270_000}
        )
    ).json()
    assert (lowered["amount_minor"], lowered["rank"]) == (270_000, 1)
    problem(await _bid(client, c, job["id"], 260_000), 409, "bid_exists")
    problem(await _bid(client, a, job["id"], 250_000), 409, "bid_exists")
    # Another carrier's bid cannot be touched.
    problem(
        await client.post(f"/jobs/{job['id']}/bids/{mine['id']}/withdraw", headers=a.headers),
        404,
        "bid_not_found",
    )


async def test_bid_above_the_ceiling_is_refused(client, settings, db):
    mill, (a, _, _), site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], mode="auction", ceiling=100_000)
    problem(await _bid(client, a, job["id"], 100_001), 422, "above_ceiling")
    assert await db.fetchval("SELECT count(*) FROM bids") == 0


async def test_bids_racing_the_close_are_either_in_or_refused_never_both(client, settings, db):
    mill, bidders, site = await _market(client, settings, carriers=30)
    job = await post_job(client, mill, site["id"], mode="auction", deadline=timedelta(seconds=2))
    rng = random.Random(7)
    amounts = {b.org_id: rng.randrange(100_000, 200_000) for b in bidders}

    async def bid_later(carrier):
        await asyncio.sleep(rng.uniform(1.0, 3.0))  # spread across the deadline
        return carrier, await _bid(client, carrier, job["id"], amounts[carrier.org_id])

    results = await asyncio.gather(*[bid_later(b) for b in bidders])
    awarded_or_expired = (
        await _wait_for_status(client, mill, job["id"], "awarded")
        if any(r.status_code == 201 for _, r in results)
        else await _wait_for_status(client, mill, job["id"], "expired")
    )
    accepted = {c.org_id for c, r in results if r.status_code == 201}
    refused = {c.org_id for c, r in results if r.status_code == 409}
    assert accepted | refused == set(amounts) and not accepted & refused
    assert {r.json()["code"] for _, r in results if r.status_code == 409} <= {"auction_closed"}
    rows = {
        r["carrier_org_id"]: r["status"]
        for r in await db.fetch(
            "SELECT carrier_org_id::text, status FROM bids WHERE job_id = $1", UUID(job["id"])
        )
    }
    # Every accepted bid took part in the close (won or lost, none left active); no refused one exists.
    assert set(rows) == accepted
    assert set(rows.values()) <= {"won", "lost"}
    if accepted:
        best = min(accepted, key=lambda org: amounts[org])
        assert awarded_or_expired["carrier_org_id"] == best
        assert rows[best] == "won"
