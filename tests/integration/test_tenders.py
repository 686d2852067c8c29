"""Direct and waterfall tenders: offered to chosen carriers in turn, off the market; accept, decline,
time out; the market (or expiry) after the last; races settled by the database, as grabs are."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.market_support import create_site, job_body, post_job, save_area
from tests.support import Account, bootstrap_org, problem

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def tendered(
    origin: str, carriers: list[Account], window_s: int, then: str = "market", **kw: Any
) -> dict[str, Any]:
    return job_body(
        origin,
        tender={"carriers": [c.org_id for c in carriers], "window_seconds": window_s, "then": then},
        **kw,
    )


async def post_tendered(http: Any, poster: Account, body: dict[str, Any]) -> dict[str, Any]:
    r = await http.post("/jobs", headers=poster.headers, json=body)
    assert r.status_code == 201, r.text
    job: dict[str, Any] = r.json()
    return job


async def offer_to(
    http: Any, carrier: Account, job_id: str, within_s: float = 60, *, current: bool = True
) -> dict[str, Any]:
    """The offer out now to `carrier` for the job, once its turn has come (read as the carrier does);
    `current=False`: whatever it became since."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        r = await http.get("/tenders", headers=carrier.headers, params={"current": str(current).lower()})
        assert r.status_code == 200, r.text
        found = [o for o in r.json() if o["job_id"] == job_id]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no offer of {job_id} came to {carrier.name}")


async def tender_of(http: Any, poster: Account, job_id: str) -> dict[str, Any]:
    r = await http.get(f"/jobs/{job_id}/tender", headers=poster.headers)
    assert r.status_code == 200, r.text
    tender: dict[str, Any] = r.json()
    return tender


async def until(check: Any, within_s: float = 60) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("the state never came")


async def tender_events(db: Any, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await db.fetch(
        "SELECT type, data FROM events WHERE subject_id = $1 AND type LIKE 'tender.%' ORDER BY id", job_id
    )
    return [(r["type"], json.loads(r["data"]) if isinstance(r["data"], str) else r["data"]) for r in rows]


async def next_frame(ws: Any, within_s: float = 30) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within_s))
    return frame


