"""db.pool.borrowed (the grab's fast path): a connection lent for a block goes back to the pool by
itself, in a task of its own, whether the block ends or raises."""

from __future__ import annotations

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
