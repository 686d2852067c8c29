"""Liveness and readiness: /healthz answers 200 only when the database answers."""

from __future__ import annotations

import asyncio
import time

import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from dispatch.deps import RuntimeDep


class Health(msgspec.Struct, kw_only=True):
    status: str
    database: str
    database_ms: float | None = None
    detail: str | None = None


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
        return Response(
            Health(status="unavailable", database="error", detail=type(exc).__name__), status_code=503
        )
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    return Response(Health(status="ok", database="ok", database_ms=elapsed))
