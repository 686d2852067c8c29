"""A driver's trip as a typed record, mapped to and from its columns by name. Pure data.

`Trip` is a row of READ_DRIVER_TRIPS / LOCK_DRIVER_TRIPS: each field is named as the column the
queries select, so a row becomes a record by name (`Trip(**row)`), whatever the column order.
The part a batch moves on, load_tracking's state columns (`TripColumns`), goes back to UPDATE_TRIP
and STORE_BATCH as one `json` parameter (the pool's codec encodes the Struct with msgspec), which
the statements read by column name (`json_populate_record`): no parameter number is tied to a
column. A new state column is a field here and a name in queries.py.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class TripColumns(msgspec.Struct, kw_only=True, frozen=True):
    """load_tracking's trip state, a field per column: the newest fix, the speed estimate and ETA,
    the geofence and stop-detector state. What a batch moves on."""

    last_recorded_at: datetime | None
    last_lon: float | None
    last_lat: float | None
    last_accuracy_m: float | None
    last_speed_mps: float | None
    last_heading_deg: float | None
    speed_mps: float | None
    eta_at: datetime | None
    remaining_m: float | None
    progress: float | None
    left_origin_at: datetime | None
    arrived_at: datetime | None
    still_lon: float | None
    still_lat: float | None
    still_since: datetime | None
    stop_alerted: bool
    # The alerts' state (alerts.py): late_delivery standing, fixes in a row off the route, off route.
    late_alerted: bool
    outside_count: int
    off_route: bool


class Trip(TripColumns, kw_only=True, frozen=True):
    """A driver's trip as READ_DRIVER_TRIPS gives it: the load, its job's parties and route, and its
    load_tracking row (the state columns above, and the counters)."""

    load_id: UUID
    status: str
    job_id: UUID
    carrier_org_id: UUID
    shipper_org_id: UUID
    consignee_org_id: UUID | None
    poster_org_id: UUID
    deliver_by: datetime
    origin_lon: float
    origin_lat: float
    origin_fence: str
    destination_lon: float
    destination_lat: float
    destination_fence: str
    departed_at: datetime
    ended_at: datetime | None
    last_seq: int
    points_total: int
    # The job's planned route as stored (JSON text of [[lon, lat], …]), or None: the straight segment.
    # Kept as its text: it is the corridor cache's key (alerts.corridor), parsed once per process.
    planned_route: str | None = None


# A kept trip row is the driver's, for one load, seen through one device token.
TripKey = tuple[UUID | None, UUID, UUID, UUID | None]
