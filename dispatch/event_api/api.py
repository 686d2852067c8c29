"""GET /events: the caller's organization's events, oldest first, cursor-paged; `wait` long-polls."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.event_api import service
from dispatch.event_api.service import EventPage, EventTypeOut, RecentPage

# `?types=`: the same filter on every route of the feed.
TypesFilter = Annotated[
    str | None,
    QueryParameter(
        max_length=2000,
        description="only these types, comma-separated",
        schema_extra={"pattern": service.TYPES_PATTERN},
    ),
]


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
        types: TypesFilter = None,
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

    @get(
        "/recent",
        operation_id="listRecentEvents",
        guards=[requires(Permission.READ_EVENTS)],
        summary="Your organization's events newest first, for looking back (the console's events view)",
        description=(
            "Pass `next_before` as `before` for older ones. To consume events without missing one, "
            "read forward with `GET /events` instead."
        ),
    )
    async def recent_events(
        self,
        runtime: RuntimeDep,
        p: Caller,
        before: Annotated[
            str | None,
            QueryParameter(max_length=41, description="`next_before` (or an item's `cursor`) from before"),
        ] = None,
        types: TypesFilter = None,
        limit: Annotated[int, QueryParameter(ge=1, le=service.MAX_LIMIT)] = 50,
    ) -> RecentPage:
        cursor = service.parse_before(before)
        wanted = service.parse_types(types)
        return await service.recent(runtime.db, p.org_id, cursor, wanted, limit)

    @get(
        "/types",
        operation_id="listEventTypes",
        summary="Every event type with its data schema's version and what it means (docs/events.md)",
        description="What a webhook endpoint's `event_types` and the `types` filter may name.",
    )
    async def event_types(self) -> list[EventTypeOut]:
        return service.EVENT_TYPES
