"""Webhook deliveries per second to a local receiver, beside a bare aiohttp POST loop to the same
receiver, measured in the same run.

    python3 dev.py bench webhooks [--events 2000] [--workers 2] [--concurrency 16] [--subjects 200]

A receiver (aiohttp, its own process, answers 204 to every POST) listens on 127.0.0.1. The webhook
run: `dispatch serve --workers N` with DISPATCH_WEBHOOK_CONCURRENCY deliveries at once per worker;
one endpoint registered through the API; `--events` events written to the outbox in one transaction
(over `--subjects` subjects: a subject's events go out one after another, so fewer subjects means
less parallelism); timed from that commit until every delivery is marked delivered (fan-out, claim,
sign, POST, record the attempt). The bare run: the same number of POSTs of the same body from
workers x concurrency aiohttp tasks in this process, nothing else. The ratio is what the delivery
machinery (feed read, rows, claims, signatures, attempt log) costs against the HTTP alone.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import aiohttp
import asyncpg
import httpx

from bench.common import database, free_port, fresh_database, organization, server_process
from dispatch import events
from dispatch.db.pool import create_pool

RECEIVER = textwrap.dedent(
    """
    import sys
    from aiohttp import web

    async def hook(request):
        await request.read()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", hook)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
    """
)


def start_receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    url = f"http://127.0.0.1:{port}/hooks"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.post(url, content=b"{}", timeout=1)
            return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the receiver did not start")


async def write_events(dsn: str, org_id: str, n: int, subjects: int) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)  # with the app's jsonb codec
    try:
        async with pool.acquire() as conn, conn.transaction():
            for i in range(n):
                await events.record(
                    conn,
                    "bench.event",
                    org_ids=[uuid.UUID(org_id)],
                    subject_type="bench",
                    subject_id=f"s{i % subjects}",
                    actor_user_id=None,
                    data={"n": i, "note": "x" * 200},
                )
    finally:
        await pool.close()


async def webhook_run(dsn: str, receiver: str, args: argparse.Namespace, state: str) -> float:
    env = {
        "DISPATCH_WEBHOOK_ALLOW_HOSTS": "127.0.0.1/32",
        "DISPATCH_WEBHOOK_CONCURRENCY": str(args.concurrency),
        "DISPATCH_WEBHOOK_POLL_MS": "50",
    }
    with server_process(dsn, workers=args.workers, state_dir=state, extra_env=env) as (url, _):
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            org = await organization(dsn, http, "Bench ERP", ["shipper"])
            headers = {"Authorization": org["Authorization"]}
            r = await http.post("/webhooks/endpoints", headers=headers, json={"url": receiver})
            r.raise_for_status()
        await write_events(dsn, org["org_id"], args.events, args.subjects)
        started = time.perf_counter()
        conn = await asyncpg.connect(dsn)
        try:
            delivered = "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'"
            while True:
                if await conn.fetchval(delivered) >= args.events:
                    break
                await asyncio.sleep(0.05)
        finally:
            await conn.close()
        return args.events / (time.perf_counter() - started)


async def bare_run(receiver: str, args: argparse.Namespace) -> float:
    body = ('{"id":"evt_1","type":"bench.event","data":{"note":"' + "x" * 200 + '"}}').encode()
    remaining = args.events

    async def poster(session: aiohttp.ClientSession) -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with session.post(receiver, data=body, headers={"content-type": "application/json"}) as r:
                await r.read()

    connector = aiohttp.TCPConnector(limit=args.workers * args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(poster(session) for _ in range(args.workers * args.concurrency)))
        return args.events / (time.perf_counter() - started)


async def main(args: argparse.Namespace) -> None:
    receiver_process, receiver = start_receiver()
    try:
        with database() as admin_dsn, tempfile.TemporaryDirectory() as state:
            dsn = await fresh_database(admin_dsn)
            bare = await bare_run(receiver, args)
            hooks = await webhook_run(dsn, receiver, args, state)
    finally:
        receiver_process.terminate()
        receiver_process.wait(10)
    print(
        f"{args.events} events, {args.subjects} subjects, {args.workers} workers x "
        f"{args.concurrency} deliveries at once"
    )
    print(f"bare aiohttp POST loop: {bare:8.0f} requests/s")
    print(f"webhook deliveries:     {hooks:8.0f} deliveries/s (signed, claimed, logged)")
    print(f"ratio webhooks / bare:  {hooks / bare:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--subjects", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
