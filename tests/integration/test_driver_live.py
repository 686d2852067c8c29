"""The driver's live socket: state on connect, queue updates, the call to a dock, messages."""

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.gate_support import dispatched_loads
from tests.market_support import BERLIN

pytestmark = pytest.mark.server


async def _frame(ws, kind, within_s=10.0):
    """The next frame of `kind` (state frames may come in any number before it)."""
    async with asyncio.timeout(within_s):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


async def test_the_driver_socket_follows_the_truck_through_the_gate(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=2)
        mine, other = w["loads"]
        url = f"{server.ws_url}/driver/v1/live"
        async with connect(url, additional_headers=mine["device"]) as ws:
            assignments = await _frame(ws, "assignments")
            assert [x["id"] for x in assignments["loads"]] == [mine["id"]] and assignments["loads"][0][
                "pickup_code"
            ]
            assert (await _frame(ws, "tickets"))["tickets"] == []

            at_gate = {"position": {"lat": BERLIN[1], "lon": BERLIN[0]}, "accuracy_m": 5}
            assert (
                await http.post(
                    f"/driver/v1/loads/{other['id']}/check-in", headers=other["device"], json=at_gate
                )
            ).status_code == 201
            assert (
                await http.post(
                    f"/driver/v1/loads/{mine['id']}/check-in", headers=mine["device"], json=at_gate
                )
            ).status_code == 201
            tickets = await _frame(ws, "tickets")
            while not tickets["tickets"]:
                tickets = await _frame(ws, "tickets")
            assert tickets["tickets"][0]["position"] == 2  # the other truck came first

            board = (
                await http.get(f"/gate/sites/{w['site']['id']}/board", headers=w["staff"].headers)
            ).json()
            for dock in board["docks"]:
                await http.post(
                    f"/gate/sites/{w['site']['id']}/call",
                    headers=w["staff"].headers,
                    json={"dock_id": dock["id"]},
                )
            called = await _frame(ws, "called")
            assert called["load_id"] == mine["id"] and called["dock"] in {"Dock 1", "Dock 2"}

            r = await http.post(
                f"/loads/{mine['id']}/messages",
                headers=w["carrier"].headers,
                json={"text": "Bring the seal kit, please"},
            )
            assert r.status_code == 202
            message = await _frame(ws, "message")
            assert message == {"type": "message", "load_id": mine["id"], "text": "Bring the seal kit, please"}


async def test_only_a_device_token_opens_the_driver_socket(server_factory, settings):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
    with pytest.raises(InvalidStatus) as exc:
        async with connect(f"{server.ws_url}/driver/v1/live", additional_headers=w["carrier"].headers):
            pass
    assert exc.value.response.status_code in (401, 403)


async def test_after_the_listener_reconnects_the_socket_sends_the_whole_state_and_goes_on(
    server_factory, settings, db
):
    server = server_factory()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
        w = await dispatched_loads(http, settings, loads=1)
        (mine,) = w["loads"]
        async with connect(f"{server.ws_url}/driver/v1/live", additional_headers=mine["device"]) as ws:
            await _frame(ws, "assignments")
            await _frame(ws, "tickets")
            # The server's listening connection dropped: its subscribers are told GAP once it is back.
            await db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                "dispatch-listener",
            )
            again = await _frame(ws, "assignments", within_s=30)  # what was missed: the whole state
            assert [x["id"] for x in again["loads"]] == [mine["id"]]
            r = await http.post(
                f"/loads/{mine['id']}/messages", headers=w["carrier"].headers, json={"text": "Still there?"}
            )
            assert r.status_code == 202
            assert (await _frame(ws, "message", within_s=30))["text"] == "Still there?"
