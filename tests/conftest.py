"""Test harness on a real PostgreSQL.

- One server per run: the embedded PostgreSQL in a temporary directory, or the server named by
  DATABASE_URL (the role needs CREATEDB).
- One migrated template database per run; every test that asks for `database_url` gets a fresh
  `CREATE DATABASE ... TEMPLATE` clone, dropped afterwards.
- `client`: the app in-process (httpx over ASGI, lifespan run). `server_factory`: a real
  `dispatch serve` subprocess (uvicorn, optionally several workers) on a free port.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from dispatch.app import create_app
from dispatch.db.embedded import EmbeddedPostgres
from dispatch.db.migrate import migrate
from dispatch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-key-" + "x" * 32
# Cheap Argon2 for tests: the suite logs in hundreds of times. Production uses the defaults.
CHEAP_PASSWORDS = {"password_time_cost": 1, "password_memory_kib": 1024}
# A throwaway cluster needs no durability; these make CREATE DATABASE and commits fast.
TEST_SERVER_SETTINGS = {
    "max_connections": "400",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


@pytest.fixture(scope="session")
def admin_dsn() -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's tmp root: every new pytest session resets that to mode 0700, which would
    # lock the server's own OS user (we run it as one when root) out of its data directory.
    home = Path(tempfile.mkdtemp(prefix="dispatch-test-pg-"))
    server = EmbeddedPostgres(home / "data", server_settings=TEST_SERVER_SETTINGS)
    try:
        with server:
            yield server.dsn()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(admin_dsn: str) -> Iterator[str]:
    name = f"dispatch_tpl_{secrets.token_hex(4)}"

    async def create() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(with_database(admin_dsn, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    asyncio.run(create())
    yield name
    asyncio.run(_drop(admin_dsn, name))


async def _drop(admin_dsn: str, name: str) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _create(admin_dsn: str, prefix: str, template: str | None = None) -> str:
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await admin.close()
    return name


@pytest.fixture
async def database_url(admin_dsn: str, template_db: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone."""
    name = await _create(admin_dsn, "dispatch_test", template_db)
    yield with_database(admin_dsn, name)
    await _drop(admin_dsn, name)


@pytest.fixture
async def empty_database_url(admin_dsn: str) -> AsyncIterator[str]:
    """A fresh database with no schema at all, for migration tests."""
    name = await _create(admin_dsn, "dispatch_empty")
    yield with_database(admin_dsn, name)
    await _drop(admin_dsn, name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        state_dir=str(tmp_path / "state"),
        secret_key=TEST_SECRET,
        **CHEAP_PASSWORDS,
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, for arranging and for looking behind the API."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings)) as c:
        yield c


# -- a real server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env.update(
        {
            "DATABASE_URL": settings.database_url or "",
            "DISPATCH_STATE_DIR": settings.state_dir,
            "DISPATCH_SECRET_KEY": settings.secret_key,
            "DISPATCH_PASSWORD_TIME_COST": str(settings.password_time_cost),
            "DISPATCH_PASSWORD_MEMORY_KIB": str(settings.password_memory_kib),
            "DISPATCH_LOG_LEVEL": "WARNING",
            "DISPATCH_WATCHER_QUEUE": str(settings.watcher_queue),
            "DISPATCH_STOP_ALERT_MINUTES": str(settings.stop_alert_minutes),
            "DISPATCH_MAX_BODY_BYTES": str(settings.max_body_bytes),
            "DISPATCH_IDEMPOTENCY_LEASE_SECONDS": str(settings.idempotency_lease_seconds),
            "DISPATCH_METRICS_TOKEN": settings.metrics_token or "",
            "DISPATCH_HEADER_TIMEOUT_SECONDS": str(settings.header_timeout_seconds),
            "DISPATCH_BODY_TIMEOUT_SECONDS": str(settings.body_timeout_seconds),
            "DISPATCH_WS_CLOSE_GRACE_SECONDS": str(settings.ws_close_grace_seconds),
            "DISPATCH_WS_COMPRESSION": "1" if settings.ws_compression else "0",
            "DISPATCH_MAP_TILES_URL": settings.map_tiles_url or "",
            "DISPATCH_MAP_TILES_ATTRIBUTION": settings.map_tiles_attribution,
            "DISPATCH_MAP_TILES_DATUM": settings.map_tiles_datum,
            "DISPATCH_TRACKING_TIME_SCALE": str(int(settings.tracking_time_scale)),
            "DISPATCH_DRIVER_APP_MIN_VERSION": settings.driver_app_min_version or "",
            "DISPATCH_WEBHOOK_RETRY_BASE_MS": str(settings.webhook_retry_base_ms),
            "DISPATCH_WEBHOOK_RETRY_CAP_SECONDS": str(settings.webhook_retry_cap_s),
            "DISPATCH_WEBHOOK_RETRY_HORIZON_SECONDS": str(settings.webhook_retry_horizon_s),
            "DISPATCH_WEBHOOK_TIMEOUT_MS": str(settings.webhook_timeout_ms),
            "DISPATCH_WEBHOOK_CLAIM_SECONDS": str(settings.webhook_claim_seconds),
            "DISPATCH_WEBHOOK_SECRET_GRACE_SECONDS": str(settings.webhook_secret_grace_s),
            "DISPATCH_WEBHOOK_CONCURRENCY": str(settings.webhook_concurrency),
            "DISPATCH_WEBHOOK_POLL_MS": str(settings.webhook_poll_ms),
            "DISPATCH_WEBHOOK_ALLOW_HOSTS": ",".join(settings.webhook_allow_hosts),
            "DISPATCH_CLOSER_INTERVAL_MS": str(settings.closer_interval_ms),
        }
    )
    env.update(extra)
    return env


class RunningServer:
    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.ws_url = base_url.replace("http://", "ws://")
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    settings: Settings, log_path: Path, *, workers: int = 1, timeout: float = 90
) -> RunningServer:
    port = free_port()
    log_file = open(log_path, "wb")  # noqa: SIM115 - the child keeps writing after we return
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port), "--workers", str(workers)],
        env=server_env(settings),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(server.base_url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become healthy in {timeout}s:\n{server.log()}")


@pytest.fixture
def server_factory(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def start(workers: int = 1, **overrides: Any) -> RunningServer:
        """A server on the test's database; `overrides` change its settings (e.g. watcher_queue=4)."""
        chosen = msgspec.structs.replace(settings, **overrides) if overrides else settings
        server = start_server(chosen, tmp_path / f"server-{len(started)}.log", workers=workers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """A real HTTP client for talking to a `server_factory` server."""
    async with httpx.AsyncClient(timeout=30) as c:
        yield c
