"""The GPS ingest as the driver API calls it, for the app's batches and Traccar Client's positions
alike: one pipeline (dispatch/tracking/ingest.py), one tally of the metrics. A batch no load in
transit takes goes to the driver's loads on their way to the pickup, if any
(dispatch/tracking/approach.py): the delivery trip's path is tried first and unchanged.

`POST /driver/v1/positions` is the busiest route by far (every phone, every few seconds, a few points
each), so its common case is served here, in front of Litestar's router (`positions_fast_path`): a
device token, no Idempotency-Key, a body that decodes as a `PositionBatch`. Litestar's request path
(routing, the middleware stack, guards, dependency injection, decoding the body to dicts and then
converting those to the struct, the response object) cost about 20% of a worker's CPU on 10-point
batches (py-spy, tracking README "Performance"); here the body is decoded once, straight to the
struct, and the answer encoded once. What it checks is what the route's layers check, by the same
code: the bearer token (`authenticate_token`, the middleware's), the credential kind and the app
version (the router's guards). Anything else, or anything in doubt, goes to the Litestar route
unchanged (the body already read is handed on as it came), which gives the same answers as ever:
a 401, a 400 for a malformed body, 413, 426, the idempotent replay. The route stays the one the
OpenAPI document describes.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.types import ASGIApp, Receive, Send

from dispatch.accounts import credentials
from dispatch.accounts.auth import authenticate_token
from dispatch.accounts.principal import Principal
from dispatch.errors import Conflict, raised_answer, send_json, send_problem
from dispatch.openapi import APP_VERSION_HEADER
from dispatch.runtime import Runtime
from dispatch.tracking import approach
from dispatch.tracking import ingest as tracking
from dispatch.tracking.models import BatchResult, PositionBatch
from driver_api.versions import version_refusal

PATH = "/driver/v1/positions"


async def ingest_batch(runtime: Runtime, p: Principal, batch: PositionBatch) -> BatchResult:
    try:
        result = await tracking.ingest(
            runtime.db,
            runtime.broker,
            runtime.settings,
            p,
            batch,
            commits=runtime.ingest_commits,
            kept=runtime.kept_trips,
            devices=runtime.device_principals,
        )
    except Conflict as refused:
        if refused.code != "not_in_transit":
            raise
        result = await approach.ingest(runtime.db, runtime.broker, runtime.settings, p, batch, refused)
    runtime.metrics.gps_batch(result.accepted, result.duplicates, [r.reason for r in result.rejected])
    return result


# Strict (msgspec's default), where Litestar converts request bodies leniently: a body only the
# lenient rules take (a number as text, say) fails here and is decoded by the route as before.
_BATCH = msgspec.json.Decoder(PositionBatch)
_ANSWER = msgspec.json.Encoder()
_VERSION_HEADER = APP_VERSION_HEADER.lower().encode()


def positions_fast_path(app: ASGIApp, runtime: Runtime) -> ASGIApp:
    """Around Litestar's ASGI handler (dispatch/app.py): the common GPS batch served here, every
    other request passed to `app`."""
    limit = runtime.settings.max_body_bytes

    async def fast_path(scope: Any, receive: Receive, send: Send) -> None:
        if not _a_batch(scope):
            await app(scope, receive, send)
            return
        p = await _plain_device_caller(scope, runtime)
        if p is None:
            await app(scope, receive, send)
            return
        messages, body = await _read_body(receive, limit)
        batch = _decoded(body)
        if batch is None:
            await app(scope, _replayed(messages, receive), send)
            return
        # What Litestar's router and the bearer middleware leave in the scope: the metrics count the
        # route by its template.
        scope["path_template"] = PATH
        scope["user"] = p
        try:
            data = _ANSWER.encode(await ingest_batch(runtime, p, batch))
        except Exception as exc:  # answered (and logged) as the route's exception handlers would
            await send_problem(send, raised_answer(scope, exc))
            return
        await send_json(send, data)

    return fast_path


def _a_batch(scope: Any) -> bool:
    # A query string (none is taken) is left to the route, which refuses a NUL in it.
    return (
        scope["type"] == "http"
        and scope["path"] == PATH
        and scope["method"] == "POST"
        and not scope.get("query_string")
    )


async def _plain_device_caller(scope: Any, runtime: Runtime) -> Principal | None:
    """The device the request comes from when it is the common case: a device token that
    authenticates, no Idempotency-Key, an app version that is served (or none). Else None."""
    wanted: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name == b"idempotency-key":
            return None  # the idempotency middleware's
        if name == b"authorization" or name == _VERSION_HEADER:
            if name in wanted:
                return None  # which of two counts is the route's to say
            wanted[name] = value
    authorization, version = wanted.get(b"authorization"), wanted.get(_VERSION_HEADER)
    if authorization is None:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(credentials.DEVICE_PREFIX):
        return None
    minimum = runtime.settings.driver_app_min_version
    if version is not None and version_refusal(version.decode("latin-1"), minimum) is not None:
        return None
    try:
        p = await authenticate_token(runtime, token, PATH)
    except Exception:  # the route authenticates it again and gives the answer (401, 503 ...)
        return None
    return p if p.kind == "device" else None


async def _read_body(receive: Receive, limit: int) -> tuple[list[Any], bytes | None]:
    """The request's messages as received, and its whole body; None for the body when the client
    went away or the body is over `limit` (the route answers those from the same messages)."""
    messages: list[Any] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _decoded(body: bytes | None) -> PositionBatch | None:
    if body is None:
        return None
    try:
        return _BATCH.decode(body)
    except (msgspec.DecodeError, RecursionError):  # the route's answer says why (400)
        return None


def _replayed(messages: list[Any], receive: Receive) -> Receive:
    """`receive` as it was before `messages` were taken from it."""
    pending = list(messages)

    async def replay() -> Any:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
