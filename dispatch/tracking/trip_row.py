"""A driver's trip as a typed record, mapped to and from its columns by name, and where a worker
keeps the one it last stored.

`Trip` is a row of READ_DRIVER_TRIPS / LOCK_DRIVER_TRIPS: each field is named as the column the
queries select, so a row becomes a record by name (`Trip.of(row)`), whatever the column order.
The part a batch moves on, load_tracking's state columns (`TripColumns`), goes back to UPDATE_TRIP
and STORE_BATCH as one `json` parameter (the pool's codec encodes the Struct with msgspec), which
the statements read by column name (`json_populate_record`): no parameter number is tied to a
column. A new state column is a field
here and a name in queries.py.

Pure: no I/O.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import shapely

from dispatch.accounts.models import Principal
from dispatch.tracking import screening
from dispatch.tracking import trip as trips
from geo import Position, parse_polygon
from geo.eta import Eta

# Where a trip starts from when it has no fix yet: the origin, give or take the size of a site.
ORIGIN_ACCURACY_M = 2000.0


@functools.lru_cache(maxsize=1024)
def _fence(geojson_text: str) -> shapely.Polygon:
    """Geofences of trips in progress, parsed once per process (they never change for a job)."""
    return parse_polygon(msgspec.json.decode(geojson_text), max_area_m2=float("inf"))


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

    def state(self) -> trips.TripState:
        last = None
        if self.last_recorded_at is not None:
            assert self.last_lon is not None and self.last_lat is not None
            assert self.last_accuracy_m is not None
            last = trips.Sample(
                at=self.last_recorded_at,
                position=Position(self.last_lon, self.last_lat),
                accuracy_m=self.last_accuracy_m,
                speed_mps=self.last_speed_mps,
                heading_deg=self.last_heading_deg,
            )
        still = None
        if self.still_lon is not None and self.still_lat is not None:
            still = Position(self.still_lon, self.still_lat)
        return trips.TripState(
            last=last,
            speed_mps=self.speed_mps,
            left_origin_at=self.left_origin_at,
            arrived_at=self.arrived_at,
            still_at=still,
            still_since=self.still_since,
            stop_alerted=self.stop_alerted,
        )

    def moved_on(self, new: trips.TripState, eta: Eta | None) -> TripColumns:
        """The columns after a batch that left the trip in state `new` (the ETA kept when the batch
        gave none: its fixes were all older than the last one)."""
        last = new.last
        return TripColumns(
            last_recorded_at=last.at if last else None,
            last_lon=last.position.lon if last else None,
            last_lat=last.position.lat if last else None,
            last_accuracy_m=last.accuracy_m if last else None,
            last_speed_mps=last.speed_mps if last else None,
            last_heading_deg=last.heading_deg if last else None,
            speed_mps=new.speed_mps,
            eta_at=eta.eta_at if eta else self.eta_at,
            remaining_m=eta.remaining_m if eta else self.remaining_m,
            progress=eta.progress if eta else self.progress,
            left_origin_at=new.left_origin_at,
            arrived_at=new.arrived_at,
            still_lon=new.still_at.lon if new.still_at else None,
            still_lat=new.still_at.lat if new.still_at else None,
            still_since=new.still_since,
            stop_alerted=new.stop_alerted,
        )


class Trip(TripColumns, kw_only=True, frozen=True):
    """A driver's trip as READ_DRIVER_TRIPS gives it: the load, its job's parties and route, and its
    load_tracking row (the state columns above, and the counters)."""

    load_id: UUID
    status: str
    job_id: UUID
    carrier_org_id: UUID
    shipper_org_id: UUID | None
    consignee_org_id: UUID | None
    poster_org_id: UUID
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

    @classmethod
    def of(cls, row: Any) -> Trip:
        """From a row of READ_DRIVER_TRIPS or LOCK_DRIVER_TRIPS, column by column name."""
        return cls(**row)

    def route(self) -> trips.Route:
        return trips.Route(
            origin=Position(self.origin_lon, self.origin_lat),
            origin_fence=_fence(self.origin_fence),
            destination=Position(self.destination_lon, self.destination_lat),
            destination_fence=_fence(self.destination_fence),
        )

    def anchor(self) -> screening.Anchor:
        """The fix the batch's points must be reachable from: the newest stored one, else the origin
        at departure."""
        if self.last_recorded_at is not None:
            assert self.last_lon is not None and self.last_lat is not None
            assert self.last_accuracy_m is not None
            return screening.Anchor(
                self.last_recorded_at, Position(self.last_lon, self.last_lat), self.last_accuracy_m
            )
        return screening.Anchor(
            self.departed_at, Position(self.origin_lon, self.origin_lat), ORIGIN_ACCURACY_M
        )

    def parties(self) -> dict[str, UUID | None]:
        """The job's parties, as `party_orgs` reads them."""
        return {
            "poster_org_id": self.poster_org_id,
            "shipper_org_id": self.shipper_org_id,
            "consignee_org_id": self.consignee_org_id,
            "carrier_org_id": self.carrier_org_id,
        }

    def after(self, columns: TripColumns, stored: int, status: str) -> Trip:
        """This row as READ_DRIVER_TRIPS would give it after a batch stored `stored` points."""
        return msgspec.structs.replace(
            self,
            **msgspec.structs.asdict(columns),
            last_seq=self.last_seq + stored,
            points_total=self.points_total + stored,
            status=status,
        )


# A kept trip row is the driver's, for one load, seen through one device token.
TripKey = tuple[UUID | None, UUID, UUID, UUID | None]


def trip_key(p: Principal, load_id: UUID) -> TripKey:
    return (p.user_id, p.org_id, load_id, p.credential_id)


class KeptTrips:
    """The trip row each driver's last one-statement batch left, kept by this process (one per
    `Runtime`) for the driver's next batch naming the load: that batch skips READ_DRIVER_TRIPS, one
    of its two round trips. A phone posts every few seconds, mostly on the same kept-alive
    connection, so to the same worker.

    Safe because STORE_BATCH checks everything that read would, on the row it updates: the load
    still the driver's, the token still valid, the trip unchanged since (last_seq, not ended). A
    batch stored meanwhile by another worker, a receipt, a revocation: nothing is stored, the row
    (already taken out) is gone, and the batch takes the ordinary road with its answers."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._rows: dict[TripKey, Trip] = {}

    def take(self, key: TripKey) -> Trip | None:
        return self._rows.pop(key, None)

    def keep(self, key: TripKey, trip: Trip) -> None:
        if len(self._rows) >= self._limit:
            self._rows.clear()
        self._rows[key] = trip
