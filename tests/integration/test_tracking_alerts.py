"""Lateness and deviation alerts (dispatch/tracking/README.md, "Alerts"), driven by recorded tracks
(fixed lists of fixes) through the real ingest route, `POST /driver/v1/positions`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect

from dispatch.events.schemas import SCHEMAS
from tests.gate_support import dispatched_loads, next_slot
from tests.market_support import BERLIN, HAMBURG, create_site
from tests.support import add_member, bootstrap_org, problem
from tests.tracking_support import depart, loads_in_transit, point

BERLIN_TIME = ZoneInfo("Europe/Berlin")
ALERTS = ["load.late_for_slot", "load.late_delivery", "load.off_route", "load.back_on_route"]
# A yard near Potsdam, ~31 km west-south-west of the mill in Berlin: a short trip, whose corridor is
# the 10 km minimum either side of the straight line.
POTSDAM = (13.0, 52.40)


async def alerts_of(db: Any, load_id: str) -> list[tuple[str, dict[str, Any], list[UUID]]]:
    """The load's alert events in the outbox, in order, each checked against its registered schema."""
    rows = await db.fetch(
        "SELECT type, data, org_ids FROM events WHERE subject_type = 'load' AND subject_id = $1"
        " AND type = ANY($2::text[]) ORDER BY id",
        load_id,
        ALERTS,
    )
    out = []
    for r in rows:
        data = msgspec.json.decode(r["data"]) if isinstance(r["data"], str) else r["data"]
        msgspec.convert(data, SCHEMAS[r["type"]].data)  # the data is what the schema says
        out.append((r["type"], data, list(r["org_ids"])))
    return out


def toward(
    start: tuple[float, float], end: tuple[float, float], n: int, t0: datetime, step_s: float, share: float
) -> list[dict[str, Any]]:
    """n fixes from `start`, each `share` of the way further towards `end`, step_s apart."""
    (lon0, lat0), (lon1, lat1) = start, end
    return [
        point(
            lon0 + (lon1 - lon0) * share * i,
            lat0 + (lat1 - lat0) * share * i,
            t0 + timedelta(seconds=step_s * i),
        )
        for i in range(n)
    ]


async def post(client: Any, load: dict[str, Any], points: list[dict[str, Any]], **extra: Any) -> Any:
    return await client.post("/driver/v1/positions", headers=load["device"], json={"points": points, **extra})


