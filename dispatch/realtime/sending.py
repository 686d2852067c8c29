"""Sending to a websocket whose peer may stop reading: every send has a deadline, and the server
can give up on a socket while a send is blocked.

A send blocks when the peer takes nothing: its kernel buffers and ours are full, and uvicorn waits
for the transport to drain. Without a deadline the handler would wait for as long as the peer lives
(a stuck phone, a frozen tab), while the frames meant for it pile up. Every live socket (tracking
watchers, the market feed, the gate board, the driver's socket) sends through a `Sender`: a send
that waits more than SEND_TIMEOUT_S, or one interrupted by `give_up()` (its outbox overflowed),
raises TimeoutError, and the socket's session (dispatch/realtime/session.py) closes it with
CloseCode.TOO_SLOW. The close frame is queued
behind what the peer has not read yet (dispatch/protocols.py), so a client that reads again gets
its data, then 4008, and reconnects; one that never does is cut off after the close grace.

A send that need not wait is written at once: when the socket is open and its transport below its
high-water mark, the frame goes to the transport from the caller (the server's `send_now`,
dispatch/realtime/shared_text.py), without the ASGI send's chain of wrappers, event and deadline;
otherwise it takes the ordinary, bounded ASGI send, which waits for room. The two never reorder
frames: a socket's sends are awaited one after the other, and an ASGI send returns once its frame
is written to the transport, so the next one, at once or not, goes behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from litestar import WebSocket

from dispatch.close_codes import CloseCode
from dispatch.realtime.shared_text import SharedText, send_now_of

SEND_TIMEOUT_S = 10.0
# The close itself does not wait for the peer (the frame is queued); this only bounds a close
# through a server that would (the in-process test client).
CLOSE_WAIT_S = 2.0


class Sender:
    """The sends of one socket, each bounded; `give_up()` ends the one in progress now."""

    def __init__(self, socket: WebSocket[Any, Any, Any], timeout_s: float = SEND_TIMEOUT_S) -> None:
        self.socket = socket
        self.timeout_s = timeout_s
        self.gave_up = False
        self._deadline: asyncio.Timeout | None = None
        self._send_now = send_now_of(socket)  # None when the server is not ours (the test client)

    async def send(self, data: str | bytes) -> None:
        """Send one frame; TimeoutError when it waited too long or the server gave up on the peer."""
        if self.gave_up:
            raise TimeoutError
        if self._send_now is not None and self._send_now(
            SharedText(data if isinstance(data, bytes) else data.encode())
        ):
            return
        # asyncio.timeout, not wait_for: wait_for runs the send in a new task, a cost paid per frame.
        async with asyncio.timeout(self.timeout_s) as deadline:
            self._deadline = deadline
            try:
                await self.socket.send_data(data)
            finally:
                self._deadline = None

    def give_up(self) -> None:
        """Called when the socket's outbox overflows: a send blocked on the peer ends at once (and
        the next one is refused), so the handler closes the socket now rather than in 10 s."""
        self.gave_up = True
        if self._deadline is not None and not self._deadline.expired():
            self._deadline.reschedule(asyncio.get_running_loop().time())


async def close_too_slow(socket: WebSocket[Any, Any, Any], reason: str) -> None:
    """Close with CloseCode.TOO_SLOW; never raises (the peer may be gone already)."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(socket.close(CloseCode.TOO_SLOW, reason), CLOSE_WAIT_S)
