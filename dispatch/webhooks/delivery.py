"""Sending webhooks: the fan-out and the claim loop, run by every worker process.

The fan-out reads the feed (`dispatch.events.read`, commit-safe) after each endpoint's cursor and
makes one delivery row per event, advancing the cursor in the same transaction: an event gets its
row exactly once per endpoint. The endpoint row is taken FOR UPDATE SKIP LOCKED, so workers fan out
different endpoints side by side.

The claim loop takes due deliveries FOR UPDATE SKIP LOCKED and marks them claimed for
`DISPATCH_WEBHOOK_CLAIM_SECONDS` (committed at once), sends them outside any transaction, then
records the attempt and the outcome. Several workers (and nodes) never claim the same delivery at
once. A worker killed mid-delivery leaves its claim to expire, and another worker sends the delivery
again: at least once, so a receiver may see an event twice after a crash, and dedupes by
`webhook-id`. A delivery waits while an older one of the same subject is pending at that endpoint:
in order per subject.

Requests never follow redirects (a 3xx is a failed attempt, retried like a 500), have connect and
read timeouts, and go only to addresses checked by dispatch/webhooks/addresses.py, before anything
is connected.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import msgspec

from dispatch import events
from dispatch.db.availability import is_database_away
from dispatch.events.wire import to_wire
from dispatch.settings import Settings
from dispatch.webhooks import queries, sealing, signing
from dispatch.webhooks.addresses import AddressRefused, CheckedResolver, parse_url, resolve_checked
from dispatch.webhooks.service import SUBJECT, TEST_EVENT

log = logging.getLogger(__name__)
FEED_BATCH = 500
EXCERPT_BYTES = 512


def retry_delay_s(failures: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Seconds to wait after the `failures`-th failed attempt (1, 2, ...): base x 2^(n-1), at most
    the cap, stretched by up to a quarter at random so that deliveries failing together do not all
    come back at the same instant."""
    base: float = settings.webhook_retry_base_ms / 1000 * 2.0 ** min(failures - 1, 40)
    jitter: float = 0.25 * (rng or random).random()
    return min(base, float(settings.webhook_retry_cap_s)) * (1 + jitter)


async def fan_out(db: asyncpg.Pool) -> int:
    """Delivery rows for the events after each endpoint's cursor; how many events were read."""
    read = 0
    async with db.acquire() as conn, conn.transaction():
        for endpoint in await conn.fetch(queries.ENDPOINTS_TO_FAN_OUT):
            types = endpoint["event_types"]
            batch = await events.read(
                conn,
                after=events.Cursor(int(endpoint["cursor_tx"]), endpoint["cursor_id"]),
                org_id=endpoint["org_id"],
                types=[*types, TEST_EVENT] if types else None,
                limit=FEED_BATCH,
            )
            if not batch:
                continue
            read += len(batch)
            rows = [
                (
                    endpoint["id"],
                    e.id,
                    e.type,
                    f"{e.subject_type}:{e.subject_id}",
                    msgspec.json.encode(to_wire(e)).decode(),
                )
                for e in batch
                # A test event goes to the endpoint it tests alone.
                if e.type != TEST_EVENT or e.subject_id == str(endpoint["id"])
            ]
            await conn.executemany(queries.INSERT_DELIVERY, rows)
            last = batch[-1].cursor
            await conn.execute(queries.ADVANCE_CURSOR, endpoint["id"], str(last.tx), last.id)
    return read


class Outcome(msgspec.Struct, kw_only=True):
    ok: bool
    status_code: int | None
    latency_ms: int
    excerpt: str


