"""A throwaway installation for `dispatch demo` and `dispatch simulate`: a fresh database on the
configured (or embedded) PostgreSQL server, organizations bootstrapped the way an operator does with
`dispatch create-org`, and a real `dispatch serve` process with its workers.

This is the operator's side only. The simulated parties themselves never touch the database: they
are clients of the public API (dispatch/sim/).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import cast
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from dispatch import signals
from dispatch.accounts import service as accounts
from dispatch.accounts.passwords import Passwords
from dispatch.db.migrate import migrate
from dispatch.db.pool import create_pool
from dispatch.parties import Party as OrgParty
from dispatch.sim.client import Account


def database_in(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url` (same user, host and options)."""
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + name))


async def fresh_database(server_url: str, name: str) -> str:
    """Drop database `name` if it exists (with its sessions), create it, migrate it; its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = database_in(server_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def bootstrap(
    database_url: str,
    passwords: Passwords,
    orgs: Sequence[tuple[str, Sequence[str], str]],
    password: str,
) -> list[Account]:
    """Create each (name, parties, admin email) organization with its admin, as `dispatch create-org`."""
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        out = []
        for name, parties, email in orgs:
            org, _ = await accounts.create_organization(
                pool,
                passwords,
                name=name,
                parties=[cast(OrgParty, p) for p in parties],
                admin_email=email,
                admin_name=f"{name} admin",
                admin_password=password,
            )
            out.append(Account(str(org.id), name, email, password))
        return out
    finally:
        await pool.close()


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    database_url: str, *, host: str, port: int, workers: int, env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """`dispatch serve` on `database_url` until the block ends; waits until /healthz answers. The
    server is stopped (SIGTERM: it finishes what is in flight) however the block ends."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "dispatch",
            "serve",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=os.environ | env | {"DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(f"http://{host}:{port}/healthz", process)
        yield process
    finally:
        with signals.deferred():
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(f"dispatch: stopped the server on port {port} (pid {process.pid})", file=sys.stderr, flush=True)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} before it was ready")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=1) as r,  # noqa: S310 - our own local server
        ):
            if r.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer {url} within {timeout_s:.0f} s")
        time.sleep(0.2)
