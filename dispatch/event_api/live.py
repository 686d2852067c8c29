"""websocket /events/live?after=&types=: the organization's events as they become readable, one
EventOut per text frame, in feed order. A consumer that reconnects with the last `cursor` it
processed gets everything after it, nothing before (the same feed and cursor as GET /events)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import WebSocket, websocket
from litestar.params import QueryParameter

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.event_api import service
from dispatch.realtime.session import live_session

PAGE = 100  # events read per query; a socket behind by more reads on at once
KEEPALIVE_S = 25.0

_encode = msgspec.json.Encoder().encode


@websocket("/events/live", guards=[requires(Permission.READ_EVENTS)])
async def events_live(
    socket: WebSocket[Any, Any, Any],
    runtime: RuntimeDep,
    p: Caller,
    after: Annotated[str | None, QueryParameter(max_length=41)] = None,
    types: Annotated[str | None, QueryParameter(max_length=2000)] = None,
) -> None:
    cursor = service.parse_after(after)  # a bad one refuses the upgrade with the 400 of GET /events
    wanted = service.parse_types(types)
    async with (
        runtime.broker.subscribe(service.CHANNEL, maxsize=64) as wakes,
        live_session(
            socket, too_slow_reason="too slow: reconnect with your last cursor", keepalive_s=KEEPALIVE_S
        ) as live,
    ):
        while True:
            found = await service.page(runtime.db, p.org_id, cursor, wanted, PAGE)
            for item in found.items:
                await live.send(_encode(item))
            cursor = service.parse_after(found.next_after)
            if len(found.items) < PAGE:
                await live.next(lambda: service.woken(wakes, p.org_id, service.FALLBACK_POLL_S))
