"""Positions live in day partitions: made ahead by the claim loops, dropped past retention."""

from __future__ import annotations

from dispatch.db.pool import create_pool
from dispatch.tracking.service import keep_partitions

PARTITIONS = """
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'positions'::regclass ORDER BY c.relname"""


async def test_partitions_are_made_ahead_and_dropped_after_retention(database_url, db):
    await db.execute(
        "SELECT ensure_position_partitions((now() AT TIME ZONE 'UTC')::date - 400,"
        " (now() AT TIME ZONE 'UTC')::date - 398)"
    )
    old = await db.fetchval(
        "SELECT 'positions_' || to_char((now() AT TIME ZONE 'UTC')::date - 399, 'YYYYMMDD')"
    )
    await db.execute(
        f"INSERT INTO {old} (load_id, recorded_at, seq, lon, lat, accuracy_m)"  # noqa: S608 - a name we made
        " VALUES (gen_random_uuid(), now() - interval '399 days', 1, 13, 52, 5)"
    )
    today = await db.fetchval("SELECT 'positions_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')")
    ahead = await db.fetchval(
        "SELECT 'positions_' || to_char((now() AT TIME ZONE 'UTC')::date + 2, 'YYYYMMDD')"
    )
    # As if the database was migrated days ago (IF EXISTS: a run that crosses midnight UTC has its
    # template made the day before, with one day less ahead).
    await db.execute(f"DROP TABLE IF EXISTS {ahead}")
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        assert await keep_partitions(pool, retention_days=180) == 0
        assert await keep_partitions(pool, retention_days=180) == 0  # again: nothing to do, no error
    finally:
        await pool.close()
    names = [r[0] for r in await db.fetch(PARTITIONS)]
    assert today in names and ahead in names and "positions_default" in names
    assert old not in names
    assert await db.fetchval("SELECT count(*) FROM positions") == 0  # the old day went with its partition
    # A point for today lands in today's partition, not the default one.
    await db.execute(
        "INSERT INTO positions (load_id, recorded_at, seq, lon, lat, accuracy_m)"
        " VALUES (gen_random_uuid(), now(), 1, 13, 52, 5)"
    )
    assert await db.fetchval(f"SELECT count(*) FROM {today}") == 1  # noqa: S608
    assert await db.fetchval("SELECT count(*) FROM positions_default") == 0
