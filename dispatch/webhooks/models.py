"""Webhook wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.types import Input

Url = Annotated[str, Meta(min_length=8, max_length=2000, description="http:// or https:// URL")]
EventType = Annotated[str, Meta(pattern=r"^[a-z_]+(\.[a-z_]+)+$", max_length=100)]
EventTypes = Annotated[
    list[EventType],
    Meta(min_length=1, max_length=100, description="The event types sent; omitted or null: every type"),
]
Description = Annotated[str, Meta(max_length=500)]


class EndpointIn(Input, kw_only=True):
    url: Url
    event_types: EventTypes | None = None
    description: Description = ""
    paused: bool = False


class EndpointPatch(Input, kw_only=True):
    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType | None = UNSET
    description: Description | UnsetType = UNSET
    # false also resumes an endpoint disabled after failing past the retry horizon.
    paused: bool | UnsetType = UNSET


class LastAttempt(msgspec.Struct, kw_only=True):
    attempted_at: datetime
    # null: no HTTP answer (refused address, connection failed, timed out).
    status_code: int | None
    ok: bool
    latency_ms: int
    response_excerpt: str


class Endpoint(msgspec.Struct, kw_only=True):
    id: UUID
    url: str
    event_types: list[str] | None
    description: str
    paused: bool
    # Set when deliveries failed past the retry horizon; PATCH paused=false resumes it.
    disabled_at: datetime | None
    created_at: datetime
    # Only in the answers to creating the endpoint and rotating its secret: never shown again.
    secret: str | None = None
    # After a rotation: until when the previous secret still signs beside the new one.
    previous_secret_until: datetime | None = None
    # In the answers of GET (list and one): the newest attempt of any delivery to this endpoint, and
    # while deliveries wait after failed attempts, since when (null when nothing is failing).
    last_attempt: LastAttempt | None = None
    failing_since: datetime | None = None


class RedeliverIn(Input, kw_only=True):
    event_id: Annotated[str, Meta(pattern=r"^evt_[0-9]{1,18}$", description="An event's id (evt_<n>)")]


class DeliveryQueued(msgspec.Struct, kw_only=True):
    # null for a test event: its delivery is made by the fan-out, like every event's.
    delivery_id: int | None
    event_id: str


class Delivery(msgspec.Struct, kw_only=True):
    id: int
    event_id: str
    event_type: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(msgspec.Struct, kw_only=True):
    items: list[Delivery]
    # Pass as `before` for the next (older) page; null at the end.
    next_before: int | None


class Attempt(msgspec.Struct, kw_only=True):
    attempted_at: datetime
    # null: no HTTP answer (refused address, connection failed, timed out).
    status_code: int | None
    latency_ms: int
    ok: bool
    response_excerpt: str


class EndpointAttempt(msgspec.Struct, kw_only=True):
    """One attempt with the event it tried to deliver: an endpoint's attempts log."""

    id: int
    attempted_at: datetime
    event_id: str
    event_type: str
    delivery_id: int
    # The delivery's state now (a failed attempt may since have been delivered by a later one).
    delivery_state: Literal["pending", "delivered", "failed"]
    # null: no HTTP answer (refused address, connection failed, timed out).
    status_code: int | None
    latency_ms: int
    ok: bool
    response_excerpt: str


class AttemptPage(msgspec.Struct, kw_only=True):
    items: list[EndpointAttempt]
    # Pass as `before` for the next (older) page; null at the end.
    next_before: int | None
