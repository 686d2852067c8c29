"""The asyncpg pool and the per-connection set-up every query relies on."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out through msgspec: faster than the stdlib and the same rules as the API.
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=lambda v: _json_encode(v).decode(),
        decoder=_json_decode,
    )
    await conn.set_type_codec(
        "json",
        schema="pg_catalog",
        encoder=lambda v: _json_encode(v).decode(),
        decoder=_json_decode,
    )


async def _no_reset(_: asyncpg.Connection) -> None:
    """Pool connections never hold session state (no SET, LISTEN or session advisory locks: the
    broker listens on its own connection, locks are per transaction), so the reset asyncpg runs on
    every release (RESET ALL, UNLISTEN *, advisory unlock) is a wasted round trip on every request."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool: Any = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_no_reset,
        # Every session works in UTC; the database stores timestamptz.
        server_settings={"timezone": "UTC", "application_name": "freight-dispatch"},
    )
    assert pool is not None
    return pool  # type: ignore[no-any-return]
