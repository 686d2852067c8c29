"""The driver's socket writes a frame at once while the phone keeps up, and takes the bounded ASGI
send when its buffers are full (dispatch/realtime/sending.py): a phone that pauses reading gets
every frame, in order, whichever way each went; one that stops reading for good is closed with
4008 behind the frames it had not read."""

from __future__ import annotations

import asyncio
import json
import socket
import string
from typing import Any

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from dispatch.realtime.sending import SEND_TIMEOUT_S
from tests.gate_support import dispatched_loads
from tests.integration.test_slow_watchers import RawWatcher

pytestmark = pytest.mark.server
TOO_SLOW = 4008
# More than the server's buffers hold for a phone that reads nothing (its fixed kernel send buffer,
# 128 KiB, the transport's 64 KiB and the phone's 4 KiB): some frames had to wait for room.
BUFFERS_HOLD = 200 * 1024
MESSAGES = 150  # each one a `message` and an `inbox` frame, ~1.8 KB together
TEXT = 480


class RawPhone(RawWatcher):
    """The driver's socket on a plain socket with a 4 KiB receive buffer, read only when the test
    says so (no permessage-deflate: the frames' bytes are what fills the buffers)."""

    def __init__(self, url: str, port: int, headers: dict[str, str]) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        request = self.protocol.connect()
        for name, value in headers.items():
            request.headers[name] = value
        self.protocol.send_request(request)
        self.frames: list[dict[str, Any]] = []
        self.close = None
        self.response = None


def _text(i: int) -> str:
    filler = (string.ascii_letters * 20)[: TEXT - 6]
    return f"{i:05d} {filler}"


async def _post_messages(http: httpx.AsyncClient, load: dict[str, Any], carrier: Any, numbers: range) -> None:
    for i in numbers:
        r = await http.post(f"/loads/{load['id']}/messages", headers=carrier.headers, json={"text": _text(i)})
        assert r.status_code == 202, r.text


def _messages_in_order(frames: list[dict[str, Any]]) -> list[int]:
    """The numbers of the dispatcher's messages as the phone got them, each `message` frame followed
    by its `inbox` frame (the same text)."""
    shown = [f for f in frames if f["type"] in ("message", "inbox")]
    numbers = []
    for message, inbox in zip(shown[::2], shown[1::2], strict=False):
        assert message["type"] == "message" and inbox["type"] == "inbox", (message, inbox)
        assert inbox["message"]["text"] == message["text"]
        numbers.append(int(message["text"][:5]))
    return numbers


async def test_a_phone_that_pauses_gets_every_frame_in_order_and_one_that_stops_gets_4008(
    server_factory, settings
):
    # A long close grace: the phone reads what was left for it after the close.
    server = server_factory(ws_close_grace_seconds=120)
    port = int(server.base_url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        load, carrier = w["loads"][0], w["carrier"]
        phone = RawPhone(f"{server.ws_url}/driver/v1/live", port, load["device"])
        while phone.response is None or [f["type"] for f in phone.frames] != ["assignments", "tickets"]:
            assert await phone.read(4096)
        assert phone.response.status_code == 101
        phone.frames.clear()

        # It pauses while the dispatcher writes more than the buffers hold, then reads again.
        await _post_messages(http, load, carrier, range(MESSAGES))
        async with asyncio.timeout(60):
            while len(_messages_in_order(phone.frames)) < MESSAGES:
                assert await phone.read(65536), phone.close
        assert sum(len(json.dumps(f)) for f in phone.frames) > BUFFERS_HOLD
        assert _messages_in_order(phone.frames) == list(range(MESSAGES))
        assert phone.close is None

        # Now it stops for good: a send waits SEND_TIMEOUT_S, and the socket is closed behind the
        # frames the phone had not read.
        phone.frames.clear()
        await _post_messages(http, load, carrier, range(MESSAGES, 2 * MESSAGES))
        await asyncio.sleep(SEND_TIMEOUT_S + 3)
        async with asyncio.timeout(60):
            while await phone.read(65536):
                pass
        assert phone.close is not None, "the server never closed the phone's socket"
        assert phone.close.code == TOO_SLOW and "too slow" in phone.close.reason
        got = _messages_in_order(phone.frames)
        assert got == list(range(MESSAGES, MESSAGES + len(got)))  # in order, none skipped
        assert 0 < len(got) < MESSAGES
