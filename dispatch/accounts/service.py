"""Accounts use cases. Each public function is one use case and owns its transaction; every read
or write of organization data passes the caller's organization into the SQL."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts import credentials, password_policy, queries, regional, throttle
from dispatch.accounts.models import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenIssued,
    DeviceToken,
    DeviceTokenCreate,
    DeviceTokenIssued,
    Me,
    Member,
    MemberCreate,
    MemberPage,
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
from dispatch.accounts.passwords import Passwords
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db import Conn, Queryable
from dispatch.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from dispatch.i18n import LocaleName
from dispatch.parties import Party


def _now() -> datetime:
    return datetime.now(UTC)


def _as(type_: type[Any], record: asyncpg.Record | None) -> Any:
    if record is None:
        return None
    return msgspec.convert(dict(record), type_)


# -- bootstrap (command line) -----------------------------------------------------------------


async def create_organization(
    db: asyncpg.Pool,
    passwords: Passwords,
    *,
    name: str,
    parties: Sequence[Party],
    admin_email: str,
    admin_name: str,
    admin_password: str,
    country: str | None = None,
    currency: str | None = None,
    timezone: str | None = None,
    locale: LocaleName | None = None,
) -> tuple[Organization, UUID]:
    """A new organization with its first member, who gets the built-in admin role. Its regional
    settings: what is given, the rest from the country (`regional.settle`)."""
    settings = regional.settle(country=country, currency=currency, timezone=timezone, locale=locale)
    await password_policy.check_new_password(
        admin_password, password_policy.context_words(admin_email, admin_name, name)
    )
    password_hash = await passwords.hash(admin_password)
    async with db.acquire() as conn, conn.transaction():
        org = _as(
            Organization,
            await conn.fetchrow(
                queries.INSERT_ORGANIZATION,
                name,
                list(parties),
                settings.country,
                settings.currency,
                settings.timezone,
                settings.locale,
            ),
        )
        admin = await builtin_role(conn, "admin")
        user_id = await add_user(
            conn, org.id, email=admin_email, name=admin_name, password_hash=password_hash, role_ids=[admin]
        )
        await events.record(
            conn,
            "organization.created",
            org_ids=[org.id],
            subject_type="organization",
            subject_id=org.id,
            actor_user_id=None,
            data={
                "name": name,
                "admin": str(user_id),
                "country": settings.country,
                "currency": settings.currency,
                "timezone": settings.timezone,
                "locale": settings.locale,
            },
        )
    return org, user_id


# -- login and authentication ----------------------------------------------------------------


async def login(
    db: asyncpg.Pool,
    passwords: Passwords,
    *,
    secret: str,
    ttl_seconds: int,
    email: str,
    password: str,
    organization_id: UUID | None,
    address: str,
    user_agent: str,
) -> SessionToken:
    account = throttle.account_subject(email)
    user_id, chosen = await verify_login(
        db, passwords, email=email, password=password, organization_id=organization_id, address=address
    )
    now = _now()
    try:
        session_id = await db.fetchval(
            queries.LOGIN_SUCCEEDED,
            account,
            chosen,
            user_id,
            now + timedelta(seconds=ttl_seconds),
            _printable(user_agent, 200),
            _printable(address, 100),
        )
    except asyncpg.ForeignKeyViolationError:  # the membership was removed a moment ago
        raise Unauthorized("The email or password is wrong.", code="bad_credentials") from None
    token, expires_at = credentials.sign_session(secret, user_id, chosen, ttl_seconds, now, session_id)
    return SessionToken(access_token=token, expires_at=expires_at, user_id=user_id, organization_id=chosen)


async def verify_login(
    db: asyncpg.Pool,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    organization_id: UUID | None,
    address: str,
) -> tuple[UUID, UUID]:
    """The user and the organization a login acts for, under the login throttle, or the login's
    errors (429 `login_throttled`, 401 `bad_credentials`, 400 `organization_required`). The
    account's streak goes on until the caller ends it (with the session it makes, or a device
    token: END_ACCOUNT_STREAK)."""
    account = throttle.account_subject(email)
    # Counted before the password is checked; a throttled attempt checks nothing (429).
    await throttle.claim_attempt(db, account, address)
    row = await db.fetchrow(queries.USER_FOR_LOGIN, email)
    # Verify even for an unknown email, so the answer takes as long either way.
    ok = await passwords.verify(row["password_hash"] if row else None, password)
    if row is None or not ok or row["disabled_at"] is not None:
        await throttle.address_failed(db, address)
        raise Unauthorized("The email or password is wrong.", code="bad_credentials")
    org_ids: list[UUID] = row["org_ids"]
    chosen = organization_id if organization_id is not None else (org_ids[0] if len(org_ids) == 1 else None)
    if chosen is None or chosen not in org_ids:
        # The password was right: the streak is over even though no session is made.
        await db.execute(queries.END_ACCOUNT_STREAK, account)
        if organization_id is None:
            raise BadRequest(
                "This user belongs to several organizations (or none): name one in organization_id.",
                code="organization_required",
                organization_ids=[str(o) for o in org_ids],
            )
        raise Unauthorized("The email or password is wrong.", code="bad_credentials")
    return row["id"], chosen


def _printable(text: str, limit: int) -> str:
    """Header text as shown in the session list (PostgreSQL text holds no NUL)."""
    return text.replace("\x00", "")[:limit]


def session_claims(secret: str, token: str) -> credentials.SessionClaims:
    """The claims of a user session's bearer token (`token` starts with USER_PREFIX), or the
    Unauthorized `authenticate` raises for it."""
    try:
        return credentials.verify_session(secret, token, _now())
    except credentials.InvalidToken as exc:
        raise Unauthorized(exc.detail, code=exc.reason) from None


def session_principal(
    claims: credentials.SessionClaims, row: asyncpg.Record | Mapping[str, Any] | None
) -> Principal:
    """The principal a user session acts as, from its verified claims and its row of
    USER_SESSION_PRINCIPAL (or a statement that reads the same columns with the same parameters),
    or the Unauthorized that says why it does not authenticate."""
    if row is None:
        raise Unauthorized(
            "This user is no longer a member of the token's organization.", code="membership_gone"
        )
    if not row["live"]:
        raise Unauthorized("This session was ended; log in again.", code="session_revoked")
    return Principal(
        kind="user",
        org_id=claims.org,
        user_id=claims.sub,
        credential_id=None,
        session_id=claims.sid,
        permissions=frozenset(row["permissions"]),
        parties=frozenset(row["parties"]),
    )


async def read_with_session(
    conn: Queryable, claims: credentials.SessionClaims, statement: str, *args: Any
) -> tuple[Principal, asyncpg.Record]:
    """A user session's principal (as `authenticate` finds it, or its Unauthorized) and `statement`'s
    row read beside it in one round trip (`queries.with_user_session`: the statement's columns all
    NULL when it finds no row). For a hot route whose first read needs only the session's claims."""
    row = await conn.fetchrow(_with_session(statement, len(args)), *args, claims.org, claims.sub, claims.sid)
    principal = session_principal(claims, row)
    assert row is not None  # else session_principal raised membership_gone
    return principal, row


