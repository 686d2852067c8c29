"""Grab: the first carrier wins, atomically, whatever the concurrency."""

import asyncio
from uuid import UUID

import httpx
import pytest

from tests.market_support import create_site, post_job
from tests.support import bootstrap_org, problem


async def test_grab_awards_the_job_and_the_second_grab_is_refused(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    first = await bootstrap_org(client, settings, "First", ["carrier"])
    second = await bootstrap_org(client, settings, "Second", ["carrier"])
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"], price=310_000)
    r = await client.post(f"/jobs/{job['id']}/grab", headers=first.headers)
    assert r.status_code == 200
    assert r.json()["status"] == "awarded" and r.json()["carrier_org_id"] == first.org_id
    assert r.json()["award_price_minor"] == 310_000
    problem(await client.post(f"/jobs/{job['id']}/grab", headers=second.headers), 409, "job_taken")


async def test_what_cannot_be_grabbed(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper", "carrier"])
    shipper_only = await bootstrap_org(client, settings, "Shipper", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Carrier", ["carrier"])
    site = await create_site(client, mill, "Mill")
    auction = await post_job(client, mill, site["id"], mode="auction")
    problem(await client.post(f"/jobs/{auction['id']}/grab", headers=carrier.headers), 409, "not_grabbable")
    grab = await post_job(client, mill, site["id"])
    problem(await client.post(f"/jobs/{grab['id']}/grab", headers=mill.headers), 409, "own_job")
    problem(await client.post(f"/jobs/{grab['id']}/grab", headers=shipper_only.headers), 403, "not_a_carrier")
    problem(
        await client.post("/jobs/00000000-0000-4000-8000-000000000000/grab", headers=carrier.headers), 404
    )


@pytest.mark.server
async def test_100_carriers_grab_one_job_at_once_through_two_workers(server_factory, settings, db):
    server = server_factory(workers=2)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        # Arranged 10 at a time: each bootstrap opens its own connection, and an external server
        # may allow only 100 (the race itself is what runs all at once).
        gate = asyncio.Semaphore(10)

        async def carrier(i: int):
            async with gate:
                return await bootstrap_org(http, settings, f"Carrier {i}", ["carrier"])

        carriers = await asyncio.gather(*[carrier(i) for i in range(100)])
        site = await create_site(http, mill, "Mill")
        job = await post_job(http, mill, site["id"])
        answers = await asyncio.gather(
            *[http.post(f"/jobs/{job['id']}/grab", headers=c.headers) for c in carriers]
        )

    winners = [c for c, a in zip(carriers, answers, strict=True) if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 409]
    assert len(winners) == 1 and len(refused) == 99, sorted({a.status_code for a in answers})
    assert {a.json()["code"] for a in refused} == {"job_taken"}
    row = await db.fetchrow("SELECT status, carrier_org_id FROM jobs WHERE id = $1", UUID(job["id"]))
    assert row["status"] == "awarded" and row["carrier_org_id"] == UUID(winners[0].org_id)
    awards = await db.fetchval(
        "SELECT count(*) FROM events WHERE type = 'job.awarded' AND subject_id = $1", job["id"]
    )
    assert awards == 1
    # The winner's answer and the stored award agree.
    assert next(a for a in answers if a.status_code == 200).json()["carrier_org_id"] == winners[0].org_id
