"""The per-process fan-out of tracking frames to the watcher sockets of this process.

Invariants:
- One broker subscription per watched load per process, however many sockets watch it (the broker
  itself holds one listening connection per process). A frame is decoded once per process, for its
  routing fields, and the same bytes go to every local watcher of the load. It is routed in the
  listener's callback as it arrives (`on_payload`: routing never waits), not through a queue and
  a task per load: one task switch less per notification and process.
- A batch is one frame: the notification pieces of a batch too big for one notification
  (`"more": true`, dispatch/tracking/notifications.py) are joined here, once per process, before
  any watcher is offered it.
- Encoded once, written at once: a points frame is encoded to UTF-8 (and framed) once per process
  (`SharedText`), and a watcher whose socket is idle, caught up on that load and writable gets it
  written to its socket there and then (`send_now`), in the loop over the load's watchers, as a
  bare websocket broadcast does: no task switch and no ASGI event per watcher. Any other watcher
  (sending, behind, anything queued) gets it in its outbox, behind what is there, as before.
- Offering a frame to a watcher never waits. Each watcher has a bounded outbox: `limit` frames, or
  as many notification-sized frames' worth (a batch's frame counts as the notifications it came
  in, so a slow socket holds no more than when each piece was a frame). When it is full the
  watcher is coalesced: its queued `points` frames are reduced to the newest one per load (the
  socket then reports the gap it skipped). If the outbox fills again while the socket has taken
  nothing for STALL_S (it is behind, not hit by a burst), the watcher is marked `kicked` and its
  socket closes it, at once even when a send to its peer is blocked (`on_kick`). Other watchers
  are never delayed.
- If the listening connection reconnects (a GAP), notifications may have been lost: every watcher
  of the load gets a `resync` marker and re-reads from the database what it has not seen, by its
  cursor.

Not owned here: authorization (the socket checks it before registering) and what frames mean.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import msgspec

from dispatch.realtime.broker import GAP, MAX_PAYLOAD_BYTES, Broker, Subscription
from dispatch.realtime.shared_text import SendNow, SharedText
from dispatch.tracking.notifications import join_points, track_channel

log = logging.getLogger(__name__)

# A watcher that overflows again after being coalesced, without taking its outbox for this long,
# is behind for good (not just hit by a burst): it is disconnected.
STALL_S = 1.0

# `approach`: fixes of the drive to the pickup (no seq: passed on as they come, like events).
FrameKind = Literal["points", "event", "received", "resync", "approach"]


class _Routing(msgspec.Struct):  # the load is the subscription's: its id is not decoded again
    type: str
    first_seq: int = 0
    last_seq: int = 0
    more: bool = False


_decode_routing = msgspec.json.Decoder(_Routing).decode


@dataclass(frozen=True, slots=True)
class Frame:
    kind: FrameKind
    load_id: UUID
    first_seq: int = 0
    last_seq: int = 0
    data: str | bytes = ""
    text: SharedText | None = None  # a points frame's, for writing it at once

    @property
    def size(self) -> int:
        """In notification-sized frames (1 for all but a large batch's frame)."""
        return -(-len(self.data) // MAX_PAYLOAD_BYTES) or 1


@dataclass(eq=False)
class Watcher:
    """One socket's registration: the loads it follows and its bounded outbox."""

    load_ids: frozenset[UUID]
    limit: int
    outbox: deque[Frame] = field(default_factory=deque)
    queued: int = 0  # the outbox's size in notification-sized frames (Frame.size)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    coalesced: bool = False
    kicked: bool = False
    last_take: float = field(default_factory=time.monotonic)
    on_overflow: Callable[[str], None] = lambda outcome: None  # "coalesced" or "closed", for metrics
    # Set by the socket: ends a send blocked on the peer when the watcher is kicked.
    on_kick: Callable[[], None] | None = None
    # Set by the socket once it is live: writes a frame at once (see `offer`), and what it has sent
    # per load (the socket's own record, which a frame written at once moves on).
    send_now: SendNow | None = None
    sent: dict[UUID, int] = field(default_factory=dict)
    idle: bool = False  # the socket waits for frames (it sends nothing now)

    def offer(self, frame: Frame) -> None:
        if self.kicked:
            return
        if (
            self.idle
            and not self.outbox
            and frame.text is not None
            and self.send_now is not None
            and self.sent.get(frame.load_id) == frame.first_seq - 1  # the next points it must send
            and self.send_now(frame.text)
        ):
            self.sent[frame.load_id] = frame.last_seq
            return
        if self._full(self.outbox, self.queued):
            stalled = time.monotonic() - self.last_take > STALL_S
            if (self.coalesced and stalled) or not self._coalesce():
                self.on_overflow("closed")
                self._kick()
                return
            self.on_overflow("coalesced")
        self.outbox.append(frame)
        self.queued += frame.size
        self.wake.set()

    def _full(self, frames: deque[Frame] | list[Frame], size: int) -> bool:
        # One frame, however large, always fits: a socket that keeps up is never coalesced for it.
        return len(frames) >= self.limit or (len(frames) > 1 and size >= self.limit)

    def _coalesce(self) -> bool:
        """Keep every non-points frame and the newest points frame of each load, in order; False
        when that frees no room."""
        newest: dict[UUID, Frame] = {}
        for f in self.outbox:
            if f.kind == "points":
                newest[f.load_id] = f
        kept = [f for f in self.outbox if f.kind != "points" or newest[f.load_id] is f]
        self.coalesced = True
        size = sum(f.size for f in kept)
        if self._full(kept, size):
            return False
        self.outbox, self.queued = deque(kept), size
        return True

    def _kick(self) -> None:
        self.kicked = True
        self.outbox.clear()
        self.queued = 0
        self.wake.set()
        if self.on_kick is not None:
            self.on_kick()

    async def wait(self) -> None:
        """Until something is queued; meanwhile frames that can be are written at once."""
        self.idle = True
        try:
            await self.wake.wait()
        finally:
            self.idle = False

    def take(self) -> list[Frame]:
        """Everything queued now; the watcher has caught up once it has taken an outbox."""
        frames = list(self.outbox)
        self.outbox.clear()
        self.queued = 0
        self.wake.clear()
        self.coalesced = False
        self.last_take = time.monotonic()
        return frames


@dataclass(eq=False)
class _LoadFeed:
    """One load's notifications in this process, routed to its local watchers as they arrive."""

    load_id: UUID
    subscription: Subscription | None = None
    watchers: set[Watcher] = field(default_factory=set)
    pieces: list[str] = field(default_factory=list)  # of the batch being joined

    def route(self, payload: str) -> None:
        try:
            if payload == GAP:
                self.pieces.clear()  # its other pieces may be lost: the resync reads them
                frame = Frame("resync", self.load_id)
            else:
                routing = _decode_routing(payload)
                kind: FrameKind = routing.type  # type: ignore[assignment]
                if kind != "points":
                    frame = Frame(kind, self.load_id, data=payload)
                elif routing.more:
                    self.pieces.append(payload)
                    return
                else:
                    pieces = self.pieces
                    data = join_points([*pieces, payload]) if pieces else payload.encode()
                    first_seq = _decode_routing(pieces[0]).first_seq if pieces else routing.first_seq
                    pieces.clear()
                    frame = Frame(kind, self.load_id, first_seq, routing.last_seq, data, SharedText(data))
            for watcher in tuple(self.watchers):
                watcher.offer(frame)
        except Exception:
            self.pieces.clear()
            log.exception("tracking: could not route %r", payload[:200])


class TrackingHub:
    def __init__(
        self,
        broker: Broker,
        *,
        outbox_limit: int = 64,
        on_overflow: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self._broker = broker
        self._on_overflow = on_overflow
        self._outbox_limit = outbox_limit
        self._feeds: dict[UUID, _LoadFeed] = {}
        self._lock = asyncio.Lock()

    async def register(self, load_ids: frozenset[UUID]) -> Watcher:
        """Start following the loads (listening starts before this returns: read the snapshot after)."""
        watcher = Watcher(load_ids, self._outbox_limit, on_overflow=self._on_overflow)
        async with self._lock:
            for load_id in load_ids:
                feed = self._feeds.get(load_id)
                if feed is None:
                    feed = _LoadFeed(load_id)
                    feed.subscription = self._broker.subscribe(track_channel(load_id), on_payload=feed.route)
                    await feed.subscription.__aenter__()
                    self._feeds[load_id] = feed
                feed.watchers.add(watcher)
        return watcher

    async def unregister(self, watcher: Watcher) -> None:
        async with self._lock:
            for load_id in watcher.load_ids:
                feed = self._feeds.get(load_id)
                if feed is None:
                    continue
                feed.watchers.discard(watcher)
                if not feed.watchers:
                    del self._feeds[load_id]
                    if feed.subscription is not None:
                        await feed.subscription.close()

    async def stop(self) -> None:
        for feed in list(self._feeds.values()):
            for watcher in list(feed.watchers):
                await self.unregister(watcher)

    @property
    def watched_loads(self) -> int:
        return len(self._feeds)
