"""What tracking publishes for watchers, on one channel per load (`track_<load id>`).

Each notification is a frame exactly as watchers receive it (so a process encodes nothing per
watcher), with the routing fields every frame carries: `type`, `load_id` and, for `points`,
`first_seq`/`last_seq`. Published inside the transaction that stores what it announces (see
dispatch.realtime.broker): a watcher never sees a point that was not stored.

A batch is ONE frame for watchers whatever its size. A batch too big for one notification
(PostgreSQL's 8000-byte payload) is carried in several, which commit together and arrive together
and in order (a notifying transaction holds PostgreSQL's notify lock from pre-commit to commit, so
no other transaction's notifications come between them); every piece but the last says
`"more": true`, and each process joins the pieces into the one frame the batch would have been
(`join_points`, byte for byte) before fanning it out. A frame that fits has no `more` member.

    {"type": "points", "load_id", "first_seq", "last_seq", "points": [...], "status", "eta"}
    {"type": "event", "load_id", "event": {"type", "at", "data"}, "status"}
    {"type": "received", "load_id", "receipt": {...a summary; GET /loads/{id}/receipt has it all}}
    {"type": "approach", "load_id", "fixes": [...], "status", "approach": {...}}

An `approach` frame carries fixes of the drive to the pickup (approach.py): a leg of its own, with
no seq, so it is never a `points` frame and takes no part in the delivery trip's seq cursors, gaps
and resumes (its list is `fixes`, not `points`, so a client reading every frame's `points` for their
seqs, as the simulator's watcher does, never takes one for the trip's). A batch too big for one
notification is published as several approach frames, in order (each one whole: a client draws
them as they come, there is nothing to join).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from dispatch.db import Conn
from dispatch.realtime.broker import MAX_PAYLOAD_BYTES, Broker
from dispatch.tracking.models import ApproachOut, ApproachPoint, EtaOut, PointOut, TimelineEntry

_encode = msgspec.json.Encoder().encode


def track_channel(load_id: UUID) -> str:
    return f"track_{load_id.hex}"


class PointsFrame(msgspec.Struct, kw_only=True, tag_field="type", tag="points", omit_defaults=True):
    load_id: UUID
    first_seq: int
    last_seq: int
    points: Sequence[PointOut]
    status: str
    eta: EtaOut | None
    more: bool = False  # a piece of a batch, not its last: only in notifications, never to watchers


class _RawPoints(msgspec.Struct, kw_only=True, tag_field="type", tag="points", omit_defaults=True):
    """A PointsFrame with its points and ETA kept as the JSON they are, for joining pieces without
    parsing or re-formatting a number or a time (same fields, same order as PointsFrame)."""

    load_id: str
    first_seq: int
    last_seq: int
    points: list[msgspec.Raw]
    status: str
    eta: msgspec.Raw
    more: bool = False


_decode_raw_points = msgspec.json.Decoder(_RawPoints).decode


class EventFrame(msgspec.Struct, kw_only=True, tag_field="type", tag="event"):
    load_id: UUID
    event: TimelineEntry
    status: str


class ApproachFrame(msgspec.Struct, kw_only=True, tag_field="type", tag="approach"):
    load_id: UUID
    fixes: Sequence[ApproachPoint]
    status: str
    approach: ApproachOut  # the drive's state after the batch (its ETA, late, newest fix)


class ReceivedFrame(msgspec.Struct, kw_only=True, tag_field="type", tag="received"):
    load_id: UUID
    receipt: dict[str, Any]


def points_payloads(
    load_id: UUID, points: Sequence[PointOut], status: str, eta: EtaOut | None
) -> list[bytes]:
    """The batch as notifications of at most MAX_PAYLOAD_BYTES each, in seq order: one frame, or
    pieces of it, every piece but the last with `"more": true` (see `join_points`)."""
    return _pieces(load_id, points, status, eta, last=True)


def _pieces(
    load_id: UUID, points: Sequence[PointOut], status: str, eta: EtaOut | None, *, last: bool
) -> list[bytes]:
    if not points:
        return []
    frame = _encode(
        PointsFrame(
            load_id=load_id,
            first_seq=points[0].seq,
            last_seq=points[-1].seq,
            points=points,
            status=status,
            eta=eta,
            more=not last,
        )
    )
    if len(frame) <= MAX_PAYLOAD_BYTES or len(points) == 1:
        return [frame]
    half = len(points) // 2
    return _pieces(load_id, points[:half], status, eta, last=False) + _pieces(
        load_id, points[half:], status, eta, last=last
    )


def join_points(pieces: Sequence[str | bytes]) -> bytes:
    """The one frame a batch's notification pieces make, in order: exactly the bytes the batch
    would have had as one frame (its points' JSON is copied as it is, not parsed)."""
    parts = [_decode_raw_points(p) for p in pieces]
    first, last = parts[0], parts[-1]
    return _encode(
        _RawPoints(
            load_id=first.load_id,
            first_seq=first.first_seq,
            last_seq=last.last_seq,
            points=[pt for part in parts for pt in part.points],
            status=last.status,
            eta=last.eta,
        )
    )


async def publish_points(
    broker: Broker, conn: Conn, load_id: UUID, points: Sequence[PointOut], status: str, eta: EtaOut | None
) -> None:
    for payload in points_payloads(load_id, points, status, eta):
        await broker.publish(conn, track_channel(load_id), payload.decode())


def approach_payloads(
    load_id: UUID, points: Sequence[ApproachPoint], status: str, approach: ApproachOut
) -> list[bytes]:
    """Approach frames of at most MAX_PAYLOAD_BYTES each, in time order: one, or halves of it."""
    frame = _encode(ApproachFrame(load_id=load_id, fixes=points, status=status, approach=approach))
    if len(frame) <= MAX_PAYLOAD_BYTES or len(points) <= 1:
        return [frame]
    half = len(points) // 2
    return approach_payloads(load_id, points[:half], status, approach) + approach_payloads(
        load_id, points[half:], status, approach
    )


async def publish_approach(
    broker: Broker,
    conn: Conn,
    load_id: UUID,
    points: Sequence[ApproachPoint],
    status: str,
    approach: ApproachOut,
) -> None:
    for payload in approach_payloads(load_id, points, status, approach):
        await broker.publish(conn, track_channel(load_id), payload.decode())


def event_payload(load_id: UUID, event: TimelineEntry, status: str) -> str:
    return _encode(EventFrame(load_id=load_id, event=event, status=status)).decode()


async def publish_event(broker: Broker, conn: Conn, load_id: UUID, event: TimelineEntry, status: str) -> None:
    await broker.publish(conn, track_channel(load_id), event_payload(load_id, event, status))


def received_notification(load_id: UUID, summary: dict[str, Any]) -> tuple[str, str]:
    """The `received` frame's channel and payload (for a statement that publishes it itself)."""
    return track_channel(load_id), _encode(ReceivedFrame(load_id=load_id, receipt=summary)).decode()


async def publish_received(broker: Broker, conn: Conn, load_id: UUID, summary: dict[str, Any]) -> None:
    await broker.publish(conn, *received_notification(load_id, summary))