_with_session = functools.cache(queries.with_user_session)  # a few statements, each composed once


async def authenticate(db: asyncpg.Pool, *, secret: str, token: str) -> Principal:
    """Resolve a bearer token to the principal it acts as, or raise Unauthorized with the reason."""
    try:
        if token.startswith(credentials.USER_PREFIX):
            claims = credentials.verify_session(secret, token, _now())
            row = await db.fetchrow(queries.USER_SESSION_PRINCIPAL, claims.org, claims.sub, claims.sid)
            return session_principal(claims, row)
        if token.startswith(credentials.API_PREFIX):
            row = await db.fetchrow(queries.API_TOKEN_PRINCIPAL, credentials.secret_hash(token))
            if row is None:
                raise Unauthorized("Unknown API token.", code="token_invalid")
            if row["revoked_at"] is not None:
                raise Unauthorized("This API token was revoked.", code="token_revoked")
            if row["expires_at"] is not None and row["expires_at"] <= _now():
                raise Unauthorized("This API token has expired.", code="token_expired")
            return Principal(
                kind="api_token",
                org_id=row["org_id"],
                user_id=None,
                credential_id=row["id"],
                permissions=frozenset(row["permissions"]),
                parties=frozenset(row["parties"]),
            )
        if token.startswith(credentials.DEVICE_PREFIX):
            row = await db.fetchrow(queries.DEVICE_TOKEN_PRINCIPAL, credentials.secret_hash(token))
            if row is None:
                raise Unauthorized("Unknown device token.", code="token_invalid")
            if row["revoked_at"] is not None:
                raise Unauthorized("This device token was revoked.", code="token_revoked")
            return Principal(
                kind="device",
                org_id=row["org_id"],
                user_id=row["user_id"],
                credential_id=row["id"],
                permissions=frozenset(row["permissions"]),
                parties=frozenset(row["parties"]),
            )
    except credentials.InvalidToken as exc:
        raise Unauthorized(exc.detail, code=exc.reason) from None
    raise Unauthorized("The bearer token is malformed.", code="token_malformed")


