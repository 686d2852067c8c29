"""The outbox writer: a state change records its event on the same connection, inside the
transaction that makes the change, so an event exists exactly when the change committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
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
    event_id: int = await conn.fetchval(
        queries.INSERT_EVENT,
        type,
        list(dict.fromkeys(org_ids)),
        subject_type,
        str(subject_id),
        actor_user_id,
        data or {},
    )
    return event_id
