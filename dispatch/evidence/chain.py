"""The hash chain, pure: the canonical form of a record, its hash, and the chain checks.

No I/O here, so the service, the offline verifier (`python -m dispatch.evidence.verify`) and a
reader of README.md all compute the same thing:

    canonical = JSON, keys sorted at every level, no whitespace, UTF-8, of
        {"data", "kind", "lat", "load_id", "lon", "recorded_at", "recorded_by", "recorder_org_id", "seq"}
    hash      = SHA-256(prev_hash, or 32 zero bytes for seq 1 || canonical)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

FORMAT = "freight-dispatch.evidence.v1"
RECIPE = (
    "hash = sha256(prev_hash or 32 zero bytes || canonical), canonical = UTF-8 JSON with sorted keys and "
    "no whitespace of {data, kind, lat, load_id, lon, recorded_at, recorded_by, recorder_org_id, seq}; "
    "lat/lon as strings with 7 decimals or null (dispatch/evidence/README.md)"
)
GENESIS = bytes(32)
POSITION_DECIMALS = 7

_encode = msgspec.json.Encoder(order="sorted").encode


def format_time(at: datetime) -> str:
    """The hashed form of a time: UTC, always six fractional digits, `Z`."""
    if at.tzinfo is None:
        raise ValueError("evidence times carry a zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_coordinate(value: float | None) -> str | None:
    """The hashed form of a latitude or longitude: fixed point, 7 decimals (floats print differently
    in every JSON library; fixed decimals do not)."""
    return None if value is None else f"{value:.{POSITION_DECIMALS}f}"


@dataclass(frozen=True, slots=True)
class Record:
    """What is hashed, plus the stored links."""

    load_id: UUID
    seq: int
    kind: str
    data: dict[str, Any]
    recorded_by: UUID
    recorder_org_id: UUID
    recorded_at: str
    lon: float | None
    lat: float | None
    prev_hash: bytes | None = None
    hash: bytes = b""

    def canonical(self) -> bytes:
        return _encode(
            {
                "data": self.data,
                "kind": self.kind,
                "lat": format_coordinate(self.lat),
                "load_id": str(self.load_id),
                "lon": format_coordinate(self.lon),
                "recorded_at": self.recorded_at,
                "recorded_by": str(self.recorded_by),
                "recorder_org_id": str(self.recorder_org_id),
                "seq": self.seq,
            }
        )

    def compute_hash(self, prev_hash: bytes | None) -> bytes:
        return hashlib.sha256((prev_hash or GENESIS) + self.canonical()).digest()


@dataclass(frozen=True, slots=True)
class Break:
    seq: int
    code: str
    reason: str


def find_breaks(records: Iterable[Record]) -> Iterator[Break]:
    """Every inconsistency in one load's records (given in seq order), in order.

    The chain: seq runs 1, 2, 3 ... without gaps; the first record has no prev_hash and each other
    names its predecessor's stored hash; each stored hash is the recomputed one. A changed record
    breaks at its own seq (hash_mismatch); a removed one leaves a gap (seq_gap)."""
    expected = 1
    previous: Record | None = None
    for record in records:
        if record.seq > expected:
            missing = f"{expected}" if record.seq == expected + 1 else f"{expected} to {record.seq - 1}"
            yield Break(
                expected, "seq_gap", f"gap in seq: record {missing} is missing before record {record.seq}"
            )
        elif record.seq < expected:
            yield Break(record.seq, "seq_order", f"seq {record.seq} is repeated or out of order")
        elif record.seq == 1 and record.prev_hash is not None:
            yield Break(record.seq, "prev_hash_mismatch", "the first record has a prev_hash")
        elif previous is not None and record.prev_hash != previous.hash:
            yield Break(
                record.seq, "prev_hash_mismatch", "prev_hash does not match the previous record's hash"
            )
        if record.compute_hash(record.prev_hash) != record.hash:
            yield Break(
                record.seq,
                "hash_mismatch",
                "hash mismatch: the record's content is not what its hash was computed from",
            )
        expected = max(expected, record.seq + 1)
        previous = record