async def me(db: asyncpg.Pool, p: Principal) -> Me:
    org = await get_organization(db, p, p.org_id)
    user = await db.fetchrow(queries.USER_PROFILE, p.user_id) if p.user_id else None
    return Me(
        credential=p.kind,
        user_id=p.user_id,
        name=user["name"] if user else None,
        email=user["email"] if user else None,
        organization=org,
        permissions=sorted(p.permissions),
        locale=user["locale"] if user else None,
    )


async def update_me(db: asyncpg.Pool, p: Principal, body: MeUpdate) -> Me:
    """The user's own settings: a person's, so a session's only (an API token is nobody's)."""
    _session_of(p)
    if body.locale is not msgspec.UNSET:
        await db.execute(queries.SET_USER_LOCALE, p.user_id, body.locale)
    return await me(db, p)


async def change_password(
    db: asyncpg.Pool, passwords: Passwords, p: Principal, body: PasswordChange, *, address: str
) -> PasswordChanged:
    """The user's own password, for a session only (an API or device token is not the person). The
    current password is checked under the login throttle of the user's email, so a stolen session
    guesses no faster than a login would; the new one must pass the policy of new accounts. Then
    every other session of the user ends (whoever else was signed in must know the new password);
    the caller's stays. Any refusal changes nothing."""
    session_id = _session_of(p)
    user = await db.fetchrow(queries.USER_FOR_PASSWORD_CHANGE, p.user_id)
    assert user is not None  # the session's user (sessions are deleted with their user)
    org_name = await db.fetchval(queries.ORGANIZATION_NAME, p.org_id)
    # The policy first: a weak new password is refused without spending a guess or Argon2 time.
    await password_policy.check_new_password(
        body.new_password, password_policy.context_words(user["email"], user["name"], org_name)
    )
    account = throttle.account_subject(user["email"])
    await throttle.claim_attempt(db, account, address)
    if not await passwords.verify(user["password_hash"], body.current_password):
        await throttle.address_failed(db, address)
        raise Forbidden(
            "The current password is wrong; the password was not changed.",
            code="current_password_wrong",
        )
    # The right password ends the streak, as a login does.
    await db.execute(queries.END_ACCOUNT_STREAK, account)
    password_hash = await passwords.hash(body.new_password)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(queries.LOCK_USER, p.user_id)
        if await conn.fetchval(queries.SET_USER_PASSWORD, p.user_id, password_hash, session_id) is None:
            raise Unauthorized("This session was ended; log in again.", code="session_revoked")
        ended = await conn.fetchval(queries.END_OTHER_USER_SESSIONS, p.user_id, session_id)
    return PasswordChanged(other_sessions_ended=ended)


