"""Tenders: a job offered to chosen carriers in turn (one: direct; several: a waterfall) before the
market; and the re-tender of a job whose award was given back or cancelled.

Each offer is out to one carrier for the tender's window at the tender's price. Accept, decline (with
a reason) or time out: the next carrier's turn comes; after the last, the job opens to the market (as
its mode, price or ceiling and deadline say) or expires. A tendered job is `tendering`: off the
market search and the feed, and to a carrier it is not offered to, an id that does not exist.

Concurrency is the database's, as for the grab: the accept is one conditional UPDATE (the offer out
and its window open, judged by `clock_timestamp()`); the timeout loop claims due offers with their
jobs `FOR UPDATE … SKIP LOCKED` on every worker. Everyone locks the job row before its offers.
An accept awards the job exactly as a grab does (`service.on_award`: authorization, events), except
that the feed is not told: the job never was on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from dispatch import events
from dispatch.accounts.auth import require_party
from dispatch.accounts.principal import Principal
from dispatch.db import Conn
from dispatch.errors import Conflict, Forbidden, NotFound, Unprocessable
from dispatch.market import queries, service
from dispatch.market.awards import AutoAuthorizer, CarrierRanker
from dispatch.market.models import (
    CarrierChoice,
    Job,
    JobCreate,
    OfferToCarrier,
    Retender,
    Tender,
    TenderOffer,
    TenderThen,
)
from dispatch.market.notifications import publish_posted, publish_tender
from dispatch.market.service import get_job, job_from_row, lock_job, on_award
from dispatch.parties import party_orgs
from dispatch.realtime.broker import Broker
from geo import Position

_NOT_FOUND = "No such tender offer to your organization."


def _poster_side(job: asyncpg.Record) -> tuple[UUID, ...]:
    return (job["poster_org_id"], job["shipper_org_id"], job["consignee_org_id"])


def _now() -> datetime:
    return datetime.now(UTC)


def _offer_frame(offer: asyncpg.Record | dict[str, Any], currency: str) -> dict[str, Any]:
    return {
        "id": str(offer["id"]),
        "job_id": str(offer["job_id"]),
        "rank": offer["rank"],
        "price_minor": offer["price_minor"],
        "currency": currency,
        "state": offer["state"],
        "expires_at": offer["expires_at"].isoformat() if offer["expires_at"] else None,
    }


# -- starting a tender and moving it on -------------------------------------------------------


async def start_tender(
    conn: Conn,
    broker: Broker,
    job: asyncpg.Record,
    *,
    carriers: list[UUID],
    window_s: int,
    price_minor: int,
    then: TenderThen,
    actor: UUID | None,
    rank: CarrierRanker | None = None,
) -> None:
    """Put a locked job (just posted, or returned) into a tender and offer it to the first carrier;
    with `rank`, the carriers are offered best scorecard first instead of as listed."""
    if len(set(carriers)) != len(carriers):
        raise Unprocessable("tender.carriers: name each carrier once.", code="tender_carrier_repeated")
    parties = {job["poster_org_id"], job["shipper_org_id"], job["consignee_org_id"]}
    if parties & set(carriers):
        raise Unprocessable("tender.carriers: a party to the job cannot carry it.", code="own_job")
    excluded = set(job["excluded_carrier_org_ids"]) & set(carriers)
    if excluded:
        raise Unprocessable(
            "tender.carriers: a carrier that gave this job back or had its award cancelled "
            "cannot be offered it.",
            code="carrier_excluded",
            carrier_org_ids=sorted(str(c) for c in excluded),
        )
    known = {r["id"] for r in await conn.fetch(queries.CARRIER_ORGS, carriers)}
    unknown = [str(c) for c in carriers if c not in known]
    if unknown:
        raise Unprocessable(
            "tender.carriers: not a carrier organization: " + ", ".join(unknown) + ".",
            code="tender_carrier_unknown",
            carrier_org_ids=unknown,
        )
    if rank is not None:
        carriers = await rank(conn, job, carriers)
    tender_id = await conn.fetchval(queries.INSERT_TENDER, job["id"], price_minor, window_s, then, actor)
    for place, carrier in enumerate(carriers, start=1):
        await conn.execute(queries.INSERT_OFFER, tender_id, job["id"], carrier, place, price_minor)
    await conn.execute(queries.SET_JOB_TENDERING, job["id"])
    await _offer_next(conn, broker, job)


async def _offer_next(conn: Conn, broker: Broker, job: asyncpg.Record) -> None:
    """The next pending carrier's turn; none left: the tender is exhausted. A job that can no
    longer be picked up is offered to no one more: it expires."""
    if await conn.fetchval(queries.PICKUP_PASSED, job["id"]):
        await _end_for_pickup_passed(conn, broker, job)
        return
    offer = await conn.fetchrow(queries.OFFER_NEXT, job["id"])
    if offer is None:
        await _exhaust(conn, broker, job)
        return
    await events.record(
        conn,
        "tender.offered",
        org_ids=party_orgs(job, offer["carrier_org_id"]),
        subject_type="job",
        subject_id=job["id"],
        actor_user_id=None,
        data={
            "job_id": str(job["id"]),
            "carrier_org_id": str(offer["carrier_org_id"]),
            "rank": offer["rank"],
            "price_minor": offer["price_minor"],
            "currency": job["currency"],
            "expires_at": offer["expires_at"].isoformat(),
        },
    )
    await publish_tender(
        broker, conn, job, offer["carrier_org_id"], "tender.offered", _offer_frame(offer, job["currency"])
    )


async def _end_for_pickup_passed(conn: Conn, broker: Broker, job: asyncpg.Record) -> None:
    """The locked job's pickup window has ended while it was tendered: the offer out and those whose
    turn never came are withdrawn (the carrier out now is told, as on a cancel; no carrier timed
    out, so no `tender.timed_out`), and the tender ends as an exhausted one with then=expire."""
    tender = await conn.fetchrow(queries.RUNNING_TENDER, job["id"])
    assert tender is not None, "a tender is running while offers are made"
    for offer in await conn.fetch(queries.CLOSE_OPEN_OFFERS, tender["id"], "withdrawn"):
        if offer["offered_at"] is not None:
            frame = _offer_frame(offer, job["currency"])
            await publish_tender(broker, conn, job, offer["carrier_org_id"], "tender.ended", frame)
    await _exhaust(conn, broker, job, expire=True)


async def _exhaust(conn: Conn, broker: Broker, job: asyncpg.Record, *, expire: bool = False) -> None:
    """Every carrier declined or timed out: to the market (its deadline still ahead) or expired;
    `expire`: expired whatever the tender's `then` (the job can no longer be picked up)."""
    tender = await conn.fetchrow(queries.RUNNING_TENDER, job["id"])
    assert tender is not None, "a tender is running while offers are made"
    await conn.execute(queries.END_TENDER, tender["id"], "exhausted")
    to_market = tender["then_do"] == "market" and not expire
    opened = await conn.fetchrow(queries.OPEN_TENDERED, job["id"]) if to_market else None
    then = opened["mode"] if opened is not None else "expired"
    if opened is None:
        await conn.execute(queries.EXPIRE_TENDERED, job["id"])
    await events.record(
        conn,
        "tender.exhausted",
        org_ids=party_orgs(job),
        subject_type="job",
        subject_id=job["id"],
        actor_user_id=None,
        data={"job_id": str(job["id"]), "then": then},
    )
    if opened is not None:
        await publish_posted(
            broker,
            conn,
            job["id"],
            Position(job["origin_lon"], job["origin_lat"]),
            job["vehicle_type"],
            job["cargo_kind"],
        )
    else:
        await events.record(
            conn,
            "job.expired",
            org_ids=party_orgs(job),
            subject_type="job",
            subject_id=job["id"],
            actor_user_id=None,
        )


