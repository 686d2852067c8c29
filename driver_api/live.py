"""The driver's live socket: assignments, place in the queue and estimated wait, "go to dock N",
messages from the dispatcher. Authenticated (device token) before it is accepted.

Frames (JSON): `assignments` {loads} and `tickets` {tickets} on connect and whenever they change,
`called` {load_id, dock}, `message` {load_id, text}, `inbox` {message} for every message stored for
the driver (a dock call, the dispatcher's text, a lapsed booking: the item that
`GET /driver/v1/messages` lists, id included), and `ping` every 25 s of silence (phones and carrier
NATs drop idle connections). The state frames are full states, so a reconnecting app just takes
the first frames it gets, and catches up on the messages it missed with
`GET /driver/v1/messages?after=<id>`. A phone that stops reading (one send waits 10 s) is closed
with 4008.

The `tickets` frames are cut from the worker's shared view of each site's queue
(dispatch/gate/site_queue.py): on a change at a site the first socket to ask reads the site's queue
once, the others share that read; the frames are what `gate.driver_tickets` answers. A change in
the yard that leaves the driver's tickets as they were (a truck checking in behind, a truck at a dock
moving on) sends this driver nothing: a `tickets` frame is sent only when it differs from the last
one the socket sent (with hundreds of trucks in the yard most changes leave most drivers' places as
they were, and the frame's send is most of what a change costs the worker). After a change at a
site the tickets are worked out on the site's tick (`TICKETS_EVERY_S` in site_queue.py, one clock
per site on each worker: `SiteQueues.due`): at once after a quiet time, else when the site's last
read is a second old, together with every other socket of the site holding a change, all served by
one read. A burst of changes (calls to several docks, every one moving every waiting truck up a
place) gives the driver one frame with the state after it, within a second. The driver's own call
(`called`) and its tickets go at once.
The sockets that got the same read go on a batch per iteration of the worker's event loop
(dispatch/realtime/turns.py), so a burst of hundreds never holds the worker's other work (a GPS
batch's frames to its watchers) behind all of it.

What a socket costs the worker, the busy day's gate phase being hundreds of these: its
subscriptions (the driver's channel, its sites') wake it through one event of its own (`_Inbox`:
no task per subscription, no `asyncio.wait` per wake), and its frames are written to the
transport at once while the phone keeps up (dispatch/realtime/sending.py; the bounded ASGI send,
in order behind them, when it does not).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket

from dispatch.accounts.principal import Principal
from dispatch.deps import Caller, RuntimeDep
from dispatch.gate import service as gate
from dispatch.gate.assignments import driver_assignments
from dispatch.gate.notifications import driver_channel, site_channel
from dispatch.gate.site_queue import SiteQueues
from dispatch.realtime.broker import GAP, Broker, Subscription
from dispatch.realtime.session import LiveSession, live_session
from dispatch.runtime import Runtime

KEEPALIVE_S = 25.0
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@websocket("/live")
async def driver_live(socket: WebSocket[Any, Any, Any], runtime: RuntimeDep, p: Caller) -> None:
    assert p.user_id is not None
    inbox = _Inbox(runtime.site_queues)
    try:
        async with live_session(
            socket, too_slow_reason="too slow: reconnect", keepalive_s=KEEPALIVE_S
        ) as live:
            personal = await inbox.follow(runtime.broker, driver_channel(p.user_id))
            phone = _Phone(live, runtime, p, inbox)
            await phone.send_state()
            loop = asyncio.get_running_loop()
            site_changed = False  # a change at a site not yet sent (held back to the site's tick)
            due: float | None = None  # when the held change goes: its site's tick (SiteQueues.due)
            while True:
                await live.next(inbox.woken)
                for payload in personal.drain():
                    if payload == GAP:  # the listener reconnected: what was missed is unknown, so
                        await phone.send_state()  # the whole state (messages: GET .../messages?after=)
                    else:
                        await phone.personal(_decode(payload))
                site_changed = inbox.sites_changed() or site_changed
                if not site_changed:
                    continue
                if due is None:  # kept once given: the sockets held to one tick all go at it
                    due = runtime.site_queues.due(inbox.sites)
                if loop.time() >= due:
                    # The changes drained above are in the view the tickets are cut from (the
                    # worker's own subscription got them in the same go: site_queue.py).
                    site_changed, due = False, None
                    inbox.hold_sites(until=None)
                    await phone.send_tickets(site_changed=True)
                else:
                    # Held back until the site's tick, and meanwhile only the driver's own channel
                    # wakes the socket: the site's further changes wait in its subscription, so a
                    # busy yard wakes each socket about twice a second (its first change after a
                    # tick, then the tick), not once per change.
                    inbox.hold_sites(until=due)
    finally:
        await inbox.close()


class _Inbox:
    """The driver's subscriptions (its own channel, its sites'), with one wake-up for them all: an
    offer on any of them sets the socket's event (a site's only while none of its changes is held
    back), and what came is then drained. No task per subscription and none per wake; a wait that
    ends early (a keepalive ping, the phone closing) loses nothing, as the notifications wait in
    their subscriptions and the event stays set."""

    def __init__(self, queues: SiteQueues) -> None:
        self.queues = queues
        self.sites: dict[UUID, Subscription] = {}
        self._subscriptions: list[Subscription] = []
        self._wake = asyncio.Event()
        self._holding = False  # a site's change is held back: the sites' offers do not wake
        self._alarm: asyncio.TimerHandle | None = None  # wakes the socket when the held change is due

    async def follow(self, broker: Broker, channel: str) -> Subscription:
        """The driver's own channel: every offer wakes the socket."""
        return await self._follow(broker.subscribe(channel, maxsize=64, on_offer=self._wake.set))

    async def _follow(self, subscription: Subscription) -> Subscription:
        self._subscriptions.append(subscription)
        return await subscription.__aenter__()

    async def woken(self) -> None:
        """Until something came on a subscription (or a held change is due)."""
        await self._wake.wait()
        self._wake.clear()

    def sites_changed(self) -> bool:
        """Whether a change came at a site since the last call (what came is drained)."""
        changed = False
        for sub in self.sites.values():
            if sub.drain():
                changed = True
        return changed

    def hold_sites(self, *, until: float | None) -> None:
        """Hold the sites' changes back until `until` (the event loop's clock: the socket is woken
        then), or stop holding them (None)."""
        self._holding = until is not None
        if self._alarm is not None and (until is None or self._alarm.when() != until):
            self._alarm.cancel()
            self._alarm = None
        if until is not None and self._alarm is None:
            self._alarm = asyncio.get_running_loop().call_at(until, self._due)

    def _due(self) -> None:
        self._alarm = None
        self._wake.set()

    def _site_offered(self) -> None:
        if not self._holding:
            self._wake.set()

    async def follow_site(self, broker: Broker, site_id: UUID) -> None:
        await self.queues.follow(broker, site_id)  # first: it must see every change this one sees
        try:
            subscription = broker.subscribe(site_channel(site_id), maxsize=16, on_offer=self._site_offered)
            self.sites[site_id] = await self._follow(subscription)
        except BaseException:
            await self.queues.unfollow(site_id)
            raise

    async def close(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()
        for sub in self._subscriptions:
            await sub.close()
        for site_id in self.sites:
            await self.queues.unfollow(site_id)


class _Phone:
    """What the driver's phone is sent."""

    def __init__(self, live: LiveSession, runtime: Runtime, p: Principal, inbox: _Inbox) -> None:
        self.send = live.send
        self.runtime = runtime
        self.p = p
        self.inbox = inbox
        self.last_tickets: bytes | None = None  # the last `tickets` frame sent

    async def send_state(self) -> None:
        # The sites followed before the tickets are cut from them.
        for site_id in set(await gate.driver_sites(self.runtime.db, self.p)) - set(self.inbox.sites):
            await self.inbox.follow_site(self.runtime.broker, site_id)
        assignments = await driver_assignments(self.runtime.db, self.runtime.settings.secret_key, self.p)
        await self.send(_encode({"type": "assignments", "loads": assignments}))
        await self.send_tickets(site_changed=False)

    async def send_tickets(self, *, site_changed: bool) -> None:
        """The driver's tickets: after a site's change, cut from the worker's shared view of the
        sites' queues (one read per site's tick, whatever the number of drivers: see site_queue.py);
        otherwise (on connect, after the driver's own notification, which need not come after the
        site's) read for this driver alone, as `GET .../ticket` reads them."""
        if site_changed:
            tickets = await self.runtime.site_queues.driver_tickets(self.runtime.db, self.p, self.inbox.sites)
            # Every socket of the site got the same read at once: the frames go a batch per
            # iteration of the event loop, with the worker's other work in between (turns.py).
            await self.runtime.turns.take()
        else:
            tickets = await gate.driver_tickets(self.runtime.db, self.p)
        frame = _encode({"type": "tickets", "tickets": tickets})
        if frame != self.last_tickets:  # "whenever they change": the same state is not sent twice
            await self.send(frame)
            self.last_tickets = frame

    async def personal(self, event: dict[str, Any]) -> None:
        match event.get("e"):
            case "called":
                await self.send(
                    _encode({"type": "called", "load_id": event["load_id"], "dock": event["dock"]})
                )
                await self.send_tickets(site_changed=False)
            case "message":
                await self.send(
                    _encode({"type": "message", "load_id": event["load_id"], "text": event["text"]})
                )
            case _:
                await self.send_state()
        if "stored" in event:
            await self.send(_encode({"type": "inbox", "message": event["stored"]}))
