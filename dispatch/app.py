"""The one composition root: `create_app(settings)` builds the whole application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from dispatch.accounts import api as accounts_api
from dispatch.accounts.auth import auth_middleware
from dispatch.accounts.models import Principal
from dispatch.accounts.passwords import Passwords
from dispatch.db.pool import create_pool
from dispatch.errors import EXCEPTION_HANDLERS
from dispatch.health import healthz
from dispatch.observability import configure_logging, request_id_middleware
from dispatch.runtime import Runtime
from dispatch.settings import Settings
from driver_api import driver_router


def create_app(settings: Settings) -> Litestar:
    if settings.database_url is None:
        raise ValueError("create_app needs a database_url; the command line resolves the embedded one")
    runtime = Runtime(
        settings=settings,
        passwords=Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib),
    )

    @asynccontextmanager
    async def database(_: Litestar) -> AsyncIterator[None]:
        assert settings.database_url is not None
        runtime._db = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        try:
            yield
        finally:
            await runtime._db.close()

    app = Litestar(
        route_handlers=[healthz, *accounts_api.routers(), driver_router()],
        dependencies={
            "runtime": Provide(_provide_runtime, sync_to_thread=False),
            "p": Provide(_provide_principal, sync_to_thread=False),
        },
        middleware=[auth_middleware()],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[database],
        state=State({"runtime": runtime}),
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="freight-dispatch API",
            version="0.1.0",
            description="Dispatch platform for B2B bulk freight. Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        logging_config=None,
    )
    # Outermost layer, around Litestar's own exception handling: errors raised by middleware
    # (401s from authentication) still carry the request id in their header, body and log line.
    app.asgi_handler = request_id_middleware(app.asgi_handler)
    return app


def _provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def _provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    assert isinstance(user, Principal)
    return user


def create_app_from_env() -> Litestar:
    """Uvicorn's factory in each worker process; the parent resolved DATABASE_URL before forking."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
