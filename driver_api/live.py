"""The driver's live socket: assignments, place in the queue and estimated wait, "go to dock N",
messages from the dispatcher. Authenticated (device token) before it is accepted.

Frames (JSON): `assignments` {loads} and `tickets` {tickets} on connect and whenever they change,
`called` {load_id, dock}, `message` {load_id, text}, and `ping` every 25 s of silence (phones and
carrier NATs drop idle connections). Every frame is a full state, so a reconnecting app just
takes the first frames it gets. A phone that stops reading (one send waits 10 s) is closed with 4008.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from dispatch.deps import Caller, RuntimeDep
from dispatch.gate import service as gate
from dispatch.gate.notifications import driver_channel, site_channel
from dispatch.loads import service as loads
from dispatch.realtime.broker import Subscription
from dispatch.realtime.sending import Sender, close_too_slow

KEEPALIVE_S = 25.0
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@websocket("/live")
async def driver_live(socket: WebSocket[Any, Any, Any], runtime: RuntimeDep, p: Caller) -> None:
    assert p.user_id is not None
    broker = runtime.broker
    personal = broker.subscribe(driver_channel(p.user_id), maxsize=64)
    sites: dict[Any, Subscription] = {}
    sender = Sender(socket)
    await socket.accept()

    async def send_state() -> None:
        assignments = await loads.driver_loads(runtime.db, runtime.settings.secret_key, p)
        await sender.send(_encode({"type": "assignments", "loads": assignments}))
        await send_tickets()
        for site_id in set(await gate.driver_sites(runtime.db, p)) - set(sites):
            sites[site_id] = broker.subscribe(site_channel(site_id), maxsize=16)
            await sites[site_id].__aenter__()

    async def send_tickets() -> None:
        await sender.send(_encode({"type": "tickets", "tickets": await gate.driver_tickets(runtime.db, p)}))

    async with personal:
        reader = asyncio.get_running_loop().create_task(_until_closed(socket))
        try:
            await send_state()
            while not reader.done():
                getters: dict[asyncio.Future[Any], Subscription] = {
                    asyncio.ensure_future(s.get()): s for s in [personal, *sites.values()]
                }
                done, _ = await asyncio.wait(
                    {*getters, reader}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED
                )
                for g in getters:
                    if g not in done:
                        g.cancel()
                if reader in done:
                    break
                if not done:
                    await sender.send(b'{"type":"ping"}')
                    continue
                site_changed = False
                for g in done:
                    source = getters[g]
                    if source is personal:
                        await _personal(sender, _decode(g.result()), send_state, send_tickets)
                    else:
                        source.drain()
                        site_changed = True
                if site_changed:
                    await send_tickets()
        except TimeoutError:  # a send waited SEND_TIMEOUT_S: the phone stopped reading
            await close_too_slow(socket, "too slow: reconnect")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await reader
            for sub in sites.values():
                await sub.close()


async def _personal(sender: Sender, event: dict[str, Any], send_state: Any, send_tickets: Any) -> None:
    kind = event.get("e")
    if kind == "called":
        await sender.send(_encode({"type": "called", "load_id": event["load_id"], "dock": event["dock"]}))
        await send_tickets()
    elif kind == "message":
        await sender.send(_encode({"type": "message", "load_id": event["load_id"], "text": event["text"]}))
    else:
        await send_state()


async def _until_closed(socket: WebSocket[Any, Any, Any]) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await socket.receive_data(mode="text")
