"""An event as the parties' systems receive it, from the events API and in a webhook's body alike:
the same JSON for both, so a consumer can switch between polling and webhooks without a new parser."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from dispatch.events.feed import FeedEvent
from dispatch.events.schemas import version_of

# The documents a load's events link to, by the event types after which each exists: the waybill
# once the load is loaded, the proof of delivery once it is received (routes: docs22 slice).
WAYBILL_FROM = frozenset(
    {
        "load.loaded",
        "load.departed",
        "load.left_origin",
        "load.stopped",
        "load.moving",
        "load.arrived",
        "load.received",
    }
)
PROOF_OF_DELIVERY_FROM = frozenset({"load.received"})


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
    # Documents about the subject, by name ("waybill", "proof_of_delivery"): paths on this API.
    links: dict[str, str] = msgspec.field(default_factory=dict)


def links_of(event_type: str, subject_type: str, subject_id: str) -> dict[str, str]:
    if subject_type != "load":
        return {}
    base = f"/loads/{subject_id}/documents"
    links = {}
    if event_type in WAYBILL_FROM:
        links["waybill"] = f"{base}/waybill.pdf"
    if event_type in PROOF_OF_DELIVERY_FROM:
        links["proof_of_delivery"] = f"{base}/proof-of-delivery.pdf"
    return links


def to_wire(event: FeedEvent, version: int | None = None) -> EventOut:
    """`version`: the data schema's version, by default the type's current one (schemas.SCHEMAS)."""
    return EventOut(
        id=f"evt_{event.id}",
        cursor=str(event.cursor),
        type=event.type,
        version=version_of(event.type) if version is None else version,
        occurred_at=event.occurred_at,
        subject=Subject(type=event.subject_type, id=event.subject_id),
        data=event.data,
        links=links_of(event.type, event.subject_type, event.subject_id),
    )
