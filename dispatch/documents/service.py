"""Gathering a load's documents for one of its parties, then rendering them (render.py).

The load, its job, parties, sites, truck, driver and authorization come from one query scoped to the
caller's organization (queries.py); the loading evidence, the receipt and the drawn signature are
asked of their areas through their public functions, which check the caller again. Rendering is
CPU work (fonts, images, compression), so it runs in a thread.

Who gets the pickup code: the carrier (it hands the code to its driver) and the goods owner (who
authorized the collection and already holds the job's code); the other party of the job gets the
waybill without it, as it gets the load's other answers without it: at an ex-works pickup the
shipper runs the gate that checks the code, and a checker should not hold what it checks. The code
is printed only while it still opens the gate (assigned until loading); before a driver is assigned
it is not bound yet, and once the truck has left it has done its work.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.authorizations.codes import load_code
from dispatch.documents import queries, render
from dispatch.documents.models import (
    Authorized,
    CargoLine,
    Place,
    ProofOfDelivery,
    ReceivedLine,
    Waybill,
    Weighing,
)
from dispatch.errors import Conflict, NotFound, Problem
from dispatch.evidence import service as evidence
from dispatch.i18n import negotiate
from dispatch.receipts import service as receipts
from dispatch.types import load_number

# The states in which a load's code still opens the gate: bound to a truck and a driver, not yet left.
CODE_STATUSES = ("assigned", "booked", "at_gate", "loading")


def _now() -> datetime:
    return datetime.now(UTC)


async def _facts(db: asyncpg.Pool, p: Principal, load_id: UUID) -> asyncpg.Record:
    row = await db.fetchrow(queries.WAYBILL_FACTS, load_id, p.org_id, p.user_id)
    # A driver's phone (GET /driver/v1/loads/{id}/waybill.pdf) gets the waybill of its own load only,
    # as on every driver route; another load of its carrier is "not found" too.
    if row is not None and p.kind == "device" and row["driver_user_id"] != p.user_id:
        row = None
    if row is None:
        raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    return row


def _goods_owner(row: asyncpg.Record) -> UUID | None:
    owner: UUID | None = (
        row["consignee_org_id"] if row["goods_owner"] == "consignee" else row["shipper_org_id"]
    )
    return owner


def _code(row: asyncpg.Record, p: Principal, secret: str) -> tuple[str | None, str | None]:
    """The pickup code for this caller, or why there is none (a catalogue key)."""
    if p.org_id not in (row["carrier_org_id"], _goods_owner(row)):
        return None, "documents.code.withheld"
    if row["status"] not in CODE_STATUSES or row["driver_user_id"] is None:
        return None, "documents.code.not_live"
    return load_code(secret, row["id"], row["assignment_version"]), None


def _cargo(row: asyncpg.Record) -> list[CargoLine]:
    cargo: dict[str, Any] = row["cargo"]
    if row["items"] is None:
        return [CargoLine(cargo.get("description") or "", None, float(row["bulk_kg"] or row["weight_kg"]))]
    lines: list[dict[str, Any]] = cargo["lines"]
    return [
        CargoLine(line["description"], count, count * float(line["unit_weight_kg"]))
        for line, count in zip(lines, row["items"], strict=False)
        if count
    ]


def _weighing(records: list[Any]) -> Weighing | None:
    gross = next((r for r in reversed(records) if r.kind == "weighbridge_gross"), None)
    if gross is None:
        return None
    data = gross.data
    return Weighing(
        tare_kg=int(data["tare_kg"]),
        gross_kg=int(data["weight_kg"]),
        net_kg=int(data["net_kg"]),
        weighbridge_id=str(data["weighbridge_id"]),
        ticket=data.get("ticket"),
    )


async def _waybill(
    db: asyncpg.Pool, secret: str, p: Principal, load_id: UUID, accept: str | None
) -> tuple[Waybill, asyncpg.Record]:
    row = await _facts(db, p, load_id)
    records = await evidence.list_records(db, p, load_id)
    code, code_note = _code(row, p, secret)
    authorization = None
    if row["authorization_id"] is not None:
        authorization = Authorized(
            by_org=row["authorized_by_org"],
            by_person=row["authorized_by_person"],
            valid_from=row["authorized_from"],
            valid_until=row["authorized_until"],
            revoked_at=row["authorization_revoked_at"],
        )
    waybill = Waybill(
        load_id=row["id"],
        number=load_number(row["job_reference"], row["job_id"], row["seq"]),
        status=row["status"],
        locale=negotiate(accept, user=row["user_locale"], org=row["caller_locale"]),
        timezone=row["origin_timezone"],
        issued_at=_now(),
        shipper=row["shipper_name"],
        consignee=row["consignee_name"],
        carrier=row["carrier_name"],
        origin=Place(row["origin_name"], row["origin_address"]),
        destination=Place(
            row["destination_name"] or "", row["destination_site_address"] or row["destination_address"]
        ),
        cargo=_cargo(row),
        weight_kg=float(row["weight_kg"]),
        volume_m3=float(row["volume_m3"]),
        plate=row["plate"],
        vehicle_type=row["vehicle_type"],
        driver_name=row["driver_name"],
        driver_phone=row["driver_phone"],
        driver_licence=row["driver_licence"],
        pickup_from=row["pickup_from"],
        pickup_until=row["pickup_until"],
        deliver_by=row["deliver_by"],
        authorization=authorization,
        pickup_code=code,
        code_note=code_note,
        weighing=_weighing(records),
        seals=[n for r in records if r.kind == "seal" for n in r.data["seal_numbers"]],
    )
    return waybill, row


async def waybill_pdf(
    db: asyncpg.Pool, secret: str, p: Principal, load_id: UUID, accept_language: str | None
) -> bytes:
    waybill, _ = await _waybill(db, secret, p, load_id, accept_language)
    return await asyncio.to_thread(render.waybill, waybill)


async def _signature(
    db: asyncpg.Pool, state: Path, p: Principal, sha256: str | None
) -> tuple[bytes | None, str | None]:
    """The drawn signature's PNG, or why it cannot be shown (a catalogue key)."""
    if sha256 is None:
        return None, "documents.pod.no_signature"
    try:
        png, _ = await evidence.photo(db, state, p, sha256)
    except Problem:  # the file is missing or no longer hashes right: the paper says so, the rest stands
        return None, "documents.pod.signature_unavailable"
    return png, None


