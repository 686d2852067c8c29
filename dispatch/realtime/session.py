"""One live websocket session: what every server-pushed socket does the same way.

The four live sockets (tracking watchers, the market feed, the gate board, the driver's socket)
each run inside `live_session(...)`, which owns:
- **Accepting after authorization.** A socket is accepted when its session starts, so the bearer
  middleware, the route's guards and the handler's own checks all run before it: what any of them
  raises refuses the upgrade with the problem-details answer the same failure gets over HTTP
  (`dispatch.errors.refuse_failed_sockets`), and nothing is sent on a socket.
- **Bounded sends** (dispatch/realtime/sending.py): a frame is written to the transport at once
  when the peer keeps up; otherwise the send waits, with a deadline, and `give_up()` (for the
  socket's outbox, when it overflows) ends a blocked send at once. A send past its deadline,
  a send after `give_up()`, or `TooSlow` raised by the socket's own code closes the socket with
  4008 and the socket's reason, behind the frames its peer has not read yet.
- **Keepalive.** With `keepalive_s`, a `{"type":"ping"}` frame after that long without one
  (phones and carrier NATs drop idle connections).
- **Client frames.** Read from the start, so the peer's close is noticed at once, even while the
  session waits for something to send; the wait then ends. No socket takes client frames today:
  they are read and dropped (one that takes some would decode them here, with one reused msgspec
  Decoder of a tagged union).
- **Close codes**: `CloseCode` (dispatch/realtime/close_codes.py). 1013 for the database going
  away while the socket is open is set by `dispatch.errors`, around every socket.

Not owned here: what a socket sends, in what order, its snapshot and resume rules, and its outbox
(the tracking hub's coalescing and gaps, the market feed's queue): each socket's own file.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from dispatch.close_codes import CloseCode
from dispatch.realtime.sending import Sender, close_too_slow

T = TypeVar("T")

PING = b'{"type":"ping"}'


class TooSlow(TimeoutError):
    """Raised by a socket's own code when its peer fell too far behind (its outbox overflowed)."""


class LiveSession:
    """An accepted socket: bounded sends, and waits that ping the peer and end when it closes."""

    def __init__(self, socket: WebSocket[Any, Any, Any], keepalive_s: float | None) -> None:
        self.socket = socket
        self.keepalive_s = keepalive_s
        self.sender = Sender(socket)
        self.send = self.sender.send
        self.give_up = self.sender.give_up
        self._waiting: asyncio.Timeout | None = None
        self._reader: asyncio.Task[None] | None = None

    async def next(self, source: Callable[[], Awaitable[T]]) -> T:
        """What `source()` gives next, pinging the peer after every `keepalive_s` of waiting;
        WebSocketDisconnect once the peer has closed. `source` is cancelled when the wait ends
        early, so it must lose nothing then (a queue's `get` or an event's `wait` does not)."""
        while not self.peer_closed:
            try:
                # One deadline for both ends of a wait: the keepalive, and the peer's close (which
                # moves it to now): no task per wait, on the path of every frame.
                async with asyncio.timeout(self.keepalive_s) as self._waiting:
                    return await source()
            except TimeoutError:
                pass
            finally:
                self._waiting = None
            if not self.peer_closed:
                await self.send(PING)
        raise WebSocketDisconnect(detail="closed by the peer")

    @property
    def peer_closed(self) -> bool:
        return self._reader is not None and self._reader.done()

    async def close(self, code: CloseCode, reason: str) -> None:
        await self.socket.close(code, reason)

    def _start_reading(self) -> None:
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self._reader.add_done_callback(self._end_wait)

    def _end_wait(self, _: object) -> None:
        if self._waiting is not None and not self._waiting.expired():
            self._waiting.reschedule(asyncio.get_running_loop().time())

    async def _read(self) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await self.socket.receive_data(mode="text")

    async def _stop_reading(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await self._reader


@contextlib.asynccontextmanager
async def live_session(
    socket: WebSocket[Any, Any, Any],
    *,
    too_slow_reason: str,
    keepalive_s: float | None = None,
    on_too_slow: Callable[[], None] | None = None,
) -> AsyncIterator[LiveSession]:
    """Accept the socket and run its session; the peer closing ends it quietly, a peer too slow
    ends it with 4008 (`on_too_slow` first, for metrics)."""
    session = LiveSession(socket, keepalive_s)
    await socket.accept()
    session._start_reading()
    try:
        yield session
    except TimeoutError:  # TooSlow, or a send that waited too long or was given up
        if on_too_slow is not None:
            on_too_slow()
        await close_too_slow(socket, too_slow_reason)
    except WebSocketDisconnect:
        pass
    finally:
        await session._stop_reading()
