"""Arranging tracking scenarios through the public API: a mill ships coil to a buyer's yard near
Hamburg; every load goes through the gate (check-in, dock, loading) and departs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN, HAMBURG, create_site
from tests.support import add_member, bootstrap_org


def point(lon: float, lat: float, at: datetime | None = None, **extra: Any) -> dict[str, Any]:
    """One GPS fix as the phone sends it (recorded now unless `at` is given)."""
    when = at or datetime.now(UTC)
    return {"lon": lon, "lat": lat, "recorded_at": when.isoformat(), "accuracy_m": 8.0} | extra


def route(n: int, start: datetime | None = None, step_s: float = 10.0) -> list[dict[str, Any]]:
    """n fixes along the straight line from the mill (Berlin) towards Hamburg, step_s apart and about
    230 m apart (about 80 km/h at 10 s); the first two lie inside the mill's geofence."""
    start = start or datetime.now(UTC) - timedelta(seconds=step_s * n)
    (lon0, lat0), (lon1, lat1) = BERLIN, HAMBURG
    out = []
    for i in range(n):
        f = 0.0009 * i  # 0.0009 of ~255 km is ~230 m
        out.append(
            point(
                lon0 + (lon1 - lon0) * f,
                lat0 + (lat1 - lat0) * f,
                start + timedelta(seconds=step_s * i),
                speed_mps=22.0,
            )
        )
    return out


async def depart(http: Any, w: dict[str, Any], load: dict[str, Any]) -> None:
    """Take one assigned load through the gate: check in, called to a dock, loaded, trip started."""
    at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
    r = await http.post(f"/driver/v1/loads/{load['id']}/check-in", headers=load["device"], json=at_gate)
    assert r.status_code == 201, r.text
    site_id, staff = w["site"]["id"], w["staff"].headers
    board = (await http.get(f"/gate/sites/{site_id}/board", headers=staff)).json()
    busy = {t["dock"]["id"] for t in board["at_docks"]}
    dock = next(d for d in board["docks"] if d["id"] not in busy)
    r = await http.post(f"/gate/sites/{site_id}/call", headers=staff, json={"dock_id": dock["id"]})
    assert r.status_code == 200, r.text
    ticket = r.json()["id"]
    assert (await http.post(f"/gate/tickets/{ticket}/loading", headers=staff)).status_code == 200
    assert (await http.post(f"/gate/tickets/{ticket}/loaded", headers=staff)).status_code == 200
    r = await http.post(f"/driver/v1/loads/{load['id']}/depart", headers=load["device"])
    assert r.status_code == 200, r.text


async def loads_in_transit(
    http: Any, settings: Any, *, loads: int = 1, depart_all: bool = True
) -> dict[str, Any]:
    """`dispatched_loads` to a buyer's shared yard near Hamburg, every load departed (in transit).

    Adds `buyer` (the consignee's admin), `receiver` (a buyer member with the built-in `buyer` role),
    `yard` (the destination site) and `viewer` (a carrier member who may view tracking)."""
    buyer = await bootstrap_org(http, settings, "Buyer", ["consignee"])
    yard = await create_site(http, buyer, "Buyer yard Hamburg", at=HAMBURG, shared=True)
    w = await dispatched_loads(http, settings, loads=loads, destination_site_id=yard["id"])
    if depart_all:
        for load in w["loads"]:
            await depart(http, w, load)
    receiver = await add_member(http, buyer, "buyer")
    return w | {"buyer": buyer, "yard": yard, "receiver": receiver}
