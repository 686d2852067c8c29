"""The load generator's own instruments: is it keeping up, or are its figures its own stalls?

Shared by `dispatch simulate` (each of its processes) and the benchmarks (bench/ imports these). A
generator whose event loop wakes up late delays the receive clock of every frame in flight and the
send of every request, and that delay is then counted as the server's latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

LAG_TICK_S = 0.005


def quantile(sorted_samples: list[float], q: float) -> float:
    """The `q` quantile (0..1) of already sorted samples, by rank (0.0 when there are none)."""
    if not sorted_samples:
        return 0.0
    return sorted_samples[min(len(sorted_samples) - 1, int(len(sorted_samples) * q))]


class LoopLag:
    """How late this process's event loop wakes up (a 5 ms sleep, again and again), with the wall
    clock of each sample for a timeline, and its GC pauses."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.at: list[float] = []  # time.time() of each sample
        self.gc_pauses: list[float] = []
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _gc(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)

    async def _run(self) -> None:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(LAG_TICK_S)
            self.lags.append(time.perf_counter() - t0 - LAG_TICK_S)
            self.at.append(time.time())

    def start(self) -> None:
        self.lags, self.at, self.gc_pauses = [], [], []
        gc.callbacks.append(self._gc)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> str:
        """Stop sampling; one line for a benchmark's report."""
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        lag = sorted(self.lags) or [0.0]
        worst_gc = max(self.gc_pauses, default=0.0)
        return (
            f"load generator: event loop lag p99 {quantile(lag, 0.99) * 1000:.1f} ms, max "
            f"{lag[-1] * 1000:.1f} ms; {len(self.gc_pauses)} GC runs, longest {worst_gc * 1000:.1f} ms"
        )

    def p99_per_bucket(self, started_at: float, bucket_s: float) -> dict[int, float]:
        """The lag p99 of each `bucket_s` window counted from `started_at` (wall clock), seconds."""
        buckets: dict[int, list[float]] = {}
        for at, lag in zip(self.at, self.lags, strict=True):
            buckets.setdefault(int((at - started_at) // bucket_s), []).append(lag)
        return {b: quantile(sorted(lags), 0.99) for b, lags in buckets.items()}


def cpu_seconds() -> float:
    """CPU this process has used so far, user + system (its children not included)."""
    own = os.times()
    return own.user + own.system


def quiet_gc() -> None:
    """Before a measured stretch, in a process that receives frames. Its long-lived objects (sockets,
    loads) frozen stay out of its GC passes; and the same young generation as a worker's
    (dispatch.app._tune_gc), so that its collections are few and short. A pause here delays the
    receive clock of every frame in flight and would be counted as the server's latency."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on uvloop when it is installed (it comes with the server's dependencies), as a
    worker does; else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.run(coro)
    return uvloop.run(coro)