# -- sessions --------------------------------------------------------------------------------


def _session_of(p: Principal) -> UUID:
    if p.session_id is None or p.user_id is None:
        raise Forbidden(
            "Only a user session (from POST /auth/login) has sessions; API tokens are revoked by an "
            "administrator.",
            code="not_a_session",
        )
    return p.session_id


async def list_sessions(db: asyncpg.Pool, p: Principal) -> list[SessionInfo]:
    """The caller's live sessions, in every organization they belong to."""
    current = _session_of(p)
    return [_as(SessionInfo, r) for r in await db.fetch(queries.USER_SESSIONS, p.user_id, current)]


async def logout(db: asyncpg.Pool, p: Principal) -> None:
    """End the session this request was made with."""
    await db.execute(queries.END_SESSION, _session_of(p), p.user_id)


async def logout_everywhere(db: asyncpg.Pool, p: Principal) -> SessionsEnded:
    """End every session of the caller, in every organization, this one included."""
    _session_of(p)
    return SessionsEnded(ended=await db.fetchval(queries.END_USER_SESSIONS, p.user_id))


async def end_member_sessions(db: asyncpg.Pool, p: Principal, org_id: UUID, user_id: UUID) -> SessionsEnded:
    """An administrator ends a member's sessions in this organization (not in others they belong to)."""
    _own_org(p, org_id)
    async with db.acquire() as conn, conn.transaction():
        await _member(conn, p.org_id, user_id)
        ended = await conn.fetchval(queries.END_MEMBER_SESSIONS, p.org_id, user_id)
        await events.record(
            conn,
            "member.sessions_ended",
            org_ids=[p.org_id],
            subject_type="user",
            subject_id=user_id,
            actor_user_id=p.user_id,
            data={"ended": ended},
        )
    return SessionsEnded(ended=ended)


# -- organizations ---------------------------------------------------------------------------


def _own_org(p: Principal, org_id: UUID) -> None:
    # Another organization's resources are "not found", never "forbidden": ids are not confirmed.
    if org_id != p.org_id:
        raise NotFound("No such organization.", code="organization_not_found")


async def get_organization(db: Queryable, p: Principal, org_id: UUID) -> Organization:
    _own_org(p, org_id)
    org: Organization = _as(Organization, await db.fetchrow(queries.ORGANIZATION, p.org_id))
    return org


async def own_organization(db: Queryable, p: Principal) -> Organization:
    """The caller's organization, for the areas that take its settings as their defaults (the
    currency of a job, the country of a plate)."""
    return await get_organization(db, p, p.org_id)


async def update_organization(
    db: asyncpg.Pool, p: Principal, org_id: UUID, body: OrganizationUpdate
) -> Organization:
    """Change the regional settings; a new country alone brings its defaults (`regional.settle`)."""
    _own_org(p, org_id)

    def given(value: Any) -> Any:
        return None if value is msgspec.UNSET else value

    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.ORGANIZATION_FOR_UPDATE, p.org_id)
        before: Organization = _as(Organization, row)
        current = regional.Regional(before.country, before.currency, before.timezone, before.locale)
        after = regional.settle(
            country=given(body.country),
            currency=given(body.currency),
            timezone=given(body.timezone),
            locale=given(body.locale),
            current=current,
        )
        if after == current:
            return before
        org: Organization = _as(
            Organization,
            await conn.fetchrow(
                queries.UPDATE_ORGANIZATION_SETTINGS,
                p.org_id,
                after.country,
                after.currency,
                after.timezone,
                after.locale,
            ),
        )
        changed = {k: v for k, v in dataclasses.asdict(after).items() if getattr(current, k) != v}
        await events.record(
            conn,
            "organization.updated",
            org_ids=[p.org_id],
            subject_type="organization",
            subject_id=p.org_id,
            actor_user_id=p.user_id,
            data=changed,
        )
    return org


# -- members ---------------------------------------------------------------------------------


