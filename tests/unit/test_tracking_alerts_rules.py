"""alerts.on_the_road, the ingest's one call for the delivery trip's alerts: what it decides from a
trip row, a batch's stored fixes and the new ETA (pure; the ingest route's own test drives it end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import msgspec

from dispatch.settings import Settings
from dispatch.tracking.alerts import on_the_road
from dispatch.tracking.trip import Sample
from dispatch.tracking.trip_row import Trip, TripColumns
from geo import Position
from geo.eta import Eta

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
BERLIN, POTSDAM = (13.405, 52.52), (13.0, 52.40)
SETTINGS = Settings(database_url="postgresql://unused/none", secret_key="k" * 40)
STATE = {f.name: None for f in msgspec.structs.fields(TripColumns)} | {
    "stop_alerted": False,
    "late_alerted": False,
    "outside_count": 0,
    "off_route": False,
}


def trip(**changes: object) -> Trip:
    row = STATE | {
        "load_id": uuid4(),
        "status": "in_transit",
        "job_id": uuid4(),
        "carrier_org_id": uuid4(),
        "shipper_org_id": uuid4(),
        "consignee_org_id": None,
        "poster_org_id": uuid4(),
        "deliver_by": T0 + timedelta(hours=1),
        "origin_lon": BERLIN[0],
        "origin_lat": BERLIN[1],
        "origin_fence": "{}",
        "destination_lon": POTSDAM[0],
        "destination_lat": POTSDAM[1],
        "destination_fence": "{}",
        "departed_at": T0,
        "ended_at": None,
        "last_seq": 0,
        "points_total": 0,
    }
    return Trip(**(row | changes))


def fixes(*lons: float, start: int = 0) -> list[Sample]:
    return [
        Sample(T0 + timedelta(seconds=50 * (start + i)), Position(lon, BERLIN[1]), 8.0)
        for i, lon in enumerate(lons)
    ]


def eta(minutes: float) -> Eta:
    return Eta(T0 + timedelta(minutes=minutes), 30_000.0, 0.1, 18.0)


def test_on_time_and_on_route_decides_nothing_and_keeps_the_state():
    t = trip()
    columns, raised = on_the_road(t, fixes(13.40, 13.39), eta(45), t, SETTINGS)
    assert raised == [] and (columns.late_alerted, columns.outside_count, columns.off_route) == (
        False,
        0,
        False,
    )


def test_late_delivery_once_and_off_route_on_the_third_fix_outside():
    t = trip()
    east = [13.405 + 0.2, 13.405 + 0.21, 13.405 + 0.22]  # ~13.6 to 15 km east of the mill: outside 10 km
    columns, raised = on_the_road(t, fixes(*east), eta(90), t, SETTINGS)
    assert [e.type for e in raised] == ["load.late_delivery", "load.off_route"]
    late, off = raised
    assert late.data["late_by_s"] == 1800 and late.data["deliver_by"] == t.deliver_by.isoformat()
    assert off.at == T0 + timedelta(seconds=100) and 14_000 < off.data["distance_m"] < 15_500
    assert (columns.late_alerted, columns.outside_count, columns.off_route) == (True, 3, True)
    # The next batch, still late and outside: nothing more; back inside: back on route.
    moved = msgspec.structs.replace(t, **(msgspec.structs.asdict(columns) | {"last_recorded_at": off.at}))
    again, raised = on_the_road(moved, fixes(13.63, 13.45, start=3), eta(95), moved, SETTINGS)
    assert [e.type for e in raised] == ["load.back_on_route"] and raised[0].at == T0 + timedelta(seconds=200)
    assert (again.late_alerted, again.outside_count, again.off_route) == (True, 0, False)


def test_nothing_is_decided_without_a_new_eta_or_once_arrived():
    t = trip()
    assert on_the_road(t, fixes(14.0, 14.1, 14.2), None, t, SETTINGS) == (t, [])
    there = trip(arrived_at=T0)
    assert on_the_road(there, fixes(14.0, 14.1, 14.2), eta(90), there, SETTINGS) == (there, [])
