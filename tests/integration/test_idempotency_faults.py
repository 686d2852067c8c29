"""Idempotency keys under abuse and faults, against a real `dispatch serve` (issue 16, items 1 and 4):
a huge body is refused before it is buffered, a claim left by a killed worker expires and its retry
runs, and a client that goes away before its body arrived leaves nothing under its key."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from dispatch import procfs
from dispatch.idempotency import claim, request_hash
from tests.gate_support import dispatched_loads
from tests.support import problem, role_ids
from tests.tracking_support import loads_in_transit, route

MiB = 1 << 20
HUGE = 200 * MiB
POSITIONS = "/driver/v1/positions"
# How long a test waits for an outcome before giving up: a bound on a hang, not a timing assertion.
GIVE_UP_S = 90.0
# Holds every GPS batch inside its handler (after its key is claimed) until the test lets go: plain
# reads pass, the ingest's row locks and writes wait.
HOLD_INGEST = "LOCK TABLE load_tracking, positions IN EXCLUSIVE MODE"


async def _huge_body() -> AsyncIterator[bytes]:
    """200 MB, streamed: the test never holds it. Not even JSON, it must be refused unread."""
    block = b"x" * MiB
    for _ in range(HUGE // MiB):
        yield block


async def _until(what: Callable[[], Awaitable[Any]], wanted: Callable[[Any], bool]) -> Any:
    deadline = asyncio.get_running_loop().time() + GIVE_UP_S
    while True:
        value = await what()
        if wanted(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"still {value!r} after {GIVE_UP_S} s"
        await asyncio.sleep(0.05)


async def _row(db: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT status, lease_until > now() AS leased FROM idempotency_keys WHERE key = $1", key
    )


async def _stored(db: asyncpg.Connection, load_id: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load_id))


async def _post_until_answered(base_url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    """What the driver contract tells a phone to do: the same key and the same body, again, until it
    gets an answer (409 request_in_progress and a dropped connection mean: try again)."""
    deadline = asyncio.get_running_loop().time() + GIVE_UP_S
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        while True:
            try:
                r = await http.post(POSITIONS, headers=headers, content=body)
                if r.status_code != 409:
                    return r
                problem(r, 409, "request_in_progress")
            except httpx.TransportError:
                pass  # a worker being restarted
            assert asyncio.get_running_loop().time() < deadline, "no answer to the retries"
            await asyncio.sleep(0.2)


def _phone_headers(load: dict[str, Any], key: str) -> dict[str, str]:
    return load["device"] | {"Idempotency-Key": key, "Content-Type": "application/json"}


def _batch(n: int) -> bytes:
    return json.dumps({"points": route(n, start=datetime.now(UTC) - timedelta(seconds=10 * n))}).encode()


# -- item 1: bounded memory before authorization and before the limit -------------------------


async def test_a_huge_body_is_refused_before_it_is_buffered_with_or_without_a_key(server_factory, settings):
    server = server_factory()  # one worker: the `dispatch serve` process itself
    async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as http:
        w = await dispatched_loads(http, settings, loads=1)
        device = w["loads"][0]["device"]
        carrier = w["carrier"]
        [integration] = await role_ids(http, carrier, "integration")
        r = await http.post(
            f"/orgs/{carrier.org_id}/api-tokens",
            headers=carrier.headers,
            json={"name": "ERP", "role_id": integration},
        )
        assert r.status_code == 201, r.text
        api_token = {"Authorization": f"Bearer {r.json()['token']}"}

        before = procfs.peak_rss_bytes(server.process.pid)
        cases = [
            # (credential, Idempotency-Key, announced length or chunked, the answer)
            (device, "huge-1", HUGE, 413, "body_too_large"),
            (device, "huge-2", None, 413, "body_too_large"),
            (api_token, "huge-3", HUGE, 403, "wrong_credential_kind"),
            (api_token, "huge-4", None, 403, "wrong_credential_kind"),
            (device, None, None, 413, "body_too_large"),
            (api_token, None, None, 403, "wrong_credential_kind"),
        ]
        for credential, key, length, status, code in cases:
            headers = credential | {"Content-Type": "application/json"}
            if key is not None:
                headers["Idempotency-Key"] = key
            if length is not None:
                headers["Content-Length"] = str(length)
            problem(await http.post(POSITIONS, headers=headers, content=_huge_body()), status, code)
        grown = procfs.peak_rss_bytes(server.process.pid) - before
        assert grown < 50 * MiB, f"the worker's peak resident memory grew by {grown / MiB:.0f} MiB"
        # The refusals stored nothing under their keys, and the driver API still answers.
        r = await http.post(POSITIONS, headers=device | {"Idempotency-Key": "huge-1"}, json={"points": []})
        problem(r, 400)


# -- item 4a: a worker killed while phones post ---------------------------------------------------


async def test_phones_retrying_after_their_worker_was_killed_get_answers_and_points_stored_once(
    server_factory, settings, db
):
    phones = 4
    server = server_factory(workers=2, idempotency_lease_seconds=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=phones)
    batches = [(load, f"phone-{i}-batch-1", _batch(5)) for i, load in enumerate(w["loads"])]

    clients = [httpx.AsyncClient(base_url=server.base_url, timeout=60) for _ in batches]
    try:
        async with db.transaction():
            await db.execute(HOLD_INGEST)
            first = [
                asyncio.ensure_future(c.post(POSITIONS, headers=_phone_headers(load, key), content=body))
                for c, (load, key, body) in zip(clients, batches, strict=True)
            ]
            # Every batch has claimed its key and waits in its handler: kill the busier worker.
            await _until(
                lambda: db.fetchval("SELECT count(*) FROM idempotency_keys WHERE status IS NULL"),
                lambda n: n == phones,
            )
            port = urlsplit(server.base_url).port
            held = procfs.client_ports(procfs.worker_pids(server.process.pid), port)
            victim = max(held, key=lambda pid: len(held[pid]))
            assert held[victim], held
            os.kill(victim, signal.SIGKILL)
        answers = await asyncio.gather(*first, return_exceptions=True)
    finally:
        for c in clients:
            await c.aclose()
    lost = [b for b, a in zip(batches, answers, strict=True) if isinstance(a, httpx.TransportError)]
    assert len(lost) == len(held[victim]), answers
    for _, key, _ in lost:  # their claims stay "in progress": nobody is left to answer
        assert (await _row(db, key))["status"] is None

    retries = await asyncio.gather(
        *(
            _post_until_answered(server.base_url, _phone_headers(load, key), body)
            for load, key, body in batches
        )
    )
    for (load, _, _), r in zip(batches, retries, strict=True):
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["accepted"] + result["duplicates"] == 5 and result["rejected"] == [], result
        assert await _stored(db, load["id"]) == 5
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE status IS NULL") == 0

    async def workers() -> list[int]:
        return procfs.worker_pids(server.process.pid)

    await _until(workers, lambda pids: len(pids) == 2 and victim not in pids)  # uvicorn restarted it


# -- item 4b: clients that go away early ---------------------------------------------------------


async def _send(base_url: str, headers: dict[str, str], data: bytes) -> asyncio.StreamWriter:
    """A raw request: the head, then `data` (all or part of the body)."""
    url = urlsplit(base_url)
    _, writer = await asyncio.open_connection(url.hostname, url.port)
    head = [f"POST {POSITIONS} HTTP/1.1", f"Host: {url.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
    await writer.drain()
    return writer


async def _go(writer: asyncio.StreamWriter, *, reset: bool = False) -> None:
    """Close the connection (with a reset, as when a phone loses its network, if `reset`)."""
    if reset:
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
        )
    writer.close()
    await writer.wait_closed()


async def _send_and_go(base_url: str, headers: dict[str, str], data: bytes, *, reset: bool = False) -> None:
    await _go(await _send(base_url, headers, data), reset=reset)


async def _nothing_stored_under(db: asyncpg.Connection, key: str) -> None:
    """The server had time to do what it would with the cut request (the old code stored a 400 under
    its key within milliseconds): nothing may appear under the key."""
    for _ in range(40):
        assert await _row(db, key) is None, "something was stored for a request whose body never arrived"
        await asyncio.sleep(0.05)


async def test_a_client_gone_mid_body_leaves_nothing_under_its_key_and_its_retry_runs(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
    load = w["loads"][0]
    fixes = route(18, start=datetime.now(UTC) - timedelta(seconds=180))
    bodies = [json.dumps({"points": fixes[i : i + 6]}).encode() for i in (0, 6, 12)]
    cut = [
        # The length announced, half of it sent.
        ("cut-announced", {"Content-Length": str(len(bodies[0]))}, bodies[0][: len(bodies[0]) // 2], False),
        # Chunked: one chunk sent of the two, then a reset.
        (
            "cut-chunked",
            {"Transfer-Encoding": "chunked"},
            b"%x\r\n%s\r\n" % (len(bodies[1]) // 2, bodies[1][: len(bodies[1]) // 2]),
            True,
        ),
        # The head alone.
        ("cut-head", {"Content-Length": str(len(bodies[2]))}, b"", False),
    ]
    for (key, framing, part, reset), body in zip(cut, bodies, strict=True):
        headers = _phone_headers(load, key)
        await _send_and_go(server.base_url, headers | framing, part, reset=reset)
        await _nothing_stored_under(db, key)
        r = await _post_until_answered(server.base_url, headers, body)
        assert r.status_code == 200 and "idempotency-replayed" not in r.headers, r.text
        assert r.json()["accepted"] == 6, r.text
    assert await _stored(db, load["id"]) == 18


async def test_a_client_gone_right_after_sending_gets_its_answer_on_retry(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
    load = w["loads"][0]
    fixes = route(24, start=datetime.now(UTC) - timedelta(seconds=240))
    for i in range(4):
        key, body = f"sent-then-gone-{i}", json.dumps({"points": fixes[6 * i : 6 * i + 6]}).encode()
        headers = _phone_headers(load, key)
        # Whether the server still read the body (then it runs, and stores its answer for the retry)
        # or saw the connection gone first (then nothing is claimed), the retry gets the one answer.
        await _send_and_go(
            server.base_url, headers | {"Content-Length": str(len(body))}, body, reset=i % 2 == 1
        )
        r = await _post_until_answered(server.base_url, headers, body)
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 6 and r.json()["duplicates"] == 0, r.text
    assert await _stored(db, load["id"]) == 24


async def test_a_client_gone_while_its_request_runs_gets_the_stored_answer_on_retry(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
    load = w["loads"][0]
    key, body = "gone-while-running", _batch(6)
    headers = _phone_headers(load, key)
    async with db.transaction():
        await db.execute(HOLD_INGEST)
        writer = await _send(server.base_url, headers | {"Content-Length": str(len(body))}, body)
        await _until(lambda: _row(db, key), lambda row: row is not None)  # claimed, in its handler
        await _go(writer, reset=True)
    # The work finishes with nobody to answer; the answer is kept for the retry.
    await _until(lambda: _row(db, key), lambda row: row["status"] is not None)
    r = await _post_until_answered(server.base_url, headers, body)
    assert r.status_code == 200 and r.headers["idempotency-replayed"] == "true", r.text
    assert r.json()["accepted"] == 6
    assert await _stored(db, load["id"]) == 6


# -- the lease: taken over by exactly one retry ---------------------------------------------------


async def test_an_expired_claim_is_taken_over_by_exactly_one_of_racing_retries(database_url, db):
    credential = await db.fetchval("SELECT gen_random_uuid()")
    digest = request_hash("POST", POSITIONS, b"", b'{"points": []}')
    pool = await asyncpg.create_pool(database_url, min_size=8, max_size=8)
    try:
        assert await claim(pool, credential, "k", digest, 60) is not None
        # Held under a live lease: nobody takes it over, not even the same request.
        assert await claim(pool, credential, "k", digest, 60) is None
        await db.execute("UPDATE idempotency_keys SET lease_until = now() - interval '1 second'")
        # Expired, but another request: the key stays its own (422 for the caller).
        assert await claim(pool, credential, "k", request_hash("POST", POSITIONS, b"", b"{}"), 60) is None
        for _ in range(5):
            racing = await asyncio.gather(*(claim(pool, credential, "k", digest, 60) for _ in range(8)))
            winners = [c for c in racing if c is not None]
            assert len(winners) == 1, racing
            assert await db.fetchval("SELECT claim_id FROM idempotency_keys") == winners[0]
            await db.execute("UPDATE idempotency_keys SET lease_until = now() - interval '1 second'")
        # An answered key is never taken over, however old its lease.
        await db.execute("UPDATE idempotency_keys SET status = 200")
        assert await claim(pool, credential, "k", digest, 60) is None
    finally:
        await pool.close()


async def test_two_retries_racing_for_an_expired_claim_through_the_api_run_once(server_factory, settings, db):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
    load = w["loads"][0]
    key, body = "orphaned", _batch(5)
    # What a killed worker leaves: the claim of this very request, its lease run out, no answer.
    await db.execute(
        "INSERT INTO idempotency_keys (credential_id, key, request_hash, lease_until)"
        " VALUES ((SELECT id FROM device_tokens), $1, $2, now() - interval '1 second')",
        key,
        request_hash("POST", POSITIONS, b"", body),
    )
    headers = _phone_headers(load, key)
    clients = [httpx.AsyncClient(base_url=server.base_url, timeout=60) for _ in range(2)]
    try:
        async with db.transaction():
            await db.execute(HOLD_INGEST)
            racing = [
                asyncio.ensure_future(c.post(POSITIONS, headers=headers, content=body)) for c in clients
            ]
            # One took the claim over and waits in its handler; the other is told it is in progress.
            done, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            problem(done.pop().result(), 409, "request_in_progress")
        answers = [await r for r in racing]
    finally:
        for c in clients:
            await c.aclose()
    ran = [a for a in answers if a.status_code == 200]
    assert len(ran) == 1 and "idempotency-replayed" not in ran[0].headers, [a.text for a in answers]
    assert ran[0].json()["accepted"] == 5
    assert await _stored(db, load["id"]) == 5