async def withdraw_tender(conn: Conn, broker: Broker, job: asyncpg.Record) -> None:
    """The poster cancelled a tendering job (locked): the offers end, the carrier out now is told."""
    tender = await conn.fetchrow(queries.RUNNING_TENDER, job["id"])
    if tender is None:
        return
    await conn.execute(queries.END_TENDER, tender["id"], "withdrawn")
    for offer in await conn.fetch(queries.CLOSE_OPEN_OFFERS, tender["id"], "withdrawn"):
        if offer["offered_at"] is not None:
            await publish_tender(
                broker,
                conn,
                job,
                offer["carrier_org_id"],
                "tender.ended",
                _offer_frame(offer, job["currency"]),
            )


async def post_job(
    db: asyncpg.Pool, broker: Broker, rank: CarrierRanker, p: Principal, body: JobCreate
) -> Job:
    """Post a job; with `tender`, it is offered to the chosen carriers first, off the market."""
    terms = body.tender
    if terms is None:
        return await service.post_job(db, broker, p, body)
    price = terms.price_minor or body.price_minor
    if price is None:
        raise Unprocessable(
            "tender.price_minor: an auction has no posted price; give the price the tender offers.",
            code="tender_price_required",
        )

    async def start(conn: Conn, job: asyncpg.Record) -> None:
        await start_tender(
            conn,
            broker,
            job,
            carriers=list(terms.carriers),
            window_s=terms.window_seconds,
            price_minor=price,
            then=terms.then,
            actor=p.user_id,
            rank=rank if terms.order == "by_score" else None,
        )

    return await service.post_job(db, broker, p, body, on_posted=start)


