"""`POST /jobs/{id}/grab` served in front of Litestar's router, as driver_api/positions.py serves the
GPS batch: in a grab race (README "Performance") a hundred carriers' requests land on the workers at
once, and each one's share of Litestar's request path (routing, the middleware stack, two guards, the
handler's signature model, the response object) is CPU the last of them waits for before its grab
even starts. Here the request is checked by the same code the route's layers run: the bearer token
(`authenticate_token`, the middleware's), the credential kind and the permission (the guards'
rules), then `service.grab` as the route calls it, its answer encoded once; a refusal the service
raises is answered as the route's exception handlers answer it (`raised_answer`).

A user session's grab makes one round trip fewer: its session is read in the same statement as the
job's first read (`accounts.service.read_with_session`: USER_SESSION_PRINCIPAL beside
JOB_BEFORE_GRAB, in one snapshot), on the one pool connection the grab then uses. The session is
judged by the same function the middleware's `authenticate` uses (`session_principal`); a session
that does not authenticate goes to the route, which reads it again and answers why. An API token
is authenticated as the middleware does, then the grab reads the job.

Anything else, or anything in doubt, goes to the Litestar route unchanged, which gives the same
answers as ever: a path that is not the canonical form of an id, a query string, a body, no or
several Authorization headers, a token that does not authenticate (401), a device token or a
caller without the permission (403). The route stays the one the OpenAPI document describes.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import msgspec
from litestar.types import ASGIApp, Receive, Send

from dispatch.accounts import credentials
from dispatch.accounts import service as accounts
from dispatch.accounts.auth import authenticate_token
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db.pool import borrowed
from dispatch.errors import raised_answer, send_json, send_problem
from dispatch.market import queries, service
from dispatch.runtime import Runtime

# What Litestar's router puts in the scope for the route (the metrics count requests by it).
PATH_TEMPLATE = "/jobs/{job_id:uuid}/grab"
# Only the canonical form of an id (what the API writes): any other spelling the route judges.
_PATH = re.compile(r"/jobs/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/grab")
# The platform router's guard (`credential_kinds`) and the route's (`requires(Permission.BID)`).
_KINDS = ("user", "api_token")
_PERMISSION = Permission.BID
_PREFIXES = (credentials.USER_PREFIX, credentials.API_PREFIX)
_BODY_HEADERS = (b"content-length", b"transfer-encoding")

_encode = msgspec.json.Encoder().encode


def grab_fast_path(app: ASGIApp, runtime: Runtime) -> ASGIApp:
    """Around Litestar's ASGI handler (dispatch/app.py): a plain grab served here, every other
    request passed to `app`."""

    async def fast_path(scope: Any, receive: Receive, send: Send) -> None:
        job_id = _grab_of(scope)
        token = None if job_id is None else _plain_token(scope)
        if job_id is None or token is None:
            await app(scope, receive, send)
            return
        if token.startswith(credentials.USER_PREFIX):
            served = await _session_grab(scope, send, runtime, job_id, token)
        else:
            served = await _api_token_grab(scope, send, runtime, job_id, token)
        if not served:
            await app(scope, receive, send)

    return fast_path


async def _session_grab(scope: Any, send: Send, runtime: Runtime, job_id: UUID, token: str) -> bool:
    """A user session's grab on one pool connection, its first round trip reading the session and
    the job; False (nothing sent) when the route is to answer."""
    try:
        claims = accounts.session_claims(runtime.settings.secret_key, token)
    except Exception:  # the route authenticates it again and gives the answer (401)
        return False
    async with borrowed(runtime.db) as conn:
        try:
            p, row = await accounts.read_with_session(
                conn, claims, queries.JOB_BEFORE_GRAB, job_id, claims.org
            )
        except Exception:  # a session that does not authenticate (401), the database away (503) ...
            return False
        if not _may_grab(p):
            return False
        _as_the_router_leaves_it(scope, p)
        before = None if row["id"] is None else row  # the job's columns all NULL: not found
        try:
            job = await service.grab_as_read(
                conn, runtime.broker, runtime.authorize_on_award, p, job_id, before
            )
            data, refused = _encode(job), None
        except Exception as exc:  # answered (and logged) as the route's exception handlers would
            data, refused = b"", exc
    # Answered at once: the connection goes back to the pool meanwhile (`borrowed`).
    if refused is not None:
        await send_problem(send, raised_answer(scope, refused))
    else:
        await send_json(send, data)
    return True


async def _api_token_grab(scope: Any, send: Send, runtime: Runtime, job_id: UUID, token: str) -> bool:
    """An API token's grab: authenticated as the middleware does, then `service.grab`; False
    (nothing sent) when the route is to answer."""
    try:
        p = await authenticate_token(runtime, token, scope["path"])
    except Exception:  # the route authenticates it again and gives the answer (401, 503 ...)
        return False
    if not _may_grab(p):
        return False
    _as_the_router_leaves_it(scope, p)
    try:
        job = await service.grab(runtime.db, runtime.broker, runtime.authorize_on_award, p, job_id)
        data = _encode(job)
    except Exception as exc:  # answered (and logged) as the route's exception handlers would
        await send_problem(send, raised_answer(scope, exc))
        return True
    await send_json(send, data)
    return True


def _as_the_router_leaves_it(scope: Any, p: Principal) -> None:
    """What Litestar's router and the bearer middleware leave in the scope (the metrics count
    requests by the template; the exception handlers log the user)."""
    scope["path_template"] = PATH_TEMPLATE
    scope["user"] = p


def _may_grab(p: Principal) -> bool:
    """The guards' rules: a credential kind the platform API takes, holding the permission (a
    caller they refuse goes to the route, whose guards answer 403)."""
    return p.kind in _KINDS and p.can(_PERMISSION)


def _grab_of(scope: Any) -> UUID | None:
    """The job a plain grab request is for, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
        return None
    path: str = scope["path"]
    if not path.endswith("/grab") or (match := _PATH.fullmatch(path)) is None:
        return None
    return UUID(match[1])


def _plain_token(scope: Any) -> str | None:
    """The bearer token when the request is the common case: one Authorization header with a user
    session's or an API token's bearer token, no body. Else None (the route says why)."""
    authorization = None
    for name, value in scope["headers"]:
        if name in _BODY_HEADERS and value != b"0":
            return None  # the route does not read a body, but whether it may have one is its to say
        if name == b"authorization":
            if authorization is not None:
                return None
            authorization = value
    if authorization is None:
        return None
    header: str = authorization.decode("latin-1")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(_PREFIXES):
        return None
    return token
