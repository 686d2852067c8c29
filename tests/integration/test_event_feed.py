"""The outbox feed in commit-safe order (dispatch/events/feed.py): writers whose transactions take
their ids in one order and commit in another, while a reader pages with its cursor; the reader ends
with every committed event exactly once, none of a rolled-back transaction, and the feed's order is
the order the reader saw them in."""

from __future__ import annotations

import asyncio
import random
from uuid import uuid4

import asyncpg

from dispatch.db.pool import create_pool
from dispatch.events import START, Cursor, read, record

ROUNDS = 5
WRITERS = 12
EVENTS_PER_WRITER = 4


async def _writer(pool: asyncpg.Pool, org: str, n: int, seed: int, written: set[int]) -> None:
    rnd = random.Random(seed)
    for _ in range(n):
        async with pool.acquire() as conn:
            tr = conn.transaction()
            await tr.start()
            event_id = await record(
                conn, "test.written", org_ids=[org], subject_type="test", subject_id="s", actor_user_id=None
            )
            # Hold the id while others take later ones and commit first.
            await asyncio.sleep(rnd.uniform(0, 0.03))
            if rnd.random() < 0.1:
                await tr.rollback()
            else:
                await tr.commit()
                written.add(event_id)


async def test_a_reader_paging_during_concurrent_writes_gets_every_committed_event_once(database_url, db):
    org = uuid4()
    await db.execute(
        "INSERT INTO organizations (id, name, parties) VALUES ($1, 'Feed', ARRAY['shipper'])", org
    )
    pool = await create_pool(database_url, min_size=WRITERS + 1, max_size=WRITERS + 2)
    try:
        for round_ in range(ROUNDS):
            written: set[int] = set()
            seen: list[int] = []
            cursor: Cursor = START
            # Start past what earlier rounds wrote.
            async with pool.acquire() as conn:
                while batch := await read(conn, after=cursor, org_id=org, limit=500):
                    cursor = batch[-1].cursor
            writers = asyncio.gather(
                *(
                    _writer(pool, str(org), EVENTS_PER_WRITER, round_ * 100 + w, written)
                    for w in range(WRITERS)
                )
            )
            done = False
            while True:
                async with pool.acquire() as conn:
                    batch = await read(conn, after=cursor, org_id=org, limit=7)
                for event in batch:
                    assert event.cursor > cursor
                    cursor = event.cursor
                    seen.append(event.id)
                if done and not batch:
                    break
                if writers.done():
                    await writers  # re-raise a writer's failure
                    done = True
                await asyncio.sleep(0.002)
            assert len(seen) == len(set(seen)), "an event was read twice"
            assert set(seen) == written, (sorted(written - set(seen)), sorted(set(seen) - written))
    finally:
        await pool.close()


async def test_a_cursor_is_text_and_back(db):
    assert Cursor.parse(str(Cursor(12345, 678))) == Cursor(12345, 678)
    for bad in ("", "1", "1.", ".1", "a.b", "1.2.3", "-1.2", f"{2**64}.1"):
        assert Cursor.parse(bad) is None, bad
