"""Routes for the pages and their static assets."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from litestar import Router, get
from litestar.params import FromPath
from litestar.response import File
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).parent / "static"


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


def web_routers() -> list[Router]:
    return [
        Router(path="/", route_handlers=[gate_board_page]),
        create_static_files_router(
            path="/static", directories=[STATIC], opt={"exclude_from_auth": True}, include_in_schema=False
        ),
    ]
