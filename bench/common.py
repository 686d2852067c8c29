"""What every benchmark needs: a throwaway embedded PostgreSQL, a real `dispatch serve` with its
workers, organizations to act as, and percentiles."""

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from dispatch import sandbox
from dispatch.accounts import service as accounts
from dispatch.accounts.passwords import Passwords
from dispatch.db.embedded import EmbeddedPostgres
from dispatch.db.pool import create_pool
from geo import Position
from geo import square as square_at

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-" + "x" * 32
PASSWORD = "bench password 123"


@contextlib.contextmanager
def database(server_settings: dict[str, str] | None = None) -> Iterator[str]:
    """A fresh embedded PostgreSQL (default durability: what `dispatch serve` runs on); extra
    `server_settings` (e.g. shared_preload_libraries) apply to the embedded server only."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    with tempfile.TemporaryDirectory(prefix="dispatch-bench-") as tmp:
        settings = {"max_connections": "400"} | (server_settings or {})
        server = EmbeddedPostgres(Path(tmp) / "pg", server_settings=settings)
        with server:
            yield server.dsn()


def square(lon: float, lat: float, half: float = 0.004) -> dict[str, Any]:
    """A GeoJSON square geofence of about 900 m a side around a point."""
    return square_at(Position(lon, lat), half)


def free_port() -> int:
    return sandbox.free_port("127.0.0.1")


@contextlib.contextmanager
def serving(dsn: str, *, workers: int, state_dir: str) -> Iterator[str]:
    with server_process(dsn, workers=workers, state_dir=state_dir) as (url, _):
        yield url


@contextlib.contextmanager
def server_process(
    dsn: str, *, workers: int, state_dir: str, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`serving`, also yielding the `dispatch serve` process (its children are the workers), with
    extra environment variables for the server."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": dsn,
        "DISPATCH_STATE_DIR": state_dir,
        "DISPATCH_SECRET_KEY": SECRET,
        "DISPATCH_LOG_LEVEL": "WARNING",
        "DISPATCH_PASSWORD_TIME_COST": "1",
        "DISPATCH_PASSWORD_MEMORY_KIB": "1024",
        "DISPATCH_DB_POOL_MAX": "40",
    }
    env.update(extra_env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield url, process
    finally:
        process.terminate()
        process.wait(20)


async def organization(dsn: str, http: httpx.AsyncClient, name: str, parties: list[str]) -> dict[str, str]:
    """Bootstrap an organization (as `dispatch create-org` does) and log its admin in."""
    email = f"{secrets.token_hex(5)}@{name.lower().replace(' ', '-')}.bench"
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        org, _ = await accounts.create_organization(
            pool,
            Passwords(time_cost=1, memory_kib=1024),
            name=name,
            parties=parties,  # type: ignore[arg-type]
            admin_email=email,
            admin_name=name,
            admin_password=PASSWORD,
        )
    finally:
        await pool.close()
    r = await http.post("/auth/login", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    return {"org_id": str(org.id), "Authorization": f"Bearer {r.json()['access_token']}"}


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    if not ms:
        return "no samples"
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return f"p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {ms[-1]:.1f} ms (n={len(ms)})"


async def fresh_database(admin_dsn: str) -> str:
    """A new, migrated database with a random name on the benchmark's server."""
    return await sandbox.fresh_database(admin_dsn, f"bench_{secrets.token_hex(4)}")
