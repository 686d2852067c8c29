"""The watchers' socket: a snapshot, then every stored point once and in order, until receipt.

Order of work, which is what makes "exactly once" hold:
1. authorize (before accepting: a refusal is an HTTP problem-details answer and nothing is sent);
2. register with the hub, so live frames are queued from now on;
3. read the snapshot in one repeatable-read transaction: each load's `last_seq` in it is the cursor
   from which live frames continue (frames at or below it are skipped, as already in the trail);
4. with `after=` cursors, send exactly the stored points after each cursor, from the database;
5. forward live frames, skipping what was sent; a break in a load's seq (frames dropped by
   coalescing a slow socket) is reported as a `gap` frame before the points that follow it.
   While the socket waits, the hub writes the next points frame of a load to it at once (the same
   bytes as the socket would send) and moves its `sent` on: the hub's `Watcher.offer`.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket

from dispatch.close_codes import CloseCode
from dispatch.deps import ReceiptSummaries
from dispatch.errors import BadRequest
from dispatch.realtime.sending import SEND_TIMEOUT_S
from dispatch.realtime.session import LiveSession, TooSlow, live_session
from dispatch.realtime.shared_text import send_now_of
from dispatch.runtime import Runtime
from dispatch.tracking import service
from dispatch.tracking.access import Access
from dispatch.tracking.hub import Frame
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


class _Stream:
    """What one watcher's socket has sent, per load, and what it sends next."""

    def __init__(
        self, live: LiveSession, runtime: Runtime, receipts: ReceiptSummaries, access: Access
    ) -> None:
        self.send = live.send
        self.runtime = runtime
        self.receipts = receipts
        self.access = access
        self.sent: dict[UUID, int] = {}
        self.received: set[UUID] = set()
        self.finished = False  # every load it watches received: `final`, and a normal close

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
        self._check_finished()
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

    async def deliver(self, frame: Frame) -> None:
        """Send one live frame (the stream may be `finished` after it)."""
        load_id = frame.load_id
        if frame.kind == "resync":
            await self.catch_up(load_id)
        elif frame.kind == "points":
            sent = self.sent.get(load_id, 0)
            if frame.last_seq <= sent:
                return
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
            self._check_finished()
        else:
            await self.send(frame.data)

    def _check_finished(self) -> None:
        self.finished = bool(self.sent) and set(self.sent) <= self.received


async def watch(
    socket: WebSocket[Any, Any, Any],
    runtime: Runtime,
    receipts: ReceiptSummaries,
    access: Access,
    after: dict[UUID, int],
) -> None:
    load_ids = frozenset(r["id"] for r in await service.watched_loads(runtime.db, access))
    watcher = await runtime.tracking.register(load_ids)

    def count_too_slow() -> None:
        if not watcher.kicked:  # a kick was counted by the hub as "closed"
            runtime.metrics.watcher_overflow("send_timeout")

    try:
        # Too slow: its outbox overflowed while it took nothing, or one send waited SEND_TIMEOUT_S;
        # the close goes behind the frames it has not read, and it resumes with its cursor.
        async with live_session(
            socket, too_slow_reason=TOO_SLOW_REASON, keepalive_s=KEEPALIVE_S, on_too_slow=count_too_slow
        ) as live:
            # The hub gives up on a watcher whose outbox overflows while it is stalled: a send
            # blocked on the peer (its buffers full) ends then, not when its own deadline comes.
            watcher.on_kick = live.give_up
            stream = _Stream(live, runtime, receipts, access)
            await stream.snapshot(after)
            # Live from here: the hub may write points to it at once while it waits (hub.py).
            watcher.sent = stream.sent
            watcher.send_now = send_now_of(socket)
            while not stream.finished:
                await live.next(watcher.wait)
                if watcher.kicked:  # the hub gave up on it
                    raise TooSlow
                for frame in watcher.take():
                    await stream.deliver(frame)
                    if stream.finished:
                        break
            await live.send(b'{"type":"final","reason":"received"}')
            await live.close(CloseCode.NORMAL, "receipt confirmed")
    finally:
        await runtime.tracking.unregister(watcher)