async def test_late_for_slot_fires_for_a_truck_far_from_the_pickup_and_not_for_one_nearby(
    client, settings, db
):
    w = await loads_in_transit(client, settings, loads=2, depart_all=False)
    far, near = w["loads"]
    slot = next_slot(ahead=2)  # 30 to 60 minutes from now
    for load in (far, near):
        r = await client.put(
            f"/driver/v1/loads/{load['id']}/booking",
            headers=load["device"],
            json={"slot_start": slot.isoformat()},
        )
        assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    # Before the driver starts towards the pickup, positions are refused as before.
    problem(await post(client, far, [point(*HAMBURG, now)]), 409, "not_in_transit")

    started = {}
    for load in (far, near):
        r = await client.post(f"/driver/v1/loads/{load['id']}/start-to-pickup", headers=load["device"])
        assert r.status_code == 200, r.text
        started[load["id"]] = r.json()
        assert r.json()["load_id"] == load["id"] and r.json()["eta_at"] is None and r.json()["late"] is False
        assert datetime.fromisoformat(r.json()["slot_starts_at"]) == slot
    # Starting again changes nothing; another driver's load is not found.
    again = await client.post(f"/driver/v1/loads/{far['id']}/start-to-pickup", headers=far["device"])
    assert again.status_code == 200 and again.json() == started[far["id"]]
    problem(
        await client.post(f"/driver/v1/loads/{far['id']}/start-to-pickup", headers=near["device"]),
        404,
        "load_not_found",
    )

    # The far truck is at Hamburg, 255 km away: its ETA is hours after the slot. Raised once, on the
    # first batch; the second batch (still late) raises nothing more.
    track = toward(HAMBURG, BERLIN, 12, now - timedelta(seconds=120), 10, share=0.0009)  # ~83 km/h
    first = await post(client, far, track[:6])
    assert first.status_code == 200, first.text
    assert first.json()["accepted"] == 6 and first.json()["loads"][0]["status"] == "booked"
    assert (await post(client, far, track[6:])).json()["accepted"] == 6
    assert (await post(client, far, track[6:])).json()["duplicates"] == 6  # a retry: stored once
    alerts = await alerts_of(db, far["id"])
    assert [a[0] for a in alerts] == ["load.late_for_slot"]
    data, orgs = alerts[0][1], alerts[0][2]
    assert data["load_id"] == far["id"] and datetime.fromisoformat(data["slot_starts_at"]) == slot
    eta = datetime.fromisoformat(data["eta_at"])
    assert eta > slot + timedelta(hours=2)
    assert data["late_by_s"] == round((eta - slot).total_seconds())
    # For the load's carrier, shipper and consignee.
    assert {UUID(w["carrier"].org_id), UUID(w["mill"].org_id), UUID(w["buyer"].org_id)} <= set(orgs)

    # The near truck is 2 km from the gate: on time, nothing raised.
    near_track = toward((BERLIN[0] + 0.03, BERLIN[1]), BERLIN, 6, now - timedelta(seconds=60), 10, share=0.1)
    assert (await post(client, near, near_track)).json()["accepted"] == 6
    assert await alerts_of(db, near["id"]) == []

    # The delivery trip is untouched: no trip, no positions for either load.
    for load in (far, near):
        assert await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", UUID(load["id"])) == 0
        assert (
            await db.fetchval("SELECT count(*) FROM load_tracking WHERE load_id = $1", UUID(load["id"])) == 0
        )

    # The gate's appointments mark the late truck with its ETA; the near one is expected, on time.
    rows = (
        await client.get(
            f"/sites/{w['site']['id']}/appointments",
            headers=w["staff"].headers,
            params={"date": slot.astimezone(BERLIN_TIME).date().isoformat()},
        )
    ).json()["items"]
    by_load = {r["load_id"]: r for r in rows}
    latest = await db.fetchval("SELECT eta_at FROM load_approach WHERE load_id = $1", UUID(far["id"]))
    assert latest > slot + timedelta(hours=2)  # the ETA of the latest batch
    assert by_load[far["id"]]["late"] is True
    assert datetime.fromisoformat(by_load[far["id"]]["eta"]) == latest
    assert by_load[near["id"]]["late"] is False and by_load[near["id"]]["eta"] is not None

    # The tracking view: the alert on the timeline, and the drive to the pickup with its ETA.
    view = (await client.get(f"/loads/{far['id']}/tracking", headers=w["receiver"].headers)).json()
    assert [e["type"] for e in view["timeline"]] == ["load.late_for_slot"]
    assert view["approach"]["late"] is True and datetime.fromisoformat(view["approach"]["eta_at"]) == latest

    # Once the near truck checks in at the gate, the drive to the pickup is over: it takes no more
    # positions (the delivery trip takes them from the departure) and cannot be started again.
    at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
    r = await client.post(f"/driver/v1/loads/{near['id']}/check-in", headers=near["device"], json=at_gate)
    assert r.status_code == 201, r.text
    problem(
        await post(client, near, [point(*BERLIN, datetime.now(UTC))], load_id=near["id"]),
        409,
        "not_in_transit",
    )
    problem(
        await client.post(f"/driver/v1/loads/{near['id']}/start-to-pickup", headers=near["device"]),
        409,
        "approach_over",
    )


def excursion(t0: datetime) -> list[dict[str, Any]]:
    """A recorded track that leaves the corridor: from the mill due east (away from the yard, so the
    nearest point of the route is the mill), 0.017 degrees of longitude (~1.15 km, ~83 km/h) every
    50 s out to ~12.7 km, then back to ~9.2 km. Fixes 9, 10 and 11 are outside the 10 km corridor,
    12 and 13 too on the way back; 14 is inside again."""
    steps = [*range(12), 10, 9, 8]
    return [
        point(BERLIN[0] + 0.017 * k, BERLIN[1], t0 + timedelta(seconds=50 * i)) for i, k in enumerate(steps)
    ]


def on_route(t0: datetime) -> list[dict[str, Any]]:
    """The same timing along the straight line to the yard."""
    return toward(BERLIN, POTSDAM, 15, t0, 50, share=0.037)


