"""A plain grab is served in front of Litestar's router (dispatch/market/grab_fast_path.py); a grab
with a query string (or anything else the fast path leaves alone) goes through the route. Both must
answer alike, in success and in refusal, and the route keeps what only it decides."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.market_support import create_site, post_job
from tests.support import Account, add_member, bootstrap_org, problem, role_ids

# What differs between two answers by design: the request id.
_OWN = {"x-request-id"}
ROUTED = "?via=route"  # a query string the route ignores, and the fast path leaves to it


def _headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k not in _OWN}


def _alike(a: httpx.Response, b: httpx.Response, *own: str) -> None:
    """The same status, headers and body, but for the request id, the instants and `own` (each
    answer's job id: the two jobs were posted, and awarded, moments apart)."""
    assert a.status_code == b.status_code, (a.text, b.text)
    assert _headers(a) == _headers(b)
    texts = [
        r.text.replace(job, "JOB") if job else r.text for r, job in zip((a, b), own or ("", ""), strict=True)
    ]
    texts = [re.sub(r'"request_id":"[^"]*"|"\d{4}-\d\d-\d\dT[^"]*"', '"-"', t) for t in texts]
    assert texts[0] == texts[1]


async def test_the_fast_path_and_the_route_answer_alike(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper", "carrier"])
    carrier = await bootstrap_org(client, settings, "Carrier", ["carrier"])
    late = await bootstrap_org(client, settings, "Late", ["carrier"])
    shipper_only = await bootstrap_org(client, settings, "Shipper", ["shipper"])
    site = await create_site(client, mill, "Mill")

    def grab(job: dict[str, Any], who: Any, routed: bool, lang: str = "en") -> Any:
        headers = {**who.headers, "Accept-Language": lang}
        return client.post(f"/jobs/{job['id']}/grab{ROUTED if routed else ''}", headers=headers)

    # The winner's answer (its award), and the later carrier's refusal, in both languages.
    fast_job, routed_job = [await post_job(client, mill, site["id"], price=310_000) for _ in range(2)]
    a, b = await grab(fast_job, carrier, False), await grab(routed_job, carrier, True)
    assert a.status_code == 200 and a.json()["carrier_org_id"] == carrier.org_id
    _alike(a, b, fast_job["id"], routed_job["id"])
    for lang in ("en", "zh-CN"):
        a, b = await grab(fast_job, late, False, lang), await grab(routed_job, late, True, lang)
        problem(a, 409, "job_taken")
        _alike(a, b, fast_job["id"], routed_job["id"])

    # An API token of a role with jobs.bid (the event's actor is then no user): alike too.
    [dispatcher] = await role_ids(client, late, "dispatcher")
    r = await client.post(
        f"/orgs/{late.org_id}/api-tokens", headers=late.headers, json={"name": "TMS", "role_id": dispatcher}
    )
    tms = Account(late.org_id, "", "", r.json()["token"])
    fast_job, routed_job = [await post_job(client, mill, site["id"]) for _ in range(2)]
    a, b = await grab(fast_job, tms, False), await grab(routed_job, tms, True)
    assert a.status_code == 200 and a.json()["carrier_org_id"] == late.org_id
    _alike(a, b, fast_job["id"], routed_job["id"])

    # What the service refuses: one's own job, an auction, an unknown id, a shipper.
    auction = await post_job(client, mill, site["id"], mode="auction")
    unknown = {"id": "00000000-0000-4000-8000-000000000000"}
    own = await post_job(client, mill, site["id"])
    for job, who, code in (
        (own, mill, "own_job"),
        (auction, carrier, "not_grabbable"),
        (unknown, carrier, "job_not_found"),
        (own, shipper_only, "not_a_carrier"),
    ):
        a, b = await grab(job, who, False), await grab(job, who, True)
        assert a.json()["code"] == code, a.text
        _alike(a, b)


async def test_what_the_route_decides_is_still_decided_there(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Carrier", ["carrier"])
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"])
    url = f"/jobs/{job['id']}/grab"
    problem(await client.post(url), 401, "token_missing")
    problem(await client.post(url, headers={"Authorization": "Bearer u1.nonsense"}), 401)
    problem(await client.post(url, headers={"Authorization": "Token x"}), 401, "token_malformed")
    # An API token of a role without jobs.bid: the guard's 403.
    [integration] = await role_ids(client, carrier, "integration")
    r = await client.post(
        f"/orgs/{carrier.org_id}/api-tokens",
        headers=carrier.headers,
        json={"name": "ERP", "role_id": integration},
    )
    erp = {"Authorization": f"Bearer {r.json()['token']}"}
    problem(await client.post(url, headers=erp), 403, "permission_missing")
    assert await db.fetchval("SELECT status FROM jobs WHERE id = $1::uuid", job["id"]) == "open"
    # Another spelling of the id is the route's to judge; it takes the job as the plain one would.
    r = await client.post(url.replace(job["id"], job["id"].upper()), headers=carrier.headers)
    assert r.status_code == 200 and r.json()["carrier_org_id"] == carrier.org_id


async def test_a_user_session_read_beside_the_job_is_judged_as_the_middleware_judges_it(client, settings, db):
    """The fast path reads a user session in the same statement as the job: a session that does not
    authenticate, or a user the guards refuse, is answered exactly as the route answers it (the
    route's middleware and guards), in both languages, and the job stays open."""
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Carrier", ["carrier"])
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"])
    viewer = await add_member(client, carrier, "viewer")  # no jobs.bid: the guard's 403
    ended = await add_member(client, carrier, "dispatcher")
    assert (await client.post("/auth/logout", headers=ended.headers)).status_code == 204
    removed = await add_member(client, carrier, "dispatcher")
    r = await client.delete(f"/orgs/{carrier.org_id}/members/{removed.user_id}", headers=carrier.headers)
    assert r.status_code == 204, r.text

    for who, status, code in (
        (viewer, 403, "permission_missing"),
        (ended, 401, "session_revoked"),
        (removed, 401, "membership_gone"),
    ):
        for lang in ("en", "zh-CN"):
            headers = {**who.headers, "Accept-Language": lang}
            a = await client.post(f"/jobs/{job['id']}/grab", headers=headers)
            b = await client.post(f"/jobs/{job['id']}/grab{ROUTED}", headers=headers)
            problem(a, status, code)
            _alike(a, b)
    assert await db.fetchval("SELECT status FROM jobs WHERE id = $1::uuid", job["id"]) == "open"

    # A dispatcher's live session takes it, through the fast path.
    dispatcher = await add_member(client, carrier, "dispatcher")
    r = await client.post(f"/jobs/{job['id']}/grab", headers=dispatcher.headers)
    assert r.status_code == 200 and r.json()["carrier_org_id"] == carrier.org_id
