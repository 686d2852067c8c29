"""The migration runner: order, the ledger, failures that stop start-up, concurrent runners."""

import asyncio
import shutil
import subprocess
import sys

import asyncpg
import httpx
import pytest

from dispatch.db.migrate import DEFAULT_DIR, MigrationError, discover, migrate
from dispatch.settings import Settings
from tests.conftest import CHEAP_PASSWORDS, ROOT, TEST_SECRET, free_port, server_env


def _dir_with(tmp_path, extra: dict[str, str]):
    d = tmp_path / "migrations"
    shutil.copytree(DEFAULT_DIR, d)
    for name, sql in extra.items():
        (d / name).write_text(sql)
    return d


async def test_applies_all_in_order_once(empty_database_url):
    conn = await asyncpg.connect(empty_database_url)
    try:
        first = await migrate(conn)
        assert first == [m.name for m in discover()]
        assert await migrate(conn) == []
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [r["name"] for r in rows] == first
    finally:
        await conn.close()


async def test_failing_file_rolls_back_alone_and_names_file_and_error(empty_database_url, tmp_path):
    d = _dir_with(
        tmp_path, {"0900_broken.sql": "CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;"}
    )
    conn = await asyncpg.connect(empty_database_url)
    try:
        with pytest.raises(MigrationError) as exc:
            await migrate(conn, d)
        assert "0900_broken.sql" in str(exc.value) and "no_such_table" in str(exc.value)
        # The good files before it stay applied; nothing of the broken one remains.
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(discover())
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
    finally:
        await conn.close()


async def test_a_changed_applied_file_is_an_error(empty_database_url, tmp_path):
    d = _dir_with(tmp_path, {})
    conn = await asyncpg.connect(empty_database_url)
    try:
        await migrate(conn, d)
        first = sorted(d.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited later\n")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, d)
    finally:
        await conn.close()


def _settings(database_url: str, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        state_dir=str(tmp_path / "state"),
        secret_key=TEST_SECRET,
        **CHEAP_PASSWORDS,
    )


def test_a_broken_migration_stops_start_up(empty_database_url, tmp_path):
    d = _dir_with(tmp_path, {"0900_broken.sql": "ALTER TABLE no_such_table ADD COLUMN x int;"})
    port = free_port()
    env = server_env(_settings(empty_database_url, tmp_path), DISPATCH_MIGRATIONS_DIR=str(d))
    result = subprocess.run(
        [sys.executable, "-m", "dispatch", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "migration failed, not starting: 0900_broken.sql failed" in result.stderr
    assert 'relation "no_such_table" does not exist' in result.stderr
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_two_processes_migrating_at_once_apply_each_file_once(empty_database_url, tmp_path):
    # A slow file widens the window in which both runners are at work.
    d = _dir_with(tmp_path, {"0900_slow.sql": "SELECT pg_sleep(1.5); CREATE TABLE slow_marker (id int);"})
    env = server_env(_settings(empty_database_url, tmp_path), DISPATCH_MIGRATIONS_DIR=str(d))
    runners = [
        subprocess.Popen(
            [sys.executable, "-m", "dispatch", "migrate"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=60) for r in runners]
    assert [r.returncode for r in runners] == [0, 0], outputs
    applied = [line for out, _ in outputs for line in out.splitlines() if line.startswith("applied ")]
    names = [m.name for m in discover(d)]
    # Every file was applied by exactly one of the two runners.
    assert sorted(applied) == sorted(f"applied {n}" for n in names)

    async def ledger() -> list[str]:
        conn = await asyncpg.connect(empty_database_url)
        try:
            return [
                r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")
            ]
        finally:
            await conn.close()

    assert asyncio.run(ledger()) == names