async def short_trip(
    client: Any, settings: Any, deliver_by: timedelta, route: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One load from the mill to the Potsdam yard, departed; the job due `deliver_by` from now, with
    the planned `route` if given."""
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    yard = await create_site(client, buyer, "Buyer yard Potsdam", at=POTSDAM, shared=True)
    w = await dispatched_loads(
        client, settings, loads=1, destination_site_id=yard["id"], deliver_by=deliver_by, route=route
    )
    await depart(client, w, w["loads"][0])
    return w | {"buyer": buyer, "yard": yard, "receiver": await add_member(client, buyer, "buyer")}


async def test_off_route_back_on_route_and_late_delivery_fire_on_a_recorded_track_and_not_on_time(
    client, settings, db
):
    late = await short_trip(client, settings, deliver_by=timedelta(minutes=5))
    on_time = await short_trip(client, settings, deliver_by=timedelta(hours=60))
    t0 = datetime.now(UTC) - timedelta(seconds=50 * 14 + 5)

    # The late truck leaves the corridor; its batches split the run outside, so the count carries over.
    load = late["loads"][0]
    track = excursion(t0)
    for part in (track[:10], track[10:13], track[13:]):
        r = await post(client, load, part)
        assert r.status_code == 200 and r.json()["accepted"] == len(part), r.text
    alerts = await alerts_of(db, load["id"])
    assert [a[0] for a in alerts] == [
        "load.late_delivery",  # ~40 min of driving left, due in 5: raised on the first batch, once
        "load.off_route",  # on fix 11, the third in a row outside
        "load.back_on_route",  # on fix 14
    ]
    late_data, off, back = (a[1] for a in alerts)
    assert late_data["load_id"] == load["id"] and late_data["late_by_s"] > 10 * 60
    late_by = datetime.fromisoformat(late_data["eta_at"]) - datetime.fromisoformat(late_data["deliver_by"])
    assert late_data["late_by_s"] == round(late_by.total_seconds())
    assert (off["lon"], off["lat"]) == (track[11]["lon"], track[11]["lat"])
    assert 12_000 < off["distance_m"] < 13_500
    assert datetime.fromisoformat(off["at"]) == datetime.fromisoformat(track[11]["recorded_at"])
    assert back == {"load_id": load["id"], "job_id": late["job"]["id"], "at": back["at"]}
    assert datetime.fromisoformat(back["at"]) == datetime.fromisoformat(track[14]["recorded_at"])
    assert {UUID(late["carrier"].org_id), UUID(late["mill"].org_id), UUID(late["buyer"].org_id)} <= set(
        alerts[0][2]
    )
    # A retry of the whole track raises nothing more.
    assert (await post(client, load, track)).json()["duplicates"] == 15
    assert len(await alerts_of(db, load["id"])) == 3

    # On the tracking view: the timeline, and the delivery's appointment at the yard is marked late.
    view = (await client.get(f"/loads/{load['id']}/tracking", headers=late["receiver"].headers)).json()
    assert [e["type"] for e in view["timeline"] if e["type"] in ALERTS] == [a[0] for a in alerts]
    eta = await db.fetchval("SELECT eta_at FROM load_tracking WHERE load_id = $1", UUID(load["id"]))
    day = eta.astimezone(BERLIN_TIME).date().isoformat()
    rows = (
        await client.get(
            f"/sites/{late['yard']['id']}/appointments", headers=late["buyer"].headers, params={"date": day}
        )
    ).json()["items"]
    assert [(r["load_id"], r["late"]) for r in rows] == [(load["id"], True)]

    # The on-time truck drives the same time along its route: no alert at all.
    calm = on_time["loads"][0]
    track = on_route(t0)
    for part in (track[:10], track[10:]):
        r = await post(client, calm, part)
        assert r.status_code == 200 and r.json()["accepted"] == len(part), r.text
    assert await alerts_of(db, calm["id"]) == []
    rows = (
        await client.get(
            f"/sites/{on_time['yard']['id']}/appointments",
            headers=on_time["buyer"].headers,
            params={"date": day},
        )
    ).json()["items"]
    assert [(r["load_id"], r["late"]) for r in rows] == [(calm["id"], False)]


# A planned route bent like an L: from the mill due south to a corner 21 km away, then west to the
# Potsdam yard. The corner is ~19 km from the straight line mill-yard; the route is ~50 km long, so
# its corridor is the 10 km minimum either side, as the straight one is.
CORNER = (BERLIN[0], 52.33)
L_ROUTE = {"points": [list(BERLIN), list(CORNER), list(POTSDAM)]}


def along_the_l(t0: datetime) -> list[dict[str, Any]]:
    """A recorded track down the L's first leg: due south from the mill, 0.0125 degrees of latitude
    (~1.39 km, ~100 km/h) every 50 s, to ~19.5 km. From fix 9 on (~12.5 km south) it is more than
    10 km from the straight line to the yard, so outside the straight corridor."""
    return [point(BERLIN[0], BERLIN[1] - 0.0125 * i, t0 + timedelta(seconds=50 * i)) for i in range(15)]


def shortcut_and_back(t0: datetime) -> list[dict[str, Any]]:
    """A recorded track that takes the straight line to the yard instead of the planned L, then turns
    back: 0.0383 of the way (~1.17 km, ~84 km/h) every 50 s out to ~12.9 km, then back. Fixes 10, 11
    and 12 are more than 10 km from the L (10.5, 11.6, 10.5 km); 13 is inside again (9.5 km)."""
    steps = [*range(12), 10, 9, 8]
    (lon0, lat0), (lon1, lat1) = BERLIN, POTSDAM
    return [
        point(
            lon0 + (lon1 - lon0) * 0.0383 * k,
            lat0 + (lat1 - lat0) * 0.0383 * k,
            t0 + timedelta(seconds=50 * i),
        )
        for i, k in enumerate(steps)
    ]


@pytest.mark.server
async def test_the_corridor_follows_the_planned_route_and_falls_back_to_the_straight_line(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        routed = await short_trip(http, settings, timedelta(hours=60), route=L_ROUTE)
        straight = await short_trip(http, settings, timedelta(hours=60))
        astray = await short_trip(http, settings, timedelta(hours=60), route=L_ROUTE)
        assert routed["job"]["route"] == {"points": L_ROUTE["points"], "datum": "wgs84"}
        assert straight["job"]["route"] is None
        t0 = datetime.now(UTC) - timedelta(seconds=50 * 14 + 5)

        # The same track down the L: on the planned route, nothing; on the job without a route (the
        # straight corridor), off route on fix 11, the third in a row outside.
        l_track = along_the_l(t0)
        for w in (routed, straight):
            for part in (l_track[:8], l_track[8:]):
                r = await post(http, w["loads"][0], part)
                assert r.status_code == 200 and r.json()["accepted"] == len(part), r.text
        assert await alerts_of(db, routed["loads"][0]["id"]) == []
        alerts = await alerts_of(db, straight["loads"][0]["id"])
        assert [a[0] for a in alerts] == ["load.off_route"]
        assert (alerts[0][1]["lon"], alerts[0][1]["lat"]) == (l_track[11]["lon"], l_track[11]["lat"])

        # A truck of a routed job that takes the straight line leaves its route, and comes back.
        load = astray["loads"][0]
        track = shortcut_and_back(t0)
        for part in (track[:11], track[11:]):
            r = await post(http, load, part)
            assert r.status_code == 200 and r.json()["accepted"] == len(part), r.text
        alerts = await alerts_of(db, load["id"])
        assert [a[0] for a in alerts] == ["load.off_route", "load.back_on_route"]
        off, back = alerts[0][1], alerts[1][1]
        assert (off["lon"], off["lat"]) == (track[12]["lon"], track[12]["lat"])
        assert 10_000 < off["distance_m"] < 11_000
        assert datetime.fromisoformat(back["at"]) == datetime.fromisoformat(track[13]["recorded_at"])

        # The watchers' snapshot carries the planned route (the page draws it); none without one.
        for w, expected in ((astray, L_ROUTE["points"]), (straight, None)):
            url = f"{server.ws_url}/tracking/jobs/{w['job']['id']}/live"
            async with connect(url, additional_headers=w["receiver"].headers) as ws:
                snapshot = json.loads(await ws.recv())
            assert snapshot["type"] == "snapshot" and snapshot["job"]["route"] == expected
