"""Sites and jobs: posting, visibility, validation."""

from datetime import timedelta
from uuid import UUID

import pytest

from geo.datum import gcj02_to_wgs84
from tests.market_support import BERLIN, HAMBURG, create_site, iso, job_body, post_job, square
from tests.support import bootstrap_org, problem


async def _counts(db):
    return {t: await db.fetchval(f"SELECT count(*) FROM {t}") for t in ("sites", "docks", "jobs", "events")}  # noqa: S608


async def test_site_round_trips_its_geofence_and_docks(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    site = await create_site(client, mill, "Mill Berlin")
    assert site["geofence"] == square(*BERLIN)
    assert [d["name"] for d in site["docks"]] == ["Dock 1", "Dock 2"]
    assert site["docks"][1]["vehicle_types"] == ["flatbed"]
    assert (await client.get(f"/sites/{site['id']}", headers=mill.headers)).json() == site


@pytest.mark.parametrize(
    ("change", "status", "code", "words"),
    [
        (
            {
                "geofence": {
                    "type": "Polygon",
                    "coordinates": [
                        [[13.40, 52.51], [13.41, 52.53], [13.41, 52.51], [13.40, 52.53], [13.40, 52.51]]
                    ],
                }
            },
            422,
            "invalid_geofence",
            "cross",
        ),
        ({"geofence": square(13.4, 52.5, half=0.2)}, 422, "invalid_geofence", "km²"),
        ({"location": {"lat": 52.0, "lon": 13.0}}, 422, "location_outside_geofence", "outside its geofence"),
        ({"timezone": "Mars/Olympus_Mons"}, 422, "invalid_timezone", "IANA"),
        ({"location": {"lat": 91, "lon": 13.4}}, 400, "validation_failed", "<= 90"),
        (
            {"geofence": {"type": "Polygon", "coordinates": [[[13.4, 52.5], [13.41, 52.5], [13.4, 52.5]]]}},
            400,
            "validation_failed",
            "length >= 4",
        ),
        (
            {"opening_hours": [{"weekday": 1, "opens": "18:00", "closes": "06:00"}]},
            422,
            "invalid_opening_hours",
            "closes",
        ),
        ({"color": "red"}, 400, "validation_failed", "unknown field"),
    ],
)
async def test_bad_sites_are_refused_and_nothing_is_stored(client, settings, db, change, status, code, words):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    before = await _counts(db)
    lon, lat = BERLIN
    body = {
        "name": "Mill",
        "address": "x",
        "location": {"lat": lat, "lon": lon},
        "geofence": square(lon, lat),
        "timezone": "Europe/Berlin",
        **change,
    }
    body = {k: v for k, v in body.items()}
    assert (
        words in problem(await client.post("/sites", headers=mill.headers, json=body), status, code)["detail"]
    )
    assert await _counts(db) == before


async def test_nan_coordinates_are_refused(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    before = await _counts(db)
    raw = (
        b'{"name":"M","address":"x","location":{"lat":NaN,"lon":13.4},"geofence":{"type":"Polygon",'
        b'"coordinates":[[[13.4,52.5],[13.41,52.5],[13.41,52.51],[13.4,52.5]]]},"timezone":"Europe/Berlin"}'
    )
    r = await client.post("/sites", headers=mill.headers | {"content-type": "application/json"}, content=raw)
    problem(r, 400, "malformed_body")
    assert await _counts(db) == before


async def test_private_sites_are_invisible_to_others_shared_ones_are_usable(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    buyer = await bootstrap_org(client, settings, "Buyer", ["consignee"])
    private = await create_site(client, mill, "Private yard")
    shared = await create_site(client, mill, "Mill gate", shared=True)
    problem(await client.get(f"/sites/{private['id']}", headers=buyer.headers), 404, "site_not_found")
    assert (await client.get(f"/sites/{shared['id']}", headers=buyer.headers)).status_code == 200
    listed = (await client.get("/sites/shared", headers=buyer.headers, params={"name": "gate"})).json()
    assert [s["id"] for s in listed] == [shared["id"]]
    # The buyer posts an ex-works job from the mill's shared site to its own yard: it is the
    # consignee, owns the goods at pickup, and the mill is the shipper.
    yard = await create_site(client, buyer, "Buyer yard", at=HAMBURG)
    job = await post_job(client, buyer, shared["id"], destination_site_id=yard["id"])
    assert job["shipper_org_id"] == mill.org_id and job["consignee_org_id"] == buyer.org_id
    assert job["goods_owner"] == "consignee" and job["poster_org_id"] == buyer.org_id
    assert 250 < job["distance_km"] < 260
    # ... but not from the mill's private site.
    r = await client.post("/jobs", headers=buyer.headers, json=job_body(private["id"]))
    problem(r, 404, "site_not_found")


async def test_parties_see_everything_others_only_the_market_view_while_open(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    haulers = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    stranger = await bootstrap_org(client, settings, "Stranger", ["carrier"])
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"])
    assert job["notes"] and job["reference"] == "PO-4711"
    public = (await client.get(f"/jobs/{job['id']}", headers=stranger.headers)).json()
    assert public["id"] == job["id"] and public["cargo"]["lines"][0]["count"] == 5
    for private_field in ("notes", "reference", "poster_org_id", "destination_geofence", "carrier_org_id"):
        assert private_field not in public
    assert (await client.post(f"/jobs/{job['id']}/grab", headers=haulers.headers)).status_code == 200
    # Taken: the carrier is now a party, the stranger sees nothing.
    assert (await client.get(f"/jobs/{job['id']}", headers=haulers.headers)).json()["notes"]
    problem(await client.get(f"/jobs/{job['id']}", headers=stranger.headers), 404, "job_not_found")
    mine = (await client.get("/jobs", headers=haulers.headers)).json()["items"]
    assert [j["id"] for j in mine] == [job["id"]]
    assert (await client.get("/jobs", headers=stranger.headers)).json()["items"] == []


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"deadline": iso(-timedelta(minutes=1))}, 422, "deadline_in_past"),
        ({"deadline": iso(timedelta(hours=40))}, 422, "deadline_after_pickup"),
        ({"pickup_until": iso(timedelta(hours=10))}, 422, "invalid_pickup_window"),
        ({"deliver_by": iso(timedelta(hours=1))}, 422, "invalid_delivery_deadline"),
        (
            {"cargo": {"kind": "bulk", "description": "grain", "weight_kg": 0, "volume_m3": 30}},
            400,
            "validation_failed",
        ),
        (
            {"cargo": {"kind": "bulk", "description": "grain", "weight_kg": -5, "volume_m3": 30}},
            400,
            "validation_failed",
        ),
        (
            {
                "cargo": {
                    "kind": "items",
                    "lines": [{"description": "coil", "count": 2, "unit_weight_kg": 0, "unit_volume_m3": 1}],
                }
            },
            400,
            "validation_failed",
        ),
        ({"cargo": {"kind": "gas", "description": "x"}}, 400, "validation_failed"),
        ({"price_minor": None}, 422, "price_required"),
        ({"price_minor": -100}, 400, "validation_failed"),
        ({"currency": "euro"}, 400, "validation_failed"),
        ({"vehicle_type": "spaceship"}, 400, "validation_failed"),
        (
            {
                "destination": {
                    "address": "x",
                    "location": {"lon": 9.99, "lat": 53.55},
                    "geofence": {
                        "type": "Polygon",
                        "coordinates": [
                            [[9.98, 53.54], [10.0, 53.56], [10.0, 53.54], [9.98, 53.56], [9.98, 53.54]]
                        ],
                    },
                }
            },
            422,
            "invalid_geofence",
        ),
        (
            {
                "destination": {
                    "address": "x",
                    "location": {"lon": 9.99, "lat": 99},
                    "geofence": square(*HAMBURG),
                }
            },
            400,
            "validation_failed",
        ),
        ({"destination_site_id": "00000000-0000-4000-8000-000000000000"}, 422, "destination_required"),
        ({"priority": "high"}, 400, "validation_failed"),
    ],
)
async def test_bad_jobs_are_refused_and_nothing_is_stored(client, settings, db, change, status, code):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    site = await create_site(client, mill, "Mill")
    before = await _counts(db)
    body = job_body(site["id"]) | change
    body = {k: v for k, v in body.items() if v is not None}
    problem(await client.post("/jobs", headers=mill.headers, json=body), status, code)
    assert await _counts(db) == before


