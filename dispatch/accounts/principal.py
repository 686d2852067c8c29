"""Who a request acts as. Every area's use cases take a `Principal`; it lives alone here so that
taking one means depending on nothing more of accounts than the permission catalogue."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from dispatch.accounts.permissions import Permission
from dispatch.parties import Party

CredentialKind = Literal["user", "api_token", "device"]


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who a request acts as: one user or token of one organization, with its permissions."""

    kind: CredentialKind
    org_id: UUID
    user_id: UUID | None
    credential_id: UUID | None
    permissions: frozenset[str]
    # A user session's row in `sessions` (None for API and device tokens).
    session_id: UUID | None = None
    # The parties the organization plays (shipper, consignee, carrier).
    parties: frozenset[str] = frozenset()

    def can(self, permission: Permission) -> bool:
        return permission.value in self.permissions

    def plays(self, party: Party) -> bool:
        return party in self.parties
