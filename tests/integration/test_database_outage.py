"""PostgreSQL stopped for a few seconds under load, with a real two-worker `dispatch serve`.

The server runs on a PostgreSQL of this test's own (stopping the suite's shared one would break the
other tests): phones keep posting GPS batches with Idempotency-Keys and retry each batch with its
key until it is acknowledged, readers keep reading, watchers follow every load over websockets.
While the database is away every answer is 503 `database_unavailable` with Retry-After, never a
500; afterwards every acknowledged point is stored once and every watcher has every point, in
order, without a gap; the server's log has no traceback and one outage per worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dispatch.db.embedded import EmbeddedPostgres
from dispatch.db.migrate import migrate
from dispatch.settings import Settings
from tests.conftest import CHEAP_PASSWORDS, TEST_SECRET, TEST_SERVER_SETTINGS, start_server, with_database
from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server

LOADS = 4
BATCHES = 16  # per phone, 5 fixes each: 80 fixes 10 s apart, all within the trip's time
BATCH = 5
OUTAGE_S = 3.0


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server for this test alone, so that stopping it harms no other test."""
    home = Path(tempfile.mkdtemp(prefix="dispatch-outage-pg-"))
    server = EmbeddedPostgres(home / "data", server_settings=TEST_SERVER_SETTINGS)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
async def outage_settings(own_postgres: EmbeddedPostgres, tmp_path: Path) -> AsyncIterator[Settings]:
    admin = await asyncpg.connect(own_postgres.dsn())
    try:
        await admin.execute("CREATE DATABASE dispatch_outage")
    finally:
        await admin.close()
    url = with_database(own_postgres.dsn(), "dispatch_outage")
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    yield Settings(
        database_url=url, state_dir=str(tmp_path / "state"), secret_key=TEST_SECRET, **CHEAP_PASSWORDS
    )


@dataclass
class Seen:
    """What the clients saw, for the assertions."""

    statuses: Counter[int] = field(default_factory=Counter)
    unavailable: list[httpx.Response] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=Counter)  # load id -> points accepted

    def answer(self, r: httpx.Response) -> None:
        self.statuses[r.status_code] += 1
        if r.status_code == 503:
            self.unavailable.append(r)


async def _phone(base_url: str, load: dict[str, Any], seen: Seen, warmed_up: asyncio.Event) -> None:
    """Posts its batches in order; retries each with the same key and body until it is answered."""
    start = datetime.now(UTC) - timedelta(seconds=10 * BATCH * BATCHES + 20)
    fixes = route(BATCH * BATCHES, start=start)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for n in range(BATCHES):
            headers = load["device"] | {"Idempotency-Key": f"{load['id']}-batch-{n}"}
            body = {"points": fixes[n * BATCH : (n + 1) * BATCH]}
            while True:
                try:
                    r = await http.post("/driver/v1/positions", headers=headers, json=body)
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                seen.answer(r)
                if r.status_code == 200:
                    break
                assert r.status_code in (503, 409), r.text  # 409: the same key still in progress
                await asyncio.sleep(float(r.headers["retry-after"]))
            seen.acknowledged[load["id"]] += r.json()["accepted"]
            if n == 2:
                warmed_up.set()
            await asyncio.sleep(0.15)


async def _reader(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], seen: Seen, done: asyncio.Event
) -> None:
    while not done.is_set():
        with contextlib.suppress(httpx.TransportError):
            seen.answer(await http.get(path, headers=headers))
        await asyncio.sleep(0.05)


def bearer(account: Any) -> dict[str, Any]:
    return {"additional_headers": account.headers}


@dataclass
class Watcher:
    seqs: list[int] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    has_all: asyncio.Event = field(default_factory=asyncio.Event)


async def _watch(ws_url: str, load_id: str, token: str, w: Watcher) -> None:
    """A tracking client as documented: on a dropped socket, reconnect with its cursor."""
    base = f"{ws_url}/tracking/loads/{load_id}/live?access_token={token}"
    while True:
        url = f"{base}&after={load_id}:{w.seqs[-1]}" if w.seqs else base
        try:
            async with connect(url) as ws:
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] == "points":
                        w.seqs.extend(p["seq"] for p in frame["points"])
                        if len(w.seqs) >= BATCH * BATCHES:
                            w.has_all.set()
                    elif frame["type"] == "gap":
                        w.gaps.append(frame)
        except (ConnectionClosed, InvalidStatus, OSError):
            pass
        w.reconnects += 1
        await asyncio.sleep(0.2)


