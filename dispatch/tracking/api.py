"""Tracking HTTP and websocket API: watchers' live sockets, a load's tracking state and its points,
share links. (The phone's GPS batches come in through the driver API, /driver/v1/positions.)"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Router, WebSocket, get, post, websocket
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from dispatch.accounts.auth import bearer_token, requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, ReceiptsDep, ReceiptSummaries, RuntimeDep
from dispatch.tracking import access as watching
from dispatch.tracking import live, service, share_links
from dispatch.tracking.models import MAX_SEQ, LoadTrack, NewShareLink, PointsPage, ShareLink, ShareLinkIn


class TrackingController(Controller):
    path = "/"
    tags = ["tracking"]
    guards = [requires(Permission.VIEW_TRACKING)]

    @get(
        "/loads/{load_id:uuid}/tracking",
        operation_id="getLoadTracking",
        summary="The load's tracking now: trail, last position, ETA, timeline (as a watcher's snapshot)",
    )
    async def tracking(
        self, load_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, receipts: ReceiptsDep
    ) -> LoadTrack:
        access = await watching.access_by_party(runtime.db, p, None, load_id)
        async with runtime.db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            (row,) = await service.watched_loads(conn, access)
            done = await receipts(conn, [load_id])
            return await service.load_track(conn, row, with_trail=True, receipt=done.get(load_id))

    @get(
        "/loads/{load_id:uuid}/positions",
        operation_id="listLoadPositions",
        summary="Every stored point of the load in seq order, paged by seq (next_after)",
    )
    async def positions(
        self,
        load_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        after: Annotated[int, QueryParameter(ge=0, le=MAX_SEQ, description="the last seq already read")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
    ) -> PointsPage:
        return await service.points_page(runtime.db, p, load_id, after, limit)

    @post(
        "/jobs/{job_id:uuid}/share-links",
        operation_id="createShareLink",
        summary="A link to watch without an account",
    )
    async def create_link(
        self, job_id: FromPath[UUID], data: JSONBody[ShareLinkIn], runtime: RuntimeDep, p: Caller
    ) -> NewShareLink:
        return await share_links.create_share_link(runtime.db, p, job_id, data)

    @get("/jobs/{job_id:uuid}/share-links", operation_id="listShareLinks")
    async def list_links(self, job_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[ShareLink]:
        return await share_links.list_share_links(runtime.db, p, job_id)

    @post(
        "/jobs/{job_id:uuid}/share-links/{link_id:uuid}/revoke",
        operation_id="revokeShareLink",
        status_code=200,
    )
    async def revoke_link(
        self, job_id: FromPath[UUID], link_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> ShareLink:
        return await share_links.revoke_share_link(runtime.db, p, job_id, link_id)


async def _watch(
    socket: WebSocket[Any, Any, Any],
    runtime: Any,
    receipts: ReceiptSummaries,
    job_id: UUID | None,
    load_id: UUID | None,
    share: str | None,
    after: str | None,
) -> None:
    # Checked before the socket is accepted: a Problem raised here refuses the upgrade with its
    # problem-details answer (dispatch.errors.refuse_failed_sockets).
    cursors = live.parse_after(after)
    access = await watching.access(
        runtime.db,
        runtime.settings.secret_key,
        bearer=None if share else bearer_token(socket),
        share=share,
        job_id=job_id,
        load_id=load_id,
    )
    await live.watch(socket, runtime, receipts, access, cursors)


_WS_DOC = (
    "Live tracking: a snapshot, then points, events, the receipt, and `final` before a normal close. "
    "Authenticate with a bearer token (header or ?access_token=) or ?share=; resume with "
    "?after=<load_id>:<seq>,... (dispatch/tracking/README.md)."
)


@websocket("/tracking/loads/{load_id:uuid}/live", opt={"exclude_from_auth": True}, description=_WS_DOC)
async def load_live(
    socket: WebSocket[Any, Any, Any],
    load_id: FromPath[UUID],
    runtime: RuntimeDep,
    receipts: ReceiptsDep,
    share: FromQuery[str | None] = None,
    after: FromQuery[str | None] = None,
) -> None:
    await _watch(socket, runtime, receipts, None, load_id, share, after)


@websocket("/tracking/jobs/{job_id:uuid}/live", opt={"exclude_from_auth": True}, description=_WS_DOC)
async def job_live(
    socket: WebSocket[Any, Any, Any],
    job_id: FromPath[UUID],
    runtime: RuntimeDep,
    receipts: ReceiptsDep,
    share: FromQuery[str | None] = None,
    after: FromQuery[str | None] = None,
) -> None:
    await _watch(socket, runtime, receipts, job_id, None, share, after)


def watch_router() -> Router:
    """The watchers' sockets: outside the bearer middleware, because share links open them too."""
    return Router(path="/", route_handlers=[load_live, job_live], tags=["tracking"])