# -- the carrier's answer ---------------------------------------------------------------------


async def _lock_offer(conn: Conn, p: Principal, offer_id: UUID) -> asyncpg.Record:
    """The job of an offer made to the caller's organization, locked (others: 404, no oracle)."""
    require_party(p, "carrier", "answer tenders")
    job = await conn.fetchrow(queries.JOB_OF_OFFER_FOR_UPDATE, offer_id, p.org_id)
    if job is None:
        raise NotFound(_NOT_FOUND, code="tender_not_found")
    return job


async def _refuse_answer(conn: Conn, offer_id: UUID) -> None:
    """Why an answer changed nothing: the offer is no longer out, or its window has closed."""
    offer = await conn.fetchrow(queries.OFFER, offer_id)
    assert offer is not None
    if offer["state"] == "offered" and offer["closes_at"] <= offer["now"]:
        # Its window, or the job's pickup window, has closed; the timeout loop has not yet ended it.
        raise Conflict(
            f"The offer's window closed at {offer['closes_at'].isoformat()}.",
            code="tender_expired",
            expires_at=offer["closes_at"].isoformat(),
        )
    if offer["state"] == "timed_out":
        raise Conflict(
            f"The offer's window closed at {offer['expires_at'].isoformat()}.",
            code="tender_expired",
            expires_at=offer["expires_at"].isoformat(),
        )
    raise Conflict(f"The offer is {offer['state'].replace('_', ' ')}.", code="tender_not_offered")


async def accept_offer(
    db: asyncpg.Pool, broker: Broker, authorize: AutoAuthorizer, p: Principal, offer_id: UUID
) -> Job:
    async with db.acquire() as conn, conn.transaction():
        job = await _lock_offer(conn, p, offer_id)
        offer = await conn.fetchrow(queries.ACCEPT_OFFER, offer_id, p.org_id)
        if offer is None:
            await _refuse_answer(conn, offer_id)
        assert offer is not None
        awarded = await conn.fetchrow(queries.AWARD_TENDERED, job["id"], p.org_id, offer["price_minor"])
        assert awarded is not None, "an offer is out only while its job is tendering (locked)"
        await conn.execute(queries.END_TENDER, offer["tender_id"], "accepted")
        await conn.execute(queries.CLOSE_OPEN_OFFERS, offer["tender_id"], "skipped")
        frame = _offer_frame(offer, job["currency"])
        await publish_tender(broker, conn, job, p.org_id, "tender.ended", frame)  # the carrier's other tabs
        await events.record(
            conn,
            "tender.accepted",
            org_ids=party_orgs(awarded),
            subject_type="job",
            subject_id=job["id"],
            actor_user_id=p.user_id,
            data={"job_id": str(job["id"]), "carrier_org_id": str(p.org_id), "rank": offer["rank"]},
        )
        await on_award(conn, broker, authorize, awarded, bid_id=None, actor=p.user_id, on_market=False)
        result = await get_job(conn, p, job["id"])
    assert isinstance(result, Job)
    return result


