"""GET /events: an organization's events, cursor-paged, through the real app on the real database:
paging, the types filter, who may read, other organizations' events unseen, bad input, the
long-poll, and a consumer paging over HTTP while many transactions write and commit out of order."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dispatch.db.pool import create_pool
from dispatch.events import record
from dispatch.events.schemas import SCHEMAS
from tests.market_support import create_site
from tests.support import Account, add_member, bootstrap_org, problem, role_ids


async def _api_token(client: Any, admin: Account, role: str = "integration") -> dict[str, str]:
    [role_id] = await role_ids(client, admin, role)
    r = await client.post(
        f"/orgs/{admin.org_id}/api-tokens", headers=admin.headers, json={"name": "ERP", "role_id": role_id}
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _page(client: Any, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = await client.get("/events", headers=headers, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _read_all(
    client: Any, headers: dict[str, str], after: str = "", **params: Any
) -> list[dict[str, Any]]:
    """Every event after `after`, a few at a time, following `next_after`."""
    items: list[dict[str, Any]] = []
    while True:
        page = await _page(client, headers, after=after, limit=3, **params)
        items += page["items"]
        if not page["items"]:
            assert page["next_after"] == after  # an empty page gives the cursor back
            return items
        assert page["next_after"] == page["items"][-1]["cursor"]
        after = page["next_after"]


def _cursor_key(cursor: str) -> tuple[int, int]:
    tx, _, event_id = cursor.partition(".")
    return int(tx), int(event_id)


async def test_an_organization_pages_through_its_own_events_only(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    rival = await bootstrap_org(client, settings, "Rival", ["shipper"])
    for n in range(4):
        await create_site(client, acme, f"Acme site {n}")
    await create_site(client, rival, "Rival site")
    acme_token = await _api_token(client, acme)

    by_token = await _read_all(client, acme_token)
    by_session = await _read_all(client, acme.headers)
    assert by_token == by_session
    expected = await db.fetch(
        "SELECT id, type FROM events WHERE $1::uuid = ANY (org_ids) ORDER BY tx, id", UUID(acme.org_id)
    )
    assert [e["id"] for e in by_token] == [f"evt_{r['id']}" for r in expected]
    assert [e["type"] for e in by_token].count("site.created") == 4
    assert {e["type"] for e in by_token} >= {"organization.created", "site.created", "api_token.issued"}
    assert sorted(by_token, key=lambda e: _cursor_key(e["cursor"])) == by_token
    for event in by_token:
        schema = SCHEMAS[event["type"]]
        assert event["version"] == schema.version
        msgspec.convert(event["data"], schema.data)  # the data is what its schema says
        assert set(event) == {"id", "cursor", "type", "version", "occurred_at", "subject", "data", "links"}
    names = [e["data"]["name"] for e in by_token if e["type"] == "site.created"]
    assert names == [f"Acme site {n}" for n in range(4)]

    # The rival sees its own events and none of Acme's.
    rival_events = await _read_all(client, rival.headers)
    assert {e["id"] for e in rival_events}.isdisjoint(e["id"] for e in by_token)
    assert [e["data"]["name"] for e in rival_events if e["type"] == "site.created"] == ["Rival site"]

    # The types filter, and reading on from the middle.
    only_sites = await _read_all(client, acme_token, types="site.created,vehicle.added")
    assert [e["type"] for e in only_sites] == ["site.created"] * 4
    assert await _read_all(client, acme_token, after=by_token[1]["cursor"]) == by_token[2:]
    last = by_token[-1]["cursor"]
    assert await _page(client, acme_token, after=last) == {"items": [], "next_after": last}
    await create_site(client, acme, "Acme site 4")
    [new] = (await _page(client, acme_token, after=last))["items"]
    assert new["type"] == "site.created" and new["data"] == {"name": "Acme site 4"}


async def test_reading_needs_events_read_and_credentials(client, settings):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    staff = await add_member(client, acme, "gate_staff")  # no events.read
    problem(await client.get("/events", headers=staff.headers), 403, "permission_missing")
    problem(await client.get("/events", headers=await _api_token(client, acme, "gate_staff")), 403)
    problem(await client.get("/events"), 401)
    viewer = await add_member(client, acme, "viewer")
    assert (await client.get("/events", headers=viewer.headers)).status_code == 200


async def test_bad_input_is_a_400_naming_the_field(client, settings, db):
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    before = await db.fetchval("SELECT count(*) FROM events")
    for after in ("abc", "1", "1.2.3", "-1.5", f"{2**64}.1"):
        body = problem(
            await client.get("/events", headers=acme.headers, params={"after": after}), 400, "bad_cursor"
        )
        assert [e["field"] for e in body["errors"]] == ["after"], body
    body = problem(
        await client.get("/events", headers=acme.headers, params={"types": "site.created,no.such"}),
        400,
        "validation_failed",
    )
    assert [e["field"] for e in body["errors"]] == ["types"] and "'no.such'" in body["detail"]
    for types in ("", "site.created,", " site.created"):
        body = problem(await client.get("/events", headers=acme.headers, params={"types": types}), 400)
        assert [e["field"] for e in body["errors"]] == ["types"], body
    for name, value in (("limit", 0), ("limit", 501), ("limit", "many"), ("wait", 31), ("wait", -1)):
        body = problem(
            await client.get("/events", headers=acme.headers, params={name: value}), 400, "validation_failed"
        )
        assert name in [e["field"] for e in body["errors"]], body
    assert await db.fetchval("SELECT count(*) FROM events") == before


async def test_a_long_poll_answers_when_an_event_commits(server_factory, settings):
    # A real server with two workers: the waiter and the writer may be served by different
    # processes, each with its own listening connection.
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        await _long_poll_story(client, settings)


async def _long_poll_story(client: httpx.AsyncClient, settings: Any) -> None:
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    rival = await bootstrap_org(client, settings, "Rival", ["shipper"])
    start = (await _page(client, acme.headers, limit=500))["next_after"]
    # Nothing comes: an empty page after the wait, with the cursor given back.
    assert await _page(client, acme.headers, after=start, wait=1) == {"items": [], "next_after": start}

    waiting = asyncio.ensure_future(_page(client, acme.headers, after=start, wait=30))
    await asyncio.sleep(0.3)  # let the waiter subscribe (if it has not yet, its first read finds the event)
    await create_site(client, rival, "Not for Acme")  # wakes nobody at Acme
    await create_site(client, acme, "Awaited")
    page = await waiting
    assert [e["data"] for e in page["items"]] == [{"name": "Awaited"}]


# -- many writers, one consumer over HTTP --------------------------------------------------------

ROUNDS = 3
WRITERS = 10
EVENTS_PER_WRITER = 4


async def _writer(pool: asyncpg.Pool, org: UUID, seed: int, written: set[str]) -> None:
    """Transactions that take their ids in one order and commit in another; some roll back."""
    rnd = random.Random(seed)
    for _ in range(EVENTS_PER_WRITER):
        async with pool.acquire() as conn:
            tr = conn.transaction()
            await tr.start()
            event_id = await record(
                conn, "site.updated", org_ids=[org], subject_type="site", subject_id="s", actor_user_id=None
            )
            await asyncio.sleep(rnd.uniform(0, 0.03))
            if rnd.random() < 0.1:
                await tr.rollback()
            else:
                await tr.commit()
                written.add(f"evt_{event_id}")


async def test_a_consumer_paging_over_http_during_concurrent_writes_gets_every_event_once(
    server_factory, settings, database_url
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        await _consume_during_writes(client, settings, database_url)


async def _consume_during_writes(client: httpx.AsyncClient, settings: Any, database_url: str) -> None:
    acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
    token = await _api_token(client, acme)
    after = (await _page(client, token, limit=500))["next_after"]
    pool = await create_pool(database_url, min_size=WRITERS, max_size=WRITERS + 1)
    try:
        for round_ in range(ROUNDS):
            written: set[str] = set()
            seen: list[str] = []
            writers = asyncio.gather(
                *(_writer(pool, UUID(acme.org_id), round_ * 100 + w, written) for w in range(WRITERS))
            )
            done = False
            while True:
                # Short pages and short long-polls: each request is a consumer reconnecting with
                # its cursor, as one would after a dropped connection.
                page = await _page(client, token, after=after, limit=5, wait=1 if round_ % 2 else 0)
                for event in page["items"]:
                    assert _cursor_key(event["cursor"]) > _cursor_key(after)
                    after = event["cursor"]
                    seen.append(event["id"])
                assert page["next_after"] == after
                if done and not page["items"]:
                    break
                if writers.done():
                    await writers
                    done = True
            assert len(seen) == len(set(seen)), "an event was answered twice"
            assert set(seen) == written, (sorted(written - set(seen)), sorted(set(seen) - written))
    finally:
        await pool.close()


# -- the websocket ---------------------------------------------------------------------------------


async def _refused(url: str, **kw: Any) -> dict[str, Any]:
    with pytest.raises(InvalidStatus) as exc:
        async with connect(url, **kw):
            pass
    body: dict[str, Any] = json.loads(exc.value.response.body)
    return {"status": exc.value.response.status_code, **body}


async def test_a_live_consumer_that_reconnects_with_its_cursor_misses_nothing_and_gets_nothing_twice(
    server_factory, settings, database_url
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
        acme = await bootstrap_org(client, settings, "Acme", ["shipper"])
        staff = await add_member(client, acme, "gate_staff")
        token = await _api_token(client, acme)
        live = f"{server.ws_url}/events/live"
        assert (await _refused(live, additional_headers=staff.headers))["code"] == "permission_missing"
        assert (await _refused(live))["status"] == 401
        bad = await _refused(f"{live}?after=nope", additional_headers=token)
        assert bad["status"] == 400 and bad["code"] == "bad_cursor"
        bad = await _refused(f"{live}?types=no.such", additional_headers=token)
        assert bad["status"] == 400 and [e["field"] for e in bad["errors"]] == ["types"]

        # From the beginning: what GET /events gives, then live.
        history = await _read_all(client, token)
        async with connect(live, additional_headers=token) as ws:
            first = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in history]
        assert first == history
        after = history[-1]["cursor"]

        pool = await create_pool(database_url, min_size=WRITERS, max_size=WRITERS + 1)
        try:
            written: set[str] = set()
            seen: list[str] = []
            writers = asyncio.gather(
                *(_writer(pool, UUID(acme.org_id), 500 + w, written) for w in range(WRITERS))
            )
            # The consumer drops its connection after every few frames and comes back with its
            # cursor; once the writers are done, a connection that gets nothing ends the reading.
            idle = False
            while not idle:
                done = writers.done()
                got = 0
                async with connect(f"{live}?after={after}", additional_headers=token) as ws:
                    for _ in range(3):
                        try:
                            event = json.loads(await asyncio.wait_for(ws.recv(), 5))
                        except TimeoutError:
                            break
                        assert _cursor_key(event["cursor"]) > _cursor_key(after)
                        after = event["cursor"]
                        seen.append(event["id"])
                        got += 1
                if done:
                    await writers
                    idle = got == 0
            assert len(seen) == len(set(seen)), "an event was sent twice"
            assert set(seen) == written
        finally:
            await pool.close()
