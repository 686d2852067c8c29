"""The one composition root: `create_app(settings)` builds the whole application."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import Scope

from dispatch import loop_lag
from dispatch.accounts import api as accounts_api
from dispatch.accounts.auth import auth_middleware, credential_kinds
from dispatch.accounts.passwords import Passwords
from dispatch.accounts.principal import Principal
from dispatch.authorizations.api import AuthorizationController, verify_pickup_code
from dispatch.authorizations.service import AutomaticAuthorizer
from dispatch.background import run_claim_loops
from dispatch.db.pool import create_pool
from dispatch.deps import ReceiptSummaries
from dispatch.documents.api import DocumentsController
from dispatch.edge import AllowHeaderMiddleware, EdgeRequest, NulGuardMiddleware
from dispatch.errors import (
    EXCEPTION_HANDLERS,
    answer_in_request_language,
    note_socket_failure,
    refuse_failed_sockets,
)
from dispatch.event_api.api import EventsController
from dispatch.event_api.live import events_live
from dispatch.event_api.openapi import EventSchemas
from dispatch.evidence.api import EvidenceController
from dispatch.fleet.api import FleetController
from dispatch.gate.api import (
    AppointmentsController,
    BookingController,
    CalendarController,
    YardController,
    board_live,
)
from dispatch.gate.inbox import GateDriverNotices
from dispatch.gate.site_queue import SiteQueues
from dispatch.health import healthz
from dispatch.loads.api import LoadController, PlanController, SwapDecisionController
from dispatch.market import api as market_api
from dispatch.market.grab_fast_path import grab_fast_path
from dispatch.market.notifications import MarketFeedHub
from dispatch.market.service import load_public_job
from dispatch.metrics import Metrics, metrics_endpoint
from dispatch.observability import configure_logging, request_id_middleware
from dispatch.openapi import components as openapi_components
from dispatch.openapi import plugins as openapi_plugins
from dispatch.realtime.broker import PgBroker
from dispatch.receipts.api import ReceiptController
from dispatch.receipts.service import summaries as receipt_summaries
from dispatch.runtime import Runtime
from dispatch.scorecards.api import ScorecardController
from dispatch.scorecards.service import ScorecardRanker
from dispatch.settings import Settings
from dispatch.sites.api import SiteController
from dispatch.tracking.api import TrackingController, watch_router
from dispatch.tracking.hub import TrackingHub
from dispatch.types import decode_instant, is_instant
from dispatch.web.pages import web_routers
from dispatch.webhooks.api import WebhookController
from dispatch.webhooks.delivery import Deliverer
from dispatch.withdrawals.api import WithdrawalController
from driver_api import driver_router, pairing_router, positions_fast_path, tracker_router


def create_app(settings: Settings) -> Litestar:
    if settings.database_url is None:
        raise ValueError("create_app needs a database_url; the command line resolves the embedded one")
    metrics = Metrics(settings.metrics_dir)
    runtime = Runtime(
        settings=settings,
        passwords=Passwords(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib),
        metrics=metrics,
        site_queues=SiteQueues(on_read=metrics.site_queue_reads.inc),
        authorize_on_award=AutomaticAuthorizer(settings.secret_key),
        tell_drivers=GateDriverNotices(),
        rank_carriers=ScorecardRanker(),
    )

    @asynccontextmanager
    async def resources(_: Litestar) -> AsyncIterator[None]:
        """Per worker process: the pool, the one listening connection, the feed hub, the closer."""
        assert settings.database_url is not None
        runtime.pool = await create_pool(
            settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
        runtime.availability.start(lambda: runtime.db.fetchval("SELECT 1"))
        runtime.pubsub = PgBroker(settings.database_url, availability=runtime.availability)
        await runtime.pubsub.start()
        runtime.feed_hub = MarketFeedHub(runtime.pubsub, lambda job_id: load_public_job(runtime.db, job_id))
        await runtime.feed_hub.start()
        runtime.tracking_hub = TrackingHub(
            runtime.pubsub, outbox_limit=settings.watcher_queue, on_overflow=runtime.metrics.watcher_overflow
        )
        _tune_gc()
        closer = asyncio.get_running_loop().create_task(
            run_claim_loops(runtime, settings.closer_interval_ms / 1000)
        )
        # Webhooks: this worker's share of the fan-out and deliveries (dispatch/webhooks/delivery.py).
        webhooks = asyncio.get_running_loop().create_task(Deliverer(runtime.db, settings).run())
        lag = asyncio.get_running_loop().create_task(loop_lag.probe(runtime.metrics.loop_lag.observe))
        try:
            yield
        finally:
            for task in (closer, webhooks, lag):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            runtime.metrics.flush()  # what this worker counted since the last round
            await runtime.tracking_hub.stop()
            await runtime.feed_hub.stop()
            await runtime.pubsub.close()
            await runtime.availability.stop()
            await runtime.pool.close()

    auth = auth_middleware()
    app = Litestar(
        route_handlers=[
            healthz,
            *accounts_api.routers(),
            Router(
                path="/",
                route_handlers=[
                    SiteController,
                    FleetController,
                    PlanController,
                    LoadController,
                    SwapDecisionController,
                    EvidenceController,
                    EventsController,
                    events_live,
                    CalendarController,
                    AppointmentsController,
                    BookingController,
                    YardController,
                    board_live,
                    TrackingController,
                    ReceiptController,
                    DocumentsController,
                    ScorecardController,
                    *market_api.routers(),
                    WithdrawalController,
                    AuthorizationController,
                    verify_pickup_code,
                    WebhookController,
                ],
                guards=[credential_kinds("user", "api_token")],
            ),
            watch_router(),
            driver_router(),
            pairing_router(),
            tracker_router(),
            *web_routers(),
            *([metrics_endpoint(settings.metrics_token)] if settings.metrics_token else []),
        ],
        dependencies={
            "runtime": Provide(_provide_runtime, sync_to_thread=False),
            "p": Provide(_provide_principal, sync_to_thread=False),
            "receipts": Provide(_provide_receipts, use_cache=True, sync_to_thread=False),
        },
        middleware=[NulGuardMiddleware(), AllowHeaderMiddleware(), auth],
        request_class=EdgeRequest,
        exception_handlers=EXCEPTION_HANDLERS,
        after_exception=[note_socket_failure],
        lifespan=[resources],
        state=State({"runtime": runtime}),
        request_max_body_size=settings.max_body_bytes,
        type_decoders=[(is_instant, decode_instant)],
        openapi_config=OpenAPIConfig(
            title="freight-dispatch API",
            version="0.1.0",
            description="Dispatch platform for B2B bulk freight. Errors are RFC 9457 problem details.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            components=openapi_components(),
        ),
        # The document's problem answers, security and closed request bodies: dispatch/openapi.py.
        plugins=[
            *openapi_plugins(
                public_paths=auth.kwargs["exclude"],
                credential_routes=["login", "driverPair", "driverPairSignIn"],
            ),
            EventSchemas(),
        ],
        logging_config=None,
    )
    # Outermost layer, around Litestar's own exception handling: errors raised by middleware
    # (401s from authentication) still carry the request id in their header, body and log line.
    # Inside it, sockets that failed before they were accepted get their problem answer, and those
    # that failed after because the database is away are told to try again later; every problem
    # answered in there has its `detail` in the language the request asks for.
    # Innermost, in front of Litestar's router: the common GPS batch (driver_api/positions.py) and
    # the plain grab (dispatch/market/grab_fast_path.py).
    fast_paths = positions_fast_path(grab_fast_path(app.asgi_handler, runtime), runtime)
    app.asgi_handler = request_id_middleware(answer_in_request_language(refuse_failed_sockets(fast_paths)))
    app.asgi_handler = runtime.metrics.middleware(app.asgi_handler)  # times the whole answer
    return app


_gc_tuned = False


def _tune_gc() -> None:
    """Keep the cyclic GC's pauses short on a busy worker (once per process). Everything built at
    start-up (modules, the app, its routes and types: ~90k objects) lives as long as the process:
    frozen, full collections no longer walk it. A larger young generation (10,000 allocations
    instead of 700) means fewer young collections, so fewer in-flight request objects get promoted
    to the old generations, which fill and are collected far less often. Measured with
    bench/tracking.py: without this, each worker ran a full collection of 90k-220k objects every
    few seconds (0.1-1 s each on the loaded 2-core machine, everything else on that worker waiting);
    with it, none in the whole run."""
    global _gc_tuned
    if not _gc_tuned:
        _gc_tuned = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)


def _provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime


def _provide_receipts() -> ReceiptSummaries:
    return receipt_summaries


def _provide_principal(scope: Scope) -> Principal:
    # From the scope, so HTTP handlers and websocket handlers share one provider.
    user = scope.get("user")
    assert isinstance(user, Principal)
    return user


def create_app_from_env() -> Litestar:
    """Uvicorn's factory in each worker process; the parent resolved DATABASE_URL before forking."""
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    return create_app(settings)