@pytest.mark.server
async def test_a_waterfall_declined_timed_out_and_accepted_and_a_fourth_carrier_never_sees_it(
    server_factory, settings, db
):
    server = server_factory(workers=2, closer_interval_ms=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first, second, third, fourth = [
            await bootstrap_org(http, settings, name, ["carrier"])
            for name in ("First", "Second", "Third", "Fourth")
        ]
        for carrier in (first, fourth):
            await save_area(http, carrier, "Berlin")
        site = await create_site(http, mill, "Mill")
        async with (
            connect(f"{server.ws_url}/market/feed", additional_headers=first.headers) as first_feed,
            connect(f"{server.ws_url}/market/feed", additional_headers=fourth.headers) as fourth_feed,
        ):
            assert (await next_frame(first_feed))["type"] == "snapshot"
            assert (await next_frame(fourth_feed)) == {"type": "snapshot", "jobs": []}
            job = await post_tendered(http, mill, tendered(site["id"], [first, second, third], window_s=8))
            assert job["status"] == "tendering"

            # The first carrier is told live, on its feed only, and declines with a reason.
            frame = await next_frame(first_feed)
            assert frame["type"] == "tender.offered" and frame["job_id"] == job["id"]
            assert frame["offer"]["rank"] == 1 and frame["offer"]["price_minor"] == 250_000
            offer = await offer_to(http, first, job["id"])
            assert offer["job"]["id"] == job["id"] and offer["job"].get("reference") is None
            r = await http.get(f"/jobs/{job['id']}", headers=first.headers)
            assert r.status_code == 200 and r.json()["status"] == "tendering"
            # Not on the market: no search finds it.
            assert (await http.get("/market/jobs", headers=fourth.headers)).json()["items"] == []
            problem(
                await http.post(
                    f"/tenders/{offer['id']}/decline", headers=first.headers, json={"reason": ""}
                ),
                400,
            )
            r = await http.post(
                f"/tenders/{offer['id']}/decline",
                headers=first.headers,
                json={"reason": "no truck free that day"},
            )
            assert r.status_code == 200 and r.json()["state"] == "declined", r.text
            problem(
                await http.post(f"/tenders/{offer['id']}/accept", headers=first.headers),
                409,
                "tender_not_offered",
            )

            # The second lets its window pass: the timeout loop moves the tender on.
            second_offer = await offer_to(http, second, job["id"])
            assert second_offer["rank"] == 2
            third_offer = await offer_to(http, third, job["id"])
            stand = await tender_of(http, mill, job["id"])
            assert [(o["rank"], o["state"]) for o in stand["offers"]] == [
                (1, "declined"),
                (2, "timed_out"),
                (3, "offered"),
            ]
            assert stand["offers"][0]["reason"] == "no truck free that day"
            problem(
                await http.post(f"/tenders/{second_offer['id']}/accept", headers=second.headers),
                409,
                "tender_expired",
            )
            r = await http.post(f"/tenders/{third_offer['id']}/accept", headers=third.headers)
            assert r.status_code == 200, r.text
            awarded = r.json()
            assert awarded["status"] == "awarded" and awarded["carrier_org_id"] == third.org_id
            assert awarded["award_price_minor"] == 250_000
            # Awarded exactly as a grab: the goods owner's authorization is issued with it.
            r = await http.get(f"/jobs/{job['id']}/authorization", headers=third.headers)
            assert r.status_code == 200 and r.json()["code"], r.text
            assert (await tender_of(http, mill, job["id"]))["status"] == "accepted"

            # A job posted to the market afterwards is the first thing the fourth carrier's feed hears.
            sentinel = await post_job(http, mill, site["id"])
            heard = await next_frame(fourth_feed)
            assert heard["type"] == "job.posted" and heard["job"]["id"] == sentinel["id"], heard

        # The fourth carrier never saw it: no offer, and the job answers as an id that never existed.
        assert (await http.get("/tenders", headers=fourth.headers)).json() == []
        for who in (fourth, second):
            gone = problem(await http.get(f"/jobs/{job['id']}", headers=who.headers), 404, "job_not_found")
            never = problem(await http.get(f"/jobs/{UNKNOWN}", headers=who.headers), 404, "job_not_found")
            assert gone["detail"] == never["detail"]
        problem(await http.get(f"/jobs/{job['id']}/tender", headers=fourth.headers), 404, "job_not_found")
        # Not even in the seconds after the award, when a market job tells a late grab it was taken.
        problem(await http.post(f"/jobs/{job['id']}/grab", headers=fourth.headers), 404, "job_not_found")
        problem(await http.get(f"/jobs/{job['id']}/bids", headers=fourth.headers), 404, "job_not_found")
        problem(
            await http.post(f"/tenders/{third_offer['id']}/accept", headers=fourth.headers),
            404,
            "tender_not_found",
        )

    told = [(kind, data.get("carrier_org_id")) for kind, data in await tender_events(db, job["id"])]
    assert told == [
        ("tender.offered", first.org_id),
        ("tender.declined", first.org_id),
        ("tender.offered", second.org_id),
        ("tender.timed_out", second.org_id),
        ("tender.offered", third.org_id),
        ("tender.accepted", third.org_id),
    ]
    awards = await db.fetchval(
        "SELECT count(*) FROM events WHERE type = 'job.awarded' AND subject_id = $1", job["id"]
    )
    assert awards == 1


@pytest.mark.server
async def test_when_every_carrier_declines_the_job_opens_to_the_market(server_factory, settings, db):
    server = server_factory(workers=2, closer_interval_ms=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first, second, watcher = [
            await bootstrap_org(http, settings, name, ["carrier"]) for name in ("First", "Second", "Watcher")
        ]
        await save_area(http, watcher, "Berlin")
        site = await create_site(http, mill, "Mill")
        async with connect(f"{server.ws_url}/market/feed", additional_headers=watcher.headers) as feed:
            assert (await next_frame(feed)) == {"type": "snapshot", "jobs": []}
            job = await post_tendered(http, mill, tendered(site["id"], [first, second], window_s=600))
            for carrier in (first, second):
                offer = await offer_to(http, carrier, job["id"])
                r = await http.post(
                    f"/tenders/{offer['id']}/decline", headers=carrier.headers, json={"reason": "full"}
                )
                assert r.status_code == 200, r.text
            frame = await next_frame(feed)
            assert frame["type"] == "job.posted" and frame["job"]["id"] == job["id"]
            assert frame["job"]["status"] == "open" and frame["job"]["price_minor"] == 250_000
        assert [
            j["id"] for j in (await http.get("/market/jobs", headers=watcher.headers)).json()["items"]
        ] == [job["id"]]
        assert (await tender_of(http, mill, job["id"]))["status"] == "exhausted"
        r = await http.post(f"/jobs/{job['id']}/grab", headers=watcher.headers)
        assert r.status_code == 200 and r.json()["carrier_org_id"] == watcher.org_id
    kinds = [kind for kind, _ in await tender_events(db, job["id"])]
    assert kinds == [
        "tender.offered",
        "tender.declined",
        "tender.offered",
        "tender.declined",
        "tender.exhausted",
    ]
    exhausted = (await tender_events(db, job["id"]))[-1][1]
    assert exhausted == {"job_id": job["id"], "then": "grab"}


@pytest.mark.server
async def test_a_tendered_job_whose_pickup_window_ends_expires_at_once(server_factory, settings, db):
    server = server_factory(workers=2, closer_interval_ms=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        first, second = [
            await bootstrap_org(http, settings, name, ["carrier"]) for name in ("First", "Second")
        ]
        await save_area(http, first, "Berlin")
        site = await create_site(http, mill, "Mill")
        async with connect(f"{server.ws_url}/market/feed", additional_headers=first.headers) as feed:
            assert (await next_frame(feed))["type"] == "snapshot"
            # A long window and a market after it: only the end of the pickup window can stop it now.
            job = await post_tendered(http, mill, tendered(site["id"], [first, second], window_s=3600))
            offered = await next_frame(feed)
            assert offered["type"] == "tender.offered" and offered["job_id"] == job["id"]
            offer = await offer_to(http, first, job["id"])
            # The clock: the job's pickup window (and so its deadline) moved into the past.
            await db.execute(
                "UPDATE jobs SET pickup_from = now() - interval '3 hours', deadline = now() - interval "
                "'2 hours', pickup_until = now() - interval '1 second' WHERE id = $1::uuid",
                job["id"],
            )
            # No carrier can take it any more, whether or not the loop has ended the tender yet.
            refused = problem(await http.post(f"/tenders/{offer['id']}/accept", headers=first.headers), 409)
            assert refused["code"] in ("tender_expired", "tender_not_offered"), refused

            async def expired() -> bool:
                r = await http.get(f"/jobs/{job['id']}", headers=mill.headers)
                return bool(r.json()["status"] == "expired")

            await until(expired, within_s=30)
            ended = await next_frame(feed)
            assert ended["type"] == "tender.ended" and ended["offer"]["id"] == offer["id"], ended
        stand = await tender_of(http, mill, job["id"])
        assert stand["status"] == "exhausted"
        assert [(o["rank"], o["state"]) for o in stand["offers"]] == [(1, "withdrawn"), (2, "withdrawn")]
        problem(
            await http.post(f"/tenders/{offer['id']}/accept", headers=first.headers),
            409,
            "tender_not_offered",
        )
        # The second carrier's turn never came, and the market never saw the job.
        assert (await http.get("/tenders", headers=second.headers)).json() == []
        problem(await http.get(f"/jobs/{job['id']}", headers=second.headers), 404, "job_not_found")
    told = await tender_events(db, job["id"])
    assert [kind for kind, _ in told] == ["tender.offered", "tender.exhausted"]
    assert told[-1][1] == {"job_id": job["id"], "then": "expired"}
    after = await db.fetch(
        "SELECT type FROM events WHERE subject_id = $1 AND type LIKE 'job.%' ORDER BY id", job["id"]
    )
    assert [r["type"] for r in after] == ["job.posted", "job.expired"]


async def test_what_a_tender_refuses(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    shipper = await bootstrap_org(client, settings, "Other shipper", ["shipper"])
    site = await create_site(client, mill, "Mill")

    async def refused(body: dict[str, Any], code: str) -> None:
        problem(await client.post("/jobs", headers=mill.headers, json=body), 422, code)

    await refused(tendered(site["id"], [carrier, carrier], 60), "tender_carrier_repeated")
    await refused(tendered(site["id"], [carrier, shipper], 60), "tender_carrier_unknown")
    await refused(tendered(site["id"], [mill], 60), "own_job")
    await refused(tendered(site["id"], [carrier], 60, mode="auction"), "tender_price_required")
    assert (await client.get("/jobs", headers=mill.headers)).json()["items"] == []  # nothing half-written
    # The poster cancels a running tender: the offer is withdrawn and the carrier sees it no more.
    job = await post_tendered(client, mill, tendered(site["id"], [carrier], 600))
    offer = await offer_to(client, carrier, job["id"])
    r = await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    problem(
        await client.post(f"/tenders/{offer['id']}/accept", headers=carrier.headers),
        409,
        "tender_not_offered",
    )
    problem(await client.get(f"/jobs/{job['id']}", headers=carrier.headers), 404, "job_not_found")
    assert [o["state"] for o in (await tender_of(client, mill, job["id"]))["offers"]] == ["withdrawn"]
    # A job never tendered has no tender.
    plain = await post_job(client, mill, site["id"])
    problem(await client.get(f"/jobs/{plain['id']}/tender", headers=mill.headers), 404, "tender_not_found")
    problem(await client.post(f"/tenders/{UNKNOWN}/accept", headers=carrier.headers), 404, "tender_not_found")


def _settled(db: Any, job_id: str) -> Any:
    async def check() -> str | None:
        status: str | None = await db.fetchval("SELECT status FROM jobs WHERE id = $1::uuid", job_id)
        return status if status in ("awarded", "expired") else None

    return check


@pytest.mark.server
async def test_accepts_as_the_window_closes_are_accepted_or_refused_never_both(server_factory, settings, db):
    server = server_factory(workers=2, closer_interval_ms=20)
    rounds = 12
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        mill = await bootstrap_org(http, settings, "Mill", ["shipper"])
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        site = await create_site(http, mill, "Mill")
        outcomes = []
        for i in range(rounds):
            job = await post_tendered(http, mill, tendered(site["id"], [carrier], window_s=2, then="expire"))
            offer = await offer_to(http, carrier, job["id"], current=False)  # read late, it may have closed
            expires = datetime.fromisoformat(offer["expires_at"])
            # Round by round, the accepts are sent nearer the closing instant and then past it: from
            # 80 ms before it to 80 ms after, three at once each round.
            offset = -0.08 + 0.16 * i / (rounds - 1)
            await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds() + offset))
            url = f"/tenders/{offer['id']}/accept"
            answers = await asyncio.gather(*[http.post(url, headers=carrier.headers) for _ in range(3)])
            codes = sorted(a.status_code for a in answers)
            assert set(codes) <= {200, 409}, [a.text for a in answers]
            assert codes.count(200) <= 1
            refusals = {a.json()["code"] for a in answers if a.status_code == 409}
            assert refusals <= {"tender_expired", "tender_not_offered"}

            status = await until(_settled(db, job["id"]))
            kinds = [kind for kind, _ in await tender_events(db, job["id"])]
            if codes.count(200) == 1:
                assert status == "awarded" and kinds == ["tender.offered", "tender.accepted"]
            else:
                assert status == "expired" and kinds == [
                    "tender.offered",
                    "tender.timed_out",
                    "tender.exhausted",
                ]
            outcomes.append(status)
        # Two accepts well inside the window: one wins, the other is told the offer is taken.
        job = await post_tendered(http, mill, tendered(site["id"], [carrier], window_s=600))
        offer = await offer_to(http, carrier, job["id"])
        both = await asyncio.gather(
            *[http.post(f"/tenders/{offer['id']}/accept", headers=carrier.headers) for _ in range(2)]
        )
        assert sorted(a.status_code for a in both) == [200, 409]
        assert next(a for a in both if a.status_code == 409).json()["code"] == "tender_not_offered"
    accepted = await db.fetchval("SELECT count(*) FROM events WHERE type = 'tender.accepted'")
    assert accepted == outcomes.count("awarded") + 1
    both_ways = await db.fetchval(
        "SELECT count(*) FROM tender_offers o WHERE o.state = 'accepted' AND EXISTS ("
        " SELECT 1 FROM events e WHERE e.type = 'tender.timed_out' AND e.subject_id = o.job_id::text)"
    )
    assert both_ways == 0
