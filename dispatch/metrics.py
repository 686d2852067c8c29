"""Prometheus metrics: what each worker counts, and the `/metrics` endpoint that reports them.

Two modes, chosen by how the process was started:
- `dispatch serve --workers N` (N > 1) sets PROMETHEUS_MULTIPROC_DIR to a fresh directory before it
  starts any worker (`multiproc_dir` below). prometheus_client reads that variable when it is first
  imported, so each worker process (a fresh interpreter) keeps its values in memory-mapped files
  there, and a scrape, whichever worker answers it, sums the files of every worker. Gauges of live
  things (open websockets, pool connections) count only live workers ('livesum'): the supervisor
  marks a worker dead when it replaces it (`mark_worker_dead`).
- anything else (one worker, the tests' in-process apps): values in memory, in this app's registry.

The metric objects belong to the app (made by create_app, held by its Runtime), each app with a
registry of its own, so the test suite can build many apps in one process without "duplicated
timeseries". In multiprocess mode prometheus_client keeps one set of files per process whatever
the registry, which is a worker's case: one app per process.

Cost on the hot path (the GPS ingest route runs at ~30,000 points/s): in multiprocess mode every
increment of a prometheus_client value takes a lock and writes to its file (~1-3 us here, a histogram
observation two of them). So requests and GPS batches are tallied in plain dicts of this process
(`_Tally`: a dict lookup and a few additions) and added to the prometheus values in bulk, at most
FLUSH_S after they happened (on the next request or claim-loop round, and before every scrape this
worker answers). `python3 dev.py bench metrics` times it (figures in the README's Metrics section).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import shutil
import time
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
from litestar import Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from dispatch.errors import Unauthorized

# Route templates of the websockets, by the kind of client they serve (the gauge's `kind` label).
WEBSOCKET_KINDS = {
    "/tracking/loads/{load_id}/live": "tracking_watcher",
    "/tracking/jobs/{job_id}/live": "tracking_watcher",
    "/driver/v1/live": "driver_live",
    "/market/feed": "market_feed",
    "/gate/sites/{site_id}/board/live": "gate_board",
    "/events/live": "events_feed",
}
# Anything else a client may send as a method is counted as "other": labels stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A path no route matched (404, or 405 for a method no route takes), whatever the path was.
UNMATCHED = "unmatched"
# Prometheus's default buckets, 5 ms to 10 s, and +Inf.
HTTP_BUCKETS = Histogram.DEFAULT_BUCKETS
# Claim rounds are short: their lag is the event loop's (a busy worker), their duration the database's.
CLAIM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# What a worker has counted reaches the scrapes within this long (under traffic; else within a
# claim-loop round).
FLUSH_S = 1.0
# The event loop's lag: fine where latency targets are (tens of ms), coarse past a second.
LOOP_LAG_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5)


class _Tally:
    """Requests of one (route, method, status) since the last flush: count, total time, and how many
    fell in each of the histogram's buckets (the first bucket whose bound is >= the time)."""

    __slots__ = ("buckets", "count", "seconds")

    def __init__(self, buckets: int) -> None:
        self.count = 0
        self.seconds = 0.0
        self.buckets = [0] * buckets


def _multiprocess_values() -> bool:
    return values.ValueClass is not values.MutexValue


