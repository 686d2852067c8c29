"""The live market feed: what is published when jobs appear and go, and the per-process hub that
matches it to the carriers' sockets.

Published on the `market` channel, inside the transaction that changes the job, small on purpose:

    {"e": "posted",  "id": ..., "lon": ..., "lat": ..., "vehicle_type": ..., "cargo_kind": ...}
    {"e": "removed", "id": ..., "lon": ..., "lat": ..., "vehicle_type": ..., "cargo_kind": ..., "reason": ...}
    {"e": "tender", "id": ..., "org_id": ..., "reason": "tender.offered" | "tender.ended", "offer": ...}

A tender's frames go to the one carrier it concerns (`org_id`), whatever its areas: a tendered job
is off the market, and no other carrier learns its id.

Each process runs one `MarketFeedHub` with one subscription. For a posted job that matches at
least one local socket, the hub reads the job's market view once and hands the same encoded frame
to every matching socket's bounded queue. Frames are idempotent (a job id added twice, or removed
when absent, is harmless), so a snapshot that overlaps live events needs no de-duplication here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import asyncpg
import msgspec

from dispatch.db import Conn
from dispatch.realtime.broker import GAP, Broker, PgBroker, Subscription
from geo import Area, Position

log = logging.getLogger(__name__)

CHANNEL = "market"


class MarketEvent(msgspec.Struct, kw_only=True):
    e: Literal["posted", "removed", "tender"]
    id: UUID
    lon: float
    lat: float
    vehicle_type: str
    cargo_kind: str
    reason: str | None = None
    # A tender's frame: the carrier it is for, and the offer as the frame carries it.
    org_id: UUID | None = None
    offer: dict[str, Any] | None = None


_encode = msgspec.json.Encoder().encode
_decode_event = msgspec.json.Decoder(MarketEvent).decode


async def publish_posted(
    broker: Broker, conn: Conn, job_id: UUID, origin: Position, vehicle_type: str, cargo_kind: str
) -> None:
    event = MarketEvent(
        e="posted",
        id=job_id,
        lon=origin.lon,
        lat=origin.lat,
        vehicle_type=vehicle_type,
        cargo_kind=cargo_kind,
    )
    await broker.publish(conn, CHANNEL, _encode(event).decode())


async def publish_removed(broker: Broker, conn: Conn, job: asyncpg.Record, reason: str) -> None:
    await broker.publish(conn, CHANNEL, removed_payload(job, reason))


def removed_payload(job: asyncpg.Record | Mapping[str, Any], reason: str) -> str:
    """The `removed` notification of `job` (a statement may publish it itself: the grab's)."""
    event = MarketEvent(
        e="removed",
        id=job["id"],
        lon=job["origin_lon"],
        lat=job["origin_lat"],
        vehicle_type=job["vehicle_type"],
        cargo_kind=job["cargo_kind"],
        reason=reason,
    )
    return _encode(event).decode()


async def publish_tender(
    broker: Broker, conn: Conn, job: asyncpg.Record, carrier: UUID, frame: str, offer: dict[str, Any]
) -> None:
    """A frame (`tender.offered`, `tender.ended`) for one carrier's feed sockets only."""
    event = MarketEvent(
        e="tender",
        id=job["id"],
        lon=job["origin_lon"],
        lat=job["origin_lat"],
        vehicle_type=job["vehicle_type"],
        cargo_kind=job["cargo_kind"],
        reason=frame,
        org_id=carrier,
        offer=offer,
    )
    await broker.publish(conn, CHANNEL, _encode(event).decode())


@dataclass(frozen=True)
class Interest:
    """One saved market area with its filters (empty filter: anything)."""

    area: Area
    vehicle_types: frozenset[str]
    cargo_kinds: frozenset[str]

    def matches(self, event: MarketEvent) -> bool:
        return (
            (not self.vehicle_types or event.vehicle_type in self.vehicle_types)
            and (not self.cargo_kinds or event.cargo_kind in self.cargo_kinds)
            and self.area.contains(Position(event.lon, event.lat))
        )


RESYNC = b'{"type":"resync"}'


@dataclass(eq=False)
class FeedClient:
    """One socket's registration: its interests and its bounded outbox of encoded frames."""

    org_id: UUID
    interests: tuple[Interest, ...]
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(512))
    overflowed: bool = False
    # Set by the socket: ends a send blocked on the peer when the queue overflows.
    on_overflow: Callable[[], None] | None = None

    def matches(self, event: MarketEvent) -> bool:
        return any(i.matches(event) for i in self.interests)

    def offer(self, frame: bytes) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # The socket will be closed by its handler: a client this far behind must resync.
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()


class MarketFeedHub:
    def __init__(self, broker: PgBroker, load_public_job: Any) -> None:
        self._broker = broker
        self._load_public_job = load_public_job  # async (job_id) -> bytes | None (encoded JobPublic)
        self._clients: set[FeedClient] = set()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = self._broker.subscribe(CHANNEL, maxsize=10_000)
        await self._subscription.__aenter__()
        self._task = asyncio.get_running_loop().create_task(self._run(self._subscription))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription:
            await self._subscription.close()

    def register(self, org_id: UUID, interests: Iterable[Interest]) -> FeedClient:
        client = FeedClient(org_id, tuple(interests))
        self._clients.add(client)
        return client

    def unregister(self, client: FeedClient) -> None:
        self._clients.discard(client)

    async def _run(self, subscription: Subscription) -> None:
        while True:
            payload = await subscription.get()
            try:
                if payload == GAP or subscription.overflowed:
                    # Notifications were lost: every socket re-reads its snapshot.
                    subscription.overflowed = False
                    for client in tuple(self._clients):
                        client.offer(RESYNC)
                    continue
                await self._dispatch(_decode_event(payload))
            except Exception:
                log.exception("market feed: could not handle %r", payload[:200])

    async def _dispatch(self, event: MarketEvent) -> None:
        if event.e == "tender":
            frame = _encode({"type": event.reason, "job_id": event.id, "offer": event.offer})
            for client in [c for c in self._clients if c.org_id == event.org_id]:
                client.offer(frame)
            return
        targets = [c for c in self._clients if c.matches(event)]
        if not targets:
            return
        if event.e == "posted":
            job = await self._load_public_job(event.id)
            if job is None:  # already gone again
                return
            frame = b'{"type":"job.posted","job":' + job + b"}"
        else:
            frame = _encode({"type": "job.removed", "job_id": event.id, "reason": event.reason})
        for client in targets:
            client.offer(frame)
