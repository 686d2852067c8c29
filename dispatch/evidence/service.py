"""Evidence use cases: record, upload a photo, list, verify, export, serve a photo.

Appending is one transaction: the load row is locked (appenders to one load take turns), the chain's
end is read, the record is hashed onto it and inserted, and `evidence.recorded` (carrying the new
head hash) is written to the outbox for every party of the job. Reads run in one repeatable-read
snapshot so a concurrent append cannot make a verification see half of it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.permissions import Permission
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import BadRequest, Conflict, Forbidden, NotFound, Problem, Unprocessable
from dispatch.evidence import chain, photos, queries
from dispatch.evidence.models import (
    BundleLoad,
    BundlePhoto,
    ChainBreak,
    EvidenceBundle,
    EvidenceRecord,
    Note,
    PhotoUpload,
    RecordIn,
    Sample,
    Seal,
    Verification,
    WeighbridgeGross,
    WeighbridgeTare,
)
from dispatch.settings import Settings
from dispatch.types import Location, LocationOut

# Evidence of loading is taken from assignment until the truck leaves; after that it is sealed.
RECORDING_STATUSES = ("assigned", "booked", "at_gate", "loading")
# At the other end, the consignee adds what it finds on arrival (photos, notes) until receipt,
# whose proof of delivery is the chain's last record.
RECEIVING_STATUSES = ("in_transit", "arrived")
RECEIVING_KINDS = ("photo", "note")


class PhotoTooLarge(Problem):
    status, code = 413, "photo_too_large"


class UnsupportedPhotoType(Problem):
    status, code = 415, "unsupported_photo_type"


def photo_too_large(max_bytes: int) -> PhotoTooLarge:
    return PhotoTooLarge(
        f"A photo may have at most {max_bytes:,} bytes.", params={"max_bytes": max_bytes}, max_bytes=max_bytes
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _require_user(p: Principal) -> UUID:
    if p.user_id is None:
        raise Forbidden(
            "Evidence names the person who recorded it: record it with a staff member's login, "
            "not an API token.",
            code="user_required",
        )
    return p.user_id


def _parties(load: asyncpg.Record) -> list[UUID]:
    return [
        o
        for o in (
            load["poster_org_id"],
            load["shipper_org_id"],
            load["consignee_org_id"],
            load["carrier_org_id"],
        )
        if o is not None
    ]


async def _load_for_append(conn: Conn, p: Principal, load_id: UUID, kind: str) -> asyncpg.Record:
    """The load, locked, if the caller's organization is its shipper and it is still being loaded,
    or (photos and notes) its consignee and it is on its way or has arrived."""
    load = await conn.fetchrow(queries.LOAD_FOR_APPEND, load_id, p.org_id)
    if load is None:
        raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    if (
        load["consignee_org_id"] == p.org_id != load["shipper_org_id"]
        and kind in RECEIVING_KINDS
        and load["status"] in RECEIVING_STATUSES
    ):
        if not p.can(Permission.CONFIRM_RECEIPT):
            raise Forbidden(
                "Evidence at receipt is recorded by members who confirm receipt (receipt.confirm).",
                code="permission_missing",
                params={"permissions": [Permission.CONFIRM_RECEIPT.value]},
                permissions=[Permission.CONFIRM_RECEIPT.value],
            )
        return load
    if load["shipper_org_id"] != p.org_id:
        raise Forbidden(
            "Loading evidence is recorded by the shipper's gate staff (the owner of the pickup site).",
            code="not_the_shipper",
        )
    if not p.can(Permission.RECORD_EVIDENCE):
        raise Forbidden(
            "This needs the permission(s): evidence.record.",
            code="permission_missing",
            params={"permissions": [Permission.RECORD_EVIDENCE.value]},
            permissions=[Permission.RECORD_EVIDENCE.value],
        )
    if load["status"] not in RECORDING_STATUSES:
        raise Conflict(
            f"The load is {load['status']}: evidence is recorded from assignment until the truck leaves "
            f"({', '.join(RECORDING_STATUSES)}).",
            code="load_not_loading",
        )
    return load


def _round_position(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if lat is None or lon is None:
        return None, None
    return round(lat, chain.POSITION_DECIMALS), round(lon, chain.POSITION_DECIMALS)


class ChainEnd(NamedTuple):
    """The chain's last record (seq 0 and no hash: the chain is empty), read under the load's lock."""

    seq: int
    hash: bytes | None

    @classmethod
    def of(cls, seq: int | None, hash: bytes | None) -> ChainEnd:
        """From a read's `seq` and `hash` (both NULL: no record yet)."""
        return cls(0, None) if seq is None else cls(seq, bytes(hash or b""))


