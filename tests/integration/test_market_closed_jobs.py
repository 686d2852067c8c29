"""Closed jobs are not an oracle: to an organization that had no part in a job, once it is off the
market (and the 15 seconds after, in which late clicks are told it is taken, has passed), every route
answers exactly as for an id that never existed. Its parties keep their informative answers."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any
from uuid import uuid4

from tests.market_support import create_site, post_job
from tests.support import Account, bootstrap_org, problem

NO_BID = str(uuid4())
NO_LINK = str(uuid4())

# Every route under /jobs/{job}: method, path, body.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/jobs/{job}", None),
    ("POST", "/jobs/{job}/grab", None),
    ("POST", "/jobs/{job}/cancel", None),
    ("GET", "/jobs/{job}/bids", None),
    ("POST", "/jobs/{job}/bids", {"amount_minor": 100_000}),
    ("PUT", f"/jobs/{{job}}/bids/{NO_BID}", {"amount_minor": 90_000}),
    ("POST", f"/jobs/{{job}}/bids/{NO_BID}/withdraw", None),
    ("POST", f"/jobs/{{job}}/bids/{NO_BID}/award", None),
    ("GET", "/jobs/{job}/authorization", None),
    ("POST", "/jobs/{job}/authorization", {}),
    ("POST", "/jobs/{job}/authorization/revoke", {"reason": "probing"}),
    ("GET", "/jobs/{job}/loads", None),
    ("GET", "/jobs/{job}/plan", None),
    ("POST", "/jobs/{job}/plan", {}),
    ("POST", "/jobs/{job}/plan/confirm", None),
    ("GET", "/jobs/{job}/share-links", None),
    ("POST", "/jobs/{job}/share-links", {"expires_in_minutes": 60}),
    ("POST", f"/jobs/{{job}}/share-links/{NO_LINK}/revoke", None),
]


async def _call(client: Any, who: Account, method: str, path: str, body: dict[str, Any] | None) -> Any:
    return await client.request(method, path, headers=who.headers, json=body)


def _without_request_id(r: Any) -> tuple[int, Any]:
    body = r.json()
    if isinstance(body, dict):
        body.pop("request_id", None)
    return r.status_code, body


async def assert_answers_as_unknown(client: Any, who: Account, job_id: str) -> None:
    for method, path, body in ROUTES:
        real = await _call(client, who, method, path.format(job=job_id), body)
        unknown = await _call(client, who, method, path.format(job=uuid4()), body)
        assert real.status_code in (403, 404), (method, path, real.status_code, real.text)
        assert _without_request_id(real) == _without_request_id(unknown), (method, path)


async def _wait_for_status(client: Any, account: Account, job_id: str, status: str) -> None:
    deadline = time.monotonic() + 15
    while (await client.get(f"/jobs/{job_id}", headers=account.headers)).json()["status"] != status:
        assert time.monotonic() < deadline, f"job {job_id} never became {status}"
        await asyncio.sleep(0.1)


async def _left_the_market_long_ago(db: Any, job_id: str) -> None:
    """Time travel: the job was awarded or closed two minutes ago."""
    await db.execute(
        "UPDATE jobs SET awarded_at = awarded_at - interval '2 minutes', "
        "closed_at = closed_at - interval '2 minutes' WHERE id = $1",
        job_id,
    )


async def _market(client: Any, settings: Any) -> tuple[Account, Account, Account, dict[str, Any]]:
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    winner = await bootstrap_org(client, settings, "Winner", ["carrier"])
    outsider = await bootstrap_org(client, settings, "Outsider", ["carrier", "shipper"])
    site = await create_site(client, mill, "Mill")
    return mill, winner, outsider, site


async def test_a_taken_grab_job_answers_outsiders_as_an_unknown_id(client, settings, db):
    mill, winner, outsider, site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], price=310_000)
    # Open: the market shows it to every carrier, with what can and cannot be done with it.
    assert (await client.get(f"/jobs/{job['id']}", headers=outsider.headers)).status_code == 200
    bid = {"amount_minor": 100_000}
    problem(
        await client.post(f"/jobs/{job['id']}/bids", headers=outsider.headers, json=bid),
        409,
        "not_an_auction",
    )
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=winner.headers)).status_code == 200
    # A moment late (the race lost): told it is taken.
    problem(await client.post(f"/jobs/{job['id']}/grab", headers=outsider.headers), 409, "job_taken")
    await _left_the_market_long_ago(db, job["id"])
    await assert_answers_as_unknown(client, outsider, job["id"])
    # Its parties still get the informative answers.
    problem(await client.post(f"/jobs/{job['id']}/grab", headers=winner.headers), 409, "job_taken")
    problem(await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers), 409, "job_not_open")
    assert (await client.get(f"/jobs/{job['id']}", headers=winner.headers)).json()["status"] == "awarded"
    assert (await client.get(f"/jobs/{job['id']}/loads", headers=winner.headers)).json() == []
    assert (await client.get(f"/jobs/{job['id']}/loads", headers=mill.headers)).json() == []


async def test_an_expired_auction_answers_outsiders_as_an_unknown_id_and_its_bidders_as_before(
    client, settings, db
):
    mill, bidder, outsider, site = await _market(client, settings)
    job = await post_job(client, mill, site["id"], mode="auction", deadline=timedelta(seconds=2))
    bid = await client.post(f"/jobs/{job['id']}/bids", headers=bidder.headers, json={"amount_minor": 200_000})
    assert bid.status_code == 201, bid.text
    withdrawn = await client.post(
        f"/jobs/{job['id']}/bids/{bid.json()['id']}/withdraw", headers=bidder.headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # The deadline passes without an active bid: the closer lets it expire.
    await _wait_for_status(client, mill, job["id"], "expired")
    await _left_the_market_long_ago(db, job["id"])
    await assert_answers_as_unknown(client, outsider, job["id"])
    # The carrier that bid had a part in it: it is told the auction closed.
    problem(
        await client.post(f"/jobs/{job['id']}/bids", headers=bidder.headers, json={"amount_minor": 150_000}),
        409,
        "auction_closed",
    )
    assert [
        b["status"] for b in (await client.get(f"/jobs/{job['id']}/bids", headers=bidder.headers)).json()
    ] == ["withdrawn"]


async def test_a_cancelled_job_answers_outsiders_as_an_unknown_id(client, settings, db):
    mill, _, outsider, site = await _market(client, settings)
    job = await post_job(client, mill, site["id"])
    assert (await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers)).status_code == 200
    # Just cancelled: a late click is told it is closed.
    problem(await client.post(f"/jobs/{job['id']}/grab", headers=outsider.headers), 409, "job_closed")
    await _left_the_market_long_ago(db, job["id"])
    await assert_answers_as_unknown(client, outsider, job["id"])
    problem(await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers), 409, "job_not_open")


async def test_the_loads_of_a_job_are_not_found_by_outsiders(client, settings):
    mill, winner, outsider, site = await _market(client, settings)
    job = await post_job(client, mill, site["id"])
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=winner.headers)).status_code == 200
    # Even in the seconds after the award, the loads are the parties' only.
    unknown = problem(
        await client.get(f"/jobs/{uuid4()}/loads", headers=outsider.headers), 404, "job_not_found"
    )
    real = problem(
        await client.get(f"/jobs/{job['id']}/loads", headers=outsider.headers), 404, "job_not_found"
    )
    assert {k: v for k, v in real.items() if k != "request_id"} == {
        k: v for k, v in unknown.items() if k != "request_id"
    }
