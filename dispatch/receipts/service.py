"""Confirming receipt: the proof of delivery, chained to the loading evidence, ends the tracking.

One transaction: the trip and load rows are locked (in the ingest's order, so a GPS batch is
either before the receipt or refused after it; receipts of other loads of the job run side by side,
and only one that may be the job's last takes the job row's lock, see README.md), the receipt is
measured against what was loaded, appended to the load's evidence chain as its `receipt` record,
stored, the load becomes `received`, the job `completed` when nothing is left to receive, the
events are written, and the watchers get their `received` frame, all or nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.principal import Principal
from dispatch.db import Conn, Queryable
from dispatch.errors import Conflict, Forbidden, NotFound, Unprocessable
from dispatch.evidence import service as evidence
from dispatch.gate.notifications import driver_notification, publish_driver
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from dispatch.receipts import queries
from dispatch.receipts.models import Discrepancy, ItemLine, Receipt, ReceiptIn
from dispatch.tracking.notifications import publish_received, received_notification
from dispatch.tracking.trip import at_destination
from dispatch.types import LocationOut
from geo import Position, distance_to_m, parse_polygon


def _now() -> datetime:
    return datetime.now(UTC)


def _item_lines(load: asyncpg.Record, body: ReceiptIn) -> list[ItemLine] | None:
    if load["items"] is None:
        return None
    loaded: list[int] = list(load["items"])
    given = {i.line: i.count for i in body.received.items or []}
    unknown = sorted(line for line in given if line >= len(loaded))
    if unknown:
        raise Unprocessable(
            f"The job has {len(loaded)} cargo line(s); line(s) {', '.join(map(str, unknown))} do not exist.",
            code="no_such_line",
        )
    return [
        ItemLine(line=i, loaded=n, received=given.get(i, n), difference=given.get(i, n) - n)
        for i, n in enumerate(loaded)
    ]


def _received_weight(load: asyncpg.Record, body: ReceiptIn, lines: list[ItemLine] | None) -> int:
    if body.received.weight_kg is not None:
        return body.received.weight_kg
    if lines is None:
        raise Unprocessable("Give the received weight_kg of a bulk load.", code="received_required")
    unit: list[float] = [line["unit_weight_kg"] for line in load["cargo"]["lines"]]
    return round(sum(line.received * unit[line.line] for line in lines))


async def confirm(db: asyncpg.Pool, broker: Broker, p: Principal, load_id: UUID, body: ReceiptIn) -> Receipt:
    if p.user_id is None:
        raise Forbidden(
            "A receipt names the person who confirmed it: confirm with a login, not an API token.",
            code="user_required",
        )
    if body.received.weight_kg is None and not body.received.items:
        raise Unprocessable(
            "Say what was received: weight_kg, or the item count of each line (or both).",
            code="received_required",
        )
    async with db.acquire() as conn, conn.transaction():
        # The trip locked with the load and job in one statement; without a row, say why (no load
        # for this party, or no trip: the load has not left).
        trip = await conn.fetchrow(queries.LOCK_TRIP_FOR_PARTY, load_id, p.org_id)
        load = trip if trip is not None else await conn.fetchrow(queries.LOAD_FOR_PARTY, load_id, p.org_id)
        if load is None:
            raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
        if load["consignee_org_id"] != p.org_id:
            raise Forbidden("Receipt is confirmed by the consignee (the buyer).", code="not_the_consignee")
        status = await conn.fetchval(queries.LOCK_LOAD, load_id)
        if status == "received":
            raise Conflict("Receipt of this load is already confirmed.", code="already_received")
        if status not in ("in_transit", "arrived") or trip is None:
            raise Conflict(
                f"The load is {status}: receipt is confirmed once the truck is on its way or has arrived.",
                code="load_not_in_transit",
            )
        position, inside = _where(trip, load["destination_geofence"])
        if not inside and body.override_reason is None:
            if position is None:
                where = "has sent no position"
            else:
                away = distance_to_m(parse_polygon(load["destination_geofence"]), position)
                where = f"was last seen {away:,.0f} m outside the destination's geofence"
            raise Unprocessable(
                f"The truck {where}: confirm at the destination, or give an override_reason.",
                code="outside_destination",
            )
        named = sorted({sha for d in body.discrepancies for sha in d.photos})
        found = await conn.fetchrow(queries.EVIDENCE_FOR_RECEIPT, load_id, named, body.signature)
        assert found is not None  # one row, always
        _check_photos(named, found["photos"])
        _check_signature(body.signature, found["signature_found"])
        lines = _item_lines(load, body)
        received_kg = _received_weight(load, body, lines)
        weighed = found["loaded_net_kg"]
        loaded_kg = int(weighed) if weighed is not None else round(load["weight_kg"])
        source = "weighbridge" if weighed is not None else "plan"
        received_at = _now()
        data: dict[str, Any] = {
            "received_weight_kg": received_kg,
            "loaded_net_kg": loaded_kg,
            "loaded_net_source": source,
            "discrepancy_kg": received_kg - loaded_kg,
            "items": None if lines is None else [msgspec.to_builtins(line) for line in lines],
            "condition": body.condition,
            "discrepancies": [msgspec.to_builtins(d) for d in body.discrepancies],
            "signer_name": body.signer_name,
            "signature": body.signature,
            "inside_geofence": inside,
            "override_reason": body.override_reason,
            "notes": body.notes or None,
        }
        end = evidence.ChainEnd.of(found["last_seq"], found["last_hash"])
        chained = await evidence.append(
            conn,
            p,
            load,
            "receipt",
            data,
            None if position is None else position.lat,
            None if position is None else position.lon,
            end,
        )
        parties = party_orgs(load)
        received = events.pending(
            "load.received",
            org_ids=parties,
            subject_type="load",
            subject_id=load_id,
            actor_user_id=p.user_id,
            data={
                "job_id": str(load["job_id"]),
                "received_weight_kg": received_kg,
                "discrepancy_kg": received_kg - loaded_kg,
                "condition": body.condition,
                "evidence_head": chained.hash,
            },
        )
        stored = await conn.fetchrow(
            queries.RECEIVE,
            load_id,
            load["job_id"],
            p.org_id,
            p.user_id,
            body.signer_name,
            received_at,
            body.condition,
            received_kg,
            loaded_kg,
            source,
            received_kg - loaded_kg,
            data["items"],
            data["discrepancies"],
            body.notes or None,
            None if position is None else position.lon,
            None if position is None else position.lat,
            inside,
            body.override_reason,
            chained.seq,
            bytes.fromhex(chained.hash),
            body.signature,
            *received,
        )
        assert stored is not None  # the load row lock makes a second receipt see `received`
        receipt = _wire(stored)
        if await _completes_job(conn, p, load_id, load["job_id"], parties):
            receipt = msgspec.structs.replace(receipt, job_status="completed")
        await _publish(broker, conn, load_id, summary(receipt), load["driver_user_id"])
        return receipt


async def _completes_job(conn: Conn, p: Principal, load_id: UUID, job_id: UUID, parties: list[UUID]) -> bool:
    """Complete the job if this receipt (its load already `received` in this transaction) is its last.

    Receipts of one job run side by side; only one that finds no witness of another receipt to come
    takes the job row's lock, and it checks in a statement started after the lock was granted, so it
    sees every receipt that held the lock before it committed (the proof: dispatch/receipts/README.md).
    The check writes `job.completed` in its statement when it completes the job.
    """
    if await conn.fetchval(queries.LOAD_STILL_TO_RECEIVE, job_id, load_id) is not None:
        return False
    await conn.fetchval(queries.LOCK_JOB, job_id)
    completed = events.pending(
        "job.completed", org_ids=parties, subject_type="job", subject_id=job_id, actor_user_id=p.user_id
    )
    return await conn.fetchval(queries.COMPLETE_JOB, job_id, *completed) is not None


async def _publish(
    broker: Broker, conn: Conn, load_id: UUID, received: dict[str, Any], driver_user_id: UUID | None
) -> None:
    """The watchers' `received` frame and the driver's nudge: one statement when the broker publishes
    in SQL, else through the broker."""
    if broker.publishes_in_sql and driver_user_id is not None:
        await conn.execute(
            queries.NOTIFY_RECEIVED,
            *received_notification(load_id, received),
            *driver_notification(driver_user_id, {"e": "assignment", "load_id": str(load_id)}),
        )
        return
    await publish_received(broker, conn, load_id, received)
    await publish_driver(broker, conn, driver_user_id, {"e": "assignment", "load_id": str(load_id)})


def _where(trip: asyncpg.Record | None, fence_geojson: dict[str, Any]) -> tuple[Position | None, bool]:
    """The truck's last position and whether it is inside the destination geofence."""
    if trip is None or trip["last_lon"] is None:
        return None, False
    position = Position(trip["last_lon"], trip["last_lat"])
    fence = parse_polygon(fence_geojson, max_area_m2=float("inf"))
    return position, at_destination(fence, position, trip["last_accuracy_m"] or 0.0)


