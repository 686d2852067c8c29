"""Routes for the pages and their static assets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from uuid import UUID

import msgspec
from litestar import Response, Router, get
from litestar.params import FromPath
from litestar.response import File
from litestar.static_files import create_static_files_router

from dispatch.deps import RuntimeDep
from dispatch.errors import NotFound
from dispatch.i18n import LOCALES, catalogue_json

STATIC = Path(__file__).parent / "static"
APP = STATIC / "app"
CONSOLE = STATIC / "console"


@get(
    "/board/gate/{site_id:uuid}",
    operation_id="gateBoardPage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def gate_board_page(site_id: FromPath[UUID]) -> File:
    # The page authenticates itself (a token in the URL fragment, or a login form) and then opens
    # the board's websocket; the HTML is the same for every site.
    del site_id
    return File(STATIC / "gate.html", content_disposition_type="inline", media_type="text/html")


@get(
    "/board/jobs",
    operation_id="jobBoardPage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def job_board_page() -> File:
    # The carriers' job board: like the other pages it signs itself in (#token= in the fragment, or
    # a login form) and then opens the market feed websocket with the carrier's saved areas.
    return File(STATIC / "jobs.html", content_disposition_type="inline", media_type="text/html")


def _track_html() -> File:
    return File(STATIC / "track.html", content_disposition_type="inline", media_type="text/html")


@get(
    "/track/loads/{load_id:uuid}",
    operation_id="trackLoadPage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def track_load_page(load_id: FromPath[UUID]) -> File:
    # Like the gate board: the page signs itself in (#token= or #share= in the fragment, or a login
    # form) and opens the load's tracking websocket; the HTML is the same for every load and job.
    del load_id
    return _track_html()


@get(
    "/track/jobs/{job_id:uuid}",
    operation_id="trackJobPage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def track_job_page(job_id: FromPath[UUID]) -> File:
    del job_id
    return _track_html()


class TrackConfig(msgspec.Struct, frozen=True, omit_defaults=True):
    # An XYZ tile URL template ("…/{z}/{x}/{y}.png") for the map's background, or None: no tiles.
    tiles_url: str | None
    attribution: str
    # The tiles' datum; "gcj02" makes the page shift what it draws (trail, truck, geofences). Left
    # out of the answer when it is the default, which the page assumes too.
    datum: Literal["wgs84", "gcj02"] = "wgs84"


@get(
    "/track/config",
    operation_id="trackPageConfig",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
)
async def track_config(runtime: RuntimeDep) -> TrackConfig:
    s = runtime.settings
    return TrackConfig(
        tiles_url=s.map_tiles_url, attribution=s.map_tiles_attribution, datum=s.map_tiles_datum
    )


@get(
    "/i18n/{locale:str}",
    operation_id="messageCatalogue",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
)
async def message_catalogue(locale: FromPath[str]) -> Response[bytes]:
    # The pages' texts in one language (`/i18n/zh-CN.json`), the catalogue the server uses too.
    # "no-cache": a browser may keep it but asks again (an ETag answer is cheap), so a new release's
    # texts are seen on the next load; the driver app's service worker keeps its own copy offline.
    name = locale.removesuffix(".json")
    for known in LOCALES:
        if name == known:
            return Response(
                catalogue_json(known),
                media_type="application/json",
                headers={"Cache-Control": "no-cache"},
            )
    raise NotFound(
        f"There is no catalogue for {name!r}; the languages are {', '.join(LOCALES)}.",
        code="locale_not_found",
    )


@get(
    "/app",
    operation_id="driverAppPage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def driver_app_page() -> File:
    # The driver's phone app: it pairs itself (a code, /app#pair=<code> from the dispatcher's QR, or
    # the driver's own sign-in) and keeps its device token on the phone. "no-cache": the service
    # worker and the browser ask again each start, so a release is seen at once when online.
    return File(
        APP / "index.html",
        content_disposition_type="inline",
        media_type="text/html",
        headers={"Cache-Control": "no-cache"},
    )


@get(
    "/app/sw.js",
    operation_id="driverAppServiceWorker",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/javascript",
)
async def driver_app_service_worker() -> File:
    # Served under /app, not /static, so that its scope may be the app; "/app" itself (no slash) is
    # outside the default scope of /app/sw.js ("/app/"), hence Service-Worker-Allowed. Browsers check
    # a worker for updates on every start; no-cache makes that check reach the server.
    return File(
        APP / "sw.js",
        content_disposition_type="inline",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/app"},
    )


@get(
    "/app/manifest.webmanifest",
    operation_id="driverAppManifest",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="application/manifest+json",
)
async def driver_app_manifest() -> File:
    return File(
        APP / "manifest.webmanifest",
        content_disposition_type="inline",
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


@get(
    "/",
    operation_id="frontDoor",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def front_door() -> File:
    # The way in: a sign-in that takes each person to their console, the pages for those who watch,
    # the driver app and the API's documents. The API itself has no root resource, hence no schema.
    return File(CONSOLE / "front.html", content_disposition_type="inline", media_type="text/html")


@get(
    "/console",
    operation_id="consolePage",
    include_in_schema=False,
    opt={"exclude_from_auth": True},
    media_type="text/html",
)
async def console_page() -> File:
    # One page for every console screen (routed by the fragment, /console#/admin/members): it signs
    # itself in and asks the API for everything, as any client of the API does (docs/ui.md).
    return File(CONSOLE / "index.html", content_disposition_type="inline", media_type="text/html")


def web_routers() -> list[Router]:
    return [
        Router(
            path="/",
            route_handlers=[
                gate_board_page,
                job_board_page,
                track_load_page,
                track_job_page,
                track_config,
                message_catalogue,
                driver_app_page,
                driver_app_service_worker,
                driver_app_manifest,
                front_door,
                console_page,
            ],
        ),
        create_static_files_router(
            path="/static", directories=[STATIC], opt={"exclude_from_auth": True}, include_in_schema=False
        ),
    ]
