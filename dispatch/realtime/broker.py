"""Cross-process publish/subscribe for everything pushed to live watchers.

Invariants:
- `publish` runs on the caller's connection inside the transaction that stores the data
  (`pg_notify` is delivered at commit): nobody is told of a change that did not commit, and a
  rolled-back change is never announced.
- Each process holds ONE listening connection (not one per watcher, not one per publish). It
  LISTENs to a channel while at least one local subscriber wants it.
- Each subscriber has a bounded queue. The broker never waits for a subscriber: when a queue is
  full the subscriber is marked `overflowed` and the message is dropped for it alone; the
  subscriber's owner decides (coalesce, resync or disconnect). One slow watcher never delays others.
  A subscriber that takes each message at once without waiting (`on_payload`: the tracking hub,
  which only routes it to its sockets' outboxes) is called with it instead, in order, and has no
  queue: no task switch per message.
- If the listening connection drops (PostgreSQL stopped or restarted), the broker reconnects with
  backoff (at most RECONNECT_MAX_S between tries, so it is back within that of the database) and
  re-LISTENs to every channel that has subscribers, those that subscribed meanwhile included; every
  subscriber then receives a `GAP` marker, because notifications sent meanwhile are lost and the
  subscriber must resynchronize from the database. The drop is reported to the process's
  `Availability` (one log line per outage, not one per try).

Not owned here: what a payload means, and matching it to a watcher's interests.
PostgreSQL caps a notification payload at 8000 bytes; publishers keep payloads small.
A Redis or NATS broker can implement the same `Broker` protocol for fan-out across machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Final, Protocol

import asyncpg

from dispatch.db import Conn
from dispatch.db.availability import Availability, is_database_away

log = logging.getLogger(__name__)

GAP: Final = "\x00gap"  # delivered to every subscriber after the listener reconnects
MAX_PAYLOAD_BYTES: Final = 7900
RECONNECT_MAX_S: Final = 1.0


class Broker(Protocol):
    async def publish(self, conn: Conn, channel: str, payload: str) -> None: ...

    @property
    def publishes_in_sql(self) -> bool:
        """Whether a SQL statement may publish by itself, calling `pg_notify(channel, payload)`, with
        the same effect as `publish` on its connection (delivered at commit, in order). The GPS
        ingest's one statement relies on it (dispatch/tracking/ingest.py); a broker outside
        PostgreSQL says False, and ingest publishes through `publish` instead."""
        ...

    def subscribe(
        self,
        channel: str,
        *,
        maxsize: int = 256,
        on_payload: OnPayload | None = None,
        on_offer: OnOffer | None = None,
    ) -> Subscription: ...


# Takes a message (or GAP) at once, in the listener's callback: it must neither wait nor raise.
OnPayload = Callable[[str], None]
# Told that a message (or GAP) was offered to the inbox, kept or dropped: it must neither wait nor raise.
OnOffer = Callable[[], object]


class Subscription:
    """A local subscriber's bounded inbox: `get` or `drain` it; close it when done. With
    `on_payload`, each message goes to it at once instead (the inbox stays empty). `on_offer` is
    called after every notification offered to the inbox (kept or dropped), so that a subscriber of
    several channels can wake on one signal of its own instead of a get per channel."""

    def __init__(
        self,
        broker: PgBroker,
        channel: str,
        maxsize: int,
        *,
        on_payload: OnPayload | None = None,
        on_offer: OnOffer | None = None,
    ) -> None:
        self.channel = channel
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self.overflowed = False
        self._broker = broker
        self._closed = False
        self._on_payload = on_payload
        self._on_offer = on_offer

    def offer(self, payload: str) -> None:
        if self._on_payload is not None:
            self._on_payload(payload)
            return
        try:
            self.queue.put_nowait(payload)
        except asyncio.QueueFull:
            self.overflowed = True
        if self._on_offer is not None:
            self._on_offer()

    async def get(self) -> str:
        return await self.queue.get()

    def drain(self) -> list[str]:
        """Everything queued right now, without waiting (for coalescing)."""
        items = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._broker._unsubscribe(self)

    async def __aenter__(self) -> Subscription:
        await self._broker._ensure_listening(self.channel)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class PgBroker:
    """The default broker: PostgreSQL LISTEN/NOTIFY through one listening connection per process."""

    publishes_in_sql = True  # `publish` is pg_notify itself

    def __init__(
        self,
        dsn: str,
        *,
        reconnect_max_s: float = RECONNECT_MAX_S,
        availability: Availability | None = None,
    ) -> None:
        self._dsn = dsn
        self._reconnect_max_s = reconnect_max_s
        self._availability = availability
        self._conn: asyncpg.Connection[Any] | None = None
        self._subscribers: dict[str, set[Subscription]] = {}
        self._listening: set[str] = set()
        self._lock = asyncio.Lock()
        self._reconnecting: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        self._conn = await self._connect()

    async def _connect(self) -> asyncpg.Connection[Any]:
        conn: asyncpg.Connection[Any] = await asyncpg.connect(
            self._dsn, server_settings={"application_name": "dispatch-listener"}
        )
        conn.add_termination_listener(self._on_terminated)
        return conn

    async def close(self) -> None:
        self._closed = True
        if self._reconnecting:
            self._reconnecting.cancel()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    async def publish(self, conn: Conn, channel: str, payload: str) -> None:
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"notification payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        await conn.execute("SELECT pg_notify($1, $2)", channel, payload)

    def subscribe(
        self,
        channel: str,
        *,
        maxsize: int = 256,
        on_payload: OnPayload | None = None,
        on_offer: OnOffer | None = None,
    ) -> Subscription:
        """Use as `async with broker.subscribe(ch) as sub:`; listening starts on entering."""
        sub = Subscription(self, channel, maxsize, on_payload=on_payload, on_offer=on_offer)
        self._subscribers.setdefault(channel, set()).add(sub)
        return sub

    # -- internals ---------------------------------------------------------------------------

    def _deliver(self, _conn: object, _pid: int, channel: str, payload: object) -> None:
        for sub in tuple(self._subscribers.get(channel, ())):
            sub.offer(str(payload))

    async def _ensure_listening(self, channel: str) -> None:
        async with self._lock:
            if channel in self._listening or self._conn is None or self._conn.is_closed():
                return
            await self._conn.add_listener(channel, self._deliver)
            self._listening.add(channel)

    async def _unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.channel)
        if subs is None:
            return
        subs.discard(sub)
        if subs:
            return
        del self._subscribers[sub.channel]
        async with self._lock:
            if sub.channel in self._listening and self._conn is not None and not self._conn.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, OSError):
                    await self._conn.remove_listener(sub.channel, self._deliver)
            self._listening.discard(sub.channel)

    def _on_terminated(self, conn: object) -> None:
        if self._closed or self._reconnecting is not None or conn is not self._conn:
            return
        dropped = asyncpg.ConnectionDoesNotExistError("the listening connection dropped")
        if self._availability is not None:
            self._availability.noticed(dropped)
        else:
            log.warning("the listening connection dropped; reconnecting")
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        started = asyncio.get_running_loop().time()
        delay = 0.05
        try:
            while not self._closed:
                try:
                    await self._listen_again()
                    break
                except Exception as exc:  # keep trying whatever it is: live frames depend on it
                    if not is_database_away(exc):
                        log.warning("listener reconnect failed (%r); retrying", exc)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self._reconnect_max_s)
            else:
                return
            log.info(
                "the listening connection is back after %.1f s; subscribers resynchronize",
                asyncio.get_running_loop().time() - started,
            )
            for subs in list(self._subscribers.values()):
                for sub in tuple(subs):
                    sub.offer(GAP)
        finally:
            self._reconnecting = None
        # Dropped again while we were re-listening (its termination was ignored meanwhile).
        if self._conn is not None and self._conn.is_closed():
            self._on_terminated(self._conn)

    async def _listen_again(self) -> None:
        """A new listening connection, LISTENing to every channel that has subscribers now."""
        async with self._lock:
            self._listening.clear()
            conn = await self._connect()
            self._conn = conn
            try:
                for channel in list(self._subscribers):
                    await conn.add_listener(channel, self._deliver)
                    self._listening.add(channel)
            except BaseException:
                self._listening.clear()
                conn.terminate()
                raise
