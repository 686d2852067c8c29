"""The drivers' live sockets' shared view of each site's queue, one per worker process.

Why: on every change in a site's yard (a check-in, a call, a truck moving on) every driver's live
socket at the site sends its driver a new `tickets` frame. Each socket reading its own tickets'
places (`service.driver_tickets`: one TICKET_VIEW per ticket, each counting the waiting tickets
ahead) is one statement per driver per change, each O(queue): with hundreds of drivers in the yard
the gate's busiest hour would be spent re-counting the same queue. Instead the first socket that
needs the site's queue after a change reads all of it in ONE statement (`queries.SITE_QUEUE_VIEW`:
every live ticket with its place, by a window function, and the site's facts); the sockets asking
while that read runs await the same read (single flight); each cuts its own driver's tickets from
it (the rule of DRIVER_TICKETS: the driver's loads in its carrier). The tickets are built exactly as
`service.ticket_view` builds one (`service.placed_ticket`), as of the read's instant.

Freshness, the rule: a socket is never served a view read before the change that woke it. This
process keeps its own subscription to the channel of each site a socket follows (`follow`); the
broker offers a notification to every subscriber of the channel in one go, so when a socket wakes
for a change, that change is already in this subscription. An ask first takes what it holds: if
anything came (or the broker's reconnect GAP), the site's generation goes up. A view serves an ask
only if its read started at (or after) the ask's generation; a read started then started after the
notification arrived, so after the change committed. A change arriving during a read makes the next
ask read again. The view of a site nobody follows any more is dropped with it. A socket that sends
its tickets for another reason (on connect, after its driver's own notification: that comes on
another channel and need not come after the site's) does not ask here: it reads its driver's
tickets alone (`service.driver_tickets`), which answers the same.

The site's tick, the pace: a site's queue is read for its changes at most about once every
TICKETS_EVERY_S on each worker, whatever the number of changes and sockets. A socket holding a
change asks `due` when it may ask for the view: at once if the view (or the read under way)
already holds every change this worker was told of, or if the site's last read started
TICKETS_EVERY_S ago or more (a change after a quiet time goes at once); else at the site's next
tick, its last read's start + TICKETS_EVERY_S. Every socket of the site that holds a change
meanwhile is given that same instant, so they come due together and share one read (the rule above
still decides whether a view serves them). Until session 23 each socket kept its own one-second
clock from its own last frame: the sockets of a busy yard came due at scattered instants, each a
little after a change, and each asked for a read of its own (~18 a second in the busy day's gate
phase, each ~800 rows). A socket following several sites waits for the latest tick among those whose
changes are not read yet; at that instant it may read another of its sites again a little before
that site's own tick (a driver with loads at two busy gates at once: rare).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.gate import queries
from dispatch.gate.models import Ticket
from dispatch.gate.notifications import site_channel
from dispatch.gate.service import placed_ticket
from dispatch.realtime.broker import Broker, Subscription

_DriverKey = tuple[UUID | None, UUID]  # (driver, carrier): DRIVER_TICKETS' rule

# A change at a site sends its drivers their tickets at most about this often (the site's tick, on
# each worker): the frame after a burst of changes (a busy gate calls trucks to its docks several
# times a second, each call moving every waiting truck up a place) shows the state after the burst,
# one read of the site's queue and one frame instead of one per change for every driver in the yard.
TICKETS_EVERY_S = 1.0


class SiteQueue:
    """A site's live tickets as read at one instant, by (driver, carrier). A driver's tickets are
    built when its socket asks for them, not for every row of the read: most rows are asked for by
    no socket of this worker before the next change replaces the view (the drivers on the other
    workers, those without a socket, those whose frame is not due), and building every ticket of a
    busy yard on every read was most of the read's cost in the worker."""

    __slots__ = ("_now", "_rows")

    def __init__(self, rows: dict[_DriverKey, list[asyncpg.Record]], now: datetime) -> None:
        self._rows = rows
        self._now = now

    @classmethod
    def of_rows(cls, rows: Iterable[asyncpg.Record], now: datetime) -> SiteQueue:
        by_driver: dict[_DriverKey, list[asyncpg.Record]] = {}
        for row in rows:
            by_driver.setdefault((row["driver_user_id"], row["carrier_org_id"]), []).append(row)
        return cls(by_driver, now)

    def of_driver(self, p: Principal) -> list[Ticket]:
        return self._tickets((p.user_id, p.org_id))

    @property
    def by_driver(self) -> dict[_DriverKey, list[Ticket]]:
        """Every driver's tickets (all of them built: a look at the whole view)."""
        return {key: self._tickets(key) for key in self._rows}

    def _tickets(self, key: _DriverKey) -> list[Ticket]:
        return [placed_ticket(row, self._now) for row in self._rows.get(key, ())]


