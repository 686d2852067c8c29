"""Group commit for the one-statement ingest: the batches that arrive while a commit is in flight
are stored together in the next transaction.

Why: PostgreSQL (up to 18) holds one lock for the whole cluster from a notifying transaction's
`PreCommit_Notify` until its commit record is flushed, so transactions that call `pg_notify` commit
one at a time, each with its own WAL flush. At 200 batches a second a disk flush that takes a few
milliseconds keeps that lock busy most of the time, and one slow flush queues every batch behind
it (the benchmark saw the sessions waiting on `Lock:object`). One transaction for all the batches
that queued up meanwhile pays one flush for all of them; each batch is still stored, and its points
still published, in the transaction that stores them.

The app's runtime holds one group per process (`Runtime.ingest_commits`); its requests take turns
with an `asyncio.Lock`: whoever holds it stores, on its own connection, every batch queued so far
(its own among them, unless an earlier holder already took it). A batch that cannot be stored with
the others comes back as None (nothing of it written), which sends its request down the ordinary
locked road, which judges the batch from the start.

A group is one round trip: its STORE_BATCH executions go to PostgreSQL as one pipeline (asyncpg's
`fetchmany`: every Bind/Execute in one write, then one Sync) with no BEGIN before it, so PostgreSQL
runs them as one implicit transaction: all of them committed together at the Sync, or, when one
fails, none (the protocol's "Pipelining": an error rolls back the implicit transaction and the
messages up to the Sync are skipped). An explicit `conn.transaction()` around it added a BEGIN and
a COMMIT, each a round trip of its own, each waiting for a core on a saturated machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

from dispatch.db import Conn

from . import queries

_Pending = tuple[Sequence[Any], "asyncio.Future[asyncpg.Record | None]"]


class CommitGroup:
    """STORE_BATCH for one process's concurrent batches, one transaction per group."""

    def __init__(self) -> None:
        # Held while a group is stored; the batches that come meanwhile queue for the next holder.
        self.turn = asyncio.Lock()
        self._queue: list[_Pending] = []

    @property
    def waiting(self) -> int:
        """Batches queued for the next group."""
        return len(self._queue)

    async def store(self, conn: Conn, args: Sequence[Any]) -> asyncpg.Record | None:
        """STORE_BATCH's row for these arguments once committed, or None when it wrote nothing.
        Alone in its group, the statement's own errors come through as they are."""
        mine: asyncio.Future[asyncpg.Record | None] = asyncio.get_running_loop().create_future()
        self._queue.append((args, mine))
        async with self.turn:
            if mine.done():  # stored in the group of the request that held the turn before
                return mine.result()
            group, self._queue = self._queue, []
            try:
                await _store(conn, group)
            finally:
                # Cancelled or failed before the others were answered: their batches are not known
                # to be stored, so they take the ordinary road, which finds whatever was.
                for _, waiting in group:
                    if not waiting.done():
                        waiting.set_result(None)
            return mine.result()


async def _store(conn: Conn, group: list[_Pending]) -> None:
    if len(group) == 1:
        ((args, fut),) = group
        fut.set_result(await conn.fetchrow(queries.STORE_BATCH, *args))
        return
    # The trip rows locked in one order (by load), so two groups cannot deadlock each other.
    group.sort(key=lambda pending: pending[0][0])
    # Outside any transaction of the connection's, the pipeline is one implicit transaction of its
    # own (module docstring); inside one it would only be part of that one.
    assert not conn.is_in_transaction()
    try:
        # STORE_BATCH answers one row per execution, in order.
        rows = await conn.fetchmany(queries.STORE_BATCH, [args for args, _ in group])
    except asyncpg.PostgresError:
        return  # nothing committed; every batch of the group goes the ordinary road
    for (_, fut), row in zip(group, rows, strict=True):
        fut.set_result(row)