async def test_a_database_outage_answers_503_and_loses_nothing(own_postgres, outage_settings, tmp_path):
    settings = outage_settings
    server = start_server(settings, tmp_path / "server.log", workers=2)
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            w = await loads_in_transit(http, settings, loads=LOADS)
            loads = w["loads"]
            receiver = w["receiver"]
            watchers = {load["id"]: Watcher() for load in loads}
            watching = [
                asyncio.create_task(_watch(server.ws_url, load["id"], receiver.token, watchers[load["id"]]))
                for load in loads
            ]
            await asyncio.sleep(0.5)  # the snapshots, before the first points
            seen = Seen()
            warmed_up = {load["id"]: asyncio.Event() for load in loads}
            done = asyncio.Event()
            readers = [
                asyncio.create_task(
                    _reader(http, f"/loads/{load['id']}/tracking", receiver.headers, seen, done)
                )
                for load in loads
            ]
            phones = [
                asyncio.create_task(_phone(server.base_url, load, seen, warmed_up[load["id"]]))
                for load in loads
            ]

            async with asyncio.timeout(60):  # every phone has had three batches acknowledged
                await asyncio.gather(*(e.wait() for e in warmed_up.values()))
            await asyncio.to_thread(own_postgres.stop)
            await asyncio.sleep(OUTAGE_S / 2)
            health = await http.get("/healthz")
            with pytest.raises(InvalidStatus) as refused:  # a socket opened meanwhile: try again later
                async with connect(
                    f"{server.ws_url}/tracking/loads/{loads[0]['id']}/live", **bearer(receiver)
                ):
                    pass
            await asyncio.sleep(OUTAGE_S / 2)
            await asyncio.to_thread(own_postgres.start)

            async with asyncio.timeout(120):
                await asyncio.gather(*phones)
            done.set()
            await asyncio.gather(*readers)

            # /healthz said so while it was away.
            assert health.status_code == 503 and health.headers["retry-after"]
            assert health.json()["database"] == "unavailable" and health.json()["unavailable_since"]
            answer = refused.value.response
            assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
            assert json.loads(answer.body)["code"] == "database_unavailable"
            # 503s with Retry-After while it was away, and no 500 at all.
            assert seen.unavailable, seen.statuses
            assert not [s for s in seen.statuses if s >= 500 and s != 503], seen.statuses
            for r in seen.unavailable:
                assert r.headers["retry-after"] == "1"
                assert r.headers["content-type"].startswith("application/problem+json")
                assert r.json()["code"] == "database_unavailable"
            # Every acknowledged point stored once.
            conn = await asyncpg.connect(settings.database_url)
            try:
                for load in loads:
                    rows = await conn.fetch(
                        "SELECT seq, recorded_at FROM positions WHERE load_id = $1 ORDER BY seq", load["id"]
                    )
                    assert seen.acknowledged[load["id"]] == BATCH * BATCHES
                    assert [r["seq"] for r in rows] == list(range(1, BATCH * BATCHES + 1))
                    assert len({r["recorded_at"] for r in rows}) == len(rows)
            finally:
                await conn.close()
            # Every watcher got every point once, in order, without a gap.
            async with asyncio.timeout(30):
                await asyncio.gather(*(x.has_all.wait() for x in watchers.values()))
            for task in watching:
                task.cancel()
            await asyncio.gather(*watching, return_exceptions=True)
            for x in watchers.values():
                assert x.seqs == list(range(1, BATCH * BATCHES + 1))
                assert x.gaps == []
    finally:
        server.stop()
    log = server.log()
    assert "Traceback" not in log, log[-5000:]
    # One outage per worker: a line when it started and one when it was over, from each.
    started = re.findall(r"database unavailable .* \[pid (\d+)\]", log)
    over = re.findall(r"database available again after [\d.]+ s .* \[pid (\d+)\]", log)
    assert len(started) == 2 and len(set(started)) == 2, log[-5000:]
    assert sorted(over) == sorted(started), log[-5000:]