@dataclass
class _Site:
    changes: Subscription  # this process's own: what came since the last ask
    followers: int = 1
    generation: int = 0
    view: SiteQueue | None = None
    view_generation: int = -1
    reading: asyncio.Future[SiteQueue] | None = field(default=None, repr=False)
    reading_generation: int = -1
    read_at: float = -math.inf  # the event loop's clock when its last read started (its tick)


class SiteQueues:
    """Per process: the view of each site some driver socket follows (see the module docstring)."""

    def __init__(
        self, on_read: Callable[[], object] = lambda: None, every_s: float = TICKETS_EVERY_S
    ) -> None:
        self._sites: dict[UUID, _Site] = {}
        self._on_read = on_read  # counts the reads (/metrics: dispatch_site_queue_reads)
        self.every_s = every_s

    async def follow(self, broker: Broker, site_id: UUID) -> None:
        """A socket follows the site: call before subscribing to the site's channel itself."""
        site = self._sites.get(site_id)
        if site is not None:
            site.followers += 1
            return
        changes = broker.subscribe(site_channel(site_id), maxsize=1)  # one queued is "changed"
        self._sites[site_id] = _Site(changes)
        try:
            await changes.__aenter__()
        except BaseException:  # the socket closed meanwhile (or the listener failed): not followed
            await self.unfollow(site_id)
            raise

    async def unfollow(self, site_id: UUID) -> None:
        site = self._sites.get(site_id)
        if site is None:
            return
        site.followers -= 1
        if site.followers == 0:
            del self._sites[site_id]
            await site.changes.close()

    def due(self, site_ids: Iterable[UUID]) -> float:
        """When a socket holding a change at these sites (those it follows) may ask for their views
        (the event loop's clock; now or earlier: at once): the latest next tick among the sites whose
        view does not hold yet what this process was told, or now (see the module docstring)."""
        due = asyncio.get_running_loop().time()
        for site_id in site_ids:
            site = self._sites.get(site_id)
            if site is None:
                continue
            want = self._told(site)
            in_view = site.view_generation >= want
            in_read = site.reading is not None and site.reading_generation >= want
            if not (in_view or in_read):
                due = max(due, site.read_at + self.every_s)
        return due

    @staticmethod
    def _told(site: _Site) -> int:
        """The generation an ask needs: what came on the site's channel since the last ask counted."""
        if site.changes.drain():
            site.generation += 1
        return site.generation

    async def driver_tickets(self, db: asyncpg.Pool, p: Principal, site_ids: Iterable[UUID]) -> list[Ticket]:
        """The driver's tickets at these sites (those its socket follows), as DRIVER_TICKETS orders them."""
        tickets: list[Ticket] = []
        for site_id in site_ids:  # one after the other: a fresh view is at hand, without a task
            tickets += (await self.view(db, site_id)).of_driver(p)
        return sorted(tickets, key=lambda t: t.arrived_at)

    async def view(self, db: asyncpg.Pool, site_id: UUID) -> SiteQueue:
        """The site's queue, read no earlier than the changes this process has been told of."""
        site = self._sites.get(site_id)
        if site is None:  # nobody follows it: nothing tells when a view would go stale
            return await self._read(db, site_id)
        want = self._told(site)
        if site.view is not None and site.view_generation >= want:
            return site.view
        if site.reading is None or site.reading_generation < want:
            reading = asyncio.ensure_future(self._read(db, site_id))
            site.reading, site.reading_generation = reading, want
            site.read_at = asyncio.get_running_loop().time()
            reading.add_done_callback(lambda r: self._keep(site, r, want))
        # Shielded: a socket that closes while waiting does not cancel the others' read.
        return await asyncio.shield(site.reading)

    @staticmethod
    def _keep(site: _Site, reading: asyncio.Future[SiteQueue], generation: int) -> None:
        if site.reading is reading:
            site.reading = None
        if reading.cancelled() or reading.exception() is not None:
            return  # every asker gets the error; the next ask reads again
        if generation > site.view_generation:
            site.view, site.view_generation = reading.result(), generation

    async def _read(self, db: asyncpg.Pool, site_id: UUID) -> SiteQueue:
        now = datetime.now(UTC)
        rows = await db.fetch(queries.SITE_QUEUE_VIEW, site_id, now)
        self._on_read()
        return SiteQueue.of_rows(rows, now)
