"""A tracking watcher whose socket truly stops reading (its kernel buffers full, not just a slow
application read) is closed with 4008 behind the frames it had not read, resumes with its cursor,
and never holds up the others (dispatch/tracking/README.md, "Slow watchers")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from tests.integration.test_tracking_live import collect_points, seqs
from tests.tracking_support import loads_in_transit, point

pytestmark = pytest.mark.server
TOO_SLOW = 4008
BATCH = 100


def _crawl(n: int, start: datetime) -> list[dict[str, Any]]:
    """n fixes a second apart, 20 m apart, heading west from near Berlin."""
    return [point(13.3 - 0.0003 * i, 52.52, start + timedelta(seconds=i)) for i in range(n)]


class RawWatcher:
    """A websocket client on a plain socket with a 4 KiB receive buffer, read only when the test
    says so: websockets' sans-I/O protocol does the handshake and the framing, nothing reads behind
    the test's back."""

    def __init__(self, url: str, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.protocol.send_request(self.protocol.connect())
        self.frames: list[dict[str, Any]] = []
        self.close: Close | None = None
        self.response: Response | None = None

    async def read(self, size: int) -> bool:
        """Read up to `size` bytes; False once the connection is over."""
        loop = asyncio.get_running_loop()
        if pending := b"".join(self.protocol.data_to_send()):  # the handshake, pongs, the close reply
            with contextlib.suppress(OSError):
                await loop.sock_sendall(self.sock, pending)
        try:
            data = await loop.sock_recv(self.sock, size)
        except ConnectionResetError:
            data = b""
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                self.response = event
            elif isinstance(event, Frame) and event.opcode == Opcode.TEXT:
                self.frames.append(json.loads(event.data))
            elif isinstance(event, Frame) and event.opcode == Opcode.CLOSE:
                self.close = Close.parse(event.data)
        return bool(data) and self.close is None


async def test_a_watcher_whose_buffers_are_full_is_closed_with_4008_and_resumes(server_factory, settings, db):
    # A long close grace: the test reads the slow socket only after the phone is done.
    server = server_factory(watcher_queue=4, ws_close_grace_seconds=120)
    port = int(server.base_url.rsplit(":", 1)[1])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        await db.execute("UPDATE load_tracking SET departed_at = now() - interval '1 day'")
        most = 40_000
        fixes = _crawl(most, datetime.now(UTC) - timedelta(seconds=most + 60))
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={w['receiver'].token}"
        slow = RawWatcher(url, port)
        while slow.response is None or not slow.frames:  # the handshake and the snapshot
            assert await slow.read(4096)
        assert slow.response.status_code == 101 and slow.frames[0]["type"] == "snapshot"
        slow.frames.clear()

        async with connect(url) as fast:
            assert json.loads(await fast.recv())["type"] == "snapshot"
            stop = asyncio.Event()
            posted = 0

            async def phone() -> None:
                nonlocal posted
                while posted < most and not stop.is_set():
                    batch = fixes[posted : posted + BATCH]
                    r = await http.post(
                        "/driver/v1/positions", headers=load["device"], json={"points": batch}
                    )
                    assert r.status_code == 200 and r.json()["accepted"] == BATCH, r.text
                    posted += BATCH

            fast_frames: list[dict[str, Any]] = []

            arrived = asyncio.Event()

            async def fast_reader() -> None:  # reads all the time: it keeps up
                while True:
                    fast_frames.append(json.loads(await fast.recv()))
                    arrived.set()

            async def fast_has(count: int) -> None:
                async with asyncio.timeout(120):
                    while len(seqs(fast_frames)) < count:
                        arrived.clear()
                        await arrived.wait()

            reading = asyncio.create_task(fast_reader())
            posting = asyncio.create_task(phone())
            # About 200 KB fill the slow socket's buffers (its 4 KiB, the server's fixed send buffer
            # and transport buffer): by 4,000 points (~600 KB to each watcher) its sends are blocked.
            await fast_has(4_000)
            # Frames keep coming while it takes none: its outbox overflows, stalled, and the
            # server gives up on it (or its blocked send reaches its deadline).
            await asyncio.sleep(2)
            await fast_has(5_000)
            stop.set()
            await posting
            # Now it reads again: what its buffers held, then the close.
            async with asyncio.timeout(60):
                while await slow.read(65536):
                    pass
            assert slow.close is not None, "the server never closed the slow socket"
            assert slow.close.code == TOO_SLOW and "too slow" in slow.close.reason  # not 1011 (ping timeout)

            # The fast one got every point once, in order, the slow one notwithstanding.
            await fast_has(posted)
            reading.cancel()
            assert seqs(fast_frames) == list(range(1, posted + 1))

        # What the slow one got is in order, each break announced by a gap frame.
        seen = 0
        for frame in slow.frames:
            if frame["type"] == "gap":
                assert frame["after_seq"] == seen and frame["before_seq"] > seen + 1
                seen = frame["before_seq"] - 1
            elif frame["type"] == "points":
                assert [p["seq"] for p in frame["points"]] == list(
                    range(seen + 1, seen + 1 + len(frame["points"]))
                )
                seen = frame["points"][-1]["seq"]
        assert 0 < seen < posted

        # Reconnecting with its cursor, it gets exactly what it missed, in order.
        async with connect(f"{url}&after={load['id']}:{seen}") as resumed:
            snapshot = json.loads(await resumed.recv())
            assert snapshot["type"] == "snapshot" and snapshot["resumed"] is True
            rest = await collect_points(resumed, posted - seen, within_s=120)
            assert seqs(rest) == list(range(seen + 1, posted + 1))
        slow.sock.close()
