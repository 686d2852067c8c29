"""The Prometheus endpoint: counts summed over a real server's two workers, route templates as labels,
websockets by kind, GPS points by outcome, the pool and the claim loops; and who may scrape."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import msgspec
import pytest
from litestar.routes import WebSocketRoute
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from dispatch import procfs
from dispatch.app import create_app
from dispatch.metrics import WEBSOCKET_KINDS
from dispatch.sim.server_lag import ServerLag
from tests.market_support import BERLIN
from tests.support import problem
from tests.tracking_support import loads_in_transit, point, route

TOKEN = "scrape-" + "k" * 24
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


class Scrape:
    """One answer of /metrics, parsed."""

    def __init__(self, text: str) -> None:
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


async def scrape(base_url: str) -> Scrape:
    # A new connection each time: the kernel picks the worker, and either must give the same sums.
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        r = await c.get("/metrics", headers=SCRAPER)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return Scrape(r.text)


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 60.0) -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        assert time.monotonic() < deadline, f"{check.__name__} did not come true in {within_s} s"
        await asyncio.sleep(0.2)


@pytest.mark.server
async def test_two_workers_report_one_sum_of_requests_points_sockets_pool_and_claim_loops(
    server_factory, settings
):
    server = server_factory(workers=2, metrics_token=TOKEN)
    port = int(server.base_url.rsplit(":", 1)[1])
    workers = procfs.worker_pids(server.process.pid)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings)
        load, mill = w["loads"][0], w["mill"]

        # 40 requests for jobs that do not exist, each on its own connection, all open at once: the
        # kernel spreads them over both workers; the scrape sums both.
        missing = [str(uuid4()) for _ in range(40)]
        clients = [httpx.AsyncClient(base_url=server.base_url, timeout=30) for _ in missing]
        try:
            answers = await asyncio.gather(
                *[c.get(f"/jobs/{m}", headers=mill.headers) for c, m in zip(clients, missing, strict=True)]
            )
            assert {a.status_code for a in answers} == {404}
            held = procfs.client_ports(workers, port)
            assert all(held.values()), held  # both workers answered some of them
        finally:
            await asyncio.gather(*[c.aclose() for c in clients])
        for _ in range(3):
            assert (await http.get(f"/no/such/{uuid4()}")).status_code == 404

        # GPS batches on fresh connections (both workers), with points rejected for two reasons and
        # one batch sent twice (its points are duplicates the second time).
        now = datetime.now(UTC)
        fixes = route(12, start=now - timedelta(seconds=200))
        accepted, duplicates, reasons = 0, 0, Counter[str]()
        batches = [
            [*fixes[i : i + 3], point(BERLIN[0], 95.0, now), point(*BERLIN, now + timedelta(minutes=10))]
            for i in range(0, 12, 3)
        ]
        for batch in [*batches, batches[-1]]:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as phone:
                r = await phone.post("/driver/v1/positions", headers=load["device"], json={"points": batch})
            assert r.status_code == 200, r.text
            accepted += r.json()["accepted"]
            duplicates += r.json()["duplicates"]
            reasons.update(x["reason"] for x in r.json()["rejected"])
        assert accepted == 12 and duplicates == 3
        assert reasons == {"latitude_out_of_range": 5, "in_future": 5}

        # A watcher's socket: counted while open, whichever worker holds it and answers the scrape.
        url = f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live"
        async with connect(url, additional_headers=w["receiver"].headers) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            during = await scrape(server.base_url)
            assert during.value("dispatch_websocket_connections", kind="tracking_watcher") == 1

        async def watcher_gone() -> bool:
            now = await scrape(server.base_url)
            return now.value("dispatch_websocket_connections", kind="tracking_watcher") == 0

        await eventually(watcher_gone)

        # Each worker adds what it counted to the shared files within a second (dispatch/metrics.py):
        # wait for the sums to be complete. Counters only grow: a sum counted twice never matches.
        jobs = {"route": "/jobs/{job_id}", "method": "GET"}
        expected = [
            ("dispatch_http_requests_total", jobs | {"status": "404"}, 40),
            ("dispatch_http_request_duration_seconds_count", jobs, 40),
            ("dispatch_http_requests_total", {"route": "unmatched", "status": "404"}, 3),
            ("dispatch_http_requests_total", {"route": "/driver/v1/positions", "status": "200"}, 5),
            ("dispatch_gps_points_accepted_total", {}, accepted),
            ("dispatch_gps_points_duplicate_total", {}, duplicates),
            ("dispatch_gps_points_rejected_total", {}, sum(reasons.values())),
            *[("dispatch_gps_points_rejected_total", {"reason": r}, n) for r, n in reasons.items()],
        ]

        async def all_counted() -> bool:
            now = await scrape(server.base_url)
            return [now.value(name, **labels) for name, labels, _ in expected] == [n for *_, n in expected]

        await eventually(all_counted)
        after = await scrape(server.base_url)
        assert [after.value(name, **labels) for name, labels, _ in expected] == [n for *_, n in expected]
        bucketed = after.value("dispatch_http_request_duration_seconds_bucket", **jobs, le="+Inf")
        assert bucketed == 40
        # Labels are route templates: no id, no raw path.
        routes = after.label_values("dispatch_http_requests_total", "route")
        assert {"/driver/v1/positions", "/jobs/{job_id}", "/healthz", "unmatched"} <= routes
        assert not [r for r in routes if any(job_id in r for job_id in missing) or "no/such" in r]

        # Both workers' pools (each samples its own in its claim loops) and both workers' claim rounds.
        async def both_pools() -> bool:
            now = await scrape(server.base_url)
            return now.value("dispatch_db_pool_max_connections") == 2 * settings.db_pool_max

        await eventually(both_pools)
        last = await scrape(server.base_url)
        open_connections = last.value("dispatch_db_pool_connections")
        assert open_connections >= 2 * settings.db_pool_min
        assert last.value("dispatch_db_pool_connections", state="idle") <= open_connections
        assert last.value("dispatch_claim_loop_lag_seconds_count") >= 2
        assert last.value("dispatch_claim_loop_duration_seconds_count") >= 2

    # The workers' files live in the state dir while the server runs, and go with it.
    files = Path(settings.state_dir) / "metrics" / str(server.process.pid)
    assert any(files.glob("counter_*.db")) and any(files.glob("gauge_livesum_*.db"))
    server.stop()
    assert not files.exists()


@pytest.mark.server
async def test_each_worker_s_loop_lag_is_probed_and_read_over_a_window_as_the_simulator_reads_it(
    server_factory,
):
    server = server_factory(workers=2, metrics_token=TOKEN)
    first = (await scrape(server.base_url)).value("dispatch_event_loop_lag_seconds_count")

    async def probed() -> bool:
        return (await scrape(server.base_url)).value("dispatch_event_loop_lag_seconds_count") > first

    await eventually(probed)
    lag = ServerLag(server.base_url, TOKEN, every_s=0.2)
    started = time.time()
    lag.start()
    windows = []
    try:

        async def a_window_read() -> bool:
            now = time.time()  # the last second but the newest reading's
            windows.append(lag.between(now - 1.0, now - 0.3))
            return windows[-1] is not None

        await eventually(a_window_read)
    finally:
        lag.stop()
    window = windows[-1]
    assert window is not None and window.samples > 0
    assert 0 < window.p99_le <= window.max_le
    assert lag.between(started - 3600, started - 1800) is None  # before the first reading: unknown


@pytest.mark.server
async def test_one_worker_keeps_its_metrics_in_memory(server_factory, settings):
    server = server_factory(workers=1, metrics_token=TOKEN)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for _ in range(3):
            problem(await http.get(f"/jobs/{uuid4()}"), 401, "token_missing")
    got = await scrape(server.base_url)
    assert got.value("dispatch_http_requests_total", route="/jobs/{job_id}", status="401") == 3
    assert got.value("dispatch_db_pool_max_connections") == settings.db_pool_max
    assert not (Path(settings.state_dir) / "metrics").exists()


@pytest.mark.server
async def test_a_killed_worker_s_sockets_stop_counting_and_its_requests_still_count(server_factory, settings):
    server = server_factory(workers=2, metrics_token=TOKEN)
    port = int(server.base_url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings)
        url = f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live"
        async with connect(url, additional_headers=w["receiver"].headers) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            client_port = ws.local_address[1]
            holder = next(
                pid
                for pid, ports in procfs.client_ports(procfs.worker_pids(server.process.pid), port).items()
                if client_port in ports
            )
            # Requests on both workers, so the one about to die has counted some of them.
            clients = [httpx.AsyncClient(base_url=server.base_url, timeout=30) for _ in range(20)]
            try:
                answers = await asyncio.gather(
                    *[c.get(f"/jobs/{uuid4()}", headers=w["mill"].headers) for c in clients]
                )
                assert {a.status_code for a in answers} == {404}
                held = procfs.client_ports(procfs.worker_pids(server.process.pid), port)
                # Besides the watcher's socket, and at most one of the setup client's connections.
                assert len(set(held[holder]) - {client_port}) >= 2, held
            finally:
                await asyncio.gather(*[c.aclose() for c in clients])
            jobs = {"route": "/jobs/{job_id}", "method": "GET", "status": "404"}

            async def all_counted() -> bool:
                return (await scrape(server.base_url)).value("dispatch_http_requests_total", **jobs) == 20

            await eventually(all_counted)  # both workers have added theirs to the files
            before = await scrape(server.base_url)
            assert before.value("dispatch_websocket_connections", kind="tracking_watcher") == 1
            os.kill(holder, signal.SIGKILL)

            async def replaced() -> bool:
                pids = procfs.worker_pids(server.process.pid)
                return len(pids) == 2 and holder not in pids

            await eventually(replaced)

        async def forgotten() -> bool:
            now = await scrape(server.base_url)
            return now.value("dispatch_websocket_connections", kind="tracking_watcher") == 0

        await eventually(forgotten)  # the supervisor marked the dead worker's live gauges gone
        # Counters keep what the dead worker counted: its share of the requests is still in the sum.
        after = await scrape(server.base_url)
        assert after.value("dispatch_http_requests_total", **jobs) == 20


async def test_in_process_the_app_keeps_its_metrics_in_its_own_registry(settings):
    with_token = msgspec.structs.replace(settings, metrics_token=TOKEN)
    async with AsyncTestClient(app=create_app(with_token)) as c:
        problem(await c.get("/metrics"), 401, "metrics_token_invalid")
        problem(await c.get("/metrics", headers={"Authorization": "Bearer " + "x" * 31}), 401)
        for _ in range(2):
            assert (await c.get("/healthz")).status_code == 200
        problem(await c.get(f"/jobs/{uuid4()}"), 401, "token_missing")
        r = await c.get("/metrics", headers=SCRAPER)
        assert r.status_code == 200
        got = Scrape(r.text)
        assert got.value("dispatch_http_requests_total", route="/healthz", status="200") == 2
        assert got.value("dispatch_http_requests_total", route="/jobs/{job_id}", status="401") == 1
        # A second app in the same process counts on its own (its own registry).
        async with AsyncTestClient(app=create_app(with_token)) as other:
            r = await other.get("/metrics", headers=SCRAPER)
            assert Scrape(r.text).value("dispatch_http_requests_total", route="/healthz") == 0


async def test_without_a_token_there_is_no_metrics_route(client):
    problem(await client.get("/metrics", headers=SCRAPER), 404, "not_found")
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/metrics" not in spec["paths"]


def test_every_websocket_route_has_a_kind(settings):
    app = create_app(settings)
    templates = {r.path_format for r in app.routes if isinstance(r, WebSocketRoute)}
    assert templates and templates == set(WEBSOCKET_KINDS), templates ^ set(WEBSOCKET_KINDS)
