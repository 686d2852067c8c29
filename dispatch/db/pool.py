"""The asyncpg pool and the per-connection set-up every query relies on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec

_json_encode = msgspec.json.Encoder().encode
_json_decode = msgspec.json.Decoder().decode


# The array and range types the service's statements bind or return that asyncpg has no built-in codec
# for. It learns such a type by introspecting it (a recursive catalogue query with JIT switched off and
# on again: three round trips) the first time a statement on that connection uses it, so a connection
# new to, say, uuid[] (every event's org_ids) makes the request that first uses it wait. Preparing one
# statement that names them all when the connection opens learns them in one introspection. A type
# missing here still works: it is learned on first use, as before.
PRELOADED_TYPES = (
    "uuid[]",
    "timestamptz[]",
    "float8[]",
    "real[]",
    "smallint[]",
    "integer[]",
    "boolean[]",
    "interval[]",
    "tstzrange",
)
_PRELOAD = "SELECT " + ", ".join(f"${i}::{t}" for i, t in enumerate(PRELOADED_TYPES, start=1))


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
    await conn.prepare(_PRELOAD)


async def _no_reset(_: asyncpg.Connection) -> None:
    """Pool connections never hold session state (no SET, LISTEN or session advisory locks: the
    broker listens on its own connection, locks are per transaction), so the reset asyncpg runs on
    every release (RESET ALL, UNLISTEN *, advisory unlock) is a wasted round trip on every request."""


async def create_pool(dsn: str, *, min_size: int = 10, max_size: int = 10) -> asyncpg.Pool:
    """The pool with `min_size` connections open and set up before it is returned (asyncpg opens
    them all at once), growing to `max_size` under load. The service opens all of them at start-up
    (DISPATCH_DB_POOL_MIN defaults to the max): a worker serves its first burst with every connection
    ready instead of opening some in the middle of it, and asyncpg keeps the `min_size` open however
    long they stay idle, so the first truck of a morning finds them too."""
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


_releasing: set[asyncio.Task[None]] = set()  # strong references until each release is done


@contextlib.asynccontextmanager
async def borrowed(pool: asyncpg.Pool) -> AsyncIterator[Any]:
    """A pool connection that goes back to the pool in a task of its own when the block ends,
    without the caller waiting for it. asyncpg's release runs behind `asyncio.shield` (a task):
    awaited, it takes three turns of the event loop, which on a worker busy with a burst (the grab
    race: fifty requests at once) each wait for the other requests' work, before the caller can
    answer. Not awaited, the answer goes out at once, and the connection is back in the pool
    whatever the answer's client does (a send can wait on a client slow to read), one turn later
    than awaited (the release's own task starts on the next turn): the price for the request waiting
    for it, measured smaller than the gain (dispatch/market/README.md, "Performance")."""
    conn = await pool.acquire()
    try:
        yield conn
    finally:
        release = asyncio.ensure_future(pool.release(conn))
        _releasing.add(release)
        release.add_done_callback(_releasing.discard)
