"""Traccar Client's positions (the OsmAnd protocol) against a real two-worker server, watched over a
real tracking websocket: every documented form is stored and fanned out through the phone API's own
ingest, authenticated by the tracker id a pairing gave the phone."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.market_support import HAMBURG
from tests.support import problem
from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server
KNOT = 1852 / 3600


async def paired_tracker(http: httpx.AsyncClient, w: dict[str, Any]) -> str:
    """The tracker id of a phone paired (by code) for the driver of the first load."""
    load, carrier = w["loads"][0], w["carrier"]
    r = await http.post(f"/fleet/drivers/{load['driver']['user_id']}/pairings", headers=carrier.headers)
    assert r.status_code == 201, r.text
    r = await http.post("/driver/v1/pairing", json={"code": r.json()["code"], "device_name": "Traccar phone"})
    assert r.status_code == 201, r.text
    tracker_id: str = r.json()["tracker_id"]
    return tracker_id


async def points_seen(ws: Any, count: int, within_s: float = 20.0) -> list[dict[str, Any]]:
    """The points of the frames the watcher gets until `count` points have come."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(within_s):
        while len(got) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == "points":
                got.extend(frame["points"])
    return got


async def stored(http: httpx.AsyncClient, w: dict[str, Any]) -> list[dict[str, Any]]:
    r = await http.get(f"/loads/{w['loads'][0]['id']}/positions", headers=w["receiver"].headers)
    assert r.status_code == 200, r.text
    points: list[dict[str, Any]] = r.json()["points"]
    return points


def whole_seconds_ago(seconds: int) -> datetime:
    """A fix time on a whole second, as the protocol's forms carry it."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


def unix(fix: dict[str, Any]) -> int:
    return int(datetime.fromisoformat(fix["recorded_at"]).timestamp())


def as_query(tracker_id: str, fix: dict[str, Any]) -> dict[str, Any]:
    """A fix as Traccar Client 8 and the OsmAnd app send it: speed in knots, unix seconds."""
    return {
        "id": tracker_id,
        "lat": fix["lat"],
        "lon": fix["lon"],
        "timestamp": unix(fix),
        "speed": fix["speed_mps"] / KNOT,
        "bearing": 300.5,
        "altitude": 41.0,
        "accuracy": fix["accuracy_m"],
        "batt": 87.0,
        "charge": "false",
        "valid": "true",
    }


def as_json(tracker_id: str, fix: dict[str, Any]) -> dict[str, Any]:
    """A fix as Traccar Client 9 sends it (the background location SDK's own format)."""
    return {
        "location": {
            "timestamp": datetime.fromtimestamp(unix(fix), UTC).isoformat().replace("+00:00", ".000Z"),
            "coords": {
                "latitude": fix["lat"],
                "longitude": fix["lon"],
                "accuracy": fix["accuracy_m"],
                "speed": fix["speed_mps"],
                "heading": 300.5,
                "altitude": 41.0,
            },
            "is_moving": True,
            "odometer": 1234.5,
            "event": "motionchange",
            "battery": {"level": 0.87, "is_charging": False},
            "activity": {"type": "in_vehicle"},
            "extras": {},
        },
        "device_id": tracker_id,
    }


async def send(http: httpx.AsyncClient, form: str, tracker_id: str, fix: dict[str, Any]) -> httpx.Response:
    if form == "query":
        return await http.get("/tracker/osmand", params=as_query(tracker_id, fix))
    if form == "form":
        return await http.post(
            "/tracker/osmand", data=as_query(tracker_id, fix) | {"timestamp": fix["recorded_at"]}
        )
    return await http.post("/tracker/osmand", json=as_json(tracker_id, fix))


@pytest.mark.parametrize("form", ["query", "form", "json"])
async def test_each_traccar_form_is_stored_once_and_reaches_the_loads_watchers(
    server_factory, settings, form
):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        tracker_id = await paired_tracker(http, w)
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={w['receiver'].token}"
        fixes = route(3, start=whole_seconds_ago(60))
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            for fix in fixes:
                r = await send(http, form, tracker_id, fix)
                assert r.status_code == 200, r.text
                assert r.json()["accepted"] == 1 and r.json()["rejected"] == [], r.text
            seen = await points_seen(ws, 3)
        assert [p["seq"] for p in seen] == [1, 2, 3]
        for point, fix in zip(seen, fixes, strict=True):
            assert point["lat"] == pytest.approx(fix["lat"]) and point["lon"] == pytest.approx(fix["lon"])
            assert point["recorded_at"][:19] == datetime.fromtimestamp(unix(fix), UTC).isoformat()[:19]
            assert point["speed_mps"] == pytest.approx(22.0, abs=0.01)  # knots or m/s, read as sent
            assert point["heading_deg"] == pytest.approx(300.5) and point["accuracy_m"] == pytest.approx(8.0)
        assert [p["seq"] for p in await stored(http, w)] == [1, 2, 3]


async def test_the_same_fix_twice_is_stored_once_and_the_trip_ends_at_receipt(server_factory, settings):
    server = server_factory(workers=2)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        tracker_id = await paired_tracker(http, w)
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live?access_token={w['receiver'].token}"
        first, second = route(2, start=whole_seconds_ago(30))
        async with connect(url) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            # Traccar Client resends a position whose answer it did not get: in either form.
            r = await send(http, "query", tracker_id, first)
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            for form in ("query", "json"):
                r = await send(http, form, tracker_id, first)
                assert r.status_code == 200, r.text
                assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1)
            r = await send(http, "json", tracker_id, second)
            assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
            seen = await points_seen(ws, 2)
        assert [p["seq"] for p in seen] == [1, 2]  # the repeat was not sent on either
        assert len(await stored(http, w)) == 2

        # The app's batches and Traccar's positions are one trail: a fix the app already sent is a
        # duplicate for Traccar too.
        r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": [second]})
        assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1)

        r = await http.post(
            f"/loads/{load['id']}/receipt",
            headers=w["receiver"].headers,
            json={
                "received": {"items": [{"line": 0, "count": 1}]},
                "condition": "good",
                "signer_name": "K. Krause",
                "override_reason": "Unloaded at the roadside depot by arrangement",
            },
        )
        assert r.status_code == 201, r.text
        late = {"lat": HAMBURG[1], "lon": HAMBURG[0], "recorded_at": datetime.now(UTC).isoformat()}
        late |= {"accuracy_m": 8.0, "speed_mps": 0.0}
        body = problem(await send(http, "query", tracker_id, late), 409, "load_received")
        assert body["load_id"] == load["id"]


