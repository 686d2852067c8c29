"""The driver socket's wake-up (driver_api/live.py, `_Inbox`): its subscriptions share one event,
set by every offer on the driver's channel and by a site's unless a site's change is held back;
what came waits in its subscription, so a wait cut short (a ping, the phone closing) loses nothing,
and a held change is kept for the frame sent when it is due. On the real broker (PostgreSQL's
LISTEN/NOTIFY): one listening connection delivers in order, so once a marker published after a
notification has arrived, that notification has been offered."""

from __future__ import annotations

import asyncio
import contextlib
from uuid import uuid4

from dispatch.gate.notifications import driver_channel, site_channel
from dispatch.gate.site_queue import SiteQueues
from dispatch.realtime.broker import PgBroker
from driver_api.live import _Inbox

MARKER = "test_wakeup_marker"


async def test_one_event_wakes_the_socket_a_held_change_waits_and_nothing_is_lost(settings, db):
    broker = PgBroker(settings.database_url)
    await broker.start()
    inbox = _Inbox(SiteQueues())
    marker = broker.subscribe(MARKER, maxsize=16)
    try:
        await marker.__aenter__()
        driver, site = uuid4(), uuid4()
        personal = await inbox.follow(broker, driver_channel(driver))
        await inbox.follow_site(broker, site)
        loop = asyncio.get_running_loop()

        async def published(channel: str, payload: str = "{}") -> None:
            """Published, and offered to the subscribers (the marker after it has arrived)."""
            await broker.publish(db, channel, payload)
            await broker.publish(db, MARKER, "{}")
            await marker.get()

        # A wait cut short (as by a keepalive ping) loses nothing: the change waits, the event is set.
        waiting = asyncio.ensure_future(inbox.woken())
        await asyncio.sleep(0)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await published(site_channel(site))
        await inbox.woken()
        assert inbox.sites_changed()
        assert not inbox.sites_changed()  # drained

        # Held back: the site's changes wait without waking the socket; the driver's own channel wakes it.
        inbox.hold_sites(until=loop.time() + 3600)
        await published(site_channel(site))
        assert not inbox._wake.is_set()
        await published(driver_channel(driver), '{"e": "message"}')
        await inbox.woken()
        assert personal.drain() == ['{"e": "message"}']
        assert inbox.sites_changed()  # the change held back is still there for the frame when due

        # When the held change is due, the socket is woken.
        await published(site_channel(site))
        inbox.hold_sites(until=loop.time())
        await inbox.woken()
        assert inbox.sites_changed()

        # No longer held: a site's change wakes it again.
        inbox.hold_sites(until=None)
        await published(site_channel(site))
        assert inbox._wake.is_set()
    finally:
        await inbox.close()
        await marker.close()
        await broker.close()