async def decline_offer(
    db: asyncpg.Pool, broker: Broker, p: Principal, offer_id: UUID, reason: str
) -> OfferToCarrier:
    async with db.acquire() as conn, conn.transaction():
        job = await _lock_offer(conn, p, offer_id)
        offer = await conn.fetchrow(queries.DECLINE_OFFER, offer_id, p.org_id, reason)
        if offer is None:
            await _refuse_answer(conn, offer_id)
        assert offer is not None
        await events.record(
            conn,
            "tender.declined",
            org_ids=party_orgs(job, p.org_id),
            subject_type="job",
            subject_id=job["id"],
            actor_user_id=p.user_id,
            data={
                "job_id": str(job["id"]),
                "carrier_org_id": str(p.org_id),
                "rank": offer["rank"],
                "reason": reason,
            },
        )
        frame = _offer_frame(offer, job["currency"])
        await publish_tender(broker, conn, job, p.org_id, "tender.ended", frame)  # the carrier's other tabs
        await _offer_next(conn, broker, job)
        return _to_carrier(offer, job["currency"])


async def time_out_offers(db: asyncpg.Pool, broker: Broker, *, batch: int = 20) -> int:
    """One round of the timeout loop: offers past their window time out and the next carrier's turn
    comes (or the market opens); a tender whose job can no longer be picked up ends and the job
    expires. Safe with any number of workers (FOR UPDATE SKIP LOCKED)."""
    async with db.acquire() as conn, conn.transaction():
        due = await conn.fetch(queries.CLAIM_TIMED_OUT_OFFERS, batch)
        for offer in due:
            job = await conn.fetchrow(queries.JOB, offer["job_id"])  # locked by the claim
            assert job is not None
            if offer["job_passed"]:
                await _end_for_pickup_passed(conn, broker, job)
                continue
            await conn.execute(queries.TIME_OUT_OFFER, offer["id"])
            await events.record(
                conn,
                "tender.timed_out",
                org_ids=party_orgs(job, offer["carrier_org_id"]),
                subject_type="job",
                subject_id=job["id"],
                actor_user_id=None,
                data={
                    "job_id": str(job["id"]),
                    "carrier_org_id": str(offer["carrier_org_id"]),
                    "rank": offer["rank"],
                },
            )
            frame = _offer_frame(dict(offer) | {"state": "timed_out"}, job["currency"])
            await publish_tender(broker, conn, job, offer["carrier_org_id"], "tender.ended", frame)
            await _offer_next(conn, broker, job)
        return len(due)


# -- reading ----------------------------------------------------------------------------------


def _to_carrier(row: asyncpg.Record, currency: str) -> OfferToCarrier:
    fields = {k: row[k] for k in OfferToCarrier.__struct_fields__ if k not in ("job", "currency")}
    return msgspec.convert(fields | {"currency": currency}, OfferToCarrier)


async def list_offers(db: asyncpg.Pool, p: Principal, *, current: bool) -> list[OfferToCarrier]:
    """The offers to the caller's organization whose turn has come (out now first), each out one
    with the job's market view."""
    require_party(p, "carrier", "answer tenders")
    offers = []
    for row in await db.fetch(queries.OFFERS_TO_CARRIER, p.org_id, current):
        offer = msgspec.convert(dict(row), OfferToCarrier)
        if offer.state == "offered":
            job_row = await db.fetchrow(queries.JOB_FOR, p.org_id, offer.job_id)
            offer.job = job_from_row(job_row) if job_row is not None else None
        offers.append(offer)
    return offers


