"""Which failures mean "the database is away" (503, no traceback) and which are bugs (500)."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest

from dispatch.db.availability import is_database_away


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _connect_error(dsn: str) -> BaseException:
    try:
        await asyncpg.connect(dsn, timeout=5)
    except BaseException as exc:  # the error itself is what we examine
        return exc
    raise AssertionError("connected to nothing")


def test_connecting_to_a_stopped_server_is_the_database_away(tmp_path):
    refused = asyncio.run(_connect_error(f"postgresql://x@127.0.0.1:{_closed_port()}/x"))
    no_socket = asyncio.run(_connect_error(f"postgresql://x@/x?host={tmp_path}"))
    assert isinstance(refused, ConnectionRefusedError) and is_database_away(refused)
    assert isinstance(no_socket, FileNotFoundError) and is_database_away(no_socket)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
        asyncpg.InternalClientError("PoolConnectionHolder.release() called on a free connection holder"),
    ],
)
def test_the_server_saying_it_is_going_or_gone_is_the_database_away(exc):
    assert is_database_away(exc)


def test_what_it_was_raised_from_counts():
    try:
        try:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        except asyncpg.PostgresError as inner:
            raise RuntimeError("could not store the batch") from inner
    except RuntimeError as outer:
        assert is_database_away(outer)
    assert is_database_away(ExceptionGroup("group", [ValueError(), asyncpg.AdminShutdownError("x")]))


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.InterfaceError(
            "cannot call Connection.fetch(): connection has been released back to the pool"
        ),
        asyncpg.InternalClientError("something else went wrong"),
        FileNotFoundError(2, "No such file or directory", "/state/photos/ab/cd"),  # a file, not a socket
        ConnectionRefusedError(111, "Connection refused"),  # not raised by asyncpg: some other service
        TimeoutError(),  # one of ours (a websocket send), not asyncpg's
    ],
)
def test_bugs_and_other_failures_are_not(exc):
    assert not is_database_away(exc)
