"""The GPS ingest as the driver API calls it, for the app's batches and Traccar Client's positions
alike: one pipeline (dispatch/tracking/ingest.py), one tally of the metrics. A batch no load in
transit takes goes to the driver's loads on their way to the pickup, if any
(dispatch/tracking/approach.py): the delivery trip's path is tried first and unchanged."""

from __future__ import annotations

from dispatch.accounts.principal import Principal
from dispatch.errors import Conflict
from dispatch.runtime import Runtime
from dispatch.tracking import approach
from dispatch.tracking import ingest as tracking
from dispatch.tracking.models import BatchResult, PositionBatch


async def ingest_batch(runtime: Runtime, p: Principal, batch: PositionBatch) -> BatchResult:
    try:
        result = await tracking.ingest(
            runtime.db,
            runtime.broker,
            runtime.settings,
            p,
            batch,
            commits=runtime.ingest_commits,
            kept=runtime.kept_trips,
            devices=runtime.device_principals,
        )
    except Conflict as refused:
        if refused.code != "not_in_transit":
            raise
        result = await approach.ingest(runtime.db, runtime.broker, runtime.settings, p, batch, refused)
    runtime.metrics.gps_batch(result.accepted, result.duplicates, [r.reason for r in result.rejected])
    return result