async def carrier_choices(db: asyncpg.Pool, p: Principal, q: str | None, limit: int) -> list[CarrierChoice]:
    """The carrier organizations whose name holds `q` (any case; all when empty), by name, at most
    `limit`: those a poster may name in a tender (never its own organization)."""
    needle = q.strip() if q else None
    rows = await db.fetch(queries.CARRIER_CHOICES, p.org_id, needle or None, limit)
    return [CarrierChoice(id=r["id"], name=r["name"]) for r in rows]


async def get_tender(db: asyncpg.Pool, p: Principal, job_id: UUID) -> Tender:
    """The job's latest tender, for its poster, shipper and consignee (others: 404)."""
    job = await db.fetchrow(queries.JOB, job_id)
    if job is None or p.org_id not in _poster_side(job):
        raise NotFound("No such job.", code="job_not_found")
    tender = await db.fetchrow(queries.LATEST_TENDER, job_id)
    if tender is None:
        raise NotFound("The job was never tendered.", code="tender_not_found")
    rows = await db.fetch(queries.OFFERS_OF_TENDER, tender["id"])
    offers = [msgspec.convert(dict(r), TenderOffer) for r in rows]
    return Tender(
        id=tender["id"],
        job_id=job_id,
        status=tender["status"],
        price_minor=tender["price_minor"],
        currency=job["currency"],
        window_seconds=tender["window_s"],
        then=tender["then_do"],
        created_at=tender["created_at"],
        ended_at=tender["ended_at"],
        offers=offers,
        excluded_carrier_org_ids=job["excluded_carrier_org_ids"],
    )


# -- an award withdrawn, and the re-tender ----------------------------------------------------


async def return_award(
    conn: Conn, job: asyncpg.Record, *, given_back: bool, reason: str, actor: UUID | None
) -> asyncpg.Record:
    """The award of a locked job is withdrawn (`given_back` by the carrier, else cancelled by the
    poster): the job is `returned`, its carrier left out of what follows. The caller withdraws the
    loads, bookings and authorization in the same transaction."""
    returned = await conn.fetchrow(queries.RETURN_AWARD, job["id"])
    assert returned is not None, "the caller checked that the job is awarded or dispatched"
    told: dict[str, Any] = {
        "org_ids": party_orgs(job),
        "subject_type": "job",
        "subject_id": job["id"],
        "actor_user_id": actor,
        "data": {"job_id": str(job["id"]), "carrier_org_id": str(job["carrier_org_id"]), "reason": reason},
    }
    if given_back:
        await events.record(conn, "job.given_back", **told)
    else:
        await events.record(conn, "job.award_cancelled", **told)
    return returned


def _check_deadline(job: asyncpg.Record, deadline: datetime) -> None:
    if deadline.tzinfo is None:
        raise Unprocessable("deadline: give a time zone offset (e.g. Z for UTC).", code="naive_datetime")
    if deadline <= _now():
        raise Unprocessable("The deadline is in the past.", code="deadline_in_past")
    if deadline > job["pickup_until"]:
        raise Unprocessable(
            "The deadline must come before the end of the pickup window.", code="deadline_after_pickup"
        )


