"""Finding open jobs: filters, sorts, cursor pages, and the index the distance filter uses."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from bench.market import SEED_JOBS
from dispatch.market import queries
from tests.market_support import BERLIN, create_site, post_job
from tests.support import bootstrap_org, problem

LEIPZIG = (12.3731, 51.3397)  # ~149 km from Berlin
DRESDEN = (13.7373, 51.0504)  # ~165 km
MUNICH = (11.582, 48.1351)  # ~505 km


async def _arrange(client, settings):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    jobs = {}
    for name, at, price, kind in [
        ("berlin", BERLIN, 300_000, "flatbed"),
        ("leipzig", LEIPZIG, 200_000, "flatbed"),
        ("dresden", DRESDEN, 250_000, "tanker"),
        ("munich", MUNICH, 100_000, "flatbed"),
    ]:
        site = await create_site(client, mill, f"Mill {name}", at=at)
        jobs[name] = (await post_job(client, mill, site["id"], price=price, vehicle_type=kind))["id"]
    return carrier, jobs


async def _search(client, who, **params):
    r = await client.get("/market/jobs", headers=who.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_nearest_first_within_the_radius_with_filters(client, settings):
    carrier, jobs = await _arrange(client, settings)
    near = dict(lat=BERLIN[1], lon=BERLIN[0], radius_km=200)
    page = await _search(client, carrier, **near)
    assert [j["id"] for j in page["items"]] == [jobs["berlin"], jobs["leipzig"], jobs["dresden"]]
    assert [round(j["distance_from_point_km"]) for j in page["items"]] == [0, 149, 165]
    only_flatbeds = await _search(client, carrier, **near, vehicle_type="flatbed")
    assert [j["id"] for j in only_flatbeds["items"]] == [jobs["berlin"], jobs["leipzig"]]
    cheapest = await _search(client, carrier, **near, sort="price")
    assert [j["price_minor"] for j in cheapest["items"]] == [200_000, 250_000, 300_000]
    everywhere = await _search(client, carrier, sort="price")
    assert everywhere["items"][0]["id"] == jobs["munich"]
    later = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    assert (await _search(client, carrier, pickup_from=later))["items"] == []


async def test_cursor_pages_cover_everything_once(client, settings):
    carrier, jobs = await _arrange(client, settings)
    for sort in ("distance", "price", "pickup"):
        seen, cursor = [], None
        while True:
            params = dict(lat=BERLIN[1], lon=BERLIN[0], radius_km=1000, sort=sort, limit=1)
            page = await _search(client, carrier, **params, **({"cursor": cursor} if cursor else {}))
            seen += [j["id"] for j in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(jobs.values()), sort


async def test_bad_search_parameters(client, settings):
    carrier, _ = await _arrange(client, settings)
    problem(
        await client.get(
            "/market/jobs", headers=carrier.headers, params={"lat": 91, "lon": 0, "radius_km": 5}
        ),
        400,
        "validation_failed",
    )
    problem(
        await client.get("/market/jobs", headers=carrier.headers, params={"lat": 52, "radius_km": 5}),
        400,
        "incomplete_point",
    )
    problem(
        await client.get("/market/jobs", headers=carrier.headers, params={"sort": "distance"}),
        400,
        "incomplete_point",
    )
    problem(
        await client.get(
            "/market/jobs", headers=carrier.headers, params={"cursor": "garbage", "sort": "price"}
        ),
        400,
        "bad_cursor",
    )
    problem(
        await client.get(
            "/market/jobs", headers=carrier.headers, params={"radius_km": 0, "lat": 1, "lon": 1}
        ),
        400,
        "validation_failed",
    )


async def test_the_distance_search_uses_the_spatial_index(client, settings, db):
    mill = await bootstrap_org(client, settings, "Mill", ["shipper"])
    site = await create_site(client, mill, "Mill")
    await db.execute(
        SEED_JOBS, UUID(mill.org_id), UUID(site["id"]), '{"type": "Polygon", "coordinates": []}', 20_000
    )
    await db.execute("ANALYZE jobs")
    plan = "\n".join(
        r[0]
        for r in await db.fetch(
            "EXPLAIN (COSTS OFF) " + queries.SEARCH_BY_DISTANCE,
            BERLIN[1],
            BERLIN[0],
            200_000.0,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            51,
        )
    )
    assert "jobs_open_origin_idx" in plan, plan
    assert "Seq Scan on jobs" not in plan, plan
