"""Database plumbing: the pool, migrations and the embedded server."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

# What a query function takes: a connection, whether acquired from the pool or opened directly.
Conn: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
# Reads outside a transaction may go straight to the pool.
Queryable: TypeAlias = "Conn | asyncpg.Pool[asyncpg.Record]"