async def chain_end(conn: Conn, load_id: UUID) -> ChainEnd:
    last = await conn.fetchrow(queries.LAST_RECORD, load_id)
    return ChainEnd(0, None) if last is None else ChainEnd.of(last["seq"], last["hash"])


async def append(
    conn: Conn,
    p: Principal,
    load: asyncpg.Record,
    kind: str,
    data: dict[str, Any],
    lat: float | None,
    lon: float | None,
    end: ChainEnd | None = None,
) -> EvidenceRecord:
    """Hash `data` onto the end of the load's chain and store it (the caller holds the load lock).

    `load` carries the load's id and job_id and the job's four party organizations. `end`: the
    chain's end if the caller has read it under the lock (the receipt reads it with its checks),
    else it is read here."""
    user_id = _require_user(p)
    if end is None:
        end = await chain_end(conn, load["id"])
    seq = end.seq + 1
    prev_hash = end.hash
    recorded_at = _now()
    lat, lon = _round_position(lat, lon)
    record = chain.Record(
        load_id=load["id"],
        seq=seq,
        kind=kind,
        data=data,
        recorded_by=user_id,
        recorder_org_id=p.org_id,
        recorded_at=chain.format_time(recorded_at),
        lon=lon,
        lat=lat,
        prev_hash=prev_hash,
    )
    digest = record.compute_hash(prev_hash)
    announced = events.pending(
        "evidence.recorded",
        org_ids=_parties(load),
        subject_type="load",
        subject_id=load["id"],
        actor_user_id=user_id,
        data={"job_id": str(load["job_id"]), "seq": seq, "kind": kind, "head": digest.hex()},
    )
    row = await conn.fetchrow(
        queries.INSERT_RECORD,
        load["id"],
        seq,
        kind,
        data,
        user_id,
        p.org_id,
        recorded_at,
        lon,
        lat,
        prev_hash,
        digest,
        *announced,
    )
    assert row is not None
    # What the database gives back must hash the same, or a correct record would fail verification
    # (the wire types keep data to ints, strings and lists, times to microseconds: this guards that).
    if _chain_record(row).compute_hash(prev_hash) != digest:
        raise RuntimeError(f"evidence does not survive storage unchanged: {data!r} -> {row['data']!r}")
    return _wire(row)


def _data_of(body: RecordIn, tare: asyncpg.Record | None) -> dict[str, Any]:
    """The record's stored data: the body without `kind` and `position`, plus what the service derives
    (a gross weighing's net, from `tare`: CHAIN_END_AND_TARE's row)."""
    match body:
        case WeighbridgeTare(weight_kg=kg, weighbridge_id=bridge, ticket=ticket):
            return {"weight_kg": kg, "weighbridge_id": bridge, "ticket": ticket}
        case WeighbridgeGross(weight_kg=kg, weighbridge_id=bridge, ticket=ticket):
            if tare is None or tare["tare_seq"] is None:
                raise Unprocessable(
                    "Weigh the empty truck first: a gross weight is netted against the latest tare.",
                    code="tare_missing",
                )
            tare_kg: int = tare["tare_data"]["weight_kg"]
            tare_seq: int = tare["tare_seq"]
            if kg < tare_kg:
                raise Unprocessable(
                    f"The gross weight {kg:,} kg is below the tare {tare_kg:,} kg (record {tare_seq}).",
                    code="gross_below_tare",
                )
            return {
                "weight_kg": kg,
                "weighbridge_id": bridge,
                "ticket": ticket,
                "tare_kg": tare_kg,
                "tare_seq": tare_seq,
                "net_kg": kg - tare_kg,
            }
        case Seal(seal_numbers=numbers):
            repeated = sorted({n for n in numbers if numbers.count(n) > 1})
            if repeated:
                raise Unprocessable(
                    f"Seal numbers repeated: {', '.join(repeated)}.", code="duplicate_seal_numbers"
                )
            return {"seal_numbers": list(numbers)}
        case Sample(sample_id=sample_id, description=description, retained_by=retained_by):
            return {"sample_id": sample_id, "description": description, "retained_by": retained_by}
        case Note(text=text):
            return {"text": text}
    raise AssertionError(f"unhandled evidence kind {type(body).__name__}")


def _lat_lon(position: Location | None) -> tuple[float | None, float | None]:
    return (None, None) if position is None else (position.lat, position.lon)


