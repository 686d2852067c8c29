"""What the metrics cost on the hot path (the GPS ingest route answers ~1,000 batches/s per worker).

    python3 dev.py bench metrics [--n 200000]

Times, per call, in both of prometheus_client's modes (in memory: one worker; memory-mapped files:
`dispatch serve --workers N`, here in a temporary directory):
- `observe_http`, what the middleware does once a request is answered (a tally, added to the
  counter and histogram once a second: that flush included);
- `gps_batch`, once per ingested batch (accepted, duplicates, two rejection reasons);
- for comparison, prometheus_client's calls made per request (a counter increment and a histogram
  observation), what the tally saves;
- a request through the middleware around a bare ASGI app, minus the same request without it.
Pure CPU, no server, no database. The figures are in the README's Metrics section.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import timeit
from typing import Any


def _per_call_us(fn: Any, n: int) -> float:
    return min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6


async def _requests(app: Any, n: int) -> float:
    scope = {"type": "http", "method": "POST", "path": "/driver/v1/positions", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), receive, send)
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


async def _bare_app(scope: Any, receive: Any, send: Any) -> None:
    scope["path_template"] = "/driver/v1/positions"  # as Litestar's router sets it
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def run(n: int, multiprocess: bool) -> None:
    directory = None
    if multiprocess:
        directory = tempfile.mkdtemp(prefix="dispatch-metrics-bench-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory  # before prometheus_client is imported
    from dispatch.metrics import Metrics

    m = Metrics(directory)
    clock = time.perf_counter
    observe = _per_call_us(lambda: m.observe_http("/driver/v1/positions", "POST", 200, 0.0021, clock()), n)
    reasons = ["in_future", "inaccurate"]
    batch = _per_call_us(lambda: m.gps_batch(48, 1, reasons), n // 10)
    counter, histogram = m.http_requests.labels("/x", "POST", "200"), m.http_duration.labels("/x", "POST")
    direct = _per_call_us(lambda: (counter.inc(), histogram.observe(0.0021)), n // 4)
    bare = asyncio.run(_requests(_bare_app, n // 4))
    wrapped = asyncio.run(_requests(m.middleware(_bare_app), n // 4))
    mode = "multiprocess (files)" if multiprocess else "in memory"
    print(
        f"{mode:>21}: observe_http {observe:.2f} µs (inc + observe per request: {direct:.2f} µs), "
        f"gps_batch {batch:.2f} µs, "
        f"middleware {wrapped - bare:.2f} µs per request (bare app {bare:.2f} µs, with it {wrapped:.2f} µs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--multiprocess", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.multiprocess:
        run(args.n, multiprocess=True)
        return
    run(args.n, multiprocess=False)
    # The other mode needs a fresh interpreter: prometheus_client picks its mode when imported.
    subprocess.run([sys.executable, "-m", "bench.metrics", "--n", str(args.n), "--multiprocess"], check=True)


if __name__ == "__main__":
    main()
