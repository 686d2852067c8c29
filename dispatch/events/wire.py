"""An event as the parties' systems receive it, from the events API and in a webhook's body alike:
the same JSON for both, so a consumer can switch between polling and webhooks without a new parser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from dispatch.events.feed import FeedEvent


class Subject(msgspec.Struct, frozen=True, kw_only=True):
    type: str  # "job", "load", "authorization", ...
    id: str


class EventOut(msgspec.Struct, frozen=True, kw_only=True):
    # Stable for ever: the webhook-id of every delivery of this event, and what a consumer dedupes by.
    id: str
    # Where this event sits in the feed: pass it as `after` to read what follows.
    cursor: str
    type: str
    # The version of `data`'s schema for this type; a change that is not additive is a new version.
    version: int
    occurred_at: datetime
    subject: Subject
    data: dict[str, Any]


def to_wire(event: FeedEvent, version: int = 1) -> EventOut:
    return EventOut(
        id=f"evt_{event.id}",
        cursor=str(event.cursor),
        type=event.type,
        version=version,
        occurred_at=event.occurred_at,
        subject=Subject(type=event.subject_type, id=event.subject_id),
        data=event.data,
    )
