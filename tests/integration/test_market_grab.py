"""Grab: the first carrier wins, atomically, whatever the concurrency."""

import asyncio
import json
import re
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest

from dispatch.accounts import service as accounts
from dispatch.authorizations.service import AutomaticAuthorizer
from dispatch.db.pool import create_pool
from dispatch.errors import Conflict
from dispatch.market import service
from dispatch.realtime.broker import PgBroker
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


class _StepByStepBroker:
    """The app's own PostgreSQL broker, saying it cannot publish in SQL: the grab then awards step by
    step (the UPDATE, then `on_award`, in one transaction), as for a broker outside PostgreSQL."""

    publishes_in_sql = False

    def __init__(self, broker: Any) -> None:
        self._broker = broker

    async def publish(self, conn: Any, channel: str, payload: str) -> None:
        await self._broker.publish(conn, channel, payload)


async def test_the_grab_in_one_statement_writes_what_the_award_step_by_step_writes(client, settings, db):
    """The grab's one statement (queries.GRAB_AND_AWARD) and the award written step by step leave
    the same rows: the job, the events in the same order with the same data, the authorization and
    the feed's removal; and answer the winner and a later carrier alike."""
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Carrier", ["carrier"])
    late = await bootstrap_org(client, settings, "Late", ["carrier"])
    site = await create_site(client, mill, "Mill")
    notices: list[str] = []
    await db.add_listener("market", lambda *args: notices.append(args[3]))

    # The service as the app runs it (the client's app runs on a loop of its own): its pool, broker
    # and automatic authorization.
    pool = await create_pool(settings.database_url)
    pg_broker = PgBroker(settings.database_url)
    authorize = AutomaticAuthorizer(settings.secret_key)

    async def grab(job_id: str, account: Any, step_by_step: bool) -> dict[str, Any]:
        p = await accounts.authenticate(pool, secret=settings.secret_key, token=account.token)
        broker = _StepByStepBroker(pg_broker) if step_by_step else pg_broker
        try:
            job = await service.grab(pool, broker, authorize, p, UUID(job_id))
        except Conflict as refused:
            return {"refused": refused.code}
        return msgspec.to_builtins(job)

    def same(value: Any, job_id: str, auth_id: Any) -> Any:
        """`value` with this job's own ids (and the moments drawn at the award) named alike."""
        text = json.dumps(value, default=str, sort_keys=True)
        for own, name in ((job_id, "JOB"), (str(auth_id), "AUTH")):
            text = text.replace(own, name)
        return re.sub(r"\d{4}-\d\d-\d\dT[0-9:.]+(\+00:00|Z)?", "TIME", text)

    written = []
    for step_by_step in (False, True):
        job = await post_job(client, mill, site["id"], price=310_000)
        notices.clear()
        won = await grab(job["id"], carrier, step_by_step)
        lost = await grab(job["id"], late, step_by_step)
        auth = await db.fetchrow(
            "SELECT a.issuer_org_id, a.carrier_org_id, a.site_id, a.valid_from - j.pickup_from AS before,"
            " a.valid_until - j.pickup_until AS after, a.allowed_plates, a.allowed_driver_ids,"
            " a.created_by, a.revoked_at, a.id"
            " FROM pickup_authorizations a JOIN jobs j ON j.id = a.job_id WHERE a.job_id = $1",
            UUID(job["id"]),
        )
        assert auth is not None
        events = await db.fetch(
            "SELECT type, org_ids, subject_type, subject_id, actor_user_id, data FROM events"
            " WHERE subject_id IN ($1, $2::text) AND type <> 'job.posted' ORDER BY id",
            job["id"],
            str(auth["id"]),
        )
        assert [e["type"] for e in events] == ["job.awarded", "authorization.issued"]
        # The listening session sends what was notified before it ends a transaction of its own.
        await db.execute("SELECT 1")
        rows = {
            "answers": [won, lost],
            "authorization": {k: v for k, v in dict(auth).items() if k != "id"},
            "events": [dict(e) for e in events],
            "notices": notices[:],
        }
        written.append(same(rows, job["id"], auth["id"]))
    await pool.close()
    one_statement, step_by_step_rows = written
    assert one_statement == step_by_step_rows
    assert '"refused": "job_taken"' in one_statement and '"price_minor": 310000' in one_statement


@pytest.mark.server
async def test_a_grab_waiting_on_the_winners_lock_is_answered_as_a_fresh_read_answers(
    server_factory, settings, db
):
    """A grab that read the job open, then waits in GRAB_AND_AWARD on the row lock of a change in
    flight (another carrier's grab, the closer's expiry), gets the answer a carrier arriving
    afterwards gets, in both languages, and its statement writes nothing."""
    # A real server: the request waits on a lock this test holds, on this test's event loop.
    client = httpx.AsyncClient(base_url=server_factory(workers=1).base_url, timeout=60)
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    winner = await bootstrap_org(client, settings, "Winner", ["carrier"])
    waiting = await bootstrap_org(client, settings, "Waiting", ["carrier"])
    later = await bootstrap_org(client, settings, "Later", ["carrier"])
    site = await create_site(client, mill, "Mill")
    in_flight = {
        # another carrier's grab, as GRAB writes it
        "job_taken": """UPDATE jobs SET status = 'awarded', carrier_org_id = $2,
                        award_price_minor = price_minor, awarded_at = clock_timestamp()
                        WHERE id = $1""",
        # the closer's expiry (the deadline passed)
        "job_closed": """UPDATE jobs SET status = 'expired', closed_at = clock_timestamp()
                         WHERE id = $1 AND $2::uuid IS NOT NULL""",
    }
    watcher = await asyncpg.connect(settings.database_url)
    try:
        for code, change in in_flight.items():
            for lang in ("en", "zh-CN"):
                job = await post_job(client, mill, site["id"])
                url = f"/jobs/{job['id']}/grab"
                events_before = await db.fetchval(
                    "SELECT count(*) FROM events WHERE subject_id = $1", job["id"]
                )
                async with db.transaction():
                    await db.execute(change, UUID(job["id"]), UUID(winner.org_id))
                    grab = asyncio.create_task(
                        client.post(url, headers={**waiting.headers, "Accept-Language": lang})
                    )
                    while not await watcher.fetchval(
                        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                        " WHERE NOT l.granted AND a.query LIKE '%WITH grabbed AS%'"
                    ):
                        assert not grab.done(), (await grab).text  # it waits for the change in flight
                        await asyncio.sleep(0.02)
                waited = await grab
                fresh = await client.post(url, headers={**later.headers, "Accept-Language": lang})
                problem(waited, 409, code)
                assert _without_request_id(waited) == _without_request_id(fresh)
                events_after = await db.fetchval(
                    "SELECT count(*) FROM events WHERE subject_id = $1", job["id"]
                )
                assert events_after == events_before
                carrier = await db.fetchval("SELECT carrier_org_id FROM jobs WHERE id = $1::uuid", job["id"])
                assert carrier == (UUID(winner.org_id) if code == "job_taken" else None)
    finally:
        await watcher.close()
        await client.aclose()


def _without_request_id(r: httpx.Response) -> tuple[int, dict[str, Any]]:
    body = r.json()
    body.pop("request_id", None)
    return r.status_code, body
