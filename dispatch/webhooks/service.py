"""Webhook endpoints: what an organization registers, rotates, pauses, tests and looks at."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.db import Queryable
from dispatch.errors import NotFound, Unprocessable
from dispatch.events.wire import to_wire
from dispatch.webhooks import queries, sealing, signing
from dispatch.webhooks.addresses import AddressRefused, check_url
from dispatch.webhooks.models import (
    Attempt,
    AttemptPage,
    Delivery,
    DeliveryPage,
    DeliveryQueued,
    Endpoint,
    EndpointAttempt,
    EndpointIn,
    EndpointPatch,
    LastAttempt,
)

TEST_EVENT = "webhook.test"
DISABLED_EVENT = "webhook.endpoint_disabled"
SUBJECT = "webhook_endpoint"


def endpoint_out(row: asyncpg.Record, *, secret: str | None = None) -> Endpoint:
    """The endpoint as its organization sees it; `secret` (in clear) only in the answers that show it."""
    return Endpoint(
        id=row["id"],
        url=row["url"],
        event_types=row["event_types"],
        description=row["description"],
        paused=row["paused"],
        disabled_at=row["disabled_at"],
        created_at=row["created_at"],
        secret=secret,
        previous_secret_until=row["previous_until"] if secret is not None else None,
        last_attempt=_last_attempt(row),
        failing_since=row.get("failing_since"),
    )


def _last_attempt(row: asyncpg.Record) -> LastAttempt | None:
    """Only rows read with ENDPOINT_STATE carry it."""
    if row.get("last_attempted_at") is None:
        return None
    return LastAttempt(
        attempted_at=row["last_attempted_at"],
        status_code=row["last_status_code"],
        ok=row["last_ok"],
        latency_ms=row["last_latency_ms"],
        response_excerpt=row["last_excerpt"],
    )


async def _checked(url: str, allow: Sequence[str]) -> str:
    try:
        await check_url(url, allow)
    except AddressRefused as exc:
        raise Unprocessable(
            f"The webhook URL is refused: {exc}.",
            code="webhook_url_refused",
            params={"reason": str(exc)},
            errors=[{"field": "$.url", "reason": str(exc), "source": "body"}],
        ) from None
    return url


async def create(
    db: asyncpg.Pool, secret_key: str, p: Principal, body: EndpointIn, allow: Sequence[str]
) -> Endpoint:
    url = await _checked(body.url, allow)
    secret = signing.new_secret()
    row = await db.fetchrow(
        queries.INSERT_ENDPOINT,
        p.org_id,
        url,
        body.event_types,
        body.description,
        body.paused,
        sealing.seal(secret_key, p.org_id, secret),
    )
    assert row is not None
    return endpoint_out(row, secret=secret)


async def list_endpoints(db: asyncpg.Pool, p: Principal) -> list[Endpoint]:
    return [endpoint_out(r) for r in await db.fetch(queries.ENDPOINTS, p.org_id)]


async def get(db: asyncpg.Pool, p: Principal, endpoint_id: UUID) -> Endpoint:
    row = await db.fetchrow(queries.ENDPOINT_STATE, endpoint_id, p.org_id)
    if row is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return endpoint_out(row)


async def _endpoint(db: Queryable, p: Principal, endpoint_id: UUID) -> asyncpg.Record:
    row = await db.fetchrow(queries.ENDPOINT, endpoint_id, p.org_id)
    if row is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return row


async def update(
    db: asyncpg.Pool, p: Principal, endpoint_id: UUID, body: EndpointPatch, allow: Sequence[str]
) -> Endpoint:
    url = None if body.url is msgspec.UNSET else await _checked(body.url, allow)
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.ENDPOINT_FOR_UPDATE, endpoint_id, p.org_id)
        if row is None:
            raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
        paused = row["paused"] if body.paused is msgspec.UNSET else body.paused
        # Resuming (paused: false) also lifts a disable: what waited is due again, from its first try.
        resumed = body.paused is False and (row["paused"] or row["disabled_at"] is not None)
        updated = await conn.fetchrow(
            queries.UPDATE_ENDPOINT,
            endpoint_id,
            p.org_id,
            row["url"] if url is None else url,
            row["event_types"] if body.event_types is msgspec.UNSET else body.event_types,
            row["description"] if body.description is msgspec.UNSET else body.description,
            paused,
            None if resumed else row["disabled_at"],
        )
        assert updated is not None
        if resumed:
            await conn.execute(queries.RESUME_DELIVERIES, endpoint_id)
    return endpoint_out(updated)


async def delete(db: asyncpg.Pool, p: Principal, endpoint_id: UUID) -> None:
    if await db.execute(queries.DELETE_ENDPOINT, endpoint_id, p.org_id) == "UPDATE 0":
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")


async def rotate_secret(
    db: asyncpg.Pool, secret_key: str, p: Principal, endpoint_id: UUID, grace_s: int
) -> Endpoint:
    secret = signing.new_secret()
    sealed = sealing.seal(secret_key, p.org_id, secret)
    row = await db.fetchrow(queries.ROTATE_SECRET, endpoint_id, p.org_id, float(grace_s), sealed)
    if row is None:
        raise NotFound("No such webhook endpoint.", code="webhook_endpoint_not_found")
    return endpoint_out(row, secret=secret)


async def send_test(db: asyncpg.Pool, p: Principal, endpoint_id: UUID) -> DeliveryQueued:
    """A `webhook.test` event, sent to this endpoint alone (the fan-out sends it nowhere else)."""
    async with db.acquire() as conn, conn.transaction():
        await _endpoint(conn, p, endpoint_id)
        event_id = await events.record(
            conn,
            "webhook.test",
            org_ids=[p.org_id],
            subject_type=SUBJECT,
            subject_id=endpoint_id,
            actor_user_id=p.user_id,
            data={"endpoint_id": str(endpoint_id)},
        )
    return DeliveryQueued(delivery_id=None, event_id=f"evt_{event_id}")


async def redeliver(db: asyncpg.Pool, p: Principal, endpoint_id: UUID, event_ref: str) -> DeliveryQueued:
    """Any event of the organization's feed, sent (again) to this endpoint, after what waits of its
    subject there."""
    async with db.acquire() as conn, conn.transaction():
        await _endpoint(conn, p, endpoint_id)
        event = await events.find(conn, int(event_ref.removeprefix("evt_")), org_id=p.org_id)
        if event is None:
            raise NotFound("No such event in your organization's feed.", code="event_not_found")
        delivery_id = await conn.fetchval(
            queries.INSERT_DELIVERY,
            endpoint_id,
            event.id,
            event.type,
            f"{event.subject_type}:{event.subject_id}",
            msgspec.json.encode(to_wire(event)).decode(),
        )
    return DeliveryQueued(delivery_id=delivery_id, event_id=event_ref)


async def deliveries(
    db: asyncpg.Pool, p: Principal, endpoint_id: UUID, before: int | None, limit: int
) -> DeliveryPage:
    await _endpoint(db, p, endpoint_id)
    rows = await db.fetch(queries.DELIVERIES, endpoint_id, before, limit)
    items = [
        Delivery(
            id=r["id"],
            event_id=f"evt_{r['event_id']}",
            event_type=r["event_type"],
            state=r["state"],
            attempts=r["attempts"],
            next_attempt_at=r["next_attempt_at"] if r["state"] == "pending" else None,
            created_at=r["created_at"],
            delivered_at=r["delivered_at"],
        )
        for r in rows
    ]
    return DeliveryPage(items=items, next_before=items[-1].id if len(items) == limit else None)


async def attempts(db: asyncpg.Pool, p: Principal, endpoint_id: UUID, delivery_id: int) -> list[Attempt]:
    await _endpoint(db, p, endpoint_id)
    if await db.fetchval(queries.DELIVERY, delivery_id, endpoint_id) is None:
        raise NotFound("No such delivery of this endpoint.", code="webhook_delivery_not_found")
    return [
        Attempt(
            attempted_at=r["attempted_at"],
            status_code=r["status_code"],
            latency_ms=r["latency_ms"],
            ok=r["ok"],
            response_excerpt=r["response_excerpt"],
        )
        for r in await db.fetch(queries.ATTEMPTS, delivery_id)
    ]


async def recent_attempts(
    db: asyncpg.Pool, p: Principal, endpoint_id: UUID, before: int | None, limit: int
) -> AttemptPage:
    await _endpoint(db, p, endpoint_id)
    rows = await db.fetch(queries.RECENT_ATTEMPTS, endpoint_id, before, limit)
    items = [
        EndpointAttempt(
            id=r["id"],
            attempted_at=r["attempted_at"],
            event_id=f"evt_{r['event_id']}",
            event_type=r["event_type"],
            delivery_id=r["delivery_id"],
            delivery_state=r["state"],
            status_code=r["status_code"],
            latency_ms=r["latency_ms"],
            ok=r["ok"],
            response_excerpt=r["response_excerpt"],
        )
        for r in rows
    ]
    return AttemptPage(items=items, next_before=items[-1].id if len(items) == limit else None)
