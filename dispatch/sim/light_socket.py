"""The load generator's light websocket client: the tracking benchmark's watchers (bench/tracking.py).

A watcher only reads: every frame the server sends must be taken and checked, and nothing else is
asked of it. The `websockets` asyncio client gives each message to the reader through its own
machinery (a frame assembler, a queue, a future and a task step per message, the reader's
`async for`), which cost the benchmark's generator about 0.2 ms of CPU per phone post at 5 watchers
a load: more than the phones themselves. Here the protocol is still websockets' own (its Sans-I/O
`ClientProtocol`: the handshake, frame parsing, permessage-deflate, answering pings, the closing
handshake), driven from a plain asyncio Protocol: each message is handed to the caller's callback
from `data_received`, with no task, queue or future per message.

The one thing not left to websockets is cutting the byte stream into frames once the socket is
open without extensions: the common frame (a whole text or binary message, unmasked, as a server
sends it) is taken straight from the bytes received, and every other frame (ping, close, a fragment,
anything a server must not send) is given whole to the protocol, which answers and checks it as
ever. websockets' own parser (a generator per frame, an enum, a Frame object) was about 40% of
this client's CPU per message; the split is a few lines of RFC 6455 section 5.2. (A text message
taken this way is not checked to be UTF-8 here: its reader decodes it, and fails on bad UTF-8.)

Messages before the caller listens (the snapshot a live socket starts with) are kept and returned by
`first()`; `listen(on_message)` then hands every later one to the callback, in order. A message is
the bytes of a text or binary message (fragments joined). `closed` is set with a reason once the
connection has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

OnMessage = Callable[[bytes], None]

# The first byte of a frame that is a whole message: FIN, no RSV bit, opcode text (1) or binary (2).
_WHOLE_MESSAGE = frozenset({0x81, 0x82})


class LightSocket(asyncio.Protocol):
    def __init__(self, url: str, *, deflate: bool, max_size: int | None) -> None:
        extensions = enable_client_permessage_deflate(None) if deflate else None
        self.protocol = ClientProtocol(parse_uri(url), extensions=extensions, max_size=max_size)
        self._max_size = max_size
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.ended: asyncio.Future[None] = loop.create_future()
        self.closed: str | None = None  # why it ended, once it has
        self._on_message: OnMessage | None = None
        self._early: deque[bytes] = deque()  # messages before `listen`
        self._arrived: asyncio.Future[None] | None = None  # `first()` waiting for one
        self._fragments: list[bytes] = []
        self._stream = bytearray()  # bytes not yet cut into frames, once `_splitting`
        self._splitting = False

    # -- what the caller uses ---------------------------------------------------------------------

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    @property
    def extensions(self) -> list[object]:
        return list(self.protocol.extensions)

    async def first(self) -> bytes:
        """The first message not yet taken (before `listen`)."""
        while not self._early:
            if self.closed is not None:
                raise ConnectionError(f"the websocket closed: {self.closed}")
            self._arrived = asyncio.get_running_loop().create_future()
            await self._arrived
        return self._early.popleft()

    def listen(self, on_message: OnMessage) -> None:
        """Every message from now on (those already arrived first) to `on_message`, in order."""
        self._on_message = on_message
        while self._early:
            on_message(self._early.popleft())

    async def close(self, timeout_s: float = 10.0) -> None:
        """The closing handshake (1000), then the connection closed."""
        if self.closed is None and self.transport is not None:
            self.protocol.send_close(1000)
            self._flush()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.ended), timeout_s)
        if self.transport is not None:
            self.transport.close()

    # -- asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        if not self._splitting:
            # Until the handshake is done, and with an extension (deflate), the protocol reads all.
            # Its reader must be at a frame boundary when the split takes over: from then on it only
            # ever gets whole frames, so it stays at one.
            self._splitting = (
                self.opened.done()
                and not self.protocol.extensions
                and self.protocol.state is State.OPEN
                and not self.protocol.reader.buffer
            )
        if not self._splitting:
            self.protocol.receive_data(data)
            self._events()
            return
        self._stream += data
        self._split()

    def eof_received(self) -> bool | None:
        self.protocol.receive_eof()
        self._events()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.protocol.receive_eof()  # idempotent: the protocol's state is CLOSED from here
        self._ended(self._reason(exc))

    # -- inside -------------------------------------------------------------------------------------

    def _events(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.protocol.handshake_exc is not None:
                    if not self.opened.done():
                        self.opened.set_exception(self.protocol.handshake_exc)
                elif not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(event, Frame):
                self._frame(event)
        self._flush()  # pongs, the close frame's answer
        if self.protocol.close_expected() and self.transport is not None:
            # The server closes the TCP connection after the closing handshake; a client that is
            # left waiting closes it itself (websockets' asyncio client does the same, later).
            self.transport.close()

    def _split(self) -> None:
        """Every whole frame in `_stream`: a whole unmasked text or binary message is taken here,
        any other frame goes whole to the protocol (RFC 6455 5.2: FIN, RSV1-3, opcode; MASK, a
        7-bit length, or 126 and 16 bits, or 127 and 64 bits; the masking key; the payload)."""
        stream, at, end = self._stream, 0, len(self._stream)
        while end - at >= 2:
            first, second = stream[at], stream[at + 1]
            size, head = second & 0x7F, 2
            if size == 126:
                if end - at < 4:
                    break
                size, head = int.from_bytes(stream[at + 2 : at + 4], "big"), 4
            elif size == 127:
                if end - at < 10:
                    break
                size, head = int.from_bytes(stream[at + 2 : at + 10], "big"), 10
            if second & 0x80:
                head += 4  # masked: a server must not, and the protocol says so
            if self._max_size is not None and size > self._max_size:
                # Too big: the protocol refuses it from its header; it reads everything from here on.
                self._splitting = False
                self.protocol.receive_data(bytes(stream[at:]))
                at = end
                self._events()
                break
            if end - at < head + size:
                break
            if first in _WHOLE_MESSAGE and not second & 0x80 and not self._fragments:
                self._message(bytes(stream[at + head : at + head + size]))
            else:
                self.protocol.receive_data(bytes(stream[at : at + head + size]))
                self._events()
            at += head + size
        del stream[:at]

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            self._fragments.append(bytes(frame.data))
            if not frame.fin:
                return
            message = self._fragments[0] if len(self._fragments) == 1 else b"".join(self._fragments)
            self._fragments = []
            self._message(message)

    def _message(self, message: bytes) -> None:
        if self._on_message is not None:
            self._on_message(message)
            return
        self._early.append(message)
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(None)

    def _flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def _reason(self, exc: Exception | None) -> str:
        received = self.protocol.close_rcvd
        if received is not None:
            return f"{received.code} {received.reason}"
        return f"{type(exc).__name__}: {exc}" if exc is not None else "no close frame"

    def _ended(self, reason: str) -> None:
        if self.closed is None:
            self.closed = reason
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"the websocket closed: {reason}"))
        for future in (self.ended, self._arrived):  # `first()` then sees `closed`
            if future is not None and not future.done():
                future.set_result(None)


async def open_socket(
    url: str, *, deflate: bool = False, max_size: int | None = 1 << 24, timeout_s: float = 60.0
) -> LightSocket:
    """A socket to `url` (ws://host:port/path?query), its handshake done. Raises
    websockets.exceptions.InvalidHandshake (InvalidStatus for a refusal), ConnectionError (closed
    during the handshake), OSError or TimeoutError."""
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    _, socket = await asyncio.wait_for(
        loop.create_connection(
            lambda: LightSocket(url, deflate=deflate, max_size=max_size), uri.host, uri.port
        ),
        timeout_s,
    )
    try:
        await asyncio.wait_for(socket.opened, timeout_s)
    except BaseException:
        if socket.transport is not None:
            socket.transport.close()
        raise
    return socket
