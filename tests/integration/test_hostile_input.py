"""Hostile input gets a 4xx problem detail, stores nothing, and leaves no traceback in the log:
values beyond what a column holds, NUL characters, deep JSON, OPTIONS, long plates, huge cursors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN, job_body
from tests.support import PASSWORD, bootstrap_org, problem
from tests.tracking_support import loads_in_transit, point, route

NUL = "\u0000"


def _no_traceback(log: str) -> None:
    assert "Traceback" not in log and " ERROR " not in log, log


async def _positions(db: Any, load_id: str) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM positions WHERE load_id = $1", load_id)
    return count


@pytest.mark.server
async def test_a_gps_value_beyond_what_its_column_holds_rejects_that_point_alone(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings)
        load = w["loads"][0]
        now = datetime.now(UTC)
        good = route(3, start=now - timedelta(seconds=40))
        batch = [
            good[0],
            point(*BERLIN, now - timedelta(seconds=35), speed_mps=1e300),  # 1: beyond float32 (real)
            point(*BERLIN, now - timedelta(seconds=34), heading_deg=1e39),  # 2: just beyond float32
            # 3: iOS's "unknown" (negative speed and course): stored, as unknown
            point(*BERLIN, now - timedelta(seconds=39), speed_mps=-1.0, heading_deg=-1.0),
            point(*BERLIN, now - timedelta(seconds=32), heading_deg=360.5),  # 4: not a bearing
            point(*BERLIN, now - timedelta(seconds=31), accuracy_m=1e300),  # 5: inaccurate, as before
            good[1],
            good[2],
        ]
        r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": batch})
        assert r.status_code == 200, r.text
        body = r.json()
        assert [(x["index"], x["reason"]) for x in body["rejected"]] == [
            (1, "speed_out_of_range"),
            (2, "heading_out_of_range"),
            (4, "heading_out_of_range"),
            (5, "inaccurate"),
        ]
        assert "1e+300" in body["rejected"][0]["detail"] and "1e+39" in body["rejected"][1]["detail"]
        assert body["accepted"] == 4 and body["loads"][0]["last_seq"] == 4
        # The phone's retry of its whole buffer is answered the same way: no point is stored twice.
        again = await http.post("/driver/v1/positions", headers=load["device"], json={"points": batch})
        assert again.status_code == 200 and again.json()["duplicates"] == 4
        assert len(again.json()["rejected"]) == 4
    assert await _positions(db, load["id"]) == 4
    stored = await db.fetch("SELECT speed_mps, heading_deg FROM positions WHERE load_id = $1", load["id"])
    assert {(row["speed_mps"], row["heading_deg"]) for row in stored} == {(22.0, None), (None, None)}
    _no_traceback(server.log())


@pytest.mark.server
async def test_a_nul_character_anywhere_is_refused_at_the_edge_naming_the_field(server_factory, settings, db):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings)
        load, buyer, carrier = w["loads"][0], w["buyer"], w["carrier"]
        job_id = w["job"]["id"]

        # Login without a token: the body is checked before anything else runs.
        r = await http.post("/auth/login", json={"email": f"a{NUL}@example.test", "password": PASSWORD})
        body = problem(r, 400, "invalid_text")
        assert body["errors"] == [
            {"field": "$.email", "reason": body["errors"][0]["reason"], "source": "body"}
        ]

        site = {
            "name": f"Yard{NUL}2",
            "address": "Hafenstrasse 9",
            "location": {"lat": 53.55, "lon": 9.99},
            "geofence": {
                "type": "Polygon",
                "coordinates": [[[9.98, 53.54], [10.0, 53.54], [10.0, 53.56], [9.98, 53.56], [9.98, 53.54]]],
            },
            "timezone": "Europe/Berlin",
        }
        r = await http.post("/sites", headers=buyer.headers, json=site)
        assert problem(r, 400, "invalid_text")["errors"][0]["field"] == "$.name"

        r = await http.post(
            f"/jobs/{job_id}/share-links",
            headers=buyer.headers,
            json={"expires_in_minutes": 60, "label": f"for the {NUL} yard"},
        )
        assert problem(r, 400, "invalid_text")["errors"][0]["field"] == "$.label"

        r = await http.post(
            f"/loads/{load['id']}/messages", headers=carrier.headers, json={"text": f"hi{NUL}"}
        )
        assert problem(r, 400, "invalid_text")["errors"][0]["field"] == "$.text"

        # Deep in a batch of points: an object key (a NUL is refused before the field is judged).
        points = [*route(2), {**point(*BERLIN), f"x{NUL}": 1}]
        r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": points})
        assert problem(r, 400, "invalid_text")["errors"][0]["field"] == "$.points[2]"

        # Query parameters (percent-encoded) and path parameters.
        r = await http.get(f"/orgs/{buyer.org_id}/members", headers=buyer.headers, params={"cursor": NUL})
        error = problem(r, 400, "invalid_text")["errors"][0]
        assert error == {"field": "cursor", "reason": error["reason"], "source": "query"}
        r = await http.get("/sites", headers=buyer.headers, params={"name": f"Yard{NUL}"})
        assert problem(r, 400, "invalid_text")["errors"][0]["field"] == "name"
        r = await http.get("/evidence/photos/ab%00cd", headers=buyer.headers)
        assert problem(r, 400, "invalid_text")["errors"][0]["source"] == "path"

        # A watcher's share token: refused before the socket opens, with the same problem.
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"{server.ws_url}/tracking/jobs/{job_id}/live?share=dsp_shr_%00"):
                pass
        assert refused.value.response.status_code == 400
        assert json.loads(refused.value.response.body)["code"] == "invalid_text"

        # Text that only looks like one: an escaped backslash followed by "u0000" is plain text.
        r = await http.post("/auth/login", json={"email": "nobody@example.test", "password": "\\u0000"})
        problem(r, 401, "bad_credentials")

    assert await db.fetchval("SELECT count(*) FROM sites WHERE name LIKE 'Yard%2'") == 0
    assert await db.fetchval("SELECT count(*) FROM share_links WHERE job_id = $1", job_id) == 0
    assert await _positions(db, load["id"]) == 0
    _no_traceback(server.log())


@pytest.mark.server
async def test_deeply_nested_json_is_a_malformed_body(server_factory):
    server = server_factory()
    deep = "[" * 1000 + "]" * 1000  # 2 KB
    deep_object = '{"email": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + ', "password": "x"}'
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        for body in (deep, deep_object):
            r = await http.post("/auth/login", content=body, headers={"content-type": "application/json"})
            assert "nested too deeply" in problem(r, 400, "malformed_body")["detail"]
        # The server is unharmed.
        assert (await http.get("/healthz")).status_code == 200
    _no_traceback(server.log())


@pytest.mark.server
async def test_options_is_answered_without_authentication_on_every_route(server_factory):
    """A CORS preflight carries no credentials (Fetch standard), so OPTIONS must be answered without
    them: Litestar's automatic 204 with `Allow`, which tells no more than the OpenAPI document."""
    server = server_factory()
    paths = [
        "/fleet/vehicles",
        "/sites",
        "/jobs",
        "/market/jobs",
        "/loads/00000000-0000-0000-0000-000000000001/positions",
        "/loads/00000000-0000-0000-0000-000000000001/receipt",
        "/orgs/00000000-0000-0000-0000-000000000001/members",
        "/driver/v1/positions",
        "/auth/login",
    ]
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        for path in paths:
            for headers in ({}, {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}):
                r = await http.options(path, headers=headers)
                assert r.status_code == 204, (path, r.status_code, r.text)
                assert "OPTIONS" in r.headers["allow"], path
                assert r.content == b""
        # Every method of the route, also where handlers for one path come from several places
        # (Litestar 2 listed only the first one's: litestar#4169).
        assert (await http.options("/fleet/vehicles")).headers["allow"] == "GET, OPTIONS, POST"
        assert (await http.options("/jobs")).headers["allow"] == "GET, OPTIONS, POST"
        # The methods themselves still need a caller.
        problem(await http.get("/fleet/vehicles"), 401, "token_missing")
    _no_traceback(server.log())


