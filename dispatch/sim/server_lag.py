"""The server's own event-loop lag, read over the run from its /metrics (as a scraper would).

The server's workers observe how late their event loops run (`dispatch_event_loop_lag_seconds`, a
histogram summed over the workers: dispatch/loop_lag.py). `ServerLag` scrapes it once a second in
a thread of its own (the parent's event loop plays the parties; a scrape never waits on it) and
keeps each cumulative reading, so any window of the run has the histogram of the wake-ups in it:
its p99 and max as bucket bounds (`le`), e.g. "p99 <= 250 ms". Beside the generator's own lag, it
says whose loop was late when latency rose. The same scrape keeps the workers' count of reads of a
site's whole queue for the drivers' sockets (`dispatch_site_queue_reads_total`:
dispatch/gate/site_queue.py), so a phase's reads per second can be printed beside its CPU.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")

METRIC = "dispatch_event_loop_lag_seconds_bucket"
_BUCKET = re.compile(r"^" + METRIC + r'\{le="([^"]+)"\} ([0-9.e+]+)$', re.MULTILINE)
QUEUE_READS = "dispatch_site_queue_reads_total"
_QUEUE_READS = re.compile(r"^" + QUEUE_READS + r"(?:\{[^}]*\})? ([0-9.e+]+)$", re.MULTILINE)


@dataclass(frozen=True)
class LagWindow:
    p99_le: float  # seconds: the bucket bound under which 99% of the window's wake-ups were late
    max_le: float  # the bound of the latest bucket any wake-up reached (inf past the last)
    samples: int


def parse(exposition: str) -> dict[float, float]:
    """The histogram's cumulative counts by bound, summed over its series (one per worker or not)."""
    counts: dict[float, float] = {}
    for le, value in _BUCKET.findall(exposition):
        bound = float(le)  # "+Inf" reads as inf
        counts[bound] = counts.get(bound, 0.0) + float(value)
    return counts


def window(before: dict[float, float], after: dict[float, float]) -> LagWindow | None:
    """The wake-ups between two readings, or None when there were none."""
    bounds = sorted(after)
    cumulative = [after[b] - before.get(b, 0.0) for b in bounds]
    total = cumulative[-1] if cumulative else 0.0
    if total <= 0:
        return None
    p99 = bounds[bisect.bisect_left(cumulative, 0.99 * total)]
    latest = bounds[bisect.bisect_left(cumulative, total)]
    return LagWindow(p99_le=p99, max_le=latest, samples=int(total))


class ServerLag:
    def __init__(self, base_url: str, token: str, every_s: float = 1.0) -> None:
        self._url = base_url.rstrip("/") + "/metrics"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._every_s = every_s
        self._readings: list[tuple[float, dict[float, float]]] = []  # (wall clock, counts)
        self._queue_reads: list[tuple[float, float]] = []  # (wall clock, reads so far)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._scrape, name="server-lag", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop scraping, after one last reading (the run's last window ends now)."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._read()

    def between(self, start: float, end: float) -> LagWindow | None:
        """The wake-ups from the last reading at or before `start` to the first at or after `end`
        (wall clock): the window rounded out to the readings."""
        ends = _rounded_out(list(self._readings), start, end)
        return None if ends is None else window(ends[0][1], ends[1][1])

    def queue_reads_between(self, start: float, end: float) -> float | None:
        """The site-queue reads from the last reading at or before `start` to the first at or
        after `end` (wall clock), per second of that rounded-out window; None when unknown."""
        ends = _rounded_out(list(self._queue_reads), start, end)
        if ends is None:
            return None
        (t0, n0), (t1, n1) = ends
        return (n1 - n0) / max(t1 - t0, 1e-9)

    def _scrape(self) -> None:
        while not self._stop.is_set():
            self._read()
            self._stop.wait(self._every_s)

    def _read(self) -> None:
        try:
            request = urllib.request.Request(self._url, headers=self._headers)  # noqa: S310 - http to our server
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - our server
                exposition = answer.read().decode()
        except OSError:
            return  # a reading missed: the windows around it are rounded out to the next
        at, counts = time.time(), parse(exposition)
        if counts:
            self._readings.append((at, counts))
        reads = _QUEUE_READS.findall(exposition)
        if reads:
            self._queue_reads.append((at, sum(float(n) for n in reads)))


def _rounded_out(
    readings: list[tuple[float, _T]], start: float, end: float
) -> tuple[tuple[float, _T], tuple[float, _T]] | None:
    """The last reading at or before `start` and the first at or after `end` (readings in time
    order, by wall clock), or None when the readings do not span the window."""
    times = [t for t, _ in readings]
    first = bisect.bisect_right(times, start) - 1
    last = bisect.bisect_left(times, end)
    if first < 0 or last >= len(readings) or first >= last:
        return None
    return readings[first], readings[last]
