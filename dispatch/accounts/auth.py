"""Bearer authentication for HTTP and websockets, and the guards built on it.

The middleware resolves the `Authorization: Bearer ...` header to a `Principal` before any
handler runs (so a websocket is authenticated before anything is sent on it). Routes opt out with
`opt={"exclude_from_auth": True}`. Device tokens only open the driver API; user sessions and API
tokens only open the platform API.
"""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.types import Guard

from dispatch.accounts import credentials, queries, service
from dispatch.accounts.device_cache import DevicePrincipals
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import CredentialKind, Principal
from dispatch.db import Conn
from dispatch.errors import Forbidden, Unauthorized
from dispatch.parties import Party
from dispatch.settings import Settings


class Authenticator(Protocol):
    """What authenticating a request needs of the running app (its `Runtime`, in `app.state.runtime`):
    the pool, the key that signs sessions and the kept device principals. Named here, not imported,
    so that accounts, which every area builds on, does not depend on the composition root and the
    areas' hubs it holds."""

    @property
    def db(self) -> asyncpg.Pool: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def device_principals(self) -> DevicePrincipals: ...


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization")
    if header is None:
        # Browsers cannot set headers on a websocket: there (only) the token may be a query
        # parameter. Our access log records paths without query strings.
        if connection.scope["type"] == ScopeType.WEBSOCKET:
            return connection.query_params.get("access_token") or None
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.", code="token_malformed")
    return token.strip()


# The GPS ingest route takes its device principal from the process's short cache
# (dispatch/accounts/device_cache.py, which says why that is safe); every other route authenticates
# every request.
CACHED_ROUTES = frozenset({"/driver/v1/positions"})


async def authenticate_token(runtime: Authenticator, token: str, path: str) -> Principal:
    """The principal a bearer token acts as on `path` (what the middleware puts in the scope), or
    the Problem authentication answers."""
    if path not in CACHED_ROUTES or not token.startswith(credentials.DEVICE_PREFIX):
        return await service.authenticate(runtime.db, secret=runtime.settings.secret_key, token=token)
    key = credentials.secret_hash(token)
    kept = runtime.device_principals.get(key)
    if kept is not None:
        return kept
    principal = await service.authenticate(runtime.db, secret=runtime.settings.secret_key, token=token)
    runtime.device_principals.keep(key, principal)
    return principal


async def recheck_device(conn: Conn, p: Principal, devices: DevicePrincipals) -> None:
    """Raise what authentication would if this device principal's token is no longer valid (and
    forget the token's kept principal)."""
    if p.kind != "device" or p.credential_id is None:
        return
    row = await conn.fetchrow(queries.DEVICE_TOKEN_STATE, p.credential_id)
    if row is None or row["revoked_at"] is not None:
        devices.forget(p.credential_id)
        if row is None:
            raise Unauthorized("Unknown device token.", code="token_invalid")
        raise Unauthorized("This device token was revoked.", code="token_revoked")


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            raise Unauthorized("This endpoint needs a bearer token.", code="token_missing")
        runtime: Authenticator = connection.app.state.runtime
        principal = await authenticate_token(runtime, token, connection.scope["path"])
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware() -> DefineMiddleware:
    return DefineMiddleware(BearerAuthMiddleware, exclude=["^/schema", "^/healthz$", "^/static/"])


def principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal), "route is not behind the bearer middleware"
    return user


def _options(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """OPTIONS is Litestar's automatic answer (204 with the route's `Allow`), which the bearer
    middleware lets through unauthenticated, as a CORS preflight comes without credentials: the
    guards have no caller to judge, and the answer reveals no more than the OpenAPI document."""
    return connection.scope.get("method") == "OPTIONS"


def require_party(p: Principal, party: Party, doing: str) -> None:
    """Only organizations that play `party` may do this (e.g. only carriers grab jobs)."""
    if not p.plays(party):
        raise Forbidden(f"Only {party} organizations {doing}.", code=f"not_a_{party}")


def requires(*permissions: Permission) -> Guard:
    """A guard: the caller must hold every one of `permissions`.

    Guards here are async on purpose: Litestar runs a sync guard in a worker thread (two GIL hand-
    offs per request), measured at 4-9% of a worker on the GPS ingest path."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _options(connection):
            return
        p = principal(connection)
        missing = [perm.value for perm in permissions if not p.can(perm)]
        if missing:
            raise Forbidden(
                f"This needs the permission(s): {', '.join(missing)}.",
                code="permission_missing",
                params={"permissions": missing},
                permissions=missing,
            )

    return guard


def requires_any(*permissions: Permission) -> Guard:
    """A guard: the caller must hold at least one of `permissions` (the use case decides which)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _options(connection):
            return
        p = principal(connection)
        if not any(p.can(perm) for perm in permissions):
            names = [perm.value for perm in permissions]
            raise Forbidden(
                f"This needs one of the permission(s): {', '.join(names)}.",
                code="permission_missing",
                params={"permissions": names},
                permissions=names,
            )

    return guard


def credential_kinds(*kinds: CredentialKind) -> Guard:
    """A guard: only these kinds of credential may use the routes it protects."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _options(connection):
            return
        kind = principal(connection).kind
        if kind not in kinds:
            where = "the driver API (/driver/v1)" if kind == "device" else "the platform API"
            raise Forbidden(
                f"A {kind.replace('_', ' ')} credential only works on {where}.", code="wrong_credential_kind"
            )

    return guard
