"""Liveness and readiness: /healthz answers 200 only when the database answers.

While the database is away it answers 503 with `Retry-After`, `"database": "unavailable"`, and
since when this worker has seen it away (`unavailable_since`, unix time), so a load balancer looks
elsewhere and an operator sees how long the outage has lasted.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from dispatch.db.availability import RETRY_AFTER_S, is_database_away
from dispatch.deps import RuntimeDep


class Health(msgspec.Struct, kw_only=True):
    status: str
    database: str
    database_ms: float | None = None
    detail: str | None = None
    unavailable_since: float | None = None


@get(
    "/healthz",
    operation_id="health",
    tags=["health"],
    opt={"exclude_from_auth": True},
    responses={
        503: ResponseSpec(Health, description="The database does not answer", generate_examples=False)
    },
)
async def healthz(runtime: RuntimeDep) -> Response[Health]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(2):
            await runtime.db.fetchval("SELECT 1")
    except Exception as exc:  # any failure means "not ready": the load balancer should look elsewhere
        away = is_database_away(exc) or isinstance(exc, TimeoutError)
        if away:
            runtime.availability.noticed(exc)
        return Response(
            Health(
                status="unavailable",
                database="unavailable" if away else "error",
                detail=type(exc).__name__,
                unavailable_since=runtime.availability.down_since,
            ),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return Response(Health(status="ok", database="ok", database_ms=elapsed))