async def record(db: asyncpg.Pool, p: Principal, load_id: UUID, body: RecordIn) -> EvidenceRecord:
    """Append a weighing, seal, sample or note to the load's evidence."""
    _require_user(p)
    kind = str(type(body).__struct_config__.tag)
    async with db.acquire() as conn, conn.transaction():
        load = await _load_for_append(conn, p, load_id, kind)
        if isinstance(body, WeighbridgeGross):  # the tare and the chain's end in one read
            tare = await conn.fetchrow(queries.CHAIN_END_AND_TARE, load_id)
            assert tare is not None  # one row, always
            data = _data_of(body, tare)
            end: ChainEnd | None = ChainEnd.of(tare["seq"], tare["hash"])
        else:
            data, end = _data_of(body, None), None
        return await append(conn, p, load, kind, data, *_lat_lon(body.position), end)


async def record_photo(
    db: asyncpg.Pool, settings: Settings, p: Principal, load_id: UUID, form: PhotoUpload
) -> EvidenceRecord:
    """Store an uploaded photo by its sha256 and append a `photo` record naming it."""
    _require_user(p)
    if (form.lat is None) != (form.lon is None):
        raise BadRequest("Give both lat and lon, or neither.", code="incomplete_position")
    state = settings.state_path
    try:
        staged = await asyncio.to_thread(photos.stage, form.file.file, state, settings.max_photo_bytes)
    except photos.PhotoTooLarge:
        raise photo_too_large(settings.max_photo_bytes) from None
    except photos.UnsupportedPhoto:
        raise UnsupportedPhotoType(
            "Photos are JPEG, PNG, WebP or HEIC/HEIF (recognized by their content, not their name "
            "or declared type).",
        ) from None
    published = False
    try:
        async with db.acquire() as conn, conn.transaction():
            load = await _load_for_append(conn, p, load_id, "photo")
            # Published before the record commits: if the commit fails, the file stays unreferenced
            # (harmless, content-addressed, reused by the next upload of the same bytes).
            await asyncio.to_thread(photos.publish, staged, state)
            published = True  # the staged file is gone: moved onto its address, or dropped for a copy
            data = {
                "sha256": staged.sha256,
                "size_bytes": staged.size_bytes,
                "content_type": staged.content_type,
                "caption": form.caption or None,
            }
            return await append(conn, p, load, "photo", data, form.lat, form.lon)
    finally:
        if not published:  # refused (or failed) before publishing: nothing is left behind
            await asyncio.to_thread(photos.discard, staged)


# -- reading ----------------------------------------------------------------------------------


async def _party_load(conn: Conn, p: Principal, load_id: UUID) -> asyncpg.Record:
    load = await conn.fetchrow(queries.LOAD_FOR_PARTY, load_id, p.org_id)
    if load is None:
        raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    return load


def _wire(row: asyncpg.Record) -> EvidenceRecord:
    lat, lon = row["lat"], row["lon"]
    return EvidenceRecord(
        load_id=row["load_id"],
        seq=row["seq"],
        kind=row["kind"],
        data=row["data"],
        recorded_by=row["recorded_by"],
        recorded_by_name=row["recorded_by_name"],
        recorder_org_id=row["recorder_org_id"],
        recorded_at=chain.format_time(row["recorded_at"]),
        position=None if lat is None or lon is None else LocationOut(lat=lat, lon=lon),
        prev_hash=None if row["prev_hash"] is None else bytes(row["prev_hash"]).hex(),
        hash=bytes(row["hash"]).hex(),
    )


def _chain_record(row: asyncpg.Record) -> chain.Record:
    return chain.Record(
        load_id=row["load_id"],
        seq=row["seq"],
        kind=row["kind"],
        data=row["data"],
        recorded_by=row["recorded_by"],
        recorder_org_id=row["recorder_org_id"],
        recorded_at=chain.format_time(row["recorded_at"]),
        lon=row["lon"],
        lat=row["lat"],
        prev_hash=None if row["prev_hash"] is None else bytes(row["prev_hash"]),
        hash=bytes(row["hash"]),
    )


def _photo_breaks(state: Path, rows: list[asyncpg.Record]) -> list[chain.Break]:
    """Each photo record's file must exist and still hash to the sha256 the record names."""
    breaks = []
    for row in rows:
        if row["kind"] != "photo":
            continue
        sha256 = row["data"].get("sha256")
        try:
            actual = photos.file_sha256(photos.photo_path(state, sha256))
        except (ValueError, TypeError):
            breaks.append(chain.Break(row["seq"], "photo_missing", "the photo record names no valid sha256"))
            continue
        if actual is None:
            breaks.append(
                chain.Break(row["seq"], "photo_missing", f"photo file missing from storage: {sha256}")
            )
        elif actual != sha256:
            breaks.append(
                chain.Break(
                    row["seq"],
                    "photo_altered",
                    f"photo file altered: {sha256} now hashes to {actual}",
                )
            )
    return breaks


