"""Evidence wire types: what gate staff record, and what the parties read back.

Values that end up in a record's `data` are integers, strings, lists of strings and null only, so
the canonical form that is hashed is the same in every JSON library (see README.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile
from msgspec import Meta

from dispatch.loads.models import LoadStatus
from dispatch.types import Input, Location, LocationOut
from geo import Latitude, Longitude

EvidenceKind = Literal["weighbridge_tare", "weighbridge_gross", "seal", "photo", "sample", "note"]

# No control characters: they would need escaping rules in the canonical form, and PostgreSQL's
# jsonb refuses NUL. Free text (notes, descriptions) may hold tabs and line breaks.
_LINE = r"^[^\x00-\x1f\x7f]*$"
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


# Whole kilograms: a road weighbridge reads in 10-20 kg divisions, and integers hash the same in
# every JSON library (floats do not).
WeightKg = Annotated[int, Meta(gt=0, le=100_000, description="kilograms on the weighbridge")]
WeighbridgeId = Annotated[str, Meta(min_length=1, max_length=50, pattern=_LINE)]
Ticket = Annotated[str, Meta(min_length=1, max_length=50, pattern=_LINE)]
SealNumber = Annotated[str, Meta(min_length=1, max_length=40, pattern=_LINE)]
SampleId = Annotated[str, Meta(min_length=1, max_length=50, pattern=_LINE)]
SampleDescription = Annotated[str, Meta(min_length=1, max_length=500, pattern=_TEXT)]
PersonName = Annotated[str, Meta(min_length=1, max_length=100, pattern=_LINE)]
NoteText = Annotated[str, Meta(min_length=1, max_length=2000, pattern=_TEXT)]
Caption = Annotated[str, Meta(max_length=200, pattern=_LINE)]


class _RecordIn(Input, kw_only=True, tag_field="kind"):
    # Where it was recorded (a phone's or terminal's fix); stored to 7 decimals (about 1 cm).
    position: Location | None = None


class WeighbridgeTare(_RecordIn, kw_only=True, tag="weighbridge_tare"):
    """The empty truck's weight."""

    weight_kg: WeightKg
    weighbridge_id: WeighbridgeId
    ticket: Ticket | None = None


class WeighbridgeGross(_RecordIn, kw_only=True, tag="weighbridge_gross"):
    """The loaded truck's weight; the service adds `net_kg` against the latest tare."""

    weight_kg: WeightKg
    weighbridge_id: WeighbridgeId
    ticket: Ticket | None = None


class Seal(_RecordIn, kw_only=True, tag="seal"):
    seal_numbers: Annotated[list[SealNumber], Meta(min_length=1, max_length=20)]


class Sample(_RecordIn, kw_only=True, tag="sample"):
    sample_id: SampleId
    description: SampleDescription
    # Who keeps the retained sample (a lab, the shipper's QA).
    retained_by: PersonName | None = None


class Note(_RecordIn, kw_only=True, tag="note"):
    text: NoteText


RecordIn = WeighbridgeTare | WeighbridgeGross | Seal | Sample | Note


class PhotoUpload(Input, kw_only=True):
    """The multipart form of a photo upload."""

    file: UploadFile
    caption: Caption | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class EvidenceRecord(msgspec.Struct, kw_only=True):
    """One stored record. Every field but `recorded_by_name`, `prev_hash` and `hash` is hashed."""

    load_id: UUID
    seq: int
    kind: EvidenceKind
    data: dict[str, Any]
    recorded_by: UUID
    recorded_by_name: str | None
    recorder_org_id: UUID
    # Exactly as hashed: UTC, microseconds, "Z" (e.g. 2025-03-04T05:06:07.000890Z).
    recorded_at: str
    position: LocationOut | None
    # Hex; null for the first record of a load.
    prev_hash: str | None
    hash: str


class ChainBreak(msgspec.Struct, kw_only=True):
    seq: int
    # hash_mismatch, prev_hash_mismatch, seq_gap, photo_missing, photo_altered, record_missing,
    # head_mismatch (see README.md).
    code: str
    reason: str


class Verification(msgspec.Struct, kw_only=True):
    ok: bool
    records: int
    # Hex hash of the last record: the value to hand the other parties; null without records.
    head: str | None
    first_break: ChainBreak | None
    breaks: list[ChainBreak]


class BundleLoad(msgspec.Struct, kw_only=True):
    id: UUID
    job_id: UUID
    job_reference: str | None
    seq: int
    status: LoadStatus
    vehicle_plate: str
    driver_name: str | None
    weight_kg: float


class BundlePhoto(msgspec.Struct, kw_only=True):
    seq: int
    sha256: str
    size_bytes: int
    content_type: str
    caption: str | None
    # Relative to the API's base URL; parties of the job may fetch it.
    url: str


class EvidenceBundle(msgspec.Struct, kw_only=True):
    format: str
    # How `hash` is computed, in one line; README.md has the full recipe.
    hash_recipe: str
    load: BundleLoad
    records: list[EvidenceRecord]
    head: str | None
    photos: list[BundlePhoto]
    verification: Verification
    generated_at: str
