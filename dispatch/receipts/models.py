"""Receipt wire types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from dispatch.types import Input, LocationOut

Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$", description="A photo's sha256, lower-case hex")]
DiscrepancyType = Literal["shortage", "overage", "damage"]


class ItemReceived(Input, kw_only=True):
    line: Annotated[int, Meta(ge=0, le=199, description="The cargo line's index in the job")]
    count: Annotated[int, Meta(ge=0, le=1_000_000)]


class Received(Input, kw_only=True):
    """What arrived: a weight (bulk; optional for items, e.g. from the buyer's weighbridge) and, for
    discrete items, the count per cargo line (lines not named arrived in full)."""

    weight_kg: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    items: Annotated[list[ItemReceived], Meta(max_length=200)] | None = None


class Discrepancy(Input, kw_only=True):
    type: DiscrepancyType
    notes: Annotated[str, Meta(max_length=1000)] = ""
    photos: Annotated[list[Sha256], Meta(max_length=10)] = []


class ReceiptIn(Input, kw_only=True):
    received: Received
    condition: Literal["good", "damaged"]
    discrepancies: Annotated[list[Discrepancy], Meta(max_length=10)] = []
    signer_name: Annotated[str, Meta(min_length=1, max_length=200)]
    # The signer's drawn signature: a PNG uploaded first with POST /loads/{id}/evidence/photos (so it
    # is content-addressed and chained like a photo), named by its sha256.
    signature: Sha256 | None = None
    # Needed when the truck's last position is not inside the destination geofence.
    override_reason: Annotated[str, Meta(min_length=3, max_length=500)] | None = None
    notes: Annotated[str, Meta(max_length=2000)] = ""


class ItemLine(msgspec.Struct, kw_only=True):
    line: int
    loaded: int
    received: int
    difference: int


class Receipt(msgspec.Struct, kw_only=True):
    load_id: UUID
    job_id: UUID
    received_at: datetime
    confirmed_by: UUID
    signer_name: str
    signature: str | None
    condition: str
    received_weight_kg: int
    loaded_net_kg: int
    loaded_net_source: Literal["weighbridge", "plan"]
    discrepancy_kg: int
    discrepancy_pct: float
    items: list[ItemLine] | None
    discrepancies: list[Discrepancy]
    notes: str | None
    position: LocationOut | None
    inside_geofence: bool
    override_reason: str | None
    evidence_seq: int
    evidence_hash: str
    job_status: str
