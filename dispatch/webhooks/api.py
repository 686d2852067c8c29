"""Webhook endpoints HTTP API (`webhooks.manage`)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from dispatch.accounts.auth import requires
from dispatch.accounts.permissions import Permission
from dispatch.deps import Caller, RuntimeDep
from dispatch.webhooks import service
from dispatch.webhooks.models import (
    Attempt,
    AttemptPage,
    DeliveryPage,
    DeliveryQueued,
    Endpoint,
    EndpointIn,
    EndpointPatch,
    RedeliverIn,
)


class WebhookController(Controller):
    path = "/webhooks/endpoints"
    tags = ["webhooks"]
    guards = [requires(Permission.MANAGE_WEBHOOKS)]

    @post(
        "",
        operation_id="createWebhookEndpoint",
        summary="Register an endpoint; the answer carries its signing secret, shown this once",
    )
    async def create(self, data: JSONBody[EndpointIn], runtime: RuntimeDep, p: Caller) -> Endpoint:
        return await service.create(
            runtime.db, runtime.settings.secret_key, p, data, runtime.settings.webhook_allow_hosts
        )

    @get("", operation_id="listWebhookEndpoints", summary="The organization's endpoints")
    async def list_all(self, runtime: RuntimeDep, p: Caller) -> list[Endpoint]:
        return await service.list_endpoints(runtime.db, p)

    @get("/{endpoint_id:uuid}", operation_id="getWebhookEndpoint")
    async def get_one(self, endpoint_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Endpoint:
        return await service.get(runtime.db, p, endpoint_id)

    @patch(
        "/{endpoint_id:uuid}",
        operation_id="updateWebhookEndpoint",
        summary="Change the URL, event types, description; pause, or resume (also after a disable)",
    )
    async def update(
        self, endpoint_id: FromPath[UUID], data: JSONBody[EndpointPatch], runtime: RuntimeDep, p: Caller
    ) -> Endpoint:
        return await service.update(runtime.db, p, endpoint_id, data, runtime.settings.webhook_allow_hosts)

    @delete("/{endpoint_id:uuid}", operation_id="deleteWebhookEndpoint")
    async def remove(self, endpoint_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> None:
        await service.delete(runtime.db, p, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        operation_id="rotateWebhookSecret",
        status_code=200,
        summary="A new signing secret (shown this once); the old one also signs during the grace period",
    )
    async def rotate(self, endpoint_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Endpoint:
        return await service.rotate_secret(
            runtime.db, runtime.settings.secret_key, p, endpoint_id, runtime.settings.webhook_secret_grace_s
        )

    @post(
        "/{endpoint_id:uuid}/test",
        operation_id="testWebhookEndpoint",
        status_code=202,
        summary="Send a webhook.test event to this endpoint",
    )
    async def test(self, endpoint_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> DeliveryQueued:
        return await service.send_test(runtime.db, p, endpoint_id)

    @post(
        "/{endpoint_id:uuid}/redeliver",
        operation_id="redeliverWebhookEvent",
        status_code=202,
        summary="Send an event of the organization's feed (again) to this endpoint",
    )
    async def redeliver(
        self, endpoint_id: FromPath[UUID], data: JSONBody[RedeliverIn], runtime: RuntimeDep, p: Caller
    ) -> DeliveryQueued:
        return await service.redeliver(runtime.db, p, endpoint_id, data.event_id)

    @get(
        "/{endpoint_id:uuid}/deliveries",
        operation_id="listWebhookDeliveries",
        summary="The endpoint's deliveries, newest first",
    )
    async def deliveries(
        self,
        endpoint_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        before: Annotated[
            int | None, QueryParameter(ge=1, description="next_before of the last page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> DeliveryPage:
        return await service.deliveries(runtime.db, p, endpoint_id, before, limit)

    @get(
        "/{endpoint_id:uuid}/deliveries/{delivery_id:int}/attempts",
        operation_id="listWebhookAttempts",
        summary="Every attempt of a delivery: status, latency, the answer's first bytes",
    )
    async def attempts(
        self, endpoint_id: FromPath[UUID], delivery_id: FromPath[int], runtime: RuntimeDep, p: Caller
    ) -> list[Attempt]:
        return await service.attempts(runtime.db, p, endpoint_id, delivery_id)

    @get(
        "/{endpoint_id:uuid}/attempts",
        operation_id="listWebhookEndpointAttempts",
        summary="The endpoint's attempts over all its deliveries, newest first, with their events",
    )
    async def recent_attempts(
        self,
        endpoint_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        before: Annotated[
            int | None, QueryParameter(ge=1, description="next_before of the last page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> AttemptPage:
        return await service.recent_attempts(runtime.db, p, endpoint_id, before, limit)
