"""The per-process fan-out of tracking frames to the watcher sockets of this process.

Invariants:
- One broker subscription per watched load per process, however many sockets watch it (the broker
  itself holds one listening connection per process). A frame is decoded once per process, for its
  routing fields, and the same bytes go to every local watcher of the load.
- Offering a frame to a watcher never waits. Each watcher has a bounded outbox; when it is full the
  watcher is coalesced: its queued `points` frames are reduced to the newest one per load (the
  socket then reports the gap it skipped). If the outbox fills again while the socket has taken
  nothing for STALL_S (it is behind, not hit by a burst), the watcher is marked `kicked` and its
  socket closes it, at once even when a send to its peer is blocked (`on_kick`). Other watchers
  are never delayed.
- If a load's subscription overflows or the listening connection reconnects (a GAP), notifications
  may be lost: every watcher of the load gets a `resync` marker and re-reads from the database
  what it has not seen, by its cursor.

Not owned here: authorization (the socket checks it before registering) and what frames mean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import msgspec

from dispatch.realtime.broker import GAP, Broker, Subscription
from dispatch.tracking.notifications import track_channel

log = logging.getLogger(__name__)

# A watcher that overflows again after being coalesced, without taking its outbox for this long,
# is behind for good (not just hit by a burst): it is disconnected.
STALL_S = 1.0

FrameKind = Literal["points", "event", "received", "resync"]


class _Routing(msgspec.Struct):
    type: str
    load_id: UUID
    first_seq: int = 0
    last_seq: int = 0


_decode_routing = msgspec.json.Decoder(_Routing).decode


@dataclass(frozen=True, slots=True)
class Frame:
    kind: FrameKind
    load_id: UUID
    first_seq: int = 0
    last_seq: int = 0
    data: str = ""


@dataclass(eq=False)
class Watcher:
    """One socket's registration: the loads it follows and its bounded outbox."""

    load_ids: frozenset[UUID]
    limit: int
    outbox: deque[Frame] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    coalesced: bool = False
    kicked: bool = False
    last_take: float = field(default_factory=time.monotonic)
    on_overflow: Callable[[str], None] = lambda outcome: None  # "coalesced" or "closed", for metrics
    # Set by the socket: ends a send blocked on the peer when the watcher is kicked.
    on_kick: Callable[[], None] | None = None

    def offer(self, frame: Frame) -> None:
        if self.kicked:
            return
        if len(self.outbox) >= self.limit:
            stalled = time.monotonic() - self.last_take > STALL_S
            if (self.coalesced and stalled) or not self._coalesce():
                self.on_overflow("closed")
                self._kick()
                return
            self.on_overflow("coalesced")
        self.outbox.append(frame)
        self.wake.set()

    def _coalesce(self) -> bool:
        """Keep every non-points frame and the newest points frame of each load, in order; False
        when that frees no room."""
        newest: dict[UUID, Frame] = {}
        for f in self.outbox:
            if f.kind == "points":
                newest[f.load_id] = f
        kept = [f for f in self.outbox if f.kind != "points" or newest[f.load_id] is f]
        self.coalesced = True
        if len(kept) >= self.limit:
            return False
        self.outbox = deque(kept)
        return True

    def _kick(self) -> None:
        self.kicked = True
        self.outbox.clear()
        self.wake.set()
        if self.on_kick is not None:
            self.on_kick()

    def take(self) -> list[Frame]:
        """Everything queued now; the watcher has caught up once it has taken an outbox."""
        frames = list(self.outbox)
        self.outbox.clear()
        self.wake.clear()
        self.coalesced = False
        self.last_take = time.monotonic()
        return frames


@dataclass(eq=False)
class _LoadFeed:
    subscription: Subscription
    task: asyncio.Task[None] | None = None
    watchers: set[Watcher] = field(default_factory=set)


class TrackingHub:
    def __init__(
        self,
        broker: Broker,
        *,
        outbox_limit: int = 64,
        subscription_size: int = 2048,
        on_overflow: Callable[[str], None] = lambda outcome: None,
    ) -> None:
        self._broker = broker
        self._on_overflow = on_overflow
        self._outbox_limit = outbox_limit
        self._subscription_size = subscription_size
        self._feeds: dict[UUID, _LoadFeed] = {}
        self._lock = asyncio.Lock()

    async def register(self, load_ids: frozenset[UUID]) -> Watcher:
        """Start following the loads (listening starts before this returns: read the snapshot after)."""
        watcher = Watcher(load_ids, self._outbox_limit, on_overflow=self._on_overflow)
        async with self._lock:
            for load_id in load_ids:
                feed = self._feeds.get(load_id)
                if feed is None:
                    sub = self._broker.subscribe(track_channel(load_id), maxsize=self._subscription_size)
                    await sub.__aenter__()
                    feed = _LoadFeed(sub)
                    feed.task = asyncio.get_running_loop().create_task(self._pump(load_id, feed))
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
                    if feed.task is not None:
                        feed.task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await feed.task
                    await feed.subscription.close()

    async def stop(self) -> None:
        for feed in list(self._feeds.values()):
            for watcher in list(feed.watchers):
                await self.unregister(watcher)

    @property
    def watched_loads(self) -> int:
        return len(self._feeds)

    async def _pump(self, load_id: UUID, feed: _LoadFeed) -> None:
        sub = feed.subscription
        while True:
            payload = await sub.get()
            try:
                if payload == GAP or sub.overflowed:
                    sub.overflowed = False
                    sub.drain()
                    frame = Frame("resync", load_id)
                else:
                    routing = _decode_routing(payload)
                    kind: FrameKind = routing.type  # type: ignore[assignment]
                    frame = Frame(kind, load_id, routing.first_seq, routing.last_seq, payload)
                for watcher in tuple(feed.watchers):
                    watcher.offer(frame)
            except Exception:
                log.exception("tracking: could not route %r", payload[:200])
