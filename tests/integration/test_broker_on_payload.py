"""A subscriber that takes each message at once (`on_payload`, the tracking hub's way,
dispatch/realtime/broker.py) on the real PostgreSQL broker: every committed notification of its
channel exactly once, in commit order, nothing of a rolled-back one, none of another channel's,
nothing left in its inbox; and a GAP after the listening connection is dropped and back."""

from __future__ import annotations

import asyncio

import asyncpg

from dispatch.realtime.broker import GAP, PgBroker


class Taken(list[str]):
    """What the subscriber took, and an event set at each message."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def take(self, payload: str) -> None:
        self.append(payload)
        self.arrived.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(15):
            while len(self) < count:
                self.arrived.clear()
                await self.arrived.wait()


async def test_each_committed_message_is_taken_at_once_in_order(database_url: str) -> None:
    broker = PgBroker(database_url)
    await broker.start()
    got = Taken()
    queued: list[str] = []
    conn = await asyncpg.connect(database_url)
    try:
        async with (
            broker.subscribe("track:a", on_payload=got.take) as sub,
            broker.subscribe("track:a") as queued_sub,  # the ordinary subscriber beside it
        ):
            async with conn.transaction():
                for i in range(50):
                    await broker.publish(conn, "track:a", f"a{i}")
                await broker.publish(conn, "track:b", "b0")
            try:
                async with conn.transaction():
                    await broker.publish(conn, "track:a", "rolled back")
                    raise RuntimeError("roll back")
            except RuntimeError:
                pass
            await broker.publish(conn, "track:a", "last")
            await got.until(51)
            while len(queued) < 51:
                queued.append(await asyncio.wait_for(queued_sub.get(), 15))
            assert got == [*(f"a{i}" for i in range(50)), "last"]
            assert queued == got  # the same messages as a queued subscriber, in the same order
            assert sub.queue.empty() and not sub.overflowed

            # The listening connection dropped: the subscriber is told GAP once it is back.
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                "dispatch-listener",
            )
            await got.until(52)
            assert got[51] == GAP
            await broker.publish(conn, "track:a", "after")
            await got.until(53)
            assert got[52:] == ["after"]
    finally:
        await conn.close()
        await broker.close()