async def test_a_plate_that_normalizes_past_15_characters_is_refused(client, settings, db):
    carrier = await bootstrap_org(client, settings, "Haulers", ["carrier"])
    vehicle = {"vehicle_type": "flatbed", "capacity_kg": 24_000, "capacity_m3": 80}
    for plate in ("ABCDEFGHIJKLMNOP", "ABCD-EFGH-IJKL-MNOP", "A-", "A - -"):
        r = await client.post("/fleet/vehicles", headers=carrier.headers, json={**vehicle, "plate": plate})
        assert problem(r, 400, "validation_failed")["errors"][0]["field"] == "$.plate", plate
    assert await db.fetchval("SELECT count(*) FROM vehicles WHERE org_id = $1", carrier.org_id) == 0
    # Fifteen letters and digits, written with up to 20 characters, are a plate.
    r = await client.post(
        "/fleet/vehicles", headers=carrier.headers, json={**vehicle, "plate": "ab-cde 12345-FGHIJ"}
    )
    assert r.status_code == 201, r.text
    assert (
        await db.fetchval("SELECT plate FROM vehicles WHERE org_id = $1", carrier.org_id) == "ABCDE12345FGHIJ"
    )


@pytest.mark.server
async def test_numbers_beyond_int64_in_queries_and_cursors_are_refused(server_factory, settings):
    server = server_factory()
    huge = "99999999999999999999"
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings)
        load, receiver = w["loads"][0], w["receiver"]
        r = await http.get(f"/loads/{load['id']}/positions", headers=receiver.headers, params={"after": huge})
        error = problem(r, 400, "validation_failed")["errors"][0]
        assert error["field"] == "after" and error["source"] == "query"
        r = await http.get(
            f"/loads/{load['id']}/positions", headers=receiver.headers, params={"after": str(2**63 - 1)}
        )
        assert r.status_code == 200 and r.json() == {"points": [], "next_after": None}
        # A watcher's resume cursor.
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={receiver.token}"
        url += f"&after={load['id']}:{huge}"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
        assert refused.value.response.status_code == 400
        assert json.loads(refused.value.response.body)["code"] == "bad_cursor"
        # The market's cursors carry a value of the page's order: any other value is not ours.
        carrier = await bootstrap_org(http, settings, "Other haulers", ["carrier"])
        for sort, value in [
            ("price", 10**20),
            ("price", "x"),
            ("pickup", "x"),
            ("pickup", 5),
            ("distance", [1]),
            ("distance", NUL),
        ]:
            cursor = base64.urlsafe_b64encode(msgspec.json.encode([value, str(load["id"])])).decode()
            params: dict[str, Any] = {"sort": sort, "cursor": cursor.rstrip("=")}
            if sort == "distance":
                params |= {"lat": 52.5, "lon": 13.4, "radius_km": 50}
            r = await http.get("/market/jobs", headers=carrier.headers, params=params)
            problem(r, 400, "bad_cursor")
        mill = w["mill"]
        r = await http.get("/jobs", headers=mill.headers, params={"cursor": cursor.rstrip("=")})
        problem(r, 400, "bad_cursor")
    _no_traceback(server.log())


