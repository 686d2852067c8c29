"""How late each worker's event loop runs: the time any work waits for its worker.

A request, a GPS batch's frames to its watchers, a driver's `tickets` frame: each waits for its turn
on the worker's one event loop, so when the worker is busy everything on it is late by about the
same amount. The probe sleeps PROBE_S again and again and observes how much later than asked it
woke (`dispatch_event_loop_lag_seconds` in /metrics). In a latency tail it tells whether the
worker was out of time (its loop late) or something it waited on was (its loop on time): the
simulator prints it per 5 s beside its own loop's lag (dispatch/sim/README.md, the timeline).
Cost: 20 wake-ups a second and a histogram observation each, per worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

PROBE_S = 0.05


async def probe(observe: Callable[[float], object], every_s: float = PROBE_S) -> None:
    """Observe each wake-up's lateness, until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every_s
        await asyncio.sleep(every_s)
        observe(max(0.0, loop.time() - due))