async def test_a_job_from_someone_elses_site_to_an_address_is_refused(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    broker = await bootstrap_org(client, settings, "Middleman", ["shipper"])
    shared = await create_site(client, mill, "Mill gate", shared=True)
    job = await post_job(client, broker, shared["id"])  # as the consignee of an address
    assert job["consignee_org_id"] == broker.org_id and job["shipper_org_id"] == mill.org_id


async def test_cancel_before_award_only_by_the_poster(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    haulers = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    site = await create_site(client, mill, "Mill")
    job = await post_job(client, mill, site["id"])
    problem(await client.post(f"/jobs/{job['id']}/cancel", headers=haulers.headers), 404, "job_not_found")
    r = await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    problem(await client.post(f"/jobs/{job['id']}/grab", headers=haulers.headers), 409, "job_closed")
    problem(await client.post(f"/jobs/{job['id']}/cancel", headers=mill.headers), 409, "job_not_open")
    types = [
        r["type"]
        for r in await db.fetch("SELECT type FROM events WHERE subject_id = $1 ORDER BY id", job["id"])
    ]
    assert types == ["job.posted", "job.cancelled"]
    assert UUID(job["id"])


async def test_a_planned_route_is_kept_in_wgs84_and_a_bad_one_is_refused(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    site = await create_site(client, mill, "Mill")
    wgs = [[13.405, 52.52], [13.2, 52.9], [9.9937, 53.5511]]
    job = await post_job(client, mill, site["id"], route={"points": wgs})
    assert job["route"] == {"points": wgs, "datum": "wgs84"}
    # A route from AMap/Gaode (GCJ-02, near Shanghai) is converted to WGS-84 when posted, as stored
    # positions are; GET shows it in WGS-84.
    gcj = [[121.4737, 31.2304], [121.5, 31.3], [121.6, 31.4]]
    job = await post_job(client, mill, site["id"], route={"points": gcj, "datum": "gcj02"})
    shown = (await client.get(f"/jobs/{job['id']}", headers=mill.headers)).json()["route"]
    assert shown["datum"] == "wgs84" and len(shown["points"]) == 3
    for (lon, lat), (glon, glat) in zip(shown["points"], gcj, strict=True):
        assert list(gcj02_to_wgs84(glon, glat)) == [lon, lat]
        assert 0.001 < abs(glon - lon) + abs(glat - lat) < 0.01  # shifted: a few hundred metres
    # Without a route the job has none (the corridor is the straight segment).
    assert (await post_job(client, mill, site["id"]))["route"] is None

    before = await _counts(db)
    for route, field in [
        ({"points": [[13.4, 52.5]]}, "$.route.points"),  # one point is no route
        ({"points": [[13.4, 52.5]] * 5001}, "$.route.points"),
        ({"points": [[13.4, 91.0], [13.5, 52.5]]}, "$.route.points[0][1]"),
        ({"points": [[181.0, 52.5], [13.5, 52.5]]}, "$.route.points[0][0]"),
        ({"points": [[13.4, 52.5, 30.0], [13.5, 52.5]]}, "$.route.points[0]"),
        ({"points": [[13.4, 52.5], [13.5, 52.5]], "datum": "bd09"}, "$.route.datum"),
        ({"points": "13.4,52.5;13.5,52.5"}, "$.route.points"),
    ]:
        body = job_body(site["id"]) | {"route": route}
        refused = problem(
            await client.post("/jobs", headers=mill.headers, json=body), 400, "validation_failed"
        )
        assert [e["field"] for e in refused["errors"]] == [field], refused
    assert await _counts(db) == before
