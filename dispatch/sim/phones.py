"""The phones' HTTP client, in `dispatch simulate` (through `Api.post_positions`) and in the tracking
benchmark (bench/tracking.py): as light as a load generator should be, so that the CPU it takes from
a small machine's cores goes to the server instead.

Each phone keeps its own HTTP/1.1 connections alive (a phone's app holds one keep-alive connection,
so all its posts reach the same worker), writes each request as one pre-encoded byte string (only
the Content-Length and the body change from post to post) and reads the answer with httptools'
response parser (the C parser uvicorn itself uses; no client framework, no per-request objects).
Every answer is still read whole: the caller checks its status and the accepted count in its body.

One request at a time on a connection; a phone with more posts in flight opens more connections.
A connection idle for IDLE_MAX_S is closed rather than reused (far below the keep-alive timeout of
`dispatch serve`, 65 s, so a post never races the server closing an idle connection).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import cast
from urllib.parse import urlsplit

import httptools

PATH = b"/driver/v1/positions"
IDLE_MAX_S = 20.0


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request written, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        answer = (self.parser.get_status_code(), b"".join(self.body))
        self.body = []
        if not self.parser.should_keep_alive():
            self.close()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    def _fail(self, exc: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None and self.waiter is None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Phones:
    """`POST /driver/v1/positions` for each phone (by key) with its own headers, on its own
    connections."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        assert url.hostname is not None and url.port is not None
        self.host, self.port = url.hostname, url.port
        self._host_line = f"Host: {url.hostname}:{url.port}\r\n".encode()
        self._heads: dict[str, bytes] = {}
        self._idle: dict[str, list[_Connection]] = {}
        self.connections = 0  # opened so far

    def _head(self, phone: str, headers: Mapping[str, str]) -> bytes:
        head = self._heads.get(phone)
        if head is None:
            lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            head = b"POST " + PATH + b" HTTP/1.1\r\n" + self._host_line + lines.encode() + b"Content-Length: "
            self._heads[phone] = head
        return head

    async def post(self, phone: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """The answer's status and body. Raises OSError (or httptools.HttpParserError) when the
        connection fails; that connection is dropped."""
        idle = self._idle.setdefault(phone, [])
        conn = None
        now = time.monotonic()
        while idle:
            candidate = idle.pop()
            if not candidate.closed and now - candidate.idle_since < IDLE_MAX_S:
                conn = candidate
                break
            candidate.close()
        if conn is None:
            _, conn = await asyncio.get_running_loop().create_connection(_Connection, self.host, self.port)
            self.connections += 1
        request = b"%b%d\r\n\r\n%b" % (self._head(phone, headers), len(body), body)
        try:
            answer = await conn.send(request)
        except BaseException:
            conn.close()
            raise
        conn.idle_since = time.monotonic()
        idle.append(conn)
        return answer

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