@pytest.mark.server
async def test_a_time_that_cannot_be_handled_is_refused_and_logged_in_one_line(server_factory, settings, db):
    """The safety net: a value no check caught that PostgreSQL or date arithmetic cannot handle
    (here times in years 1 and 9999) is a 400 `invalid_value`, stores nothing, and logs one line."""
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        load, mill = w["loads"][0], w["mill"]
        jobs = await db.fetchval("SELECT count(*) FROM jobs WHERE origin_site_id = $1", w["site"]["id"])
        bookings = await db.fetch("SELECT * FROM slot_bookings WHERE load_id = $1", load["id"])
        # Bound to a query: PostgreSQL cannot place year 0.
        body = job_body(w["site"]["id"]) | {"deliver_by": "9999-12-31T23:59:59-05:00"}
        problem(await http.post("/jobs", headers=mill.headers, json=body), 400, "invalid_value")
        r = await http.get(
            "/market/jobs", headers=w["carrier"].headers, params={"pickup_from": "0001-01-01T00:00:00+05:00"}
        )
        problem(r, 400, "invalid_value")
        # Date arithmetic: the slot calendar around a time at the end of the calendar.
        for start in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00+05:00"):
            r = await http.put(
                f"/driver/v1/loads/{load['id']}/booking", headers=load["device"], json={"slot_start": start}
            )
            problem(r, 400, "invalid_value")
    assert await db.fetchval("SELECT count(*) FROM jobs WHERE origin_site_id = $1", w["site"]["id"]) == jobs
    assert await db.fetch("SELECT * FROM slot_bookings WHERE load_id = $1", load["id"]) == bookings
    log = server.log()
    _no_traceback(log)
    assert log.count("a value out of range") == 4, log