async def list_members(
    db: asyncpg.Pool, p: Principal, org_id: UUID, *, after: str | None, limit: int
) -> MemberPage:
    _own_org(p, org_id)
    rows = await db.fetch(queries.MEMBERS_PAGE, p.org_id, after, limit + 1)
    items = [_as(Member, r) for r in rows[:limit]]
    return MemberPage(items=items, next_cursor=items[-1].email if len(rows) > limit else None)


async def get_member(db: asyncpg.Pool, p: Principal, org_id: UUID, user_id: UUID) -> Member:
    _own_org(p, org_id)
    return await _member(db, p.org_id, user_id)


async def _member(conn: Queryable, org_id: UUID, user_id: UUID) -> Member:
    member: Member | None = _as(Member, await conn.fetchrow(queries.MEMBER, org_id, user_id))
    if member is None:
        raise NotFound("No such member in this organization.", code="member_not_found")
    return member


async def _grantable_roles(conn: Conn, p: Principal, role_ids: Iterable[UUID]) -> list[Role]:
    """The roles, if the organization may use them and the caller holds every permission in them."""
    wanted = list(dict.fromkeys(role_ids))
    roles = [_as(Role, r) for r in await conn.fetch(queries.ROLES_BY_ID, p.org_id, wanted)]
    missing = set(wanted) - {r.id for r in roles}
    if missing:
        raise NotFound(f"No such role: {', '.join(sorted(map(str, missing)))}.", code="role_not_found")
    _check_within_own(p, {perm for r in roles for perm in r.permissions})
    return roles


# Grantable by anyone who may grant roles: it makes a member a driver, opening only the driver API
# for that person's own loads, and no org data to the one who grants it.
_NOT_A_PRIVILEGE = {Permission.DRIVE.value}


def _check_within_own(p: Principal, permissions: set[str]) -> None:
    # Nobody hands out more than they hold: no escalation through roles or tokens.
    beyond = sorted(permissions - p.permissions - _NOT_A_PRIVILEGE)
    if beyond:
        raise Forbidden(
            f"You cannot grant permissions you do not hold: {', '.join(beyond)}.",
            code="permission_escalation",
            params={"permissions": beyond},
            permissions=beyond,
        )


async def add_member(
    db: asyncpg.Pool,
    passwords: Passwords,
    p: Principal,
    org_id: UUID,
    body: MemberCreate,
) -> Member:
    _own_org(p, org_id)
    org_name = await db.fetchval(queries.ORGANIZATION_NAME, p.org_id)
    await password_policy.check_new_password(
        body.password, password_policy.context_words(body.email, body.name, org_name)
    )
    password_hash = await passwords.hash(body.password)
    async with db.acquire() as conn, conn.transaction():
        await _grantable_roles(conn, p, body.role_ids)
        user_id = await add_user(
            conn,
            p.org_id,
            email=body.email,
            name=body.name,
            password_hash=password_hash,
            role_ids=body.role_ids,
        )
        await events.record(
            conn,
            "member.added",
            org_ids=[p.org_id],
            subject_type="user",
            subject_id=user_id,
            actor_user_id=p.user_id,
            data={"role_ids": [str(r) for r in body.role_ids]},
        )
        return await _member(conn, p.org_id, user_id)


async def add_user(
    conn: Conn, org_id: UUID, *, email: str, name: str, password_hash: str, role_ids: Sequence[UUID]
) -> UUID:
    """A new user, a member of `org_id` with `role_ids` (409 `email_taken` if the email is in use).
    The one way to make a user: fleet's drivers are made here too, not with accounts' SQL."""
    user_id: UUID | None = await conn.fetchval(queries.INSERT_USER, email, name, password_hash)
    if user_id is None:
        raise Conflict(f"A user with email {email} already exists.", code="email_taken")
    await conn.execute(queries.INSERT_MEMBERSHIP, org_id, user_id)
    await conn.execute(queries.GRANT_ROLES, org_id, user_id, list(role_ids))
    return user_id