async def proof_of_delivery_pdf(
    db: asyncpg.Pool, state: Path, secret: str, p: Principal, load_id: UUID, accept_language: str | None
) -> bytes:
    waybill, row = await _waybill(db, secret, p, load_id, accept_language)
    try:
        receipt = await receipts.get(db, p, load_id)
    except NotFound as e:
        if e.code != "receipt_not_found":
            raise
        raise Conflict(
            "The proof of delivery exists once the consignee has confirmed receipt of the load.",
            code="document_not_ready",
        ) from None
    png, note = await _signature(db, state, p, receipt.signature)
    descriptions = [str(line["description"]) for line in row["cargo"].get("lines", [])]
    pod = ProofOfDelivery(
        waybill=waybill,
        received_at=receipt.received_at,
        signer_name=receipt.signer_name,
        signature_png=png,
        signature_sha256=receipt.signature,
        signature_note=note,
        condition=receipt.condition,
        received_weight_kg=receipt.received_weight_kg,
        loaded_net_kg=receipt.loaded_net_kg,
        loaded_net_source=receipt.loaded_net_source,
        discrepancy_kg=receipt.discrepancy_kg,
        discrepancy_pct=receipt.discrepancy_pct,
        lines=[
            ReceivedLine(
                descriptions[line.line] if line.line < len(descriptions) else f"#{line.line + 1}",
                line.loaded,
                line.received,
                line.difference,
            )
            for line in receipt.items or []
        ],
        discrepancies=[(d.type, d.notes) for d in receipt.discrepancies],
        notes=receipt.notes,
        override_reason=receipt.override_reason,
        inside_geofence=receipt.inside_geofence,
        evidence_seq=receipt.evidence_seq,
        evidence_hash=receipt.evidence_hash,
    )
    return await asyncio.to_thread(render.proof_of_delivery, pod)
