"""Background claim loops, one set per worker process.

Each step claims its rows with FOR UPDATE SKIP LOCKED, so any number of workers run them side
by side without doing anything twice or waiting on each other. A step is repeated while it finds
a full batch (more may be due right now), then the loop sleeps one interval: a deadline is acted
on within about one interval of passing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from dispatch.accounts import throttle
from dispatch.db.availability import is_database_away
from dispatch.gate.service import release_no_shows
from dispatch.idempotency import purge
from dispatch.market.service import close_due_jobs
from dispatch.market.tenders import time_out_offers
from dispatch.runtime import Runtime
from dispatch.tracking.service import keep_partitions

log = logging.getLogger(__name__)
BATCH = 20
# Day partitions are made two days ahead: checking hourly (and at start) is plenty.
PARTITIONS_EVERY_S = 3600.0
# Login streaks and sessions are forgotten a day after they end: hourly is plenty.
PURGE_LOGINS_EVERY_S = 3600.0


def _every(seconds: float, step: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """`step`, run at the first round and then at most once per `seconds`."""
    last = -seconds

    async def throttled() -> int:
        nonlocal last
        now = asyncio.get_running_loop().time()
        if now - last < seconds:
            return 0
        last = now
        return await step()

    return throttled


async def run_claim_loops(runtime: Runtime, interval_s: float) -> None:
    steps: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        (
            "settling jobs past their deadline",
            lambda: close_due_jobs(runtime.db, runtime.broker, runtime.authorize_on_award, batch=BATCH),
        ),
        (
            "moving tenders past their offers' windows",
            lambda: time_out_offers(runtime.db, runtime.broker, batch=BATCH),
        ),
        ("releasing no-show bookings", lambda: release_no_shows(runtime.db, runtime.broker, batch=BATCH)),
        ("purging old idempotency keys", lambda: purge(runtime.db)),
        (
            "purging idle login streaks and old sessions",
            _every(PURGE_LOGINS_EVERY_S, lambda: throttle.purge(runtime.db)),
        ),
        (
            "keeping the position partitions",
            _every(
                PARTITIONS_EVERY_S,
                lambda: keep_partitions(runtime.db, runtime.settings.position_retention_days),
            ),
        ),
    ]
    clock = asyncio.get_running_loop().time
    due = clock()
    while True:
        started = clock()
        for what, step in steps:
            try:
                while await step() >= BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_database_away(exc):  # logged once per outage, not once per round
                    runtime.availability.noticed(exc)
                    continue
                log.exception("%s failed; retrying next round", what)
        runtime.metrics.claim_round(lag_s=started - due, duration_s=clock() - started, pool=runtime.pool)
        due = clock() + interval_s
        await asyncio.sleep(interval_s)