async def builtin_role(conn: Queryable, name: str) -> UUID:
    """The id of a built-in role (`admin`, `driver`, ...), the same in every organization."""
    role_id: UUID | None = await conn.fetchval(queries.BUILTIN_ROLE, name)
    assert role_id is not None, f"the migrations create the built-in role {name!r}"
    return role_id


async def set_member_roles(
    db: asyncpg.Pool,
    p: Principal,
    org_id: UUID,
    user_id: UUID,
    role_ids: Sequence[UUID],
) -> Member:
    _own_org(p, org_id)
    async with db.acquire() as conn, conn.transaction():
        await _member(conn, p.org_id, user_id)
        await _grantable_roles(conn, p, role_ids)
        await conn.execute(queries.CLEAR_MEMBER_ROLES, p.org_id, user_id)
        await conn.execute(queries.GRANT_ROLES, p.org_id, user_id, list(role_ids))
        await events.record(
            conn,
            "member.roles_changed",
            org_ids=[p.org_id],
            subject_type="user",
            subject_id=user_id,
            actor_user_id=p.user_id,
            data={"role_ids": [str(r) for r in role_ids]},
        )
        return await _member(conn, p.org_id, user_id)


async def remove_member(db: asyncpg.Pool, p: Principal, org_id: UUID, user_id: UUID) -> None:
    _own_org(p, org_id)
    if user_id == p.user_id:
        raise Conflict("You cannot remove yourself from the organization.", code="cannot_remove_self")
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchval(queries.DELETE_MEMBERSHIP, p.org_id, user_id) is None:
            raise NotFound("No such member in this organization.", code="member_not_found")
        await events.record(
            conn,
            "member.removed",
            org_ids=[p.org_id],
            subject_type="user",
            subject_id=user_id,
            actor_user_id=p.user_id,
        )


# -- roles -----------------------------------------------------------------------------------


async def list_permissions(db: asyncpg.Pool) -> list[PermissionInfo]:
    return [_as(PermissionInfo, r) for r in await db.fetch(queries.PERMISSIONS)]


async def list_roles(db: asyncpg.Pool, p: Principal, org_id: UUID) -> list[Role]:
    _own_org(p, org_id)
    return [_as(Role, r) for r in await db.fetch(queries.ROLES, p.org_id)]


async def _role(conn: Queryable, org_id: UUID, role_id: UUID) -> Role:
    rows = await conn.fetch(queries.ROLES_BY_ID, org_id, [role_id])
    if not rows:
        raise NotFound("No such role.", code="role_not_found")
    role: Role = _as(Role, rows[0])
    return role


async def get_role(db: asyncpg.Pool, p: Principal, org_id: UUID, role_id: UUID) -> Role:
    _own_org(p, org_id)
    return await _role(db, p.org_id, role_id)


async def _check_name_free(conn: Conn, org_id: UUID, name: str, role_id: UUID | None) -> None:
    if await conn.fetchval(queries.ROLE_NAME_TAKEN, org_id, name, role_id):
        raise Conflict(f"A role named {name!r} already exists (built-in or custom).", code="role_name_taken")


def _codes(permissions: Iterable[Permission]) -> list[str]:
    return sorted({perm.value for perm in permissions})


async def create_role(db: asyncpg.Pool, p: Principal, org_id: UUID, body: RoleCreate) -> Role:
    _own_org(p, org_id)
    codes = _codes(body.permissions)
    _check_within_own(p, set(codes))
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(queries.LOCK_ORG_ROLES, p.org_id)
        await _check_name_free(conn, p.org_id, body.name, None)
        role_id = await conn.fetchval(queries.INSERT_ROLE, p.org_id, body.name, body.description)
        await conn.execute(queries.SET_ROLE_PERMISSIONS, role_id, codes)
        await events.record(
            conn,
            "role.created",
            org_ids=[p.org_id],
            subject_type="role",
            subject_id=role_id,
            actor_user_id=p.user_id,
            data={"name": body.name, "permissions": codes},
        )
        return await _role(conn, p.org_id, role_id)


