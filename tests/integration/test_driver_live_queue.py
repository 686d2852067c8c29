"""Many drivers at one gate on their live sockets: each sees its own place after every change, as
`GET /driver/v1/loads/{id}/ticket` answers it, never another's ticket; and the worker reads the
site's queue once per change, however many drivers are connected (dispatch/gate/site_queue.py)."""

import asyncio
import json
import random
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from dispatch.accounts.principal import Principal
from dispatch.gate import service
from dispatch.gate.site_queue import SiteQueues
from tests.gate_support import dispatched_loads
from tests.integration.test_metrics import SCRAPER, TOKEN, Scrape
from tests.market_support import BERLIN

AT_GATE = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}


class Phone:
    """One driver's live socket, and every `tickets` frame it was sent."""

    def __init__(self, ws: ClientConnection, load: dict) -> None:
        self.ws = ws
        self.load = load
        self.frames: list[list[dict]] = []

    async def next_tickets(self, within_s: float = 30.0) -> list[dict]:
        async with asyncio.timeout(within_s):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame["type"] == "tickets":
                    self.frames.append(frame["tickets"])
                    return frame["tickets"]

    async def shows(self, expected: list[dict]) -> None:
        """Frames until one shows `expected` (a frame is a full state: an earlier change's may come
        first); none if the last one shows it (a change that left this driver's tickets as they were
        sends nothing)."""
        if self.frames and self.frames[-1] == expected:
            return
        while await self.next_tickets() != expected:
            pass


async def connected(stack: AsyncExitStack, server, load: dict) -> Phone:
    ws = await stack.enter_async_context(
        connect(f"{server.ws_url}/driver/v1/live", additional_headers=load["device"])
    )
    phone = Phone(ws, load)
    await phone.next_tickets()  # the state on connect
    return phone


async def rest_tickets(http: httpx.AsyncClient, load: dict) -> list[dict]:
    """What the phone's REST route says of the load's ticket ([] before check-in, after departure)."""
    r = await http.get(f"/driver/v1/loads/{load['id']}/ticket", headers=load["device"])
    assert r.status_code in (200, 404), r.text
    return [r.json()] if r.status_code == 200 else []


async def check_in(http: httpx.AsyncClient, load: dict) -> None:
    r = await http.post(f"/driver/v1/loads/{load['id']}/check-in", headers=load["device"], json=AT_GATE)
    assert r.status_code == 201, r.text


@pytest.mark.server
async def test_each_driver_sees_its_own_place_after_every_change(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http, AsyncExitStack() as stack:
        w = await dispatched_loads(http, settings, loads=5, docks=2)
        site, staff = w["site"]["id"], w["staff"].headers
        walk_in, *drivers = w["loads"]  # the first truck's driver has no socket open
        phones = [await connected(stack, server, load) for load in drivers]
        docks = [
            d["id"] for d in (await http.get(f"/gate/sites/{site}/board", headers=staff)).json()["docks"]
        ]

        async def everyone_current() -> None:
            for phone in phones:
                await phone.shows(await rest_tickets(http, phone.load))

        changes = [
            lambda: check_in(http, walk_in),
            *[lambda load=p.load: check_in(http, load) for p in reversed(phones)],
            lambda: http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": docks[0]}),
            lambda: http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": docks[1]}),
        ]
        for change in changes:
            await change()
            await everyone_current()
        # The queue as the phones saw it last: the walk-in and the last driver at the docks, the
        # others waiting behind them in the order they came.
        last = [p.frames[-1] for p in phones]
        assert [t[0]["position"] for t in last[:3]] == [3, 2, 1]
        assert last[3][0]["status"] == "called" and last[3][0]["position"] is None

        # A truck moves on: loading, loaded, departed; the next is called to the freed dock.
        called = last[3][0]
        for step in ("loading", "loaded"):
            assert (await http.post(f"/gate/tickets/{called['id']}/{step}", headers=staff)).status_code == 200
            await everyone_current()
        r = await http.post(
            f"/driver/v1/loads/{phones[3].load['id']}/depart", headers=phones[3].load["device"]
        )
        assert r.status_code == 200, r.text
        await everyone_current()
        assert phones[3].frames[-1] == []
        await http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": called["dock"]["id"]})
        await everyone_current()
        assert phones[2].frames[-1][0]["status"] == "called"
        assert [p.frames[-1][0]["position"] for p in phones[:2]] == [2, 1]

        # Never another driver's ticket, in any frame; and never the same state twice in a row (the
        # check-ins behind a driver, the trucks at the docks moving on, left its place as it was).
        for phone in phones:
            assert phone.frames and all(t["load_id"] == phone.load["id"] for f in phone.frames for t in f)
            assert all(a != b for a, b in zip(phone.frames, phone.frames[1:], strict=False)), phone.frames


async def queue_reads(base_url: str) -> float:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        r = await c.get("/metrics", headers=SCRAPER)
    assert r.status_code == 200, r.text
    return Scrape(r.text).value("dispatch_site_queue_reads_total")


@pytest.mark.server
async def test_one_queue_read_per_change_however_many_drivers_are_connected(server_factory, settings):
    server = server_factory(metrics_token=TOKEN)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=8, docks=2)
        site, staff = w["site"]["id"], w["staff"].headers
        docks = [
            d["id"] for d in (await http.get(f"/gate/sites/{site}/board", headers=staff)).json()["docks"]
        ]
        _walk_in, first, *others = w["loads"]  # the walk-in has no socket
        for load in w["loads"]:  # everyone waits in the yard, in this order
            await check_in(http, load)

        async def reads_for_one_call(phones: list[Phone], dock: str) -> float:
            """A call moves every waiting truck up one place: each connected driver gets a frame."""
            before = await queue_reads(server.base_url)
            r = await http.post(f"/gate/sites/{site}/call", headers=staff, json={"dock_id": dock})
            assert r.status_code == 200, r.text
            for phone in phones:
                await phone.shows(await rest_tickets(http, phone.load))
            return await queue_reads(server.base_url) - before

        # Sockets opened once the yard is still: nothing of an earlier change is left to read.
        async with AsyncExitStack() as stack:
            one = [await connected(stack, server, first)]
            assert await reads_for_one_call(one, docks[0]) == 1  # the walk-in called; `first` is next
        async with AsyncExitStack() as stack:
            many = [await connected(stack, server, load) for load in others]
            assert await reads_for_one_call(many, docks[1]) == 1  # `first` called; the six move up
            assert [p.frames[-1][0]["position"] for p in many] == [1, 2, 3, 4, 5, 6]


