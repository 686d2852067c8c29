"""Accounts wire types. Inputs forbid unknown fields; constraints live in the types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import CredentialKind
from dispatch.accounts.regional import CountryCode, CurrencyCode, TimeZoneName
from dispatch.i18n import LocaleName
from dispatch.parties import Party
from dispatch.types import Input

# Spelled so that Python's regex dialect (the server's) and ECMA's (the OpenAPI document's) agree: their
# `\s` differ on control characters and U+FEFF, excluded here explicitly.
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]+"
Email = Annotated[str, Meta(min_length=3, max_length=320, pattern=f"^{_EMAIL_PART}@{_EMAIL_PART}$")]
PersonName = Annotated[str, Meta(min_length=1, max_length=200)]
NewPassword = Annotated[str, Meta(min_length=10, max_length=256)]
RoleName = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
TokenName = Annotated[str, Meta(min_length=1, max_length=100)]


# -- login -----------------------------------------------------------------------------------


class LoginRequest(Input, kw_only=True):
    email: Email
    password: Annotated[str, Meta(min_length=1, max_length=1024)]
    # Needed only when the user belongs to several organizations.
    organization_id: UUID | None = None


class SessionToken(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    user_id: UUID
    organization_id: UUID


class SessionInfo(msgspec.Struct, kw_only=True):
    """One live login of the user; never its token."""

    id: UUID
    organization_id: UUID
    created_at: datetime
    expires_at: datetime
    user_agent: str
    address: str
    # The session this request was made with.
    current: bool


class SessionsEnded(msgspec.Struct, kw_only=True):
    ended: int


# -- organizations and members ---------------------------------------------------------------


class Organization(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    parties: list[Party]
    created_at: datetime
    # Regional settings (dispatch/accounts/regional.py): where the organization is, the currency its
    # jobs are posted in unless they say, its time zone and the language its pages speak by default.
    country: Annotated[str, Meta(description="ISO 3166-1 alpha-2", examples=["CN"])]
    currency: Annotated[str, Meta(description="ISO 4217", examples=["CNY"])]
    timezone: Annotated[str, Meta(description="IANA time zone", examples=["Asia/Shanghai"])]
    locale: LocaleName


class OrganizationUpdate(Input, kw_only=True):
    """Only what is given changes. A new country alone brings its currency, time zone and locale
    (dispatch/accounts/README.md, "Organization settings")."""

    country: CountryCode | UnsetType = UNSET
    currency: CurrencyCode | UnsetType = UNSET
    timezone: TimeZoneName | UnsetType = UNSET
    locale: LocaleName | UnsetType = UNSET


class RoleRef(msgspec.Struct, kw_only=True):
    id: UUID
    name: str


class Member(msgspec.Struct, kw_only=True):
    user_id: UUID
    email: str
    name: str
    roles: list[RoleRef]
    joined_at: datetime


class MemberPage(msgspec.Struct, kw_only=True):
    items: list[Member]
    # Pass as `after` to get the next page; null on the last page.
    next_cursor: str | None


class MemberCreate(Input, kw_only=True):
    email: Email
    name: PersonName
    password: NewPassword
    role_ids: Annotated[list[UUID], Meta(min_length=1, max_length=20)]


class MemberRolesUpdate(Input, kw_only=True):
    role_ids: Annotated[list[UUID], Meta(min_length=1, max_length=20)]


class Me(msgspec.Struct, kw_only=True):
    credential: CredentialKind
    user_id: UUID | None
    name: str | None
    email: str | None
    organization: Organization
    permissions: list[str]
    # The user's own language (PATCH /me), null when not chosen or for an API token.
    locale: LocaleName | None


class PasswordChange(Input, kw_only=True):
    # As login's: any current password may be typed; the new one as a new account's.
    current_password: Annotated[str, Meta(min_length=1, max_length=1024)]
    new_password: NewPassword


class PasswordChanged(msgspec.Struct, kw_only=True):
    # The user's other sessions, ended; the one that changed the password stays.
    other_sessions_ended: int


class MeUpdate(Input, kw_only=True):
    # null: no language of one's own (the request's Accept-Language, then the organization's, decide).
    locale: LocaleName | UnsetType | None = UNSET


# -- roles -----------------------------------------------------------------------------------


class Role(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    description: str
    builtin: bool
    permissions: list[str]


class RoleCreate(Input, kw_only=True):
    name: RoleName
    permissions: Annotated[list[Permission], Meta(min_length=1, max_length=50)]
    description: Annotated[str, Meta(max_length=500)] = ""


class RoleUpdate(Input, kw_only=True):
    name: RoleName | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=500)] | UnsetType = UNSET
    permissions: Annotated[list[Permission], Meta(min_length=1, max_length=50)] | UnsetType = UNSET


class PermissionInfo(msgspec.Struct, kw_only=True):
    code: str
    description: str


# -- API and device tokens -------------------------------------------------------------------


class ApiTokenCreate(Input, kw_only=True):
    name: TokenName
    role_id: UUID
    expires_at: datetime | None = None


class ApiToken(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    role: RoleRef
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiTokenIssued(msgspec.Struct, kw_only=True):
    # The secret, shown this once; only its hash is kept.
    token: str
    api_token: ApiToken


class DeviceTokenCreate(Input, kw_only=True):
    user_id: UUID
    name: TokenName


class DeviceToken(msgspec.Struct, kw_only=True):
    id: UUID
    user_id: UUID
    name: str
    created_at: datetime
    revoked_at: datetime | None


class DeviceTokenIssued(msgspec.Struct, kw_only=True):
    token: str
    device_token: DeviceToken
    # What Traccar Client sends as its device identifier (GET/POST /tracker/osmand), shown this once.
    tracker_id: str


# -- pairing a phone (pairing.py) ------------------------------------------------------------


class PairingCreated(msgspec.Struct, kw_only=True):
    id: UUID
    # Shown this once, as ABCD-2345 (accepted with or without the dash, in any case); only an HMAC
    # of it is kept.
    code: str
    expires_at: datetime
    # `<the server's base URL>/app#pair=<code>`: what the QR code holds; the app pairs from it.
    pair_url: str
    # The QR code of pair_url, an SVG document.
    qr_svg: str


class Pairing(msgspec.Struct, kw_only=True):
    """A pairing code that can still be redeemed (never the code itself)."""

    id: UUID
    user_id: UUID
    created_by: UUID | None
    created_at: datetime
    expires_at: datetime


DeviceName = Annotated[str, Meta(min_length=1, max_length=100, description="Names the device token")]


class PairWithCode(Input, kw_only=True):
    code: Annotated[str, Meta(min_length=1, max_length=32, description="As shown, e.g. ABCD-2345")]
    device_name: DeviceName


class PairWithPassword(Input, kw_only=True):
    email: Email
    password: Annotated[str, Meta(min_length=1, max_length=1024)]
    # Needed only when the driver belongs to several organizations.
    organization_id: UUID | None = None
    device_name: DeviceName


class PairedDriver(msgspec.Struct, kw_only=True):
    user_id: UUID
    name: str


class PairedOrganization(msgspec.Struct, kw_only=True):
    id: UUID
    name: str


class Paired(msgspec.Struct, kw_only=True):
    """A phone's own device token (the secret and the tracker id are in this answer only)."""

    device_token: str
    device_id: UUID
    # Traccar Client's device identifier for this phone (GET/POST /tracker/osmand).
    tracker_id: str
    driver: PairedDriver
    organization: PairedOrganization
