"""`POST /jobs/{id}/grab` served in front of Litestar's router, as driver_api/positions.py serves the
GPS batch: in a grab race (README "Performance") a hundred carriers' requests land on the workers at
once, and each one's share of Litestar's request path (routing, the middleware stack, two guards, the
handler's signature model, the response object) is CPU the last of them waits for before its grab
even starts. Here the request is checked by the same code the route's layers run: the bearer token
(`authenticate_token`, the middleware's), the credential kind and the permission (the guards'
rules), then `service.grab` as the route calls it, its answer encoded once; a refusal the service
raises is answered as the route's exception handlers answer it (`raised_answer`).

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
from dispatch.accounts.auth import authenticate_token
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.errors import raised_answer, send_json, send_problem
from dispatch.market import service
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
        p = None if job_id is None else await _plain_caller(scope, runtime)
        if job_id is None or p is None:
            await app(scope, receive, send)
            return
        # What Litestar's router and the bearer middleware leave in the scope.
        scope["path_template"] = PATH_TEMPLATE
        scope["user"] = p
        try:
            job = await service.grab(runtime.db, runtime.broker, runtime.authorize_on_award, p, job_id)
            data = _encode(job)
        except Exception as exc:  # answered (and logged) as the route's exception handlers would
            await send_problem(send, raised_answer(scope, exc))
            return
        await send_json(send, data)

    return fast_path


def _grab_of(scope: Any) -> UUID | None:
    """The job a plain grab request is for, else None."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("query_string"):
        return None
    path: str = scope["path"]
    if not path.endswith("/grab") or (match := _PATH.fullmatch(path)) is None:
        return None
    return UUID(match[1])


async def _plain_caller(scope: Any, runtime: Runtime) -> Principal | None:
    """The caller when it is the common case: one bearer token of a user session or an API token
    that authenticates, of a kind the platform API takes, holding the permission; no body. Else
    None (the route says why)."""
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
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(_PREFIXES):
        return None
    try:
        p = await authenticate_token(runtime, token, scope["path"])
    except Exception:  # the route authenticates it again and gives the answer (401, 503 ...)
        return None
    return p if p.kind in _KINDS and p.can(_PERMISSION) else None
