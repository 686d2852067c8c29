"""Slow HTTP clients against a real server: a request head or body that stops arriving is cut off
(dispatch/protocols.py), and clients that do their part are not."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.tracking_support import loads_in_transit, route

pytestmark = pytest.mark.server


def _open(server) -> socket.socket:  # type: ignore[no-untyped-def]
    sock = socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1])))
    sock.settimeout(60)  # far beyond the 1 s deadlines: only a server that never closes fails
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    got = b""
    while chunk := sock.recv(65536):
        got += chunk
    return got


async def _until_closed(sock: socket.socket) -> bytes:
    return await asyncio.to_thread(_read_until_closed, sock)


async def test_a_request_head_or_body_that_stops_arriving_is_cut_off(server_factory):
    server = server_factory(header_timeout_seconds=1, body_timeout_seconds=1)
    # Connected, nothing sent: closed without an answer.
    with _open(server) as silent:
        assert await _until_closed(silent) == b""
    # Half a head, then silence: a 408, then the close.
    with _open(server) as half:
        half.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        answer = await _until_closed(half)
        assert answer.startswith(b"HTTP/1.1 408 ")
    # A head sent a byte at a time, each byte well within the deadline: the deadline is for the
    # whole head, so trickling does not keep the connection (slowloris).
    with _open(server) as trickle:

        async def drip() -> None:
            trickle.sendall(b"GET /healthz HTTP/1.1\r\n")
            with contextlib.suppress(OSError):  # the server closes while we still drip
                for byte in b"X-Slow: yes\r\n" * 20:
                    await asyncio.sleep(0.3)
                    trickle.sendall(bytes([byte]))

        dripping = asyncio.create_task(drip())
        answer = await _until_closed(trickle)
        dripping.cancel()
        assert answer.startswith(b"HTTP/1.1 408 ")
    # A head, then a body that stops halfway: closed, and nothing answered for it.
    with _open(server) as stalled:
        stalled.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n"
            b"content-length: 100\r\n\r\n" + b'{"email": "a'
        )
        assert await _until_closed(stalled) == b""


async def test_clients_that_do_their_part_are_not_affected(server_factory, settings):
    server = server_factory(header_timeout_seconds=1, body_timeout_seconds=1)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        w = await loads_in_transit(http, settings, loads=1)
        load = w["loads"][0]
        # A kept-alive connection idle for longer than the head deadline is still served (the
        # keep-alive timeout governs between requests).
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(2.5)
        assert (await http.get("/healthz")).status_code == 200
        # A websocket open for longer than the head deadline keeps working.
        url = f"{server.ws_url}/tracking/loads/{load['id']}/live"
        async with connect(url, additional_headers=w["receiver"].headers) as ws:
            assert json.loads(await ws.recv())["type"] == "snapshot"
            await asyncio.sleep(2.5)
            r = await http.post("/driver/v1/positions", headers=load["device"], json={"points": route(3)})
            assert r.status_code == 200 and r.json()["accepted"] == 3
            async with asyncio.timeout(15):
                frame = json.loads(await ws.recv())
                while frame["type"] != "points":
                    frame = json.loads(await ws.recv())
            assert [p["seq"] for p in frame["points"]] == [1, 2, 3]
    # A body sent in pieces, each within the deadline, is read whole.
    with _open(server) as pieces:
        body = json.dumps({"email": "nobody@example.com", "password": "wrong password"}).encode()
        pieces.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: test\r\ncontent-type: application/json\r\n"
            b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        for i in range(0, len(body), 10):
            await asyncio.sleep(0.3)
            pieces.sendall(body[i : i + 10])
        answer = await _until_closed(pieces)
        assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
