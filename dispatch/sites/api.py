"""Sites HTTP API."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.sites import service
from dispatch.sites.models import DockCreate, Site, SiteCreate, SiteUpdate


class SiteController(Controller):
    path = "/sites"
    tags = ["sites"]

    @get("", operation_id="listSites", summary="The organization's own sites")
    async def list_own(self, runtime: RuntimeDep, p: Caller) -> list[Site]:
        return await service.list_own_sites(runtime.db, p)

    @get(
        "/shared",
        operation_id="listSharedSites",
        summary="Other organizations' shared sites, usable as a job's origin or destination",
    )
    async def list_shared(
        self,
        runtime: RuntimeDep,
        p: Caller,
        name: Annotated[str | None, QueryParameter(max_length=100, description="part of the name")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[Site]:
        return await service.list_shared_sites(runtime.db, p, name=name, limit=limit)

    @post("", operation_id="createSite", guards=[requires(Permission.MANAGE_SITES)])
    async def create(self, data: JSONBody[SiteCreate], runtime: RuntimeDep, p: Caller) -> Site:
        return await service.create_site(runtime.db, p, data)

    @get("/{site_id:uuid}", operation_id="getSite")
    async def get_one(self, site_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Site:
        return await service.get_site(runtime.db, p, site_id)

    @patch("/{site_id:uuid}", operation_id="updateSite", guards=[requires(Permission.MANAGE_SITES)])
    async def update(
        self, site_id: FromPath[UUID], data: JSONBody[SiteUpdate], runtime: RuntimeDep, p: Caller
    ) -> Site:
        return await service.update_site(runtime.db, p, site_id, data)

    @post("/{site_id:uuid}/docks", operation_id="addDock", guards=[requires(Permission.MANAGE_SITES)])
    async def add_dock(
        self, site_id: FromPath[UUID], data: JSONBody[DockCreate], runtime: RuntimeDep, p: Caller
    ) -> Site:
        return await service.add_dock(runtime.db, p, site_id, data)