def _check_photos(named: list[str], found: list[str]) -> None:
    present = set(found)
    missing = [sha for sha in named if sha not in present]
    if missing:
        raise Unprocessable(
            "Upload these photos to the load's evidence first (POST /loads/{id}/evidence/photos): "
            + ", ".join(missing),
            code="photo_not_in_evidence",
            photos=missing,
        )


def _check_signature(signature: str | None, found: bool) -> None:
    if signature is None or found:
        return
    raise Unprocessable(
        "Upload the drawn signature (a PNG) to the load's evidence first "
        "(POST /loads/{id}/evidence/photos), then name its sha256.",
        code="signature_not_in_evidence",
        errors=[{"field": "$.signature", "reason": "not a PNG in this load's evidence", "source": "body"}],
    )


def _wire(row: asyncpg.Record) -> Receipt:
    loaded, received = row["loaded_net_kg"], row["received_weight_kg"]
    return Receipt(
        load_id=row["load_id"],
        job_id=row["job_id"],
        received_at=row["received_at"],
        confirmed_by=row["confirmed_by"],
        signer_name=row["signer_name"],
        signature=row["signature_sha256"],
        condition=row["condition"],
        received_weight_kg=received,
        loaded_net_kg=loaded,
        loaded_net_source=row["loaded_net_source"],
        discrepancy_kg=row["discrepancy_kg"],
        discrepancy_pct=round(100 * (received - loaded) / loaded, 2) if loaded else 0.0,
        items=None if row["items"] is None else msgspec.convert(row["items"], list[ItemLine]),
        discrepancies=msgspec.convert(row["discrepancies"], list[Discrepancy]),
        notes=row["notes"],
        position=None if row["lon"] is None else LocationOut(lat=row["lat"], lon=row["lon"]),
        inside_geofence=row["inside_geofence"],
        override_reason=row["override_reason"],
        evidence_seq=row["evidence_seq"],
        evidence_hash=bytes(row["evidence_hash"]).hex(),
        job_status=row["job_status"],
    )


