"""Scorecards HTTP API: a carrier's figures, for the carrier and the organizations it served."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from dispatch.deps import Caller, RuntimeDep
from dispatch.openapi import problem_spec
from dispatch.scorecards import service
from dispatch.scorecards.models import LANE_PATTERN, LaneFigures, Scorecard

Days = Annotated[int, QueryParameter(ge=1, le=365, description="the window: the last this many days")]
LaneParam = Annotated[
    str | None,
    QueryParameter(
        max_length=80,
        description="one lane (a lane's `key`): origin site id, `:`, destination site id or area `lat,lon`",
        pattern=LANE_PATTERN,
    ),
]


class ScorecardController(Controller):
    path = "/carriers/{org_id:uuid}/scorecard"
    tags = ["scorecards"]

    @get(
        "/",
        operation_id="getCarrierScorecard",
        summary="A carrier's scorecard: each figure as numerator of denominator, over the last `days`, "
        "overall or on one lane; for the carrier and the shippers and consignees it served",
        responses={404: problem_spec(404)},
    )
    async def scorecard(
        self,
        org_id: FromPath[UUID],
        runtime: RuntimeDep,
        p: Caller,
        days: Days = service.DEFAULT_DAYS,
        lane: LaneParam = None,
    ) -> Scorecard:
        return await service.scorecard(runtime.db, p, org_id, days, lane)

    @get(
        "/lanes",
        operation_id="listCarrierScorecardLanes",
        summary="A carrier's figures per lane (origin site to destination site or area) over the last "
        "`days`: all its lanes for the carrier, the lanes a viewer is a party of for others",
        responses={404: problem_spec(404)},
    )
    async def lanes(
        self, org_id: FromPath[UUID], runtime: RuntimeDep, p: Caller, days: Days = service.DEFAULT_DAYS
    ) -> list[LaneFigures]:
        return await service.lanes(runtime.db, p, org_id, days)