async def update_role(db: asyncpg.Pool, p: Principal, org_id: UUID, role_id: UUID, body: RoleUpdate) -> Role:
    _own_org(p, org_id)
    async with db.acquire() as conn, conn.transaction():
        await conn.execute(queries.LOCK_ORG_ROLES, p.org_id)
        current = await _role(conn, p.org_id, role_id)
        if current.builtin:
            raise Forbidden(
                "Built-in roles cannot be changed; create a custom role instead.", code="builtin_role"
            )
        name = body.name if isinstance(body.name, str) else None
        if name is not None:
            await _check_name_free(conn, p.org_id, name, role_id)
        description = body.description if isinstance(body.description, str) else None
        await conn.execute(queries.UPDATE_ROLE, p.org_id, role_id, name, description)
        data: dict[str, Any] = {"name": name or current.name}
        if isinstance(body.permissions, list):
            codes = _codes(body.permissions)
            # Both the old and the new set must be within the caller's own permissions: no
            # widening, and no narrowing a more powerful role you could not have granted.
            _check_within_own(p, set(codes) | set(current.permissions))
            await conn.execute(queries.SET_ROLE_PERMISSIONS, role_id, codes)
            data["permissions"] = codes
        await events.record(
            conn,
            "role.updated",
            org_ids=[p.org_id],
            subject_type="role",
            subject_id=role_id,
            actor_user_id=p.user_id,
            data=data,
        )
        return await _role(conn, p.org_id, role_id)


async def delete_role(db: asyncpg.Pool, p: Principal, org_id: UUID, role_id: UUID) -> None:
    _own_org(p, org_id)
    async with db.acquire() as conn, conn.transaction():
        current = await _role(conn, p.org_id, role_id)
        if current.builtin:
            raise Forbidden("Built-in roles cannot be deleted.", code="builtin_role")
        usage = await conn.fetchrow(queries.ROLE_IN_USE, role_id)
        assert usage is not None
        if usage["members"] or usage["tokens"]:
            raise Conflict(
                f"The role is still granted to {usage['members']} member(s) and {usage['tokens']} active "
                "API token(s); take it back first.",
                code="role_in_use",
            )
        await conn.execute(queries.DELETE_ROLE, p.org_id, role_id)
        await events.record(
            conn,
            "role.deleted",
            org_ids=[p.org_id],
            subject_type="role",
            subject_id=role_id,
            actor_user_id=p.user_id,
            data={"name": current.name},
        )


# -- API tokens ------------------------------------------------------------------------------


async def list_api_tokens(db: asyncpg.Pool, p: Principal, org_id: UUID) -> list[ApiToken]:
    _own_org(p, org_id)
    return [_as(ApiToken, r) for r in await db.fetch(queries.API_TOKENS, p.org_id)]


async def issue_api_token(
    db: asyncpg.Pool, p: Principal, org_id: UUID, body: ApiTokenCreate
) -> ApiTokenIssued:
    _own_org(p, org_id)
    if body.expires_at is not None and body.expires_at <= _now():
        raise BadRequest("expires_at must be in the future.", code="expiry_in_past")
    token, token_hash = credentials.new_secret(credentials.API_PREFIX)
    async with db.acquire() as conn, conn.transaction():
        await _grantable_roles(conn, p, [body.role_id])
        token_id = await conn.fetchval(
            queries.INSERT_API_TOKEN,
            p.org_id,
            body.role_id,
            body.name,
            token_hash,
            p.user_id,
            body.expires_at,
        )
        await events.record(
            conn,
            "api_token.issued",
            org_ids=[p.org_id],
            subject_type="api_token",
            subject_id=token_id,
            actor_user_id=p.user_id,
            data={"name": body.name, "role_id": str(body.role_id)},
        )
        issued = _as(ApiToken, await conn.fetchrow(queries.API_TOKEN, p.org_id, token_id))
    return ApiTokenIssued(token=token, api_token=issued)