async def retender(
    db: asyncpg.Pool, broker: Broker, rank: CarrierRanker, p: Principal, job_id: UUID, body: Retender
) -> Job:
    """One action after a give-back or a cancelled award: to carriers in turn, or to the market."""
    async with db.acquire() as conn, conn.transaction():
        job = await lock_job(conn, job_id)
        if job is None or p.org_id not in _poster_side(job):
            raise NotFound("No such job.", code="job_not_found")
        if job["poster_org_id"] != p.org_id:
            raise Forbidden("Only the organization that posted the job re-tenders it.", code="not_the_poster")
        if job["status"] != "returned":
            raise Conflict(
                f"The job is {job['status']}; only a job whose award was given back or cancelled "
                "is re-tendered.",
                code="job_not_returned",
            )
        if body.deadline is not None:
            _check_deadline(job, body.deadline)
        if body.to == "tender":
            mode = "tender"
            by_score = rank if body.order == "by_score" else None
            await _retender_to_carriers(conn, broker, p, job, body, by_score)
        else:
            mode = await _retender_to_market(conn, broker, job, body)
        await events.record(
            conn,
            "job.retendered",
            org_ids=party_orgs(job),
            subject_type="job",
            subject_id=job_id,
            actor_user_id=p.user_id,
            data={
                "job_id": str(job_id),
                "to": body.to,
                "mode": mode,
                "excluded_carrier_org_ids": [str(c) for c in job["excluded_carrier_org_ids"]],
            },
        )
        result = await get_job(conn, p, job_id)
    assert isinstance(result, Job)
    return result


async def _retender_to_carriers(
    conn: Conn,
    broker: Broker,
    p: Principal,
    job: asyncpg.Record,
    body: Retender,
    rank: CarrierRanker | None,
) -> None:
    last = await conn.fetchrow(queries.LATEST_TENDER, job["id"])
    if body.carriers is not None:
        carriers = list(body.carriers)
    elif last is not None:
        # The same waterfall, in its order, without the carriers that failed the job.
        offered = await conn.fetch(queries.OFFERS_OF_TENDER, last["id"])
        excluded = set(job["excluded_carrier_org_ids"])
        carriers = [o["carrier_org_id"] for o in offered if o["carrier_org_id"] not in excluded]
    else:
        carriers = []
    if not carriers:
        raise Unprocessable(
            "carriers: name the carriers to offer the job to (no earlier tender to repeat, "
            "or none left in it).",
            code="tender_carriers_required",
        )
    window_s = body.window_seconds or (last["window_s"] if last is not None else None)
    price = body.price_minor or (last["price_minor"] if last is not None else None) or job["price_minor"]
    if window_s is None:
        raise Unprocessable(
            "window_seconds: give each offer's acceptance window.", code="tender_window_required"
        )
    if price is None:
        raise Unprocessable("price_minor: give the price the tender offers.", code="tender_price_required")
    if body.deadline is not None:
        await conn.execute(queries.SET_DEADLINE, job["id"], body.deadline)
    await start_tender(
        conn,
        broker,
        job,
        carriers=carriers,
        window_s=window_s,
        price_minor=price,
        then=body.then or (last["then_do"] if last is not None else "market"),
        actor=p.user_id,
        rank=rank,
    )


async def _retender_to_market(conn: Conn, broker: Broker, job: asyncpg.Record, body: Retender) -> str:
    if body.deadline is None:
        raise Unprocessable("deadline: a market needs its deadline.", code="deadline_required")
    mode = body.mode or job["mode"]
    if mode == "grab":
        price = body.price_minor or job["price_minor"]
        if price is None:
            raise Unprocessable("A grab job needs price_minor, the posted price.", code="price_required")
        if body.ceiling_minor is not None:
            raise Unprocessable("ceiling_minor belongs to auctions.", code="ceiling_on_grab")
        ceiling = None
    else:
        if body.price_minor is not None:
            raise Unprocessable(
                "An auction has no posted price; set ceiling_minor to cap bids.", code="price_on_auction"
            )
        price, ceiling = None, body.ceiling_minor
    step = body.min_step_minor or job["min_step_minor"]
    reopened = await conn.fetchrow(
        queries.REOPEN_RETURNED, job["id"], mode, price, ceiling, step, body.deadline
    )
    assert reopened is not None, "the job is locked and returned"
    await conn.execute(queries.RETIRE_OLD_BIDS, job["id"])
    await publish_posted(
        broker,
        conn,
        job["id"],
        Position(job["origin_lon"], job["origin_lat"]),
        job["vehicle_type"],
        job["cargo_kind"],
    )
    return str(mode)
