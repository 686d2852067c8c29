"""Arranging market scenarios through the public API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from geo import Position
from geo import square as square_at
from tests.support import Account, bootstrap_org

# Two real places ~255 km apart: a steel mill near Berlin, a buyer's yard near Hamburg.
BERLIN = (13.405, 52.52)
HAMBURG = (9.9937, 53.5511)


def square(lon: float, lat: float, half: float = 0.004) -> dict[str, Any]:
    """A GeoJSON square of about 900 m a side around a point."""
    return square_at(Position(lon, lat), half)


def iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def create_site(
    client: Any, owner: Account, name: str, at: tuple[float, float] = BERLIN, shared: bool = False
) -> dict[str, Any]:
    lon, lat = at
    r = await client.post(
        "/sites",
        headers=owner.headers,
        json={
            "name": name,
            "address": f"{name}, Industriestrasse 1",
            "location": {"lat": lat, "lon": lon},
            "geofence": square(lon, lat),
            "timezone": "Europe/Berlin",
            "shared": shared,
            "opening_hours": [{"weekday": d, "opens": "06:00", "closes": "22:00"} for d in range(5)],
            "docks": [{"name": "Dock 1"}, {"name": "Dock 2", "vehicle_types": ["flatbed"]}],
        },
    )
    assert r.status_code == 201, r.text
    site: dict[str, Any] = r.json()
    return site


def job_body(
    origin_site_id: str,
    *,
    mode: str = "grab",
    price: int | None = 250_000,
    ceiling: int | None = None,
    deadline: timedelta = timedelta(hours=2),
    destination_site_id: str | None = None,
    to: tuple[float, float] = HAMBURG,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "origin_site_id": origin_site_id,
        "cargo": {
            "kind": "items",
            "lines": [
                {
                    "description": "hot-rolled coil",
                    "count": 5,
                    "unit_weight_kg": 24_000,
                    "unit_volume_m3": 3.2,
                }
            ],
        },
        "vehicle_type": "flatbed",
        "pickup_from": iso(timedelta(hours=20)),
        "pickup_until": iso(timedelta(hours=30)),
        "deliver_by": iso(timedelta(hours=60)),
        "mode": mode,
        "currency": "EUR",
        "deadline": iso(deadline),
        "reference": "PO-4711",
        "notes": "Gate 3, ask for Mr. Krause",
    }
    if mode == "grab":
        body["price_minor"] = price
    elif ceiling is not None:
        body["ceiling_minor"] = ceiling
    if destination_site_id:
        body["destination_site_id"] = destination_site_id
    else:
        body["destination"] = {
            "address": "Buyer yard, Hafenstrasse 9, Hamburg",
            "location": {"lon": to[0], "lat": to[1]},
            "geofence": square(*to),
        }
    body.update(extra)
    return body


async def post_job(client: Any, poster: Account, origin_site_id: str, **kw: Any) -> dict[str, Any]:
    r = await client.post("/jobs", headers=poster.headers, json=job_body(origin_site_id, **kw))
    assert r.status_code == 201, r.text
    job: dict[str, Any] = r.json()
    return job


async def save_area(
    client: Any, carrier: Account, name: str, at: tuple[float, float] = BERLIN, radius_km: float = 50
) -> dict[str, Any]:
    """A market area for the carrier's live feed: a circle of `radius_km` around `at` (lon, lat)."""
    lon, lat = at
    r = await client.post(
        "/market/areas",
        headers=carrier.headers,
        json={"name": name, "center": {"lon": lon, "lat": lat}, "radius_km": radius_km},
    )
    assert r.status_code == 201, r.text
    area: dict[str, Any] = r.json()
    return area


async def awarded_ex_works_job(client: Any, settings: Any) -> tuple[Any, ...]:
    """A buyer buys coil ex works from a mill and sends a carrier: the buyer owns the goods."""
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    gate = await create_site(client, mill, "Mill gate", shared=True)
    yard = await create_site(client, buyer, "Yard", at=HAMBURG)
    # Pickup starts within the hour, so the default validity (12 h around the window) covers now.
    job = await post_job(
        client, buyer, gate["id"], destination_site_id=yard["id"], pickup_from=iso(timedelta(hours=1))
    )
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)).status_code == 200
    return mill, buyer, carrier, gate, yard, job
