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

from dispatch.gate.service import release_no_shows
from dispatch.idempotency import purge
from dispatch.market.service import close_due_jobs
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
BATCH = 20


async def run_claim_loops(runtime: Runtime, interval_s: float) -> None:
    steps: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        (
            "settling jobs past their deadline",
            lambda: close_due_jobs(runtime.db, runtime.broker, runtime.settings.secret_key, batch=BATCH),
        ),
        ("releasing no-show bookings", lambda: release_no_shows(runtime.db, runtime.broker, batch=BATCH)),
        ("purging old idempotency keys", lambda: purge(runtime.db)),
    ]
    while True:
        for what, step in steps:
            try:
                while await step() >= BATCH:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying next round", what)
        await asyncio.sleep(interval_s)
