"""uvicorn's HTTP and websocket protocols, with the deadlines that slow or stuck clients need.

`dispatch serve` hands these to uvicorn (`http=` and `ws=` in dispatch/cli.py, as partials that
carry the settings: uvicorn calls them as it would its own classes, in every worker).

HTTP (uvicorn's httptools protocol; uvicorn has only the keep-alive timeout, which runs between
requests and is cancelled by the first byte of the next one: a client that sends half its headers,
or nothing at all after connecting, was held for as long as it liked):
- the request head (request line and headers) must be complete within `header_timeout` seconds of
  the connection opening (first request) or of its first byte (later ones); else the connection is
  closed, with a 408 if a request had begun;
- a request body may pause at most `body_timeout` seconds between two pieces (a slow upload is
  fine, a stalled one is not); else the connection is closed and the handler sees a disconnect.
  Time when the server itself paused reading (the handler not reading yet) does not count.

Websocket (uvicorn's websockets-sansio protocol):
- the kernel's send buffer is fixed at SEND_BUFFER_BYTES instead of auto-tuned (Linux grows it to
  4 MB): a peer that stops reading fills it after ~200 KB with the transport's own buffer, so the
  handler's send deadline and outbox notice within seconds, not after minutes of frames (until
  then uvicorn's ping timeout came first, with 1011), and a stuck socket holds little memory;
- a close from the handler is written at once, behind the frames the peer has not read yet,
  instead of waiting for room in the transport (which never comes when the peer stopped reading:
  the handler's close used to wait for ever);
- a connection the server has closed (by the handler, at the end of the handler, or by uvicorn's
  ping timeout) is aborted when the peer has read nothing of what is still buffered for
  `close_grace` seconds: a slow reader still gets its frames and the close, a stuck one is cut;
- a message fanned out to many sockets is written by the caller itself, encoded once
  (`send_now`, in each socket's scope: dispatch/realtime/shared_text.py says why and when).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from asyncio import TimerHandle
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.exceptions import InvalidState
from websockets.http11 import Request
from websockets.protocol import State

from dispatch.realtime.shared_text import SEND_NOW, SharedText

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"The request head took too long.\r\n"
)
# Doubled by Linux for its bookkeeping. Ample for live frames: 128 KB per 100 ms of round trip.
SEND_BUFFER_BYTES = 64 * 1024


class HttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_timeout: float,
        body_timeout: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self._head_timer: TimerHandle | None = None
        self._body_timer: TimerHandle | None = None
        self._in_head = False

    # -- the head ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._head_timer is None:  # a later request on a kept-alive connection
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_timers()
        super().on_headers_complete()
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # we stopped reading (pipelined requests wait): not the client's fault
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)
            return
        if self._in_head and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()

    # -- the body ---------------------------------------------------------------------------

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the handler has not read what came: the wait is ours
            self._body_timer = self.loop.call_later(self.body_timeout, self._body_timed_out)
            return
        self.transport.close()

    # -- the end ----------------------------------------------------------------------------

    def handle_websocket_upgrade(self) -> None:
        self._cancel_timers()  # the transport now belongs to the websocket protocol
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        close_grace: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.close_grace = close_grace
        self._buffered = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # none when the upgrade was refused
        if scope is not None:
            scope[SEND_NOW] = self.send_now

    def send_now(self, message: SharedText) -> bool:
        """Write a text message now, from the caller (no task, no ASGI event): the shared frame's
        bytes, or with permessage-deflate the shared UTF-8 through this socket's compressor.
        False, and nothing written, unless the socket is open and its transport below its
        high-water mark: the caller then sends the ordinary way, which waits for room."""
        if not (self._open() and self.writable.is_set() and self.conn.state is State.OPEN):
            return False
        if self.conn.extensions:
            self.conn.send_text(message.data)
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:  # uvicorn flushes the connection's writes after every event: nothing is pending
            self.transport.write(message.wire)
        return True

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and self._open():
            self._close_now(message.get("code", 1000), message.get("reason") or "")
            return
        await super().send(message)

    def _open(self) -> bool:
        return (
            self.handshake_complete
            and self.initial_response is None
            and not self.close_sent
            and not self.disconnected
            and not self.transport.is_closing()
        )

    def _close_now(self, code: int, reason: str) -> None:
        """uvicorn's close (websockets_sansio_impl.send), without waiting for the transport to
        drain first, and with our grace instead of its plain close at the end of the timeout."""
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        try:
            self.conn.send_close(code, reason)
        except InvalidState:
            raise ClientDisconnected() from None
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        if self.read_paused:  # read on, to see the peer's answer to the close
            self.read_paused = False
            self.transport.resume_reading()
        self._give_up_later()

    async def run_asgi(self) -> None:
        await super().run_asgi()
        self._give_up_later()

    def keepalive_timeout(self) -> None:
        super().keepalive_timeout()
        self._give_up_later()

    def shutdown(self) -> None:
        super().shutdown()
        self._give_up_later()

    def _give_up_later(self) -> None:
        if self.disconnected or self.close_timer is not None:
            return
        self._buffered = self.transport.get_write_buffer_size()
        self.close_timer = self.loop.call_later(self.close_grace, self._give_up)

    def _give_up(self) -> None:
        """The grace is over: close if everything was handed to the kernel, wait on while the peer
        reads, abort when it read nothing (the buffered frames go with the connection)."""
        self.close_timer = None
        if self.disconnected:
            return
        buffered = self.transport.get_write_buffer_size()
        if buffered == 0:
            self.transport.close()
        elif buffered < self._buffered:
            self._give_up_later()
        else:
            self.transport.abort()
