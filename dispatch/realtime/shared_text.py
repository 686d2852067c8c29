"""One text message sent to many sockets, encoded once.

ASGI has no way to send bytes that are already a websocket frame: Litestar's `send_data` makes a
`websocket.send` event with a `str`, and uvicorn encodes it to UTF-8 and has websockets build the
frame, for every socket. A message fanned out to many watchers pays that each time, behind a task
switch per socket. So the server's websocket protocol (dispatch/protocols.py, ours) puts a
`SendNow` in each socket's scope (`send_now_of`): it writes a `SharedText` to the socket's transport
at once, from the caller, without a task or an ASGI event:
- without an extension, the bytes of the frame itself, the same for every socket (a server's frames
  are not masked), built once per message;
- with permessage-deflate, the UTF-8 once, compressed by each socket's own compressor (each
  connection keeps its own compression context, as the extension requires: that cost stays per
  socket, as in any websocket server).
Every live socket's own sends use it too (`Sender.send`, dispatch/realtime/sending.py: a frame
for one socket is written at once the same way, without the ASGI send's wrappers and deadline).
It refuses (False: send it the ordinary way, which waits) when the socket is not open or its
transport is above its high-water mark (the peer is behind), so that a slow peer is still handled
by the socket's outbox and deadlines (dispatch/realtime/sending.py), never by buffering here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from websockets.frames import Frame, Opcode

SEND_NOW: Final = "dispatch.send_now"  # the scope key


class SharedText:
    """A text message: its UTF-8 `data`, and its unmasked frame without extensions (`wire`), made
    when first asked for."""

    __slots__ = ("_wire", "data")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = Frame(Opcode.TEXT, self.data).serialize(mask=False, extensions=[])
        return self._wire


# Write the message now and say True, or write nothing and say False.
SendNow = Callable[[SharedText], bool]


def send_now_of(socket: Any) -> SendNow | None:
    """The socket's `SendNow`, or None when its server is not ours (then send the ordinary way)."""
    found: SendNow | None = socket.scope.get(SEND_NOW)
    return found