async def revoke_api_token(db: asyncpg.Pool, p: Principal, org_id: UUID, token_id: UUID) -> ApiToken:
    _own_org(p, org_id)
    revoked: ApiToken = await _revoke(
        db, p, token_id, "api_token", queries.REVOKE_API_TOKEN, queries.API_TOKEN, ApiToken
    )
    return revoked


async def _revoke(
    db: asyncpg.Pool,
    p: Principal,
    token_id: UUID,
    kind: str,
    revoke_sql: str,
    read_sql: str,
    type_: type[Any],
) -> Any:
    """Revoke one of the caller's organization's opaque tokens (idempotent) and record it."""
    async with db.acquire() as conn, conn.transaction():
        if await conn.fetchval(revoke_sql, p.org_id, token_id) is None:
            raise NotFound(f"No such {kind.replace('_', ' ')}.", code=f"{kind}_not_found")
        await events.record(
            conn,
            f"{kind}.revoked",
            org_ids=[p.org_id],
            subject_type=kind,
            subject_id=token_id,
            actor_user_id=p.user_id,
        )
        return _as(type_, await conn.fetchrow(read_sql, p.org_id, token_id))


# -- device tokens ---------------------------------------------------------------------------


async def list_device_tokens(db: asyncpg.Pool, p: Principal, org_id: UUID) -> list[DeviceToken]:
    _own_org(p, org_id)
    return [_as(DeviceToken, r) for r in await db.fetch(queries.DEVICE_TOKENS, p.org_id)]


async def issue_device_token(
    db: asyncpg.Pool,
    p: Principal,
    org_id: UUID,
    body: DeviceTokenCreate,
) -> DeviceTokenIssued:
    _own_org(p, org_id)
    async with db.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(queries.SESSION_PRINCIPAL, p.org_id, body.user_id)
        if row is None:
            raise NotFound("No such member in this organization.", code="member_not_found")
        if Permission.DRIVE.value not in row["permissions"]:
            raise Conflict(
                "Device tokens are issued only to members with the 'drive' permission "
                "(for example the built-in driver role).",
                code="not_a_driver",
            )
        device = await add_device_token(
            conn, p.org_id, body.user_id, name=body.name, created_by=p.user_id, data={}
        )
        issued = _as(DeviceToken, await conn.fetchrow(queries.DEVICE_TOKEN, p.org_id, device.id))
    return DeviceTokenIssued(token=device.token, device_token=issued, tracker_id=device.tracker_id)


class NewDevice(msgspec.Struct, frozen=True, kw_only=True):
    """A device token just issued: its id, the secret and the tracker id (shown this once)."""

    id: UUID
    token: str
    tracker_id: str


async def add_device_token(
    conn: Conn,
    org_id: UUID,
    user_id: UUID,
    *,
    name: str,
    created_by: UUID | None,
    data: dict[str, Any],
) -> NewDevice:
    """Issue a device token with its tracker id to a driver member (the caller checked that they
    are one) and record `device_token.issued` with `data`, in the caller's transaction."""
    token, token_hash = credentials.new_secret(credentials.DEVICE_PREFIX)
    tracker_id, tracker_hash = credentials.new_tracker_id()
    token_id = await conn.fetchval(
        queries.INSERT_DEVICE_TOKEN, org_id, user_id, name, token_hash, created_by, tracker_hash
    )
    await events.record(
        conn,
        "device_token.issued",
        org_ids=[org_id],
        subject_type="device_token",
        subject_id=token_id,
        actor_user_id=created_by,
        data={"user_id": str(user_id), "name": name, **data},
    )
    return NewDevice(id=token_id, token=token, tracker_id=tracker_id)


async def revoke_device_token(db: asyncpg.Pool, p: Principal, org_id: UUID, token_id: UUID) -> DeviceToken:
    _own_org(p, org_id)
    revoked: DeviceToken = await _revoke(
        db, p, token_id, "device_token", queries.REVOKE_DEVICE_TOKEN, queries.DEVICE_TOKEN, DeviceToken
    )
    return revoked
