"""A real `dispatch serve` (uvicorn, two worker processes) and the embedded database's lifecycle."""

import asyncio
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from dispatch import procfs
from dispatch.db.embedded import EmbeddedPostgres
from tests.conftest import ROOT, free_port
from tests.support import PASSWORD, bootstrap_org, problem

pytestmark = pytest.mark.server


async def test_two_workers_serve_health_login_and_tokens(server_factory, settings):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json()["database"] == "ok"
        acme = await bootstrap_org(http, settings, "Acme", ["shipper"])
        # Enough concurrent requests to land on both workers: each must accept a token signed by
        # whichever worker handled the login, and each answers with its own request id.
        answers = await asyncio.gather(*[http.get("/me", headers=acme.headers) for _ in range(40)])
        assert {a.status_code for a in answers} == {200}
        assert len({a.headers["x-request-id"] for a in answers}) == 40
        problem(await http.post("/auth/login", json={"email": acme.email, "password": PASSWORD + "!"}), 401)
        spec = (await http.get("/schema/openapi.json")).json()
        assert "/orgs/{org_id}/members" in spec["paths"]


async def test_each_worker_listens_and_new_connections_are_spread_over_both(server_factory):
    server = server_factory(workers=2)
    port = int(server.base_url.rsplit(":", 1)[1])
    workers = procfs.worker_pids(server.process.pid)
    assert len(workers) == 2
    # Kept-alive connections, each opened on its own, all at once (as phones reconnecting after a
    # network drop): with one shared socket a worker winning the accept race takes a burst of them.
    clients = [httpx.AsyncClient(base_url=server.base_url, timeout=30) for _ in range(40)]
    try:
        answers = await asyncio.gather(*[c.get("/healthz") for c in clients])
        assert {a.status_code for a in answers} == {200}
        held = procfs.client_ports(workers, port)
        assert sum(len(ports) for ports in held.values()) == 40
        # The kernel hashes each connection to a worker's socket: an even split within a wide margin
        # (a worker with fewer than 8 of 40 has odds of about 1e-4 under a fair hash).
        assert min(len(ports) for ports in held.values()) >= 8, held
    finally:
        await asyncio.gather(*[c.aclose() for c in clients])


def test_a_port_in_use_is_refused(state):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "dispatch", "serve", "--workers", "2", "--port", str(port)],
            env={"PATH": "/usr/bin:/bin", "HOME": str(state), "DISPATCH_STATE_DIR": str(state)},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr


@contextlib.contextmanager
def _serving_embedded(state_dir, timeout: float = 60):
    """`dispatch serve` with no DATABASE_URL, healthy; stopped with Ctrl-C on the way out."""
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(state_dir),
        "DISPATCH_STATE_DIR": str(state_dir),
        "DISPATCH_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "server never became healthy"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out


@pytest.fixture
def state():
    """A state dir for an embedded server of its own, outside pytest's tmp root (see conftest)."""
    home = Path(tempfile.mkdtemp(prefix="dispatch-test-state-"))
    yield home / "state"
    shutil.rmtree(home, ignore_errors=True)


def test_without_database_url_serve_starts_the_embedded_server_and_stops_it(state):
    with _serving_embedded(state):
        pass
    assert (state / "postgres" / "PG_VERSION").exists()
    assert not EmbeddedPostgres(state / "postgres").is_running(), (
        "the server we started must be stopped on exit"
    )
    # The state dir is reused: a second start finds the data (and the migrated schema) in place.
    with _serving_embedded(state):
        pass


def test_an_embedded_server_already_running_is_reused_and_left_running(state):
    mine = EmbeddedPostgres(state / "postgres")
    mine.start()
    try:
        with _serving_embedded(state):
            pass
        assert mine.is_running(), "a server we did not start is not ours to stop"
    finally:
        mine.stop()