class Deliverer:
    """One worker process's fan-out and claim loop, with its HTTP client."""

    def __init__(self, db: asyncpg.Pool, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.allow = settings.webhook_allow_hosts

    def open_session(self) -> aiohttp.ClientSession:
        """The HTTP client of deliveries: checked addresses only, timeouts, no redirects followed
        (`attempt` asks for none), no proxy from the environment."""
        timeout_s = self.settings.webhook_timeout_ms / 1000
        connector = aiohttp.TCPConnector(
            resolver=CheckedResolver(self.allow),
            use_dns_cache=False,  # every delivery resolves and checks again (DNS rebinding)
            limit=self.settings.webhook_concurrency,
        )
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout_s, sock_read=timeout_s)
        return aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False, trust_env=False
        )

    async def run(self) -> None:
        """Fan out, then keep up to `webhook_concurrency` deliveries in flight: a freed slot is
        filled at once, so one slow endpoint (up to its timeouts) holds one slot, not the others."""
        in_flight: set[asyncio.Task[None]] = set()
        poll_s = self.settings.webhook_poll_ms / 1000
        clock = asyncio.get_running_loop().time
        next_fan_out = clock()
        async with self.open_session() as session:
            try:
                while True:
                    busy = False
                    try:
                        if clock() >= next_fan_out:
                            busy = await fan_out(self.db) >= FEED_BATCH
                            next_fan_out = clock() + (0 if busy else poll_s)
                        free = self.settings.webhook_concurrency - len(in_flight)
                        # Claims in batches (a quarter of the slots at least, or all when idle):
                        # one claim query per freed slot would cost more than the sending.
                        if free >= max(1, self.settings.webhook_concurrency // 4) or not in_flight:
                            claimed = await self.claim(free)
                            for row, claim in claimed:
                                task = asyncio.create_task(self.deliver(session, row, claim))
                                in_flight.add(task)
                                task.add_done_callback(in_flight.discard)
                            busy = busy or len(claimed) == free
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        if not is_database_away(exc):
                            log.exception("webhook round failed; retrying next round")
                    if not busy:
                        # Until a slot frees or the next poll, whichever comes first.
                        if in_flight:
                            await asyncio.wait(in_flight, timeout=poll_s, return_when=asyncio.FIRST_COMPLETED)
                        else:
                            await asyncio.sleep(poll_s)
            finally:
                for task in in_flight:
                    task.cancel()  # its claim expires; another worker sends it

    async def claim(self, limit: int) -> list[tuple[asyncpg.Record, uuid.UUID]]:
        claim = uuid.uuid4()
        rows = await self.db.fetch(
            queries.CLAIM_DUE, limit, float(self.settings.webhook_claim_seconds), claim
        )
        return [(row, claim) for row in rows]

    async def deliver(self, session: aiohttp.ClientSession, row: asyncpg.Record, claim: uuid.UUID) -> None:
        try:
            outcome = await self.attempt(session, row)
            await self.record(row, claim, outcome)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # its claim expires and it is sent again
            if not is_database_away(exc):
                log.exception("webhook delivery %s failed to record", row["id"])

    async def attempt(self, session: aiohttp.ClientSession, row: asyncpg.Record) -> Outcome:
        event_id = f"evt_{row['event_id']}"
        started = time.monotonic()

        def outcome(ok: bool, status: int | None, excerpt: str) -> Outcome:
            latency = round((time.monotonic() - started) * 1000)
            return Outcome(ok=ok, status_code=status, latency_ms=latency, excerpt=excerpt[:EXCERPT_BYTES])

        try:
            stored = [row["secret"], *([row["previous_secret"]] if row["previous_secret"] else [])]
            secrets = [sealing.unseal(self.settings.secret_key, row["org_id"], s) for s in stored]
        except sealing.CannotUnseal as exc:  # nothing is sent unsigned: a failed attempt, with why
            return outcome(False, None, f"not sent: the signing secret cannot be read ({exc}); rotate it")
        try:
            # The address check comes first, before anything is connected. aiohttp hands an IP
            # literal straight to the socket, without asking the resolver: checked here; a host
            # name is checked again by CheckedResolver, which is what the connection uses.
            host, port = parse_url(row["url"])
            await resolve_checked(host, port, self.allow)
            headers = signing.headers(event_id, datetime.now(UTC), row["body"], secrets)
            async with session.post(
                row["url"], data=row["body"].encode(), headers=headers, allow_redirects=False
            ) as answer:
                text = (await answer.content.read(EXCERPT_BYTES)).decode("utf-8", "replace")
                if 300 <= answer.status < 400:
                    where = answer.headers.get("Location", "")
                    return outcome(False, answer.status, f"redirect to {where!r} not followed; {text}")
                return outcome(200 <= answer.status < 300, answer.status, text)
        except AddressRefused as exc:
            return outcome(False, None, f"refused before connecting: {exc}")
        except TimeoutError:
            return outcome(False, None, "timed out")
        except (aiohttp.ClientError, OSError) as exc:
            return outcome(False, None, f"{type(exc).__name__}: {exc}")

    async def record(self, row: asyncpg.Record, claim: uuid.UUID, outcome: Outcome) -> None:
        """The attempt and the delivery's new state, together (one statement, or one transaction)."""
        attempt = (row["id"], outcome.status_code, outcome.latency_ms, outcome.ok, outcome.excerpt)
        if outcome.ok:
            await self.db.execute(queries.DELIVERED, *attempt, claim)
            return
        age_s = (datetime.now(UTC) - row["created_at"]).total_seconds()
        if age_s < self.settings.webhook_retry_horizon_s:
            delay = retry_delay_s(row["attempts"] + 1, self.settings)
            await self.db.execute(queries.RETRY_LATER, *attempt, claim, delay)
            return
        async with self.db.acquire() as conn, conn.transaction():
            if await conn.fetchval(queries.GIVE_UP, *attempt, claim):
                await self.disable(conn, row, outcome)

    async def disable(self, conn: Any, row: asyncpg.Record, outcome: Outcome) -> None:
        """Past the retry horizon: the endpoint stops receiving, and its organization is told by an
        event (to its other endpoints and the events API) and the log."""
        disabled = await conn.fetchrow(queries.DISABLE_ENDPOINT, row["endpoint_id"])
        if disabled is None:
            return
        log.warning(
            "webhook endpoint %s (%s) disabled: deliveries failed for %s s",
            row["endpoint_id"],
            disabled["url"],
            self.settings.webhook_retry_horizon_s,
        )
        await events.record(
            conn,
            "webhook.endpoint_disabled",
            org_ids=[disabled["org_id"]],
            subject_type=SUBJECT,
            subject_id=row["endpoint_id"],
            actor_user_id=None,
            data={
                "endpoint_id": str(row["endpoint_id"]),
                "url": disabled["url"],
                "failed_event_id": f"evt_{row['event_id']}",
                "last_attempt": {"status_code": outcome.status_code, "response_excerpt": outcome.excerpt},
            },
        )
