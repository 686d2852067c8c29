"""Is the database there? Telling "the database is away" from a bug, and one log line per outage.

While PostgreSQL is stopped, restarting or unreachable, every request that touches it fails. Those
failures are not bugs: the API answers them 503 `database_unavailable` with `Retry-After`
(dispatch/errors.py), without a traceback, and this process's `Availability` (held by the
`Runtime`) writes one line when the outage starts and one when the database answers again, with
how long it was away and how many calls failed meanwhile. An outage is confirmed by a probe first:
a lone failure the database contradicts at once (a request whose connection the last outage cut,
noticed late) is not logged.

Recovery needs nothing from here: the pool opens new connections on the next request. The probe
only notices the moment it happens (every PROBE_INTERVAL_S), for the log line, `/healthz`, and the
work that had to wait for the database (`after_recovery`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import errno
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import asyncpg

log = logging.getLogger(__name__)

# What a client is told to wait before retrying: PostgreSQL restarts take about a second.
RETRY_AFTER_S = 1
PROBE_INTERVAL_S = 0.1
PROBE_TIMEOUT_S = 2.0

# Errors from the server about itself, not about the statement: shutting down, starting up, crashed,
# the session lost, or no connection slot free.
_SERVER_AWAY = (
    asyncpg.PostgresConnectionError,  # class 08, includes ConnectionDoesNotExistError
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: our session was terminated by a shutdown
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.TooManyConnectionsError,  # 53300
)
# connect() to a stopped server: refused (TCP) or no socket file (unix socket); a dropped session.
_SOCKET_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ENOENT,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
}


# asyncpg's protocol is "consuming an error" (state 2) when the server sent one on an idle
# connection, which it does only to end the session (a shutdown, a terminated backend); a query on
# that connection then fails with this, before the connection is seen closed.
_TERMINATED_WHILE_IDLE = re.compile(r"cannot switch to state \d+; another operation \(2\) is in progress")
# A pooled connection the server closed while the app held it (idle, e.g. while a group commit ran
# on another connection): asyncpg hands the holder back to the pool as it closes, so releasing it at
# the end of `async with pool.acquire()` finds the holder free.
_CLOSED_WHILE_HELD = re.compile(r"release\(\) called on a free connection holder")


def is_database_away(exc: BaseException) -> bool:
    """True when `exc` (or what it was raised from) says the database cannot be reached."""
    seen: BaseException | None = exc
    for _ in range(8):  # a short chain of `raise ... from`: a loop is not possible, but be safe
        if seen is None:
            return False
        if _away(seen):
            return True
        if isinstance(seen, BaseExceptionGroup) and any(is_database_away(e) for e in seen.exceptions):
            return True
        seen = seen.__cause__
    return False


def _away(exc: BaseException) -> bool:
    if isinstance(exc, _SERVER_AWAY):
        return True
    if isinstance(exc, asyncpg.InterfaceError):
        # "connection is closed" (a pooled connection the server dropped); other interface errors
        # are misuse, i.e. bugs.
        return "connection is closed" in str(exc) or "connection was closed" in str(exc)
    if isinstance(exc, asyncpg.InternalClientError):
        return bool(_TERMINATED_WHILE_IDLE.search(str(exc)) or _CLOSED_WHILE_HELD.search(str(exc)))
    if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
        # A file operation names its file; a socket connect does not.
        return exc.errno in _SOCKET_ERRNOS and exc.filename is None and _raised_in_asyncpg(exc)
    if isinstance(exc, TimeoutError):
        # asyncpg's connect timeout (or a pool acquire with a timeout); other timeouts are ours.
        return _raised_in_asyncpg(exc)
    return False


def _raised_in_asyncpg(exc: BaseException) -> bool:
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


class _PoolRetries(logging.Filter):
    """asyncpg's pool logs each failed try to refill its minimum, with a traceback, every second
    or more: with the database away that is the outage again, which is logged once already."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return exc is None or not is_database_away(exc)


def _quiet_pool_retries() -> None:
    pool_log = logging.getLogger("asyncpg.pool")
    if not any(isinstance(f, _PoolRetries) for f in pool_log.filters):
        pool_log.addFilter(_PoolRetries())


class Availability:
    """One process's view of the database: up, or away since when; logs each outage once."""

    def __init__(self) -> None:
        self._probe: Callable[[], Awaitable[object]] | None = None
        self._down_since: float | None = None  # wall clock, for /healthz
        self._down_at: float = 0.0  # monotonic, for the duration
        self._turned_away = 0
        self._first_error = ""
        self._watching: asyncio.Task[None] | None = None
        self._after_recovery: list[Callable[[], Awaitable[object]]] = []

    def start(self, probe: Callable[[], Awaitable[object]]) -> None:
        """`probe` is a cheap query (`SELECT 1` on the pool) that succeeds once the database is back."""
        self._probe = probe
        _quiet_pool_retries()

    async def stop(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching

    @property
    def down_since(self) -> float | None:
        """Unix time the current outage was noticed, or None while the database answers."""
        return self._down_since

    def noticed(self, exc: BaseException) -> None:
        """A request (or loop) failed because the database is away: count it; check for an outage."""
        self._turned_away += 1
        if self._down_since is not None:
            return
        self._down_since = time.time()
        self._down_at = time.monotonic()
        self._first_error = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
        if self._probe is None:  # not started (no pool yet): nothing to watch with
            self._log_outage()
        elif self._watching is None:
            # In a context of its own: not the request's (its request id) that noticed the outage.
            self._watching = asyncio.get_running_loop().create_task(
                self._wait_until_back(self._probe), context=contextvars.Context()
            )

    def after_recovery(self, action: Callable[[], Awaitable[object]]) -> None:
        """Run `action` once the database answers again (bookkeeping that failed with it away)."""
        self._after_recovery.append(action)

    def _log_outage(self) -> None:
        log.error(
            "database unavailable (%s); answering 503 database_unavailable until it is back [pid %d]",
            self._first_error,
            os.getpid(),
        )

    async def _wait_until_back(self, probe: Callable[[], Awaitable[object]]) -> None:
        try:
            while self._down_since is not None:
                # A failure the first probe contradicts is no outage: a request that had its
                # connection cut by the last one, seen only after it ended. No lines for that.
                outage = not await _answers(probe)
                if outage:
                    self._log_outage()
                    await _until_it_answers(probe)
                    log.warning(
                        "database available again after %.1f s (%d calls failed meanwhile) [pid %d]",
                        time.monotonic() - self._down_at,
                        self._turned_away,
                        os.getpid(),
                    )
                self._down_since = None
                self._turned_away = 0
                await self._run_deferred()  # may find it away again: then the loop goes on
        finally:
            self._watching = None

    async def _run_deferred(self) -> None:
        pending, self._after_recovery = self._after_recovery, []
        for action in pending:
            try:
                await action()
            except Exception as exc:
                if not is_database_away(exc):
                    log.exception("work deferred until the database was back failed")
                    continue
                self._after_recovery.append(action)
                self.noticed(exc)


async def _answers(probe: Callable[[], Awaitable[object]]) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await probe()
    except Exception:  # anything but an answer means: not back yet
        return False
    return True


async def _until_it_answers(probe: Callable[[], Awaitable[object]]) -> None:
    while True:
        await asyncio.sleep(PROBE_INTERVAL_S)
        if await _answers(probe):
            return
