"""GET /events: the caller's organization's events, oldest first, cursor-paged; `wait` long-polls."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.event_api import service
from dispatch.event_api.service import EventPage


class EventsController(Controller):
    path = "/events"
    tags = ["events"]

    @get(
        "/",
        operation_id="listEvents",
        guards=[requires(Permission.READ_EVENTS)],
        summary="The events that concern your organization, oldest first, after a cursor",
        description=(
            "Each item's `data` follows its type's schema (`version`); see docs/events.md. Pass "
            "`next_after` as `after` to read on: nothing is missed or repeated, even for events that "
            "commit late. With `wait` > 0 the answer waits up to that many seconds for events."
        ),
    )
    async def list_events(
        self,
        runtime: RuntimeDep,
        p: Caller,
        after: Annotated[
            str | None,
            QueryParameter(max_length=41, description="`next_after` (or an item's `cursor`) from before"),
        ] = None,
        types: Annotated[
            str | None,
            QueryParameter(
                max_length=2000,
                description="only these types, comma-separated",
                schema_extra={"pattern": service.TYPES_PATTERN},
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_LIMIT)] = 100,
        wait: Annotated[
            int,
            QueryParameter(
                ge=0, le=service.MAX_WAIT_S, description="seconds to wait for events when there are none"
            ),
        ] = 0,
    ) -> EventPage:
        cursor = service.parse_after(after)
        wanted = service.parse_types(types)
        if wait == 0:
            return await service.page(runtime.db, p.org_id, cursor, wanted, limit)
        return await service.wait_for_page(runtime.db, runtime.broker, p.org_id, cursor, wanted, limit, wait)
