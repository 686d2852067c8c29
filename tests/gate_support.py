"""Arranging gate scenarios: a 24/7 site with docks and a slot calendar, and assigned loads."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.market_support import BERLIN, iso, job_body, square
from tests.support import Account, add_member, bootstrap_org

ALL_DAY = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(7)]


async def gate_site(
    client: Any,
    mill: Account,
    *,
    docks: int = 2,
    places: int = 2,
    slot_minutes: int = 30,
    cutoff: int = 0,
    grace: int = 30,
) -> dict[str, Any]:
    lon, lat = BERLIN
    r = await client.post(
        "/sites",
        headers=mill.headers,
        json={
            "name": f"Mill gate {docks}-{places}",
            "address": "Werkstrasse 1, Berlin",
            "location": {"lat": lat, "lon": lon},
            "geofence": square(lon, lat),
            "timezone": "Europe/Berlin",
            "opening_hours": ALL_DAY,
            "docks": [{"name": f"Dock {i + 1}"} for i in range(docks)],
        },
    )
    assert r.status_code == 201, r.text
    site: dict[str, Any] = r.json()
    r = await client.put(
        f"/sites/{site['id']}/calendar",
        headers=mill.headers,
        json={
            "slot_minutes": slot_minutes,
            "places_per_slot": places,
            "cutoff_minutes": cutoff,
            "grace_minutes": grace,
            "late_tolerance_minutes": 15,
        },
    )
    assert r.status_code == 200, r.text
    return site


async def dispatched_loads(
    client: Any,
    settings: Any,
    *,
    loads: int,
    docks: int = 2,
    places: int = 2,
    grace: int = 30,
    destination_site_id: str | None = None,
    plates: list[str] | None = None,
    mill: Account | None = None,
    site: dict[str, Any] | None = None,
    carrier: Account | None = None,
    deliver_by: timedelta = timedelta(hours=60),
    route: dict[str, Any] | None = None,
    tender: dict[str, Any] | None = None,
    award: Callable[[dict[str, Any], Account], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """A mill's gate, and a carrier with `loads` assigned loads (one coil, one truck, one driver each),
    each driver with a device token. Pickup window: from now for 30 hours. The destination is an
    address near Hamburg, or `destination_site_id` (a shared site of the consignee). `mill` and
    `site`: an existing shipper and its site (with its calendar) instead of new ones; `carrier`: an
    existing carrier instead of a new one (give it `plates` of its own for each further job).
    `deliver_by`: the job's deliver-by, from now; `route`: the job's planned route, if any.
    `tender`: the job is posted with these tender terms; `award(job, carrier)`: how the carrier
    comes to hold the job (by default it grabs it)."""
    mill = mill or await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = carrier or await bootstrap_org(client, settings, "Haulers", ["carrier"])
    site = site or await gate_site(client, mill, docks=docks, places=places, grace=grace)
    body = job_body(
        site["id"],
        destination_site_id=destination_site_id,
        pickup_from=iso(timedelta(minutes=-5)),
        pickup_until=iso(timedelta(hours=30)),
        deliver_by=iso(deliver_by),
        deadline=timedelta(hours=1),
        cargo={
            "kind": "items",
            "lines": [
                {"description": "coil", "count": loads, "unit_weight_kg": 24_000, "unit_volume_m3": 3.2}
            ],
        },
        **({"route": route} if route else {}),
    )
    if tender is not None:
        body["tender"] = tender
    r = await client.post("/jobs", headers=mill.headers, json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    if award is not None:
        await award(job, carrier)
    else:
        assert (await client.post(f"/jobs/{job['id']}/grab", headers=carrier.headers)).status_code == 200
    assigned = await plan_and_assign(client, carrier, job["id"], loads=loads, plates=plates)
    staff = await add_member(client, mill, "gate_staff")
    return {"mill": mill, "carrier": carrier, "site": site, "job": job, "loads": assigned, "staff": staff}


async def plan_and_assign(
    client: Any, carrier: Account, job_id: str, *, loads: int, plates: list[str] | None = None
) -> list[dict[str, Any]]:
    """The awarded carrier adds a truck and a driver per load, plans, confirms and assigns; each load
    with its driver's device token (`device`)."""
    drivers, vehicle_ids = [], []
    for i in range(loads):
        r = await client.post(
            "/fleet/vehicles",
            headers=carrier.headers,
            json={
                "plate": plates[i] if plates else f"B-GT {100 + i}",
                "vehicle_type": "flatbed",
                "capacity_kg": 25_000,
                "capacity_m3": 90,
            },
        )
        assert r.status_code == 201, r.text
        vehicle_ids.append(r.json()["id"])
        r = await client.post(
            "/fleet/drivers",
            headers=carrier.headers,
            json={
                "email": f"driver{i}-{secrets.token_hex(3)}@haulers.test",
                "name": f"Driver {i}",
                "password": "correct horse battery staple",
                "phone": "+49 170 0000000",
                "licence_number": f"L{i:05d}",
            },
        )
        assert r.status_code == 201, r.text
        drivers.append(r.json())
    # The plan uses this job's new trucks (an existing carrier's others may be on its other jobs).
    r = await client.post(f"/jobs/{job_id}/plan", headers=carrier.headers, json={"vehicle_ids": vehicle_ids})
    assert r.status_code == 201, r.text
    confirmed = (await client.post(f"/jobs/{job_id}/plan/confirm", headers=carrier.headers)).json()
    assigned = []
    for load, driver in zip(confirmed, drivers, strict=True):
        r = await client.put(
            f"/loads/{load['id']}/assignment",
            headers=carrier.headers,
            json={"driver_user_id": driver["user_id"], "vehicle_id": load["vehicle"]["id"]},
        )
        assert r.status_code == 200, r.text
        device = await client.post(
            f"/orgs/{carrier.org_id}/device-tokens",
            headers=carrier.headers,
            json={"user_id": driver["user_id"], "name": "phone"},
        )
        assert device.status_code == 201, device.text
        assigned.append(r.json() | {"device": {"Authorization": f"Bearer {device.json()['token']}"}})
    return assigned


def next_slot(minutes: int = 30, ahead: int = 1) -> datetime:
    """The start of a future slot on a 24/7 calendar (slots align to the local hour; Berlin's offset is
    whole hours, so UTC alignment is the same)."""
    now = datetime.now(UTC)
    start = now.replace(minute=(now.minute // minutes) * minutes, second=0, microsecond=0)
    return start + timedelta(minutes=minutes * ahead)
