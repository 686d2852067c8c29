"""Carrier scorecards: the figures of one carrier over the last `days`, overall and per lane, for the
carrier and the organizations it served; and `order_by_score`, the waterfall's "by score" order.

The figures are counted from what the other areas record (queries.LANE_FIGURES, README.md has each
rule). The overall figures count every job of the carrier's in the window, whoever posted it (a
scorecard is the carrier's record on the platform); the lane breakdown shows a viewer other than
the carrier only the lanes on which it is a party of one of the carrier's jobs, as those lanes name
its own sites, not other customers'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

import asyncpg

from dispatch.accounts.principal import Principal
from dispatch.db import Conn, Queryable
from dispatch.errors import NotFound
from dispatch.market.awards import CarrierRanker
from dispatch.scorecards import queries
from dispatch.scorecards.models import (
    FIGURES,
    Area,
    Figure,
    FigureName,
    Figures,
    Lane,
    LaneFigures,
    Scorecard,
)

DEFAULT_DAYS = 90

# The figures the score rewards (a higher rate is better) and those it penalizes (a lower one is).
GOOD: tuple[FigureName, ...] = ("tender_acceptance", "slot_on_time", "delivery_on_time")
BAD: tuple[FigureName, ...] = ("no_shows", "receipt_discrepancies", "given_back")

Counts = dict[FigureName, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _LaneRow:
    lane: Lane
    counts: Counts
    viewer_party: bool


def _area_text(value: Decimal) -> str:
    return f"{value:.1f}"


def _lane(row: asyncpg.Record) -> Lane:
    area = None
    if row["destination_site_id"] is None:
        area = Area(lat=float(row["area_lat"]), lon=float(row["area_lon"]))
        to = f"{_area_text(row['area_lat'])},{_area_text(row['area_lon'])}"
    else:
        to = str(row["destination_site_id"])
    return Lane(
        key=f"{row['origin_site_id']}:{to}",
        origin_site_id=row["origin_site_id"],
        origin_name=row["origin_name"],
        destination_site_id=row["destination_site_id"],
        destination_name=row["destination_name"],
        destination_area=area,
    )


async def _lane_rows(db: Queryable, carrier: UUID, since: datetime, viewer: UUID) -> list[_LaneRow]:
    rows = await db.fetch(queries.LANE_FIGURES, carrier, since, viewer)
    out = []
    for row in rows:
        raw: dict[str, Any] = row["figures"]
        counts: Counts = {name: (int(v[0]), int(v[1])) for name, v in raw.items() if name in FIGURES}
        out.append(_LaneRow(_lane(row), counts, row["viewer_party"]))
    return out


def _sum(counts: Iterable[Counts]) -> Counts:
    total: Counts = {}
    for c in counts:
        for name, (num, den) in c.items():
            n, d = total.get(name, (0, 0))
            total[name] = (n + num, d + den)
    return total


def _figure(counts: Counts, name: FigureName) -> Figure:
    num, den = counts.get(name, (0, 0))
    return Figure(numerator=num, denominator=den, rate=round(num / den, 4) if den else None)


def figures(counts: Counts) -> Figures:
    return Figures(**{name: _figure(counts, name) for name in FIGURES})


def score(counts: Counts) -> float:
    """The mean of the six figures the carrier answers for, each smoothed by Laplace's rule of
    succession ((good + 1) / (counted + 2)): no data scores 0.5, and a short record weighs less
    than a long one. `award_cancelled` (the poster's doing) does not count."""
    parts = []
    for name in GOOD + BAD:
        num, den = counts.get(name, (0, 0))
        good = num if name in GOOD else den - num
        parts.append((good + 1) / (den + 2))
    return round(sum(parts) / len(parts), 4)


def _since(days: int) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def _carrier_name(db: Queryable, p: Principal, carrier: UUID) -> str:
    row = await db.fetchrow(queries.CARRIER_FOR_VIEWER, carrier, p.org_id)
    if row is None:
        raise NotFound(
            "No such carrier, or its scorecard is not visible to your organization.",
            code="carrier_not_found",
        )
    name: str = row["name"]
    return name


def _visible(rows: list[_LaneRow], p: Principal, carrier: UUID) -> list[_LaneRow]:
    return [r for r in rows if p.org_id == carrier or r.viewer_party]


async def scorecard(
    db: Queryable, p: Principal, carrier: UUID, days: int = DEFAULT_DAYS, lane: str | None = None
) -> Scorecard:
    name = await _carrier_name(db, p, carrier)
    since = _since(days)
    rows = await _lane_rows(db, carrier, since, p.org_id)
    chosen = None
    if lane is not None:
        chosen = next((r for r in _visible(rows, p, carrier) if r.lane.key == lane.lower()), None)
        if chosen is None:
            raise NotFound(
                f"The carrier has no jobs on lane {lane} in the last {days} days that you are a party of.",
                code="lane_not_found",
            )
    counts = chosen.counts if chosen else _sum(r.counts for r in rows)
    return Scorecard(
        carrier_org_id=carrier,
        carrier_name=name,
        days=days,
        since=since,
        lane=chosen.lane if chosen else None,
        figures=figures(counts),
        score=score(counts),
    )


async def lanes(db: Queryable, p: Principal, carrier: UUID, days: int = DEFAULT_DAYS) -> list[LaneFigures]:
    await _carrier_name(db, p, carrier)
    rows = await _lane_rows(db, carrier, _since(days), p.org_id)
    return [LaneFigures(lane=r.lane, figures=figures(r.counts)) for r in _visible(rows, p, carrier)]


async def order_by_score(
    db: Queryable, carrier_org_ids: Sequence[UUID], lane: str | None = None, days: int = DEFAULT_DAYS
) -> list[UUID]:
    """The carriers, best score first (`score`), for a waterfall tender "by score". With a `lane`
    (a Lane.key), each figure is the carrier's on that lane, or over all its lanes where the lane has
    none of it. Equal scores keep the order they were given in (the poster's own ranking).

    For the caller's use case (it decides who may be ordered): no visibility check here."""
    since = _since(days)
    scored: list[tuple[float, int, UUID]] = []
    for i, carrier in enumerate(dict.fromkeys(carrier_org_ids)):
        rows = await _lane_rows(db, carrier, since, carrier)
        counts = _sum(r.counts for r in rows)
        if lane is not None:
            on_lane = _sum(r.counts for r in rows if r.lane.key == lane.lower())
            counts = counts | {k: v for k, v in on_lane.items() if v[1] > 0}
        scored.append((-score(counts), i, carrier))
    return [carrier for _, _, carrier in sorted(scored)]


def lane_key_of_job(job: asyncpg.Record) -> str:
    """The lane a job runs on, as Lane.key spells it: origin site to destination site, or to the
    destination's area (0.1 degree, rounded half away from zero as the SQL's round(numeric) does)."""
    if job["destination_site_id"] is not None:
        return f"{job['origin_site_id']}:{job['destination_site_id']}"
    lat, lon = (
        Decimal(str(job[c])).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        for c in ("destination_lat", "destination_lon")
    )
    return f"{job['origin_site_id']}:{_area_text(lat)},{_area_text(lon)}"


class ScorecardRanker(CarrierRanker):
    """A tender "by score": its carriers best first on the job's lane (order_by_score)."""

    async def __call__(self, conn: Conn, job: asyncpg.Record, carriers: list[UUID]) -> list[UUID]:
        return await order_by_score(conn, carriers, lane_key_of_job(job))