def _announcement_breaks(records: list[chain.Record], announced: list[asyncpg.Record]) -> list[chain.Break]:
    """Each record's hash must still be the head hash announced to the parties when it was added."""
    by_seq = {r.seq: r for r in records}
    breaks = []
    for event in announced:
        seq, head = event["data"].get("seq"), event["data"].get("head")
        if not isinstance(seq, int) or not isinstance(head, str):
            continue
        found = by_seq.get(seq)
        if found is None:
            breaks.append(
                chain.Break(
                    seq,
                    "record_missing",
                    f"record {seq} was announced to the parties (event {event['id']}) but is missing",
                )
            )
        elif found.hash.hex() != head:
            breaks.append(
                chain.Break(
                    seq,
                    "head_mismatch",
                    f"record {seq}'s hash differs from the head hash announced to the parties when it was "
                    f"recorded (event {event['id']})",
                )
            )
    return breaks


async def _verify(conn: Conn, state: Path, load_id: UUID, rows: list[asyncpg.Record]) -> Verification:
    records = [_chain_record(r) for r in rows]
    found = list(chain.find_breaks(records))
    found += await asyncio.to_thread(_photo_breaks, state, rows)
    found += _announcement_breaks(records, await conn.fetch(queries.ANNOUNCED_HEADS, str(load_id)))
    found.sort(key=lambda b: b.seq)  # stable: for one seq, chain breaks come first
    breaks = [ChainBreak(seq=b.seq, code=b.code, reason=b.reason) for b in found]
    return Verification(
        ok=not breaks,
        records=len(records),
        head=records[-1].hash.hex() if records else None,
        first_break=breaks[0] if breaks else None,
        breaks=breaks,
    )


async def list_records(db: asyncpg.Pool, p: Principal, load_id: UUID) -> list[EvidenceRecord]:
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await _party_load(conn, p, load_id)
        return [_wire(r) for r in await conn.fetch(queries.RECORDS, load_id)]


async def verify(db: asyncpg.Pool, state: Path, p: Principal, load_id: UUID) -> Verification:
    """Recompute the load's chain, check its photo files and the head hashes announced to the parties."""
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        await _party_load(conn, p, load_id)
        return await _verify(conn, state, load_id, await conn.fetch(queries.RECORDS, load_id))


async def export(db: asyncpg.Pool, state: Path, p: Principal, load_id: UUID) -> EvidenceBundle:
    """The load's evidence as one self-contained bundle (verifiable offline, see README.md)."""
    async with db.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        load = await _party_load(conn, p, load_id)
        rows = await conn.fetch(queries.RECORDS, load_id)
        verification = await _verify(conn, state, load_id, rows)
    records = [_wire(r) for r in rows]
    return EvidenceBundle(
        format=chain.FORMAT,
        hash_recipe=chain.RECIPE,
        load=msgspec.convert(dict(load), BundleLoad),
        records=records,
        head=records[-1].hash if records else None,
        photos=[
            BundlePhoto(
                seq=r.seq,
                sha256=r.data["sha256"],
                size_bytes=r.data["size_bytes"],
                content_type=r.data["content_type"],
                caption=r.data.get("caption"),
                url=f"/evidence/photos/{r.data['sha256']}",
            )
            for r in records
            if r.kind == "photo"
        ],
        verification=verification,
        generated_at=chain.format_time(_now()),
    )


async def photo(db: asyncpg.Pool, state: Path, p: Principal, sha256: str) -> tuple[bytes, str]:
    """A photo's bytes and type, for a party of a job with a load whose evidence names it."""
    sha256 = sha256.lower()
    row = None
    if photos.SHA256_HEX.match(sha256):
        row = await db.fetchrow(queries.PHOTO_FOR_PARTY, sha256, p.org_id)
    if row is None:
        raise NotFound("No such photo in the evidence of your organization's loads.", code="photo_not_found")
    try:
        data = await asyncio.to_thread(photos.read_verified, state, sha256)
    except ValueError:
        raise Conflict(
            "The stored file no longer matches its sha256; verifying the load's evidence reports it.",
            code="photo_altered",
        ) from None
    if data is None:
        raise NotFound(
            "The photo's file is missing from storage; verifying the load's evidence reports it.",
            code="photo_file_missing",
        )
    return data, row["content_type"]
