"""What the documents say, gathered from the areas below and handed to the renderer (render.py).

Plain frozen dataclasses, not wire types: nothing here is sent as JSON; the PDF is the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from dispatch.i18n import LocaleName


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class CargoLine:
    description: str
    # Discrete items: how many of the line are on this load; None for bulk.
    count: int | None
    weight_kg: float


@dataclass(frozen=True, slots=True)
class Authorized:
    """The goods owner's pickup authorization the load goes under."""

    by_org: str
    # The person who issued it; None when it was issued automatically on award.
    by_person: str | None
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Weighing:
    """The weighbridge at loading: the latest gross weighing and the tare it was netted against."""

    tare_kg: int
    gross_kg: int
    net_kg: int
    weighbridge_id: str
    ticket: str | None


@dataclass(frozen=True, slots=True)
class Waybill:
    load_id: UUID
    number: str
    status: str
    locale: LocaleName
    # The time zone the document's times are written in: the pickup site's.
    timezone: str
    issued_at: datetime
    shipper: str
    consignee: str | None
    carrier: str
    origin: Place
    destination: Place
    cargo: list[CargoLine]
    weight_kg: float
    volume_m3: float
    plate: str
    vehicle_type: str
    driver_name: str | None
    driver_phone: str | None
    driver_licence: str | None
    pickup_from: datetime
    pickup_until: datetime
    deliver_by: datetime
    authorization: Authorized | None
    # The load's pickup code, for the parties who may hold it and while it still opens the gate;
    # None otherwise, and `code_note` says which of the two (a catalogue key).
    pickup_code: str | None
    code_note: str | None
    weighing: Weighing | None
    seals: list[str]


@dataclass(frozen=True, slots=True)
class ReceivedLine:
    description: str
    loaded: int
    received: int
    difference: int


@dataclass(frozen=True, slots=True)
class ProofOfDelivery:
    waybill: Waybill
    received_at: datetime
    signer_name: str
    # The drawn signature (PNG bytes) from the evidence photo store; None when the receipt has none
    # or its file is missing or altered (then `signature_note` says so: a catalogue key).
    signature_png: bytes | None
    signature_sha256: str | None
    signature_note: str | None
    condition: str
    received_weight_kg: int
    loaded_net_kg: int
    loaded_net_source: str
    discrepancy_kg: int
    discrepancy_pct: float
    lines: list[ReceivedLine]
    discrepancies: list[tuple[str, str]]
    notes: str | None
    override_reason: str | None
    inside_geofence: bool
    evidence_seq: int
    evidence_hash: str
