"""Reading the outbox in commit-safe order, for the events API and the webhook dispatcher.

A cursor is (tx, id): the transaction that wrote the event and the event's id, in that order. A read
returns only events whose transaction is older than the oldest one still running in the reader's
snapshot (`pg_snapshot_xmin(pg_current_snapshot())`): every such transaction has ended, so no event
can appear later at a position the reader has passed. An event of a transaction still running is
withheld until it ends (a long transaction anywhere delays the feed; it never loses an event)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from asyncpg import Record

from dispatch.db import Conn
from dispatch.events import queries

_CURSOR = re.compile(r"^(\d{1,20})\.(\d{1,19})$")


class Cursor(msgspec.Struct, frozen=True, order=True):
    """A position in the feed: after the event (tx, id). `Cursor.START` is before every event."""

    tx: int
    id: int

    def __str__(self) -> str:
        return f"{self.tx}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """ "<tx>.<id>" as `str()` writes it; None when it is not one (the caller answers 400)."""
        m = _CURSOR.match(text)
        if m is None or int(m.group(1)) >= 2**64 or int(m.group(2)) >= 2**63:
            return None
        return cls(int(m.group(1)), int(m.group(2)))


START = Cursor(0, 0)


class FeedEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    cursor: Cursor
    occurred_at: datetime
    type: str
    org_ids: list[UUID]
    subject_type: str
    subject_id: str
    actor_user_id: UUID | None
    data: dict[str, Any]


async def read(
    conn: Conn,
    *,
    after: Cursor = START,
    org_id: UUID | None = None,
    types: Sequence[str] | None = None,
    limit: int = 100,
) -> list[FeedEvent]:
    """The events after `after` in feed order, at most `limit`; only those concerning `org_id` (one
    of its `org_ids`) when given, only `types` when given. Events of transactions still running are
    not returned yet: the next read after they end returns them."""
    rows = await conn.fetch(
        queries.READ_FEED, str(after.tx), after.id, org_id, list(types) if types else None, limit
    )
    return [_event(r) for r in rows]


async def read_back(
    conn: Conn,
    *,
    org_id: UUID,
    before: Cursor | None = None,
    types: Sequence[str] | None = None,
    limit: int = 100,
) -> list[FeedEvent]:
    """The events concerning `org_id` before `before` (None: the newest), newest first: for a person
    looking back through them. A consumer that must see every event reads forward with `read`."""
    rows = await conn.fetch(
        queries.READ_FEED_BACK,
        None if before is None else str(before.tx),
        0 if before is None else before.id,
        org_id,
        list(types) if types else None,
        limit,
    )
    return [_event(r) for r in rows]


async def find(conn: Conn, event_id: int, *, org_id: UUID) -> FeedEvent | None:
    """One event of the feed concerning `org_id` (to redeliver it); None when there is none, or it
    is not in the feed yet (its transaction is still running)."""
    row = await conn.fetchrow(queries.FIND_EVENT, event_id, org_id)
    return None if row is None else _event(row)


def _event(r: Record) -> FeedEvent:
    return FeedEvent(
        id=r["id"],
        cursor=Cursor(int(r["tx_text"]), r["id"]),
        occurred_at=r["occurred_at"],
        type=r["type"],
        org_ids=list(r["org_ids"]),
        subject_type=r["subject_type"],
        subject_id=r["subject_id"],
        actor_user_id=r["actor_user_id"],
        data=r["data"],
    )
