"""Accounts HTTP API: login and sessions, the caller's identity, members, roles, API and device tokens."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, Router, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from dispatch.accounts import service
from dispatch.accounts.auth import credential_kinds, requires
from dispatch.accounts.models import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenIssued,
    DeviceToken,
    DeviceTokenCreate,
    DeviceTokenIssued,
    LoginRequest,
    Me,
    Member,
    MemberCreate,
    MemberPage,
    MemberRolesUpdate,
    MeUpdate,
    Organization,
    OrganizationUpdate,
    PasswordChange,
    PasswordChanged,
    PermissionInfo,
    Role,
    RoleCreate,
    RoleUpdate,
    SessionInfo,
    SessionsEnded,
    SessionToken,
)
from dispatch.accounts.permissions import Permission
from dispatch.accounts.throttle import LoginThrottled
from dispatch.deps import Caller, RuntimeDep
from dispatch.errors import problem_response


def _throttled(_: Request[Any, Any, Any], exc: LoginThrottled) -> Response[dict[str, Any]]:
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        exc.extra,
        headers={"Retry-After": str(exc.retry_after_s)},
        params=exc.params,
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]
    exception_handlers = {LoginThrottled: _throttled}

    @post(
        "/login",
        operation_id="login",
        status_code=200,
        opt={"exclude_from_auth": True},
        summary="Exchange email and password for a bearer token acting for one organization",
    )
    async def login(
        self, data: JSONBody[LoginRequest], runtime: RuntimeDep, request: Request[Any, Any, Any]
    ) -> SessionToken:
        # The peer's address; behind a proxy, `dispatch serve --proxy-headers` makes uvicorn put the
        # X-Forwarded-For client here instead.
        address = request.client.host if request.client else "unknown"
        return await service.login(
            runtime.db,
            runtime.passwords,
            secret=runtime.settings.secret_key,
            ttl_seconds=runtime.settings.token_ttl_seconds,
            email=data.email,
            password=data.password,
            organization_id=data.organization_id,
            address=address,
            user_agent=request.headers.get("user-agent", ""),
        )


class IdentityController(Controller):
    tags = ["auth"]
    # Changing one's password checks the current one under the login throttle.
    exception_handlers = {LoginThrottled: _throttled}

    @get("/me", operation_id="getMe", summary="Who the bearer token acts as, and its permissions")
    async def me(self, runtime: RuntimeDep, p: Caller) -> Me:
        return await service.me(runtime.db, p)

    @patch(
        "/me",
        operation_id="updateMe",
        summary="Change the user's own settings (the language); user sessions only",
    )
    async def update_me(self, data: JSONBody[MeUpdate], runtime: RuntimeDep, p: Caller) -> Me:
        return await service.update_me(runtime.db, p, data)

    @post(
        "/me/password",
        operation_id="changeMyPassword",
        status_code=200,
        summary="Change the user's own password (the current one is checked, under the login "
        "throttle); ends the user's other sessions; user sessions only",
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        runtime: RuntimeDep,
        p: Caller,
        request: Request[Any, Any, Any],
    ) -> PasswordChanged:
        address = request.client.host if request.client else "unknown"
        return await service.change_password(runtime.db, runtime.passwords, p, data, address=address)

    @get("/permissions", operation_id="listPermissions", summary="The permission catalogue")
    async def permissions(self, runtime: RuntimeDep) -> list[PermissionInfo]:
        return await service.list_permissions(runtime.db)

    @post("/auth/logout", operation_id="logout", status_code=204, summary="End this session")
    async def logout(self, runtime: RuntimeDep, p: Caller) -> None:
        await service.logout(runtime.db, p)

    @post(
        "/auth/logout-all",
        operation_id="logoutEverywhere",
        status_code=200,
        summary="End every session of this user, in every organization, this one included",
    )
    async def logout_everywhere(self, runtime: RuntimeDep, p: Caller) -> SessionsEnded:
        return await service.logout_everywhere(runtime.db, p)

    @get("/me/sessions", operation_id="listMySessions", summary="This user's live sessions (no secrets)")
    async def sessions(self, runtime: RuntimeDep, p: Caller) -> list[SessionInfo]:
        return await service.list_sessions(runtime.db, p)


class OrganizationController(Controller):
    path = "/orgs/{org_id:uuid}"
    tags = ["organizations"]

    @get("", operation_id="getOrganization")
    async def organization(self, org_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> Organization:
        return await service.get_organization(runtime.db, p, org_id)

    @patch(
        "",
        operation_id="updateOrganization",
        guards=[requires(Permission.MANAGE_MEMBERS)],
        summary="Change the organization's country, currency, time zone or locale",
    )
    async def update_organization(
        self, org_id: FromPath[UUID], data: JSONBody[OrganizationUpdate], runtime: RuntimeDep, p: Caller
    ) -> Organization:
        return await service.update_organization(runtime.db, p, org_id, data)

    # -- members --

    @get("/members", operation_id="listMembers", guards=[requires(Permission.MANAGE_MEMBERS)])
    async def members(
        self,
        org_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        after: Annotated[
            str | None, QueryParameter(max_length=320, description="next_cursor of the previous page")
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> MemberPage:
        return await service.list_members(runtime.db, p, org_id, after=after, limit=limit)

    @post(
        "/members",
        operation_id="addMember",
        guards=[requires(Permission.MANAGE_MEMBERS)],
        summary="Create a user account as a member with the given roles",
    )
    async def add_member(
        self, org_id: FromPath[UUID], data: JSONBody[MemberCreate], runtime: RuntimeDep, p: Caller
    ) -> Member:
        return await service.add_member(runtime.db, runtime.passwords, p, org_id, data)

    @get("/members/{user_id:uuid}", operation_id="getMember", guards=[requires(Permission.MANAGE_MEMBERS)])
    async def member(
        self, org_id: FromPath[UUID], user_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> Member:
        return await service.get_member(runtime.db, p, org_id, user_id)

    @put(
        "/members/{user_id:uuid}/roles",
        operation_id="setMemberRoles",
        guards=[requires(Permission.MANAGE_MEMBERS)],
    )
    async def set_roles(
        self,
        org_id: FromPath[UUID],
        user_id: FromPath[UUID],
        data: JSONBody[MemberRolesUpdate],
        runtime: RuntimeDep,
        p: Caller,
    ) -> Member:
        return await service.set_member_roles(runtime.db, p, org_id, user_id, data.role_ids)

    @delete(
        "/members/{user_id:uuid}", operation_id="removeMember", guards=[requires(Permission.MANAGE_MEMBERS)]
    )
    async def remove_member(
        self, org_id: FromPath[UUID], user_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> None:
        await service.remove_member(runtime.db, p, org_id, user_id)

    @post(
        "/members/{user_id:uuid}/sessions/revoke",
        operation_id="endMemberSessions",
        status_code=200,
        guards=[requires(Permission.MANAGE_MEMBERS)],
        summary="End a member's sessions in this organization",
    )
    async def end_member_sessions(
        self, org_id: FromPath[UUID], user_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> SessionsEnded:
        return await service.end_member_sessions(runtime.db, p, org_id, user_id)

    # -- roles --

    @get("/roles", operation_id="listRoles", summary="Built-in roles and the organization's custom roles")
    async def roles(self, org_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[Role]:
        return await service.list_roles(runtime.db, p, org_id)

    @post("/roles", operation_id="createRole", guards=[requires(Permission.MANAGE_ROLES)])
    async def create_role(
        self, org_id: FromPath[UUID], data: JSONBody[RoleCreate], runtime: RuntimeDep, p: Caller
    ) -> Role:
        return await service.create_role(runtime.db, p, org_id, data)

    @get("/roles/{role_id:uuid}", operation_id="getRole")
    async def role(
        self, org_id: FromPath[UUID], role_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> Role:
        return await service.get_role(runtime.db, p, org_id, role_id)

    @patch("/roles/{role_id:uuid}", operation_id="updateRole", guards=[requires(Permission.MANAGE_ROLES)])
    async def update_role(
        self,
        org_id: FromPath[UUID],
        role_id: FromPath[UUID],
        data: JSONBody[RoleUpdate],
        runtime: RuntimeDep,
        p: Caller,
    ) -> Role:
        return await service.update_role(runtime.db, p, org_id, role_id, data)

    @delete("/roles/{role_id:uuid}", operation_id="deleteRole", guards=[requires(Permission.MANAGE_ROLES)])
    async def delete_role(
        self, org_id: FromPath[UUID], role_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> None:
        await service.delete_role(runtime.db, p, org_id, role_id)

    # -- API tokens --

    @get("/api-tokens", operation_id="listApiTokens", guards=[requires(Permission.MANAGE_TOKENS)])
    async def api_tokens(self, org_id: FromPath[UUID], runtime: RuntimeDep, p: Caller) -> list[ApiToken]:
        return await service.list_api_tokens(runtime.db, p, org_id)

    @post(
        "/api-tokens",
        operation_id="issueApiToken",
        guards=[requires(Permission.MANAGE_TOKENS)],
        summary="Issue an API token with one role; the secret is in this answer only",
    )
    async def issue_api_token(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[ApiTokenCreate],
        runtime: RuntimeDep,
        p: Caller,
    ) -> ApiTokenIssued:
        return await service.issue_api_token(runtime.db, p, org_id, data)

    @post(
        "/api-tokens/{token_id:uuid}/revoke",
        operation_id="revokeApiToken",
        status_code=200,
        guards=[requires(Permission.MANAGE_TOKENS)],
    )
    async def revoke_api_token(
        self, org_id: FromPath[UUID], token_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> ApiToken:
        return await service.revoke_api_token(runtime.db, p, org_id, token_id)

    # -- device tokens --

    @get("/device-tokens", operation_id="listDeviceTokens", guards=[requires(Permission.MANAGE_FLEET)])
    async def device_tokens(
        self, org_id: FromPath[UUID], runtime: RuntimeDep, p: Caller
    ) -> list[DeviceToken]:
        return await service.list_device_tokens(runtime.db, p, org_id)

    @post(
        "/device-tokens",
        operation_id="issueDeviceToken",
        guards=[requires(Permission.MANAGE_FLEET)],
        summary="Issue a device token for a driver member's phone; the secret is in this answer only",
    )
    async def issue_device_token(
        self,
        org_id: FromPath[UUID],
        data: JSONBody[DeviceTokenCreate],
        runtime: RuntimeDep,
        p: Caller,
    ) -> DeviceTokenIssued:
        return await service.issue_device_token(runtime.db, p, org_id, data)

    @post(
        "/device-tokens/{token_id:uuid}/revoke",
        operation_id="revokeDeviceToken",
        status_code=200,
        guards=[requires(Permission.MANAGE_FLEET)],
    )
    async def revoke_device_token(
        self,
        org_id: FromPath[UUID],
        token_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
    ) -> DeviceToken:
        return await service.revoke_device_token(runtime.db, p, org_id, token_id)


def routers() -> list[Router]:
    """Login is open; everything else is for user sessions and API tokens (not device tokens)."""
    return [
        Router(path="/", route_handlers=[AuthController]),
        Router(
            path="/",
            route_handlers=[IdentityController, OrganizationController],
            guards=[credential_kinds("user", "api_token")],
        ),
    ]
