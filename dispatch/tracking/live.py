"""The watchers' socket: a snapshot, then every stored point once and in order, until receipt.

Order of work, which is what makes "exactly once" hold:
1. authorize (before accepting: a refusal is an HTTP problem-details answer and nothing is sent);
2. register with the hub, so live frames are queued from now on;
3. read the snapshot in one repeatable-read transaction: each load's `last_seq` in it is the cursor
   from which live frames continue (frames at or below it are skipped, as already in the trail);
4. with `after=` cursors, send exactly the stored points after each cursor, from the database;
5. forward live frames, skipping what was sent; a break in a load's seq (frames dropped by
   coalescing a slow socket) is reported as a `gap` frame before the points that follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket
from litestar.exceptions import WebSocketDisconnect

from dispatch.deps import ReceiptSummaries
from dispatch.errors import BadRequest, Problem, refuse_upgrade
from dispatch.realtime.sending import SEND_TIMEOUT_S, Sender, close_too_slow
from dispatch.runtime import Runtime
from dispatch.tracking import service
from dispatch.tracking.access import Access
from dispatch.tracking.hub import Frame, Watcher
from dispatch.tracking.models import MAX_SEQ, PointOut, Snapshot
from dispatch.tracking.notifications import PointsFrame

log = logging.getLogger(__name__)

KEEPALIVE_S = 25.0
CATCH_UP_PAGE = 500
TOO_SLOW_REASON = (
    f"too slow: reconnect with your cursor (outbox full, or a send waited {SEND_TIMEOUT_S:.0f} s)"
)

_encode = msgspec.json.Encoder().encode
_decode_points = msgspec.json.Decoder(PointsFrame).decode


def parse_after(raw: str | None) -> dict[UUID, int]:
    """`<load_id>:<seq>,<load_id>:<seq>` as given back by a reconnecting watcher."""
    if not raw:
        return {}
    cursors: dict[UUID, int] = {}
    try:
        for part in raw.split(",")[:1000]:
            load, _, seq = part.partition(":")
            cursors[UUID(load)] = int(seq)
    except ValueError:
        raise BadRequest(
            "after must be <load_id>:<seq> pairs separated by commas, as last seen per load.",
            code="bad_cursor",
        ) from None
    if any(not 0 <= s <= MAX_SEQ for s in cursors.values()):
        raise BadRequest(f"A cursor's seq is from 0 to {MAX_SEQ}.", code="bad_cursor")
    return cursors


async def reject(socket: WebSocket[Any, Any, Any], problem: Problem) -> None:
    """Refuse the upgrade with an HTTP problem-details answer (nothing is sent on a socket)."""
    await socket.receive()  # the client's connect
    await refuse_upgrade(socket.send, problem)


class _Session:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        runtime: Runtime,
        receipts: ReceiptSummaries,
        access: Access,
        watcher: Watcher,
    ) -> None:
        self.socket = socket
        self.runtime = runtime
        self.receipts = receipts
        self.access = access
        self.watcher = watcher
        self.sent: dict[UUID, int] = {}
        self.received: set[UUID] = set()
        self.sender = Sender(socket)
        # The hub gives up on a watcher whose outbox overflows while it is stalled: a send blocked
        # on the peer (its buffers full) ends then, not when its own deadline comes.
        watcher.on_kick = self.sender.give_up

    async def send(self, data: str | bytes) -> None:
        await self.sender.send(data)

    async def snapshot(self, after: dict[UUID, int]) -> None:
        db = self.runtime.db
        async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await service.watched_loads(conn, self.access)
            job = await service.job_view(conn, self.access.job_id)
            done = await self.receipts(conn, [r["id"] for r in rows])
            tracks = [
                await service.load_track(conn, r, with_trail=r["id"] not in after, receipt=done.get(r["id"]))
                for r in rows
            ]
        heads = {t.load_id: t.last_seq for t in tracks}
        self.sent = {load_id: min(after.get(load_id, head), head) for load_id, head in heads.items()}
        self.received = set(done)
        await self.send(_encode(Snapshot(job=job, loads=tracks, resumed=bool(after))))
        for load_id in after.keys() & heads.keys():
            await self.catch_up(load_id, upto=heads[load_id])

    async def catch_up(self, load_id: UUID, upto: int | None = None) -> None:
        """Send the stored points after what this socket has sent (to `upto`, or all there are)."""
        while True:
            points = await service.points_after(self.runtime.db, load_id, self.sent[load_id], CATCH_UP_PAGE)
            if upto is not None:
                points = [p for p in points if p.seq <= upto]
            if not points:
                return
            await self._send_points(load_id, points, None, None)
            if len(points) < CATCH_UP_PAGE:
                return

    async def _send_points(
        self, load_id: UUID, points: list[PointOut], status: str | None, frame: PointsFrame | None
    ) -> None:
        out = PointsFrame(
            load_id=load_id,
            first_seq=points[0].seq,
            last_seq=points[-1].seq,
            points=points,
            status=status or (frame.status if frame else "in_transit"),
            eta=frame.eta if frame else None,
        )
        await self.send(_encode(out))
        self.sent[load_id] = points[-1].seq

    async def deliver(self, frame: Frame) -> bool:
        """Send one live frame; False when the stream is over."""
        load_id = frame.load_id
        if frame.kind == "resync":
            await self.catch_up(load_id)
        elif frame.kind == "points":
            sent = self.sent.get(load_id, 0)
            if frame.last_seq <= sent:
                return True
            if frame.first_seq > sent + 1:
                await self.send(
                    _encode(
                        {"type": "gap", "load_id": load_id, "after_seq": sent, "before_seq": frame.first_seq}
                    )
                )
            if frame.first_seq <= sent:  # partly sent already: only the rest
                decoded = _decode_points(frame.data)
                rest = [p for p in decoded.points if p.seq > sent]
                await self._send_points(load_id, rest, decoded.status, decoded)
            else:
                await self.send(frame.data)
                self.sent[load_id] = frame.last_seq
        elif frame.kind == "received":
            await self.send(frame.data)
            self.received.add(load_id)
            return not self.finished
        else:
            await self.send(frame.data)
        return True

    @property
    def finished(self) -> bool:
        return bool(self.sent) and set(self.sent) <= self.received


async def watch(
    socket: WebSocket[Any, Any, Any],
    runtime: Runtime,
    receipts: ReceiptSummaries,
    access: Access,
    after: dict[UUID, int],
) -> None:
    load_ids = frozenset(r["id"] for r in await service.watched_loads(runtime.db, access))
    watcher = await runtime.tracking.register(load_ids)
    reader: asyncio.Task[None] | None = None
    try:
        await socket.accept()
        session = _Session(socket, runtime, receipts, access, watcher)
        await session.snapshot(after)
        if session.finished:
            await session.send(b'{"type":"final","reason":"received"}')
            await socket.close(1000, "receipt confirmed")
            return
        reader = asyncio.get_running_loop().create_task(_until_closed(socket))
        # The client closing wakes the loop too: one event to wait on, instead of a new task and an
        # asyncio.wait at every wake-up (that is, for nearly every frame).
        reader.add_done_callback(lambda _: watcher.wake.set())
        while not reader.done():
            try:
                async with asyncio.timeout(KEEPALIVE_S):
                    await watcher.wake.wait()
            except TimeoutError:
                await session.send(b'{"type":"ping"}')
                continue
            if reader.done():
                return
            if watcher.kicked:  # the hub gave up on it: closed as too slow, below
                raise TimeoutError
            for frame in watcher.take():
                if not await session.deliver(frame):
                    await session.send(b'{"type":"final","reason":"received"}')
                    await socket.close(1000, "receipt confirmed")
                    return
    except TimeoutError:
        if not watcher.kicked:  # a kick was counted by the hub as "closed"
            runtime.metrics.watcher_overflow("send_timeout")
        # Its outbox overflowed while it took nothing, or one send waited SEND_TIMEOUT_S: the close
        # goes behind the frames it has not read, and it resumes with its cursor.
        await close_too_slow(socket, TOO_SLOW_REASON)
    except WebSocketDisconnect:
        pass
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
        await runtime.tracking.unregister(watcher)


async def _until_closed(socket: WebSocket[Any, Any, Any]) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_data(mode="text")
