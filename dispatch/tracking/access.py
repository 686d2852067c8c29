"""Who may watch a job or a load: a member of one of the job's parties holding `tracking.view`
(user login or API token), or the holder of a live share link of that job or load. Checked before
a watcher's socket is accepted, and by every tracking read."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec

from dispatch.accounts import service as accounts
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db import Queryable
from dispatch.errors import Forbidden, NotFound, Unauthorized
from dispatch.tracking import queries


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """What a watcher may see: one job, and one of its loads or all of them."""

    job_id: UUID
    load_id: UUID | None


def share_token_hash(token: str) -> bytes:
    """How a share link is found: by its token's SHA-256 (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).digest()


async def access_by_share(db: Queryable, token: str, job_id: UUID | None, load_id: UUID | None) -> Access:
    row = await db.fetchrow(queries.SHARE_LINK_BY_TOKEN, share_token_hash(token))
    if row is None:
        raise Unauthorized("Unknown share link.", code="share_link_invalid")
    if row["revoked_at"] is not None:
        raise Unauthorized("This share link was revoked.", code="share_link_revoked")
    if row["expires_at"] <= datetime.now(UTC):
        raise Unauthorized(
            f"This share link expired at {row['expires_at']:%Y-%m-%d %H:%M} UTC.", code="share_link_expired"
        )
    if job_id is not None and job_id != row["job_id"]:
        raise NotFound("No such job.", code="job_not_found")
    if load_id is not None and row["load_id"] is not None and load_id != row["load_id"]:
        raise NotFound("No such load.", code="load_not_found")
    if load_id is not None and await db.fetchval(queries.LOAD_OF_JOB, load_id, row["job_id"]) is None:
        raise NotFound("No such load.", code="load_not_found")
    return Access(job_id=row["job_id"], load_id=load_id or row["load_id"])


async def access_by_party(db: Queryable, p: Principal, job_id: UUID | None, load_id: UUID | None) -> Access:
    """A member (user or API token) of one of the job's parties, holding tracking.view."""
    if p.kind not in ("user", "api_token"):
        raise Forbidden(
            "Watch with a user login, an API token or a share link.", code="wrong_credential_kind"
        )
    if not p.can(Permission.VIEW_TRACKING):
        raise Forbidden(
            "This needs the permission(s): tracking.view.",
            code="permission_missing",
            params={"permissions": [Permission.VIEW_TRACKING.value]},
            permissions=[Permission.VIEW_TRACKING.value],
        )
    if job_id is None:
        assert load_id is not None
        job_id = await db.fetchval(queries.JOB_OF_LOAD, load_id)
        if job_id is None:
            raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    if await db.fetchrow(queries.JOB_FOR_PARTY, job_id, p.org_id) is None:
        what = "load" if load_id else "job"
        raise NotFound(
            f"No such {what}, or it is not visible to your organization.", code=f"{what}_not_found"
        )
    return Access(job_id=job_id, load_id=load_id)


async def access(
    db: asyncpg.Pool,
    secret: str,
    *,
    bearer: str | None,
    share: str | None,
    job_id: UUID | None,
    load_id: UUID | None,
) -> Access:
    if share:
        return await access_by_share(db, share, job_id, load_id)
    if not bearer:
        raise Unauthorized("Watching needs a bearer token or a share link.", code="token_missing")
    p = await accounts.authenticate(db, secret=secret, token=bearer)
    return await access_by_party(db, p, job_id, load_id)
