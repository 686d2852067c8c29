"""Traccar Client's positions: the OsmAnd protocol at /tracker/osmand (GET and POST).

Browsers pause a page's geolocation when the phone locks; Traccar Client (the free Android and iOS
tracker) keeps sending in the background. It is pointed at the server's base URL with the phone's
tracker id as its device identifier (dispatch/tracking/README.md, "Pointing Traccar Client at the
platform"). Each request is read into the app's own points (dispatch/tracking/osmand.py) and goes
through the same ingest as POST /driver/v1/positions, as the tracker id's device token: the same
screening, duplicates stored once, fan-out to watchers, 409 load_received after the receipt.

Outside the OpenAPI document, like /metrics: the request's shape is Traccar's protocol (its query,
form and JSON forms), not one of ours. Traccar Client takes any 200 as delivered and keeps and
retries a position on anything else; the answer's body is the ingest's, which it ignores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import HttpMethod, Request, Router, route
from litestar.datastructures import State

from dispatch.accounts import pairing
from dispatch.runtime import Runtime
from dispatch.tracking import osmand
from dispatch.tracking.models import BatchResult, PositionBatch
from driver_api.positions import ingest_batch


@route(
    "/osmand",
    http_method=[HttpMethod.GET, HttpMethod.POST],
    operation_id="traccarOsmAnd",
    status_code=200,
    include_in_schema=False,
    opt={"exclude_from_auth": True},
)
async def traccar_osmand(request: Request[Any, Any, State]) -> BatchResult:
    runtime: Runtime = request.app.state.runtime
    body = await request.body() if request.method == HttpMethod.POST else b""
    report = osmand.decode(
        request.query_params.multi_items(),
        request.headers.get("content-type", ""),
        body,
        now=datetime.now(UTC),
    )
    device = await pairing.tracker_principal(runtime.db, report.tracker_id)
    return await ingest_batch(runtime, device, PositionBatch(load_id=None, points=report.points))


def tracker_router() -> Router:
    return Router(path="/tracker", route_handlers=[traccar_osmand], tags=["driver"])