async def _receipt(db: Queryable, load_id: UUID) -> Receipt | None:
    row = await db.fetchrow(queries.RECEIPT, load_id)
    return None if row is None else _wire(row)


def summary(r: Receipt) -> dict[str, Any]:
    """What watchers are told (small enough for one notification); GET /loads/{id}/receipt has all."""
    return {
        "received_at": r.received_at.isoformat(),
        "signer_name": r.signer_name,
        "condition": r.condition,
        "received_weight_kg": r.received_weight_kg,
        "loaded_net_kg": r.loaded_net_kg,
        "discrepancy_kg": r.discrepancy_kg,
        "discrepancy_pct": r.discrepancy_pct,
        "discrepancies": sorted({d.type for d in r.discrepancies}),
        "inside_geofence": r.inside_geofence,
        "job_status": r.job_status,
    }


async def summaries(db: Queryable, load_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
    return {row["load_id"]: summary(_wire(row)) for row in await db.fetch(queries.RECEIPTS_OF, load_ids)}


async def get(db: asyncpg.Pool, p: Principal, load_id: UUID) -> Receipt:
    if await db.fetchrow(queries.LOAD_FOR_PARTY, load_id, p.org_id) is None:
        raise NotFound("No such load, or it is not visible to your organization.", code="load_not_found")
    receipt = await _receipt(db, load_id)
    if receipt is None:
        raise NotFound("Receipt of this load is not confirmed yet.", code="receipt_not_found")
    return receipt
