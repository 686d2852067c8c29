"""Scorecard wire types: every figure is a count over a count, never a bare percentage."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

FigureName = Literal[
    "tender_acceptance",
    "slot_on_time",
    "no_shows",
    "delivery_on_time",
    "receipt_discrepancies",
    "given_back",
    "award_cancelled",
]
FIGURES: tuple[FigureName, ...] = (
    "tender_acceptance",
    "slot_on_time",
    "no_shows",
    "delivery_on_time",
    "receipt_discrepancies",
    "given_back",
    "award_cancelled",
)

# A lane as the `lane` query parameter names it: the origin site, then `:`, then the destination site
# or, for a job delivered to an address, its area (latitude and longitude to one decimal).
LANE_PATTERN = r"^[0-9a-fA-F-]{36}:([0-9a-fA-F-]{36}|-?[0-9]{1,2}(\.[0-9])?,-?[0-9]{1,3}(\.[0-9])?)$"
LaneKey = Annotated[str, Meta(pattern=LANE_PATTERN, max_length=80)]


class Figure(msgspec.Struct, kw_only=True):
    """`numerator` of `denominator`; `rate` is their quotient, null ("no data") when nothing counted."""

    numerator: int
    denominator: int
    rate: float | None


class Figures(msgspec.Struct, kw_only=True):
    tender_acceptance: Figure
    slot_on_time: Figure
    no_shows: Figure
    delivery_on_time: Figure
    receipt_discrepancies: Figure
    given_back: Figure
    # Awards the poster cancelled: listed, not counted against the carrier (nor in its score).
    award_cancelled: Figure


class Area(msgspec.Struct, kw_only=True):
    lat: float
    lon: float


class Lane(msgspec.Struct, kw_only=True):
    key: str
    origin_site_id: UUID
    origin_name: str
    destination_site_id: UUID | None
    destination_name: str | None
    # Where jobs went to an address (no site): the area the destination lies in.
    destination_area: Area | None


class LaneFigures(msgspec.Struct, kw_only=True):
    lane: Lane
    figures: Figures


class Scorecard(msgspec.Struct, kw_only=True):
    carrier_org_id: UUID
    carrier_name: str
    days: int
    since: datetime
    # The lane the figures are for; null: all the carrier's lanes.
    lane: Lane | None
    figures: Figures
    # Laplace-smoothed mean of the carrier's six figures, 0..1 (README "The score"); order_by_score's key.
    score: float
