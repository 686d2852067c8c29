"""Reading a page of an organization's events, at once or after waiting for them (long-poll).

Waiting: the waiter subscribes to the `events` notification channel (migration 0015: every new event
notifies its organizations, delivered at commit) BEFORE its first read, so an event that commits
between the read and the wait still wakes it. A wake only means "read again": the feed
(`dispatch.events.read`) decides what is answered. It also reads again every FALLBACK_POLL_S
without a wake, because a committed event is readable only once every older transaction has ended
(the cursor's xmin rule): when the last of those ends without writing an event, nothing is notified,
and the waiter would otherwise sleep until its timeout on an event it could already answer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.errors import BadRequest
from dispatch.events.schemas import SCHEMAS
from dispatch.events.wire import EventOut, to_wire
from dispatch.realtime.broker import GAP, Broker, Subscription

CHANNEL = "events"  # notified by the trigger of migration 0015
FALLBACK_POLL_S = 1.0
MAX_WAIT_S = 30
MAX_LIMIT = 500
# `types` as the document states it: known types, comma-separated. The server checks it itself
# (parse_types) to name the unknown ones in its answer, rather than quote this pattern.
_ONE_TYPE = "|".join(re.escape(t) for t in sorted(SCHEMAS))
TYPES_PATTERN = f"^({_ONE_TYPE})(,({_ONE_TYPE}))*$"


class EventPage(msgspec.Struct, kw_only=True):
    items: list[EventOut]
    # The last item's cursor, or the request's `after` when there are none: pass it as `after` next.
    next_after: str


class RecentPage(msgspec.Struct, kw_only=True):
    """Newest first (for a person looking back; a consumer reads forward with GET /events)."""

    items: list[EventOut]
    # Pass as `before` for the next, older page; null when there is nothing older.
    next_before: str | None


class EventTypeOut(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    version: int
    summary: str


# The registry as the API answers it (GET /events/types): what an endpoint may subscribe to.
EVENT_TYPES = [
    EventTypeOut(type=name, version=known.version, summary=known.summary)
    for name, known in sorted(SCHEMAS.items())
]


def _field_error(field: str, reason: str, code: str = "validation_failed") -> BadRequest:
    return BadRequest(
        f"{field}: {reason}",
        code=code,
        params={"fields": [field]},
        errors=[{"field": field, "reason": reason, "source": "query"}],
    )


def parse_after(text: str | None) -> events.Cursor:
    if text is None or text == "":
        return events.START
    cursor = events.Cursor.parse(text)
    if cursor is None:
        raise _field_error("after", "not a cursor this API issued (<tx>.<id>)", code="bad_cursor")
    return cursor


def parse_before(text: str | None) -> events.Cursor | None:
    if text is None or text == "":
        return None
    cursor = events.Cursor.parse(text)
    if cursor is None:
        raise _field_error("before", "not a cursor this API issued (<tx>.<id>)", code="bad_cursor")
    return cursor


def parse_types(text: str | None) -> list[str] | None:
    if text is None:
        return None
    types = list(dict.fromkeys(text.split(",")))
    unknown = [repr(t) for t in types if t not in SCHEMAS]
    if unknown:
        raise _field_error("types", f"unknown event type(s): {', '.join(unknown[:5])} (see docs/events.md)")
    return types


async def page(
    db: asyncpg.Pool, org_id: UUID, after: events.Cursor, types: Sequence[str] | None, limit: int
) -> EventPage:
    async with db.acquire() as conn:
        found = await events.read(conn, after=after, org_id=org_id, types=types, limit=limit)
    items = [to_wire(e) for e in found]
    return EventPage(items=items, next_after=items[-1].cursor if items else str(after))


async def recent(
    db: asyncpg.Pool,
    org_id: UUID,
    before: events.Cursor | None,
    types: Sequence[str] | None,
    limit: int,
) -> RecentPage:
    async with db.acquire() as conn:
        found = await events.read_back(conn, org_id=org_id, before=before, types=types, limit=limit)
    items = [to_wire(e) for e in found]
    return RecentPage(items=items, next_before=items[-1].cursor if len(items) == limit else None)


async def wait_for_page(
    db: asyncpg.Pool,
    broker: Broker,
    org_id: UUID,
    after: events.Cursor,
    types: Sequence[str] | None,
    limit: int,
    wait_s: float,
) -> EventPage:
    """The next page as soon as it has something, or an empty one after `wait_s` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    async with broker.subscribe(CHANNEL, maxsize=64) as wakes:
        while True:
            found = await page(db, org_id, after, types, limit)
            remaining = deadline - loop.time()
            if found.items or remaining <= 0:
                return found
            await woken(wakes, org_id, min(FALLBACK_POLL_S, remaining))


async def woken(wakes: Subscription, org_id: UUID, within_s: float) -> None:
    """Return when an event of `org_id` was notified on `wakes`, or after `within_s` seconds."""
    loop = asyncio.get_running_loop()
    wake_by = loop.time() + within_s
    mine = str(org_id)
    try:
        while (left := wake_by - loop.time()) > 0:
            try:
                payload = await asyncio.wait_for(wakes.get(), left)
            except TimeoutError:
                return
            # Another organization's event does not concern this reader; a GAP (the listener
            # reconnected: notifications may be lost) or an overflow means: read again.
            if payload == GAP or wakes.overflowed or mine in payload.split(","):
                return
    finally:
        wakes.overflowed = False
