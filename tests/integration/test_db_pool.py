"""The service's connection pool (dispatch/db/pool.py): every connection open and set up before the
first request, so that a worker's first burst (the first trucks at the gate) waits on none of that;
and `borrowed` (the grab's fast path): a connection lent for a block goes back to the pool by
itself, in a task of its own, whether the block ends or raises."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import asyncpg
import pytest

from dispatch.db.pool import borrowed, create_pool


async def test_a_borrowed_connection_goes_back_to_the_pool_whether_the_block_ends_or_raises(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)  # one connection: it must come back
    try:
        async with borrowed(pool) as conn:
            assert await conn.fetchval("SELECT 1") == 1
        async with pool.acquire(timeout=30) as again:
            assert await again.fetchval("SELECT 2") == 2

        with pytest.raises(LookupError):
            async with borrowed(pool) as conn:
                await conn.fetchval("SELECT 3")
                raise LookupError("the block failed")
        async with pool.acquire(timeout=30) as again:
            assert await again.fetchval("SELECT 4") == 4
            assert not again.is_in_transaction()
    finally:
        await pool.close()


# asyncpg's type introspection: the catalogue query it runs the first time a connection meets a type
# it has no codec for (here uuid[] and tstzrange), before it can bind or read it.
INTROSPECTION = "typeinfo_tree"
STATEMENT = "SELECT $1::uuid[] AS ids, tstzrange($2, $3) AS slot, $4::float8[] AS speeds"


async def _run_logged(conn: asyncpg.Connection) -> tuple[asyncpg.Record, list[str]]:
    """The statement's row, and every query the connection ran for it."""
    ran: list[str] = []

    def log(query: asyncpg.connection.LoggedQuery) -> None:
        ran.append(query.query)

    conn.add_query_logger(log)
    start = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    row = await conn.fetchrow(STATEMENT, [uuid4(), uuid4()], start, start + timedelta(minutes=30), [1.5, 2.0])
    conn.remove_query_logger(log)
    assert row is not None
    return row, ran


async def test_every_connection_is_open_and_knows_the_services_types_before_the_first_request(database_url):
    pool = await create_pool(database_url, min_size=3, max_size=3)
    try:
        assert (pool.get_size(), pool.get_idle_size()) == (3, 3)
        async with contextlib.AsyncExitStack() as held:  # all three at once: each connection is tried
            connections = [await held.enter_async_context(pool.acquire()) for _ in range(3)]
            for conn in connections:
                row, ran = await _run_logged(conn)
                assert len(row["ids"]) == 2 and row["speeds"] == [1.5, 2.0]
                assert row["slot"].upper - row["slot"].lower == timedelta(minutes=30)
                assert not any(INTROSPECTION in q for q in ran), ran
    finally:
        pool.terminate()


async def test_a_bare_connection_stops_to_learn_those_types_on_first_use(database_url):
    """What the pool's set-up spares a request: without it, the same statement's first run waits on
    the introspection."""
    conn = await asyncpg.connect(database_url)
    try:
        _, ran = await _run_logged(conn)
        assert any(INTROSPECTION in q for q in ran)
    finally:
        await conn.close()
