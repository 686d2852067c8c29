"""The load generator's light websocket client (dispatch/sim/light_socket.py) against a real
`websockets` server: every message whole and in order, whatever way the bytes arrive, the control
frames answered, with and without permessage-deflate."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response

from dispatch.sim.light_socket import LightSocket, open_socket

Handler = Callable[[ServerConnection], Awaitable[None]]
Start = Callable[[Handler], Awaitable[str]]


@pytest.fixture
async def server() -> AsyncIterator[Start]:
    """Starts a websockets server (deflate offered) with the given handler; gives its ws:// base."""
    servers: list[Any] = []

    async def start(handler: Handler) -> str:
        async def refuse_forbidden(conn: ServerConnection, request: Any) -> Response | None:
            return conn.respond(403, "no\n") if request.path == "/forbidden" else None

        srv = await serve(handler, "127.0.0.1", 0, compression="deflate", process_request=refuse_forbidden)
        servers.append(srv)
        port = next(iter(srv.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


def messages(socket: LightSocket) -> tuple[list[bytes], asyncio.Event, Callable[[int], None]]:
    """What `socket` receives from now on, and an event set once `count` (by `expect`) arrived."""
    got: list[bytes] = []
    enough = asyncio.Event()
    wanted = [0]

    def on_message(message: bytes) -> None:
        got.append(message)
        if len(got) >= wanted[0]:
            enough.set()

    def expect(count: int) -> None:
        wanted[0] = count
        if len(got) >= count:
            enough.set()

    socket.listen(on_message)
    return got, enough, expect


async def test_every_message_arrives_whole_and_in_order(server: Start) -> None:
    sizes = [0, 1, 125, 126, 65_535, 65_536, 300_000]  # each length form of RFC 6455 5.2
    sent = [os.urandom(n // 2).hex().encode() for n in sizes]
    go = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.send("snapshot")
        await go.wait()
        for i, data in enumerate(sent):
            await (ws.send(data.decode()) if i % 2 else ws.send(data))  # text and binary
        await ws.send(["frag", "mented ", "message"])  # one message in three frames
        await ws.send("after")
        await ws.wait_closed()

    base = await server(handler)
    socket = await open_socket(f"{base}/plain")
    assert await socket.first() == b"snapshot"
    got, enough, expect = messages(socket)
    expect(len(sent) + 2)
    go.set()
    await asyncio.wait_for(enough.wait(), 30)
    assert got == [*sent, b"fragmented message", b"after"]
    await socket.close()
    assert socket.closed == "1000 "


async def test_a_frame_cut_anywhere_in_the_stream_is_read_whole(server: Start) -> None:
    # The server writes the frames' bytes in pieces of every size, splitting headers and payloads.
    payloads = [b"a" * n for n in (3, 130, 70_000, 10)]
    wire = b"".join(Frame(Opcode.TEXT, p).serialize(mask=False, extensions=[]) for p in payloads)
    go = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        await ws.send("hello")
        await go.wait()
        transport = ws.transport
        at, step = 0, 1
        while at < len(wire):
            transport.write(wire[at : at + step])
            at += step
            step = step * 3 % 1_000 + 1
            await asyncio.sleep(0)
        await ws.wait_closed()

    base = await server(handler)
    socket = await open_socket(f"{base}/cut")
    assert await socket.first() == b"hello"
    got, enough, expect = messages(socket)
    expect(len(payloads))
    go.set()
    await asyncio.wait_for(enough.wait(), 30)
    assert got == payloads
    await socket.close()


async def test_pings_are_answered_and_a_close_from_the_server_ends_the_socket(server: Start) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send("one")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 10)  # answered by the client's protocol
        await ws.send("two")
        await ws.close(4008, "too slow")

    base = await server(handler)
    socket = await open_socket(f"{base}/ping")
    got, enough, expect = messages(socket)
    expect(2)
    await asyncio.wait_for(enough.wait(), 10)
    await asyncio.wait_for(asyncio.shield(socket.ended), 10)
    assert got == [b"one", b"two"]
    assert socket.closed == "4008 too slow"


async def test_deflate_is_negotiated_and_decoded(server: Start) -> None:
    text = "points " * 2_000

    async def handler(ws: ServerConnection) -> None:
        await ws.send("snapshot")
        for _ in range(3):
            await ws.send(text)
        await ws.wait_closed()

    base = await server(handler)
    socket = await open_socket(f"{base}/deflate", deflate=True)
    assert [type(e).__name__ for e in socket.extensions] == ["PerMessageDeflate"]
    assert await socket.first() == b"snapshot"
    got, enough, expect = messages(socket)
    expect(3)
    await asyncio.wait_for(enough.wait(), 10)
    assert got == [text.encode()] * 3
    await socket.close()


async def test_a_refused_handshake_raises_the_status(server: Start) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    base = await server(handler)
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(f"{base}/forbidden")
    assert refused.value.response.status_code == 403
