"""What PostgreSQL's sessions wait on while a load runs, for `dispatch simulate --pg-stats` and the
benchmarks: pg_stat_activity sampled every 50 ms, and optionally pg_stat_statements' top statements.

The operator's side (like dispatch/sandbox.py): it reads the database's own statistics, which the
simulated parties (dispatch/sim/, clients of the public API only) never touch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence

import asyncpg

SAMPLE_EVERY_S = 0.05

# One row per session of this database that is working or holds a transaction open: what it waits on
# ("on CPU" when nothing) and the start of its statement.
WAITS = """
SELECT CASE WHEN state = 'idle in transaction' THEN 'in transaction, waiting for the app'
            ELSE coalesce(wait_event_type || ':' || wait_event, 'on CPU') END AS wait,
       left(regexp_replace(query, '\\s+', ' ', 'g'), 60) AS query
FROM pg_stat_activity
WHERE state IN ('active', 'idle in transaction') AND backend_type = 'client backend'
  AND datname = current_database() AND pid <> pg_backend_pid()"""


STATEMENTS = """
SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_activity%'
ORDER BY total_exec_time DESC LIMIT 8"""


# PostgreSQL 17+ (the embedded server is 18); older servers have these columns in pg_stat_bgwriter.
CHECKPOINTS = """
SELECT num_done, num_requested, sync_time, write_time FROM pg_stat_checkpointer"""

# pg_stat_statements works only when the server preloads it (shared_preload_libraries).
STATEMENTS_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"


async def data_directory(dsn: str) -> str:
    """Where the server keeps its data (its postmaster.pid names the postmaster): "" when not allowed."""
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SHOW data_directory"))
    except asyncpg.PostgresError:
        return ""
    finally:
        await conn.close()


class WaitSampler:
    """What the database's sessions in a transaction wait on, sampled every 50 ms (with the wall
    clock of each sample, so a run can be cut into phases); with `statements`, also the statements
    that took the most time (pg_stat_statements, when the server preloads it)."""

    def __init__(self, dsn: str, *, statements: bool = False) -> None:
        self._dsn = dsn
        self._statements = statements
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self.sampled_at: list[float] = []  # time.time() of each sample
        self.seen: list[tuple[float, str]] = []  # (time.time(), "wait | query") per session seen
        self.statements_note = ""
        self.statement_lines: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self._checkpoints: asyncpg.Record | None = None

    async def _run(self) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            if self._statements:
                try:
                    await conn.execute(STATEMENTS_EXTENSION)
                    await conn.execute("SELECT pg_stat_statements_reset()")
                except asyncpg.PostgresError as exc:
                    self._statements = False
                    self.statements_note = f"pg_stat_statements: not available ({exc})"
            with contextlib.suppress(asyncpg.PostgresError):
                self._checkpoints = await conn.fetchrow(CHECKPOINTS)
            while True:
                at = time.time()
                for row in await conn.fetch(WAITS):
                    key = f"{row['wait']} | {row['query']}"
                    self.waits[key] += 1
                    self.seen.append((at, key))
                self.samples += 1
                self.sampled_at.append(at)
                await asyncio.sleep(SAMPLE_EVERY_S)
        finally:
            await conn.close()

    def start(self) -> None:
        self.waits.clear()
        self.samples = 0
        self.sampled_at, self.seen, self.statement_lines = [], [], []
        self._started = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> str:
        """Stop sampling; the whole stretch's top waits, checkpoints and (if asked) statements."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        n = max(1, self.samples)
        top = "\n    ".join(f"{v / n:5.1f}  {k}" for k, v in self.waits.most_common(6))
        out = f"postgres sessions in a transaction, mean of {self.samples} samples:\n    {top or 'none'}"
        out += "\n  " + await self._checkpoints_since()
        if self._statements:
            elapsed = time.perf_counter() - self._started
            conn = await asyncpg.connect(self._dsn)
            try:
                rows = await conn.fetch(STATEMENTS)
            finally:
                await conn.close()
            self.statement_lines = [
                f"{r['total_exec_time'] / 1000 / elapsed:5.2f} s/s {r['calls'] / elapsed:7,.0f} calls/s "
                f"{r['total_exec_time'] / max(1, r['calls']):6.2f} ms "
                f"{r['rows'] / max(1, r['calls']):6.1f} rows  {r['query']}"
                for r in rows
            ]
            out += "\n  pg_stat_statements, top by time:\n    " + "\n    ".join(self.statement_lines)
        elif self.statements_note:
            out += "\n  " + self.statements_note
        return out

    def top_between(self, start: float, end: float, n: int = 5) -> tuple[int, list[tuple[float, str]]]:
        """The samples taken in [start, end) (wall clock) and the `n` most frequent waits among them,
        each as the mean number of sessions found in it per sample."""
        samples = sum(start <= at < end for at in self.sampled_at)
        counts = Counter(key for at, key in self.seen if start <= at < end)
        return samples, [(v / max(1, samples), k) for k, v in counts.most_common(n)]

    def by_phase(self, phases: Sequence[tuple[str, float, float]]) -> str:
        """The top waits of each (name, start, end) phase, then the top statements of the run."""
        lines = ["postgres: sessions in a transaction by what they wait on (mean sessions per sample)"]
        for name, start, end in phases:
            samples, top = self.top_between(start, end)
            lines.append(f"  {name:10} {samples} samples" + ("" if top else ": none busy"))
            lines += [f"    {mean:5.2f}  {key}" for mean, key in top]
        if self.statement_lines:
            lines.append("  pg_stat_statements, top by time over the run:")
            lines += [f"    {line}" for line in self.statement_lines]
        elif self.statements_note:
            lines.append(f"  {self.statements_note}")
        return "\n".join(lines)

    async def _checkpoints_since(self) -> str:
        """Checkpoints done during the phase: their writes and fsyncs compete with the commits'."""
        before = self._checkpoints
        if before is None:
            return "checkpoints: not known (no pg_stat_checkpointer)"
        conn = await asyncpg.connect(self._dsn)
        try:
            after = await conn.fetchrow(CHECKPOINTS)
        finally:
            await conn.close()
        assert after is not None, "pg_stat_checkpointer has one row"
        done = after["num_done"] - before["num_done"]
        requested = after["num_requested"] - before["num_requested"]
        write_s = (after["write_time"] - before["write_time"]) / 1000
        sync_s = (after["sync_time"] - before["sync_time"]) / 1000
        return (
            f"checkpoints during the phase: {done} done ({requested} requested by WAL volume), "
            f"writing {write_s:.1f} s, syncing {sync_s:.1f} s"
        )