async def test_a_wrong_or_revoked_identifier_is_refused(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await loads_in_transit(http, settings, loads=1)
        tracker_id = await paired_tracker(http, w)
        (fix,) = route(1, start=whole_seconds_ago(5))
        for wrong in ("unknown-phone", "0" * 20, tracker_id[:-1], ""):
            for form in ("query", "json"):
                r = await send(http, form, wrong, fix)
                if wrong:
                    problem(r, 401, "tracker_id_invalid")
                else:
                    assert problem(r, 400, "validation_failed")["errors"][0]["field"] in ("id", "$.device_id")
        # Typed by hand: case and dashes do not matter.
        spaced = "-".join(tracker_id[i : i + 4] for i in range(0, 20, 4)).lower()
        r = await send(http, "query", spaced, fix)
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text

        carrier = w["carrier"]
        tokens = (await http.get(f"/orgs/{carrier.org_id}/device-tokens", headers=carrier.headers)).json()
        paired = next(t for t in tokens if t["name"] == "Traccar phone")
        r = await http.post(
            f"/orgs/{carrier.org_id}/device-tokens/{paired['id']}/revoke", headers=carrier.headers
        )
        assert r.status_code == 200, r.text
        (later,) = route(1, start=whole_seconds_ago(0))
        for form in ("query", "form", "json"):
            problem(await send(http, form, tracker_id, later), 401, "tracker_id_revoked")
        assert len(await stored(http, w)) == 1

        # A device token an administrator issues carries a tracker id too.
        r = await http.post(
            f"/orgs/{carrier.org_id}/device-tokens",
            headers=carrier.headers,
            json={"user_id": paired["user_id"], "name": "second phone"},
        )
        assert r.status_code == 201, r.text
        r = await send(http, "form", r.json()["tracker_id"], later)
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        assert len(await stored(http, w)) == 2

        # Values that do not parse are named.
        r = await http.get("/tracker/osmand", params=as_query(tracker_id, fix) | {"lat": "north"})
        assert problem(r, 400, "validation_failed")["errors"][0]["field"] == "lat"
        r = await http.post(
            "/tracker/osmand", content=b"{not json", headers={"content-type": "application/json"}
        )
        problem(r, 400, "malformed_body")
