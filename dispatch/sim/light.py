"""The load generator's light HTTP/1.1 client: every JSON request of `dispatch simulate` and the demo
(through `Api.call`), the phones' positions included, and the tracking benchmark's phones
(phones.py). As light as a load generator should be, so that the CPU it takes from a small
machine's cores goes to the server instead.

Each party (by key: its token) keeps its own HTTP/1.1 connections alive, as a phone's app or a
staff member's console holds one: all of its requests reach the same worker. A request is written
as one byte string and the answer read with httptools' response parser (the C parser uvicorn itself
uses; no client framework, no per-request objects beyond the answer). Every answer is read whole,
with its status and content type, for the caller to check.

One request at a time on a connection; a party with more requests in flight opens more
connections. A connection idle for IDLE_MAX_S is closed rather than reused (far below the
keep-alive timeout of `dispatch serve`, 65 s, so a request never races the server closing an idle
connection). A request unanswered after TIMEOUT_S fails with TimeoutError (aiohttp's total timeout
in the simulator was the same).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import NamedTuple, cast
from urllib.parse import quote, urlsplit

import httptools

IDLE_MAX_S = 20.0
TIMEOUT_S = 60.0
USER_AGENT = "freight-dispatch-sim"


class Answer(NamedTuple):
    status: int
    content_type: str  # the media type, lower case, without parameters ("" when none was sent)
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection: a request written, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.content_type = b""
        self.waiter: asyncio.Future[Answer] | None = None
        self.timer: asyncio.TimerHandle | None = None
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

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 12 and name.lower() == b"content-type":
            self.content_type = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        media_type = self.content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
        answer = Answer(self.parser.get_status_code(), media_type, b"".join(self.body))
        self.body, self.content_type = [], b""
        if not self.parser.should_keep_alive():
            self.close()
        self._settle(answer)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionResetError("the server closed the connection"))

    def _timed_out(self) -> None:
        self._fail(TimeoutError(f"no answer within {TIMEOUT_S:g} s"))
        self.close()

    def _settle(self, answer: Answer) -> None:
        waiter = self._take_waiter()
        if waiter is not None:
            waiter.set_result(answer)

    def _fail(self, exc: BaseException) -> None:
        waiter = self._take_waiter()
        if waiter is not None:
            waiter.set_exception(exc)

    def _take_waiter(self) -> asyncio.Future[Answer] | None:
        """The request's waiter, if it still waits, with its timer stopped: it is answered once."""
        waiter, self.waiter = self.waiter, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        return waiter if waiter is not None and not waiter.done() else None

    def send(self, request: bytes) -> asyncio.Future[Answer]:
        assert self.transport is not None and self.waiter is None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.timer = loop.call_later(TIMEOUT_S, self._timed_out)
        self.transport.write(request)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class LightClient:
    """HTTP/1.1 requests to one server, each party (by key) on its own keep-alive connections."""

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        assert url.hostname is not None and url.port is not None
        self.host, self.port = url.hostname, url.port
        self._host_lines = f"Host: {url.hostname}:{url.port}\r\nUser-Agent: {USER_AGENT}\r\n"
        self._idle: dict[str, list[_Connection]] = {}
        # Each party's request heads up to the Content-Length's value, kept with the headers they
        # were made of: a phone posts the same head every time, only the length and the body change.
        self._heads: dict[tuple[str, str, str], tuple[dict[str, str], bytes]] = {}
        self.connections = 0  # opened so far

    async def request(
        self, key: str, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        """The answer to `method path` with `headers` and `body`, on one of `key`'s connections.
        Raises OSError (or httptools.HttpParserError, TimeoutError) when the connection fails; that
        connection is dropped."""
        idle = self._idle.setdefault(key, [])
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
        try:
            head = self._head(key, method, path, headers)
            answer = await conn.send(b"%b%d\r\n\r\n%b" % (head, len(body), body))
        except BaseException:
            conn.close()
            raise
        conn.idle_since = time.monotonic()
        idle.append(conn)
        return answer

    def _head(self, key: str, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        kept = self._heads.get((key, method, path))
        if kept is not None and kept[0] == headers:
            return kept[1]
        target = path if path.isascii() else quote(path, safe="/?&=%:@!$'()*+,;~")
        lines = "".join([f"{k}: {v}\r\n" for k, v in headers.items()])
        head = f"{method} {target} HTTP/1.1\r\n{self._host_lines}{lines}Content-Length: ".encode("latin-1")
        self._heads[(key, method, path)] = (dict(headers), head)
        return head

    def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
