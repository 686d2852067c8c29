"""Share links: a party of a job lets someone without an account watch the job, or one of its loads,
until the link expires or is revoked. The token is shown once and stored as its SHA-256."""

from __future__ import annotations

import secrets
from uuid import UUID

import asyncpg

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import NotFound
from dispatch.tracking import queries
from dispatch.tracking.access import access_by_party, share_token_hash
from dispatch.tracking.models import NewShareLink, ShareLink, ShareLinkIn

SHARE_PREFIX = "dsp_shr_"


def _share_url(row: asyncpg.Record, token: str | None = None) -> str:
    base = f"/track/loads/{row['load_id']}" if row["load_id"] else f"/track/jobs/{row['job_id']}"
    return base + (f"#share={token}" if token else "")


async def create_share_link(db: asyncpg.Pool, p: Principal, job_id: UUID, body: ShareLinkIn) -> NewShareLink:
    a = await access_by_party(db, p, job_id, None)
    async with db.acquire() as conn, conn.transaction():
        if (
            body.load_id is not None
            and await conn.fetchval(queries.LOAD_OF_JOB, body.load_id, a.job_id) is None
        ):
            raise NotFound("No such load in this job.", code="load_not_found")
        token = SHARE_PREFIX + secrets.token_urlsafe(24)
        row = await conn.fetchrow(
            queries.INSERT_SHARE_LINK,
            job_id,
            body.load_id,
            p.org_id,
            body.label,
            share_token_hash(token),
            body.expires_in_minutes,
            p.user_id,
        )
        assert row is not None
        await _record(
            conn, p, "share_link.created", job_id, row["id"], expires_at=row["expires_at"].isoformat()
        )
        return NewShareLink(**dict(row), url=_share_url(row, token), token=token)


async def _record(
    conn: Conn, p: Principal, event_type: str, job_id: UUID, link_id: UUID, **data: str
) -> None:
    """The event of a share link's change: to the link's organization only, as the job's subject."""
    await events.record(
        conn,
        event_type,
        org_ids=[p.org_id],
        subject_type="job",
        subject_id=job_id,
        actor_user_id=p.user_id,
        data={"share_link_id": str(link_id), **data},
    )


async def list_share_links(db: asyncpg.Pool, p: Principal, job_id: UUID) -> list[ShareLink]:
    await access_by_party(db, p, job_id, None)
    return [
        ShareLink(**dict(r), url=_share_url(r)) for r in await db.fetch(queries.SHARE_LINKS, job_id, p.org_id)
    ]


async def revoke_share_link(db: asyncpg.Pool, p: Principal, job_id: UUID, link_id: UUID) -> ShareLink:
    await access_by_party(db, p, job_id, None)
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.REVOKE_SHARE_LINK, link_id, job_id, p.org_id)
        if row is None:
            raise NotFound("No such share link of your organization.", code="share_link_not_found")
        await _record(conn, p, "share_link.revoked", job_id, link_id)
        return ShareLink(**dict(row), url=_share_url(row))