class Metrics:
    def __init__(self, multiproc_dir: str | None) -> None:
        if (multiproc_dir is not None) != _multiprocess_values():
            raise RuntimeError(
                "PROMETHEUS_MULTIPROC_DIR must be set (or unset) before prometheus_client is first "
                "imported: start the workers with `dispatch serve`"
            )
        self.multiproc_dir = multiproc_dir
        self.registry = r = CollectorRegistry()
        self.http_requests = Counter(
            "dispatch_http_requests",
            "HTTP requests answered, by route template, method and status code",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "dispatch_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method",
            ["route", "method"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.websockets = Gauge(
            "dispatch_websocket_connections",
            "Websocket connections open now, by kind of client",
            ["kind"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.gps_accepted = Counter(
            "dispatch_gps_points_accepted", "GPS points stored from the phones' batches", registry=r
        )
        self.gps_duplicates = Counter(
            "dispatch_gps_points_duplicate",
            "GPS points received again (already stored) and not stored twice",
            registry=r,
        )
        self.gps_rejected = Counter(
            "dispatch_gps_points_rejected", "GPS points rejected, by reason", ["reason"], registry=r
        )
        self.watcher_overflows = Counter(
            "dispatch_tracking_watcher_overflows",
            "Tracking watchers whose outbox overflowed: coalesced (they get a gap), or closed with 4008",
            ["outcome"],
            registry=r,
        )
        self.site_queue_reads = Counter(
            "dispatch_site_queue_reads",
            "Reads of a site's whole queue for the drivers' live sockets (dispatch/gate/site_queue.py): "
            "at most about one per site, worker and second (the site's tick), however many drivers are "
            "connected",
            registry=r,
        )
        self.pool_connections = Gauge(
            "dispatch_db_pool_connections",
            "Database pool connections by state (in_use, idle), summed over the workers",
            ["state"],
            multiprocess_mode="livesum",
            registry=r,
        )
        self.pool_max = Gauge(
            "dispatch_db_pool_max_connections",
            "Largest number of connections the pools may open, summed over the workers",
            multiprocess_mode="livesum",
            registry=r,
        )
        self.claim_lag = Histogram(
            "dispatch_claim_loop_lag_seconds",
            "How late a round of the claim loops started against its schedule",
            buckets=CLAIM_BUCKETS,
            registry=r,
        )
        self.claim_duration = Histogram(
            "dispatch_claim_loop_duration_seconds",
            "How long a round of the claim loops took (every step)",
            buckets=CLAIM_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "dispatch_event_loop_lag_seconds",
            "How late the worker's event loop woke a timer (a probe every 50 ms, dispatch/loop_lag.py): "
            "how long any work waited for its worker",
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        )
        self._in_use = self.pool_connections.labels("in_use")
        self._idle = self.pool_connections.labels("idle")
        self._bounds: list[float] = [*HTTP_BUCKETS]  # +Inf last, as prometheus_client keeps them
        self._http: dict[tuple[str, str, int], _Tally] = {}
        self._counts: dict[Any, float] = {}  # labelled counter -> amount not yet added
        self._reasons: dict[str, Any] = {}
        self._flushed = time.perf_counter()

    # -- what the app reports ----------------------------------------------------------------

    def observe_http(self, route: str, method: str, status: int, seconds: float, now: float) -> None:
        tally = self._http.get((route, method, status))
        if tally is None:
            tally = self._http[route, method, status] = _Tally(len(self._bounds))
        tally.count += 1
        tally.seconds += seconds
        tally.buckets[bisect_left(self._bounds, seconds)] += 1
        if now - self._flushed > FLUSH_S:
            self.flush(now)

    def gps_batch(self, accepted: int, duplicates: int, rejected_reasons: list[str]) -> None:
        """One ingested batch (counted once per batch, not per point)."""
        counts = self._counts
        counts[self.gps_accepted] = counts.get(self.gps_accepted, 0) + accepted
        counts[self.gps_duplicates] = counts.get(self.gps_duplicates, 0) + duplicates
        for reason in rejected_reasons:
            child = self._reasons.get(reason)
            if child is None:  # the screening's reasons: a handful
                child = self._reasons[reason] = self.gps_rejected.labels(reason)
            counts[child] = counts.get(child, 0) + 1

    def flush(self, now: float | None = None) -> None:
        """Add what this process has tallied to the prometheus values (in multiprocess mode, its files)."""
        self._flushed = time.perf_counter() if now is None else now
        http, self._http = self._http, {}
        counts, self._counts = self._counts, {}
        for (route, method, status), tally in http.items():
            method = method if method in METHODS else "other"
            self.http_requests.labels(route, method, str(status)).inc(tally.count)
            timed = self.http_duration.labels(route, method)
            # prometheus_client has no call for many observations at once: its per-bucket values
            # (non-cumulative, like our tally) and sum, as Histogram.observe itself updates them.
            timed._sum.inc(tally.seconds)
            for bucket, n in zip(timed._buckets, tally.buckets, strict=True):
                if n:
                    bucket.inc(n)
        for counter, amount in counts.items():
            if amount:
                counter.inc(amount)

    def watcher_overflow(self, outcome: str) -> None:
        self.watcher_overflows.labels(outcome).inc()

    def sample_pool(self, pool: asyncpg.Pool | None) -> None:
        if pool is None:
            return
        size, idle = pool.get_size(), pool.get_idle_size()
        self._in_use.set(size - idle)
        self._idle.set(idle)
        self.pool_max.set(pool.get_max_size())

    def claim_round(self, lag_s: float, duration_s: float, pool: asyncpg.Pool | None) -> None:
        """Each claim-loop round, in every worker: its lag and duration, the pool, and a flush."""
        self.claim_lag.observe(max(lag_s, 0.0))
        self.claim_duration.observe(duration_s)
        self.sample_pool(pool)
        self.flush()

    def exposition(self) -> bytes:
        self.flush()
        if self.multiproc_dir is None:
            return generate_latest(self.registry)
        # Every worker's files, summed: a registry made for this scrape (prometheus_client's way).
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=self.multiproc_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    # -- the ASGI layer ----------------------------------------------------------------------

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Count HTTP answers by route template and time them; count open websockets by kind.

        Outside Litestar's router, so the route template (`scope["path_template"]`, set by the router
        on this same scope) is read after the app has answered; no template means no route matched.
        """
        observe = self.observe_http
        sockets = self.websockets

        async def metrics_middleware(scope: Any, receive: Receive, send: Send) -> None:
            kind = scope["type"]
            if kind == "http":
                started = time.perf_counter()
                status = 500  # what the server answers if the app fails before it starts its answer

                async def send_counted(message: Message) -> None:
                    nonlocal status
                    if message["type"] == "http.response.start":
                        status = message["status"]
                    await send(message)

                try:
                    await app(scope, receive, send_counted)
                finally:
                    now = time.perf_counter()
                    observe(
                        scope.get("path_template") or UNMATCHED, scope["method"], status, now - started, now
                    )
            elif kind == "websocket":
                gauge: list[Any] = []

                async def send_watched(message: Message) -> None:
                    if message["type"] == "websocket.accept":
                        route = scope.get("path_template") or UNMATCHED
                        gauge.append(sockets.labels(WEBSOCKET_KINDS.get(route, "other")))
                        gauge[0].inc()
                    await send(message)

                try:
                    await app(scope, receive, send_watched)
                finally:
                    if gauge:
                        gauge[0].dec()
            else:
                await app(scope, receive, send)

        return metrics_middleware


def metrics_endpoint(token: str) -> Callable[..., Any]:
    """`GET /metrics` for a scraper that sends `Authorization: Bearer <token>` (DISPATCH_METRICS_TOKEN).

    Off the API's authentication (a scraper is no user) and off the OpenAPI document."""
    expected = f"Bearer {token}".encode()

    @get("/metrics", opt={"exclude_from_auth": True}, include_in_schema=False, sync_to_thread=False)
    def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise Unauthorized(
                "The metrics need 'Authorization: Bearer <DISPATCH_METRICS_TOKEN>'.",
                code="metrics_token_invalid",
            )
        runtime = request.app.state.runtime
        runtime.metrics.sample_pool(runtime.pool)  # this worker's pool as of now
        return Response(runtime.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


# -- the multiprocess directory, for `dispatch serve` -----------------------------------------


def fresh_multiproc_dir(state_dir: Path) -> Path:
    """An empty directory for this server's workers: `<state dir>/metrics/<supervisor pid>`.

    One per server, so two servers on one state dir never mix (or clear) each other's files;
    directories left by servers that are gone (killed) are removed here."""
    parent = state_dir / "metrics"
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.iterdir():
        if not (old.name.isdigit() and _running(int(old.name))):
            shutil.rmtree(old, ignore_errors=True)
    mine = parent / str(os.getpid())
    shutil.rmtree(mine, ignore_errors=True)
    mine.mkdir()
    return mine


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_worker_dead(directory: Path) -> Callable[[int], None]:
    """For the supervisor: forget a replaced worker's live gauges (its counters still count)."""

    def mark(pid: int) -> None:
        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]

    return mark
