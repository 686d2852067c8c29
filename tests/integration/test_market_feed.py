"""The carriers' live job feed, across worker processes, with a real websocket client."""

import asyncio
import json
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.market_support import BERLIN, create_site, post_job
from tests.support import bootstrap_org

pytestmark = pytest.mark.server

MUNICH = (11.582, 48.1351)


async def _next_frame(ws, within_s=10.0):
    return json.loads(await asyncio.wait_for(ws.recv(), within_s))


async def test_a_socket_is_refused_before_anything_is_sent_without_a_valid_token(server_factory):
    server = server_factory()
    for url in (f"{server.ws_url}/market/feed", f"{server.ws_url}/market/feed?access_token=u1.forged.token"):
        with pytest.raises(InvalidStatus) as exc:
            async with connect(url):
                pass
        assert exc.value.response.status_code in (401, 403)


async def test_a_carrier_without_saved_areas_is_told_so(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
    async with connect(f"{server.ws_url}/market/feed", additional_headers=carrier.headers) as ws:
        with pytest.raises(ConnectionClosed) as exc:
            await ws.recv()
    assert exc.value.rcvd.code == 4404 and "POST /market/areas" in exc.value.rcvd.reason


async def test_jobs_posted_and_taken_through_another_process_reach_the_socket(server_factory, settings):
    # Two server processes on one database: the socket lives in one, the writes go through the other.
    holder, writer = server_factory(), server_factory()
    async with (
        httpx.AsyncClient(base_url=holder.base_url, timeout=30) as via_holder,
        httpx.AsyncClient(base_url=writer.base_url, timeout=30) as via_writer,
    ):
        mill = await bootstrap_org(via_writer, settings, "Mill", ["shipper"])
        watcher = await bootstrap_org(via_writer, settings, "Watcher", ["carrier"])
        rival = await bootstrap_org(via_writer, settings, "Rival", ["carrier"])
        berlin = await create_site(via_writer, mill, "Mill Berlin")
        munich = await create_site(via_writer, mill, "Mill Munich", at=MUNICH)
        r = await via_holder.post(
            "/market/areas",
            headers=watcher.headers,
            json={
                "name": "Berlin 50 km",
                "center": {"lon": BERLIN[0], "lat": BERLIN[1]},
                "radius_km": 50,
                "vehicle_types": ["flatbed"],
            },
        )
        assert r.status_code == 201, r.text
        before = await post_job(via_writer, mill, berlin["id"])

        async with connect(f"{holder.ws_url}/market/feed", additional_headers=watcher.headers) as ws:
            snapshot = await _next_frame(ws)
            assert snapshot["type"] == "snapshot"
            assert [j["id"] for j in snapshot["jobs"]] == [before["id"]]

            far = await post_job(via_writer, mill, munich["id"])  # outside the area
            wrong_truck = await post_job(via_writer, mill, berlin["id"], vehicle_type="tanker")  # filtered
            posted_at = time.monotonic()
            near = await post_job(via_writer, mill, berlin["id"])
            frame = await _next_frame(ws)
            latency = time.monotonic() - posted_at
            assert frame["type"] == "job.posted" and frame["job"]["id"] == near["id"], (
                far["id"],
                wrong_truck["id"],
            )
            assert frame["job"]["origin"]["name"] == "Mill Berlin" and "notes" not in frame["job"]
            print(f"posted → socket in another process: {latency * 1000:.0f} ms")

            assert (
                await via_writer.post(f"/jobs/{near['id']}/grab", headers=rival.headers)
            ).status_code == 200
            frame = await _next_frame(ws)
            assert frame == {"type": "job.removed", "job_id": near["id"], "reason": "awarded"}

            await via_writer.post(f"/jobs/{before['id']}/cancel", headers=mill.headers)
            assert await _next_frame(ws) == {
                "type": "job.removed",
                "job_id": before["id"],
                "reason": "cancelled",
            }


async def test_a_browser_style_socket_authenticates_with_a_query_token(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        carrier = await bootstrap_org(http, settings, "Haulers", ["carrier"])
        await http.post(
            "/market/areas",
            headers=carrier.headers,
            json={"name": "Berlin", "center": {"lon": BERLIN[0], "lat": BERLIN[1]}, "radius_km": 10},
        )
    async with connect(f"{server.ws_url}/market/feed?access_token={carrier.token}") as ws:
        assert (await _next_frame(ws))["type"] == "snapshot"
