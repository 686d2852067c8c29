"""The outbox writer: a state change records its event on the same connection, inside the
transaction that makes the change, so an event exists exactly when the change committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from uuid import UUID

from dispatch.db import Conn
from dispatch.events import queries


async def record(
    conn: Conn,
    type: str,
    *,
    org_ids: Sequence[UUID],
    subject_type: str,
    subject_id: UUID | str,
    actor_user_id: UUID | None,
    data: dict[str, Any] | None = None,
) -> int:
    assert conn.is_in_transaction(), "events are written in the transaction of the change they record"
    row = pending(
        type,
        org_ids=org_ids,
        subject_type=subject_type,
        subject_id=subject_id,
        actor_user_id=actor_user_id,
        data=data,
    )
    event_id: int = await conn.fetchval(queries.INSERT_EVENT, *row)
    return event_id


class PendingEvent(NamedTuple):
    """An event's row, INSERT_EVENT's parameters in their order, for a statement that writes it
    together with its change (the grab's award is one statement: dispatch/market/README.md)."""

    type: str
    org_ids: list[UUID]
    subject_type: str
    subject_id: str
    actor_user_id: UUID | None
    data: dict[str, Any]


def pending(
    type: str,
    *,
    org_ids: Sequence[UUID],
    subject_type: str,
    subject_id: UUID | str,
    actor_user_id: UUID | None,
    data: dict[str, Any] | None = None,
) -> PendingEvent:
    """The row `record` would write, for the statement of the change to write it: the same values,
    so the event is the same whichever way it is written."""
    return PendingEvent(
        type, list(dict.fromkeys(org_ids)), subject_type, str(subject_id), actor_user_id, data or {}
    )
