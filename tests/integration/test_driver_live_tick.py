"""The site's tick (dispatch/gate/site_queue.py, `SiteQueues.due`): the drivers' sockets of a site on
one worker that hold a change come due at one instant, the site's last read + TICKETS_EVERY_S, and
share one read there, however many changes came meanwhile; a change already in the view (or in the
read under way) goes at once, and so does a change after a quiet time. Never a view older than the
change (the freshness rule). On the real broker (PostgreSQL's LISTEN/NOTIFY): one listening
connection delivers in order, so once a marker published after a change has arrived, the change's
notification has been offered. And, through a real server: a burst of changes at once leaves every
driver's socket on the state after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID

import httpx
import pytest

from dispatch.accounts.principal import Principal
from dispatch.gate import service
from dispatch.gate.site_queue import SiteQueues
from dispatch.realtime.broker import PgBroker
from tests.gate_support import dispatched_loads
from tests.integration.test_driver_live_queue import AT_GATE, check_in, connected, rest_tickets

MARKER = "test_site_tick_marker"
AN_HOUR = 3600.0  # a tick no test outlasts: what is held stays held until the test asks


async def driver_of(db, load: dict[str, Any]) -> Principal:
    row = await db.fetchrow(
        "SELECT driver_user_id, carrier_org_id FROM loads WHERE id = $1", UUID(load["id"])
    )
    return Principal(
        kind="device",
        user_id=row["driver_user_id"],
        org_id=row["carrier_org_id"],
        credential_id=None,
        permissions=frozenset(),
    )


class Yard:
    """A site's changes made through the app, each waited for until this process's broker has it."""

    def __init__(self, client, db, broker: PgBroker) -> None:
        self.client, self.db, self.broker = client, db, broker
        self.marker = broker.subscribe(MARKER, maxsize=16)

    async def check_in(self, load: dict[str, Any]) -> None:
        r = await self.client.post(
            f"/driver/v1/loads/{load['id']}/check-in", headers=load["device"], json=AT_GATE
        )
        assert r.status_code == 201, r.text
        await self.broker.publish(self.db, MARKER, "{}")
        await self.marker.get()


async def a_yard(client, settings, db, queues: SiteQueues, stack: AsyncExitStack, loads: int):
    w = await dispatched_loads(client, settings, loads=loads, docks=2)
    broker = PgBroker(settings.database_url)
    await broker.start()
    stack.push_async_callback(broker.close)
    yard = Yard(client, db, broker)
    await stack.enter_async_context(yard.marker)
    site = UUID(w["site"]["id"])
    await queues.follow(broker, site)  # the worker's own subscription, as the first socket makes it
    stack.push_async_callback(queues.unfollow, site)
    return w, site, yard


async def test_changes_within_a_tick_wait_for_it_together_and_share_one_read(client, settings, db):
    reads: list[int] = []
    queues = SiteQueues(on_read=lambda: reads.append(1), every_s=AN_HOUR)
    async with AsyncExitStack() as stack:
        w, site, yard = await a_yard(client, settings, db, queues, stack, loads=5)
        loop = asyncio.get_running_loop()
        sockets = 3  # each asks `due` as a socket holding the site's change does

        # A change at a site never read (a quiet time): at once, one read.
        await yard.check_in(w["loads"][0])
        assert queues.due([site]) <= loop.time()
        await queues.view(db, site)
        assert len(reads) == 1

        # Four more changes within the tick: every socket holding one is given the site's next
        # tick, the same instant for all, and nothing is read meanwhile.
        for load in w["loads"][1:]:
            await yard.check_in(load)
            dues = [queues.due([site]) for _ in range(sockets)]
            assert dues == [dues[0]] * sockets and dues[0] > loop.time()
        assert len(reads) == 1

        # At the tick the held sockets ask together: one read, holding every change.
        views = await asyncio.gather(*(queues.view(db, site) for _ in range(sockets)))
        assert len(reads) == 2 and all(v is views[0] for v in views)
        places = []
        for load in w["loads"]:
            (mine,) = views[0].of_driver(await driver_of(db, load))
            assert str(mine.load_id) == load["id"] and mine == await service.ticket_view(db, mine.id)
            places.append(mine.position)
        assert places == [1, 2, 3, 4, 5]
        # Nothing came since: the next ask is served at once by that read.
        assert queues.due([site]) <= loop.time()
        await queues.view(db, site)
        assert len(reads) == 2


async def test_a_change_being_read_or_after_a_quiet_time_goes_at_once(client, settings, db):
    reads: list[int] = []
    every_s = 0.2
    queues = SiteQueues(on_read=lambda: reads.append(1), every_s=every_s)
    async with AsyncExitStack() as stack:
        w, site, yard = await a_yard(client, settings, db, queues, stack, loads=3)
        loop = asyncio.get_running_loop()

        # Sockets woken by the same change: the first starts the read, the others join it at once.
        await yard.check_in(w["loads"][0])
        assert queues.due([site]) <= loop.time()
        first = asyncio.ensure_future(queues.view(db, site))
        await asyncio.sleep(0)  # its read has started
        assert queues.due([site]) <= loop.time()
        second = await queues.view(db, site)
        assert await first is second and len(reads) == 1

        # Changes after a quiet time (the last read over a tick ago) go at once, and are in the view.
        await yard.check_in(w["loads"][1])
        await asyncio.sleep(every_s * 1.5)
        await yard.check_in(w["loads"][2])
        assert queues.due([site]) <= loop.time()
        view = await queues.view(db, site)
        assert len(reads) == 2
        (mine,) = view.of_driver(await driver_of(db, w["loads"][2]))
        assert mine.position == 3 and mine == await service.ticket_view(db, mine.id)


@pytest.mark.server
async def test_a_burst_of_changes_at_once_leaves_every_socket_on_the_state_after_it(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http, AsyncExitStack() as stack:
        w = await dispatched_loads(http, settings, loads=8, docks=3)
        site, staff = w["site"]["id"], w["staff"].headers
        docks = [
            d["id"] for d in (await http.get(f"/gate/sites/{site}/board", headers=staff)).json()["docks"]
        ]
        phones = [await connected(stack, server, load) for load in w["loads"]]

        async def everyone_current() -> None:
            for phone in phones:
                await phone.shows(await rest_tickets(http, phone.load))

        async def at_once(changes: list[Awaitable[Any]]) -> None:
            for r in await asyncio.gather(*changes):
                if isinstance(r, httpx.Response):
                    assert r.status_code == 200, r.text

        # Every truck checks in at once, then every dock calls at once: each a burst of changes
        # that moves the others' places; each socket ends on the state after it.
        await at_once([check_in(http, load) for load in w["loads"]])
        await everyone_current()
        assert sorted(p.frames[-1][0]["position"] for p in phones) == list(range(1, 9))
        await at_once(
            [http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": d}) for d in docks]
        )
        await everyone_current()
        called = [p for p in phones if p.frames[-1][0]["status"] == "called"]
        assert len(called) == 3
        waiting = sorted(p.frames[-1][0]["position"] for p in phones if p not in called)
        assert waiting == [1, 2, 3, 4, 5]

        for phone in phones:  # never another's ticket, never the same state twice in a row
            assert all(t["load_id"] == phone.load["id"] for f in phone.frames for t in f)
            assert all(a != b for a, b in zip(phone.frames, phone.frames[1:], strict=False)), phone.frames