async def test_the_site_view_gives_every_ticket_what_ticket_view_gives_it(client, settings, db):
    """SITE_QUEUE_VIEW's places (a window function over the whole queue) against TICKET_VIEW's (a
    count before each ticket), with tickets of every kind in the yard: on time, late, walk-in and
    early ones, some at the same instant, trucks at docks and a history of service times."""
    w = await dispatched_loads(client, settings, loads=12, docks=2, places=2)
    site = UUID(w["site"]["id"])
    docks = [r["id"] for r in await db.fetch("SELECT id FROM docks WHERE site_id = $1 ORDER BY name", site)]
    rng = random.Random(7)
    now = datetime.now(UTC)
    slots = [None, None, now - timedelta(minutes=50), now - timedelta(minutes=5), now + timedelta(minutes=40)]
    for k, load in enumerate(w["loads"]):
        status, dock, called_at, done = "waiting", None, None, None
        if k < 2:  # at the docks
            status, dock, called_at = "loading", docks[k], now - timedelta(minutes=7 + k)
        elif k < 4:  # gone, with their service times
            status, dock, called_at = "departed", docks[k % 2], now - timedelta(minutes=90)
            done = now - timedelta(minutes=60 - k)
        await db.execute(
            "INSERT INTO queue_tickets (site_id, load_id, slot_start, arrived_at, arrival, checked_in_by,"
            " vehicle_type, status, dock_id, called_at, loading_completed_at)"
            " VALUES ($1, $2, $3, $4, 'walk_in', 'staff', 'flatbed', $5, $6, $7, $8)",
            site,
            UUID(load["id"]),
            rng.choice(slots),
            now - timedelta(minutes=rng.choice([1, 30, 30, 60])),
            status,
            dock,
            called_at,
            done,
        )
    view = await SiteQueues().view(db, site)
    tickets = [t for mine in view.by_driver.values() for t in mine]
    assert len(tickets) == 10 and {t.status for t in tickets} == {"waiting", "loading"}
    assert sorted(t.position for t in tickets if t.position) == list(range(1, 9))
    for t in tickets:
        assert t == await service.ticket_view(db, t.id)
    # Cut by driver and carrier: each driver gets its own ticket alone.
    for load in w["loads"][:2] + w["loads"][4:]:
        row = await db.fetchrow(
            "SELECT driver_user_id, carrier_org_id FROM loads WHERE id = $1", UUID(load["id"])
        )
        me = Principal(
            kind="device",
            user_id=row["driver_user_id"],
            org_id=row["carrier_org_id"],
            credential_id=None,
            permissions=frozenset(),
        )
        assert [str(t.load_id) for t in view.of_driver(me)] == [load["id"]]
