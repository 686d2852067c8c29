"""Authorization wire types: the goods owner's pickup authorization, the gate's code check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.plates import PlateText as Plate
from dispatch.types import Input


class AuthorizationCreate(Input, kw_only=True):
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    allowed_plates: Annotated[list[Plate], Meta(max_length=50)] = []
    allowed_driver_ids: Annotated[list[UUID], Meta(max_length=50)] = []


class AuthorizationRevoke(Input, kw_only=True):
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class Authorization(msgspec.Struct, kw_only=True):
    id: UUID
    job_id: UUID
    issuer_org_id: UUID
    carrier_org_id: UUID
    site_id: UUID
    valid_from: datetime
    valid_until: datetime
    allowed_plates: list[str]
    allowed_driver_ids: list[UUID]
    created_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    # The code the driver shows at the gate (as text or QR); only to the issuer and the carrier.
    code: str | None = None


class GateCheck(Input, kw_only=True):
    site_id: UUID
    code: Annotated[str, Meta(min_length=4, max_length=40)]
    plate: Plate
    driver_id: UUID | None = None


GateResult = Literal[
    "valid",
    "unknown_code",
    "wrong_site",
    "not_yet_valid",
    "expired",
    "revoked",
    "wrong_plate",
    "wrong_driver",
    # The load's truck or driver is one the authorization does not name: the goods owner has not
    # approved the swap yet, or refused it.
    "awaiting_owner_approval",
    "swap_refused",
    # The award behind the code was withdrawn: the carrier gave the job back, or the poster
    # cancelled the award (`revoke_reason` says why).
    "award_given_back",
    "award_cancelled",
]


class GateVerdict(msgspec.Struct, kw_only=True):
    valid: bool
    result: GateResult
    detail: str
    authorization_id: UUID | None = None
    job_id: UUID | None = None
    carrier_org_id: UUID | None = None
    valid_until: datetime | None = None
    # For a load's own code: the load, and the truck and driver it is bound to.
    load_id: UUID | None = None
    plate: str | None = None
    driver_name: str | None = None
    # What gate staff read off the verdict (added for the console's gate screen): the load's short
    # number (as the driver's phone shows it), the plate as the carrier wrote it, and the carrier.
    load_number: Annotated[
        str | None,
        Meta(description="The load's short number: the job's reference (or id) / the load's sequence"),
    ] = None
    plate_display: Annotated[str | None, Meta(description="The truck's plate as the carrier wrote it")] = None
    # Why a code opens nothing when the gate knows more than "unknown": `reassigned`, an old code of a
    # load since given another truck or driver (the result stays `unknown_code`: it opens nothing).
    reason: Annotated[
        Literal["reassigned"] | None,
        Meta(description="`reassigned`: an old code of a load since reassigned (result `unknown_code`)"),
    ] = None
    # For any code of this site (a load's or a job authorization's): the carrier's name.
    carrier_name: Annotated[str | None, Meta(description="The carrier's organization name")] = None
    # When the award behind the code was withdrawn (award_given_back, award_cancelled): why.
    revoke_reason: Annotated[
        str | None, Meta(description="Why the award was withdrawn, as the carrier or the poster gave it")
    ] = None
