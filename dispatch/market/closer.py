"""The closer: a claim loop that settles jobs whose deadline has passed.

Every worker process runs one. `close_due_jobs` claims with FOR UPDATE SKIP LOCKED, so several
loops never settle the same job twice and never wait on each other. It polls: a deadline is
settled within about one interval after it passes.
"""

from __future__ import annotations

import asyncio
import logging

from dispatch.market.service import close_due_jobs
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)


async def run_closer(runtime: Runtime, interval_s: float) -> None:
    while True:
        try:
            # Drain: a full batch means more may be due right now.
            while await close_due_jobs(runtime.db, runtime.broker, runtime.settings.secret_key) >= 20:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("closing due jobs failed; retrying")
        await asyncio.sleep(interval_s)
