"""The simulator's own clients, measured alone: CPU microseconds of the load generator per tracking
frame received and per position posted, for each client it could use.

    python -m bench.simclients [--watchers 1000] [--rounds 30] [--phones 400] [--seconds 10] [--repeat 2]

A child process serves both sides (so that its CPU is not counted): a bare `websockets` server
(websockets.broadcast; permessage-deflate when the client asks, with websockets' defaults, which
are uvicorn's) sends each watcher a snapshot, `--rounds` points frames shaped like the app's (two
points each, seq rising), a final frame, then closes; and a bare uvicorn app answers each
`POST /driver/v1/positions` with an ingest answer. This process plays the clients and counts its own
CPU (process time) per frame and per post; every frame is still decoded and checked per seq (each
variant must end exact) and every post's status and body are checked.

Frames, one line per client and compression:
- `sim watch` is dispatch/sim/flow.py's `watch` itself (what `dispatch simulate` runs);
- `websockets wait_for` is the watcher loop as it was before (one `asyncio.wait_for(ws.recv(), 1)` a
  frame: on Python 3.11 a new task and a timer per frame);
- `websockets async for` iterates the same connection without a timeout;
- `websockets sans-I/O` is websockets' own protocol (ClientProtocol) on a plain asyncio Protocol;
- `aiohttp` reads with aiohttp's websocket client (its frame reader is compiled).
Posts: `aiohttp` (`Api(light=False)`: what the simulator's `Api.call` used before) and `light`
(`Api.call` now, dispatch/sim/light.py: a keep-alive connection per party, httptools' parser).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from bench.common import ROOT, free_port
from bench.tracking import _frame_points, _now_us
from dispatch.sim import flow
from dispatch.sim.client import Api, Party, Timings
from dispatch.sim.instruments import quiet_gc, run
from dispatch.sim.sequence import SeqCheck

VARIANTS = ("websockets wait_for", "websockets async for", "websockets sans-I/O", "aiohttp", "sim watch")
LOAD = "00000000-0000-0000-0000-000000000001"
POINTS_PER_FRAME = 2
ROUND_GAP_S = 0.25


# -- the child: a bare websockets server and a bare HTTP app -----------------------------------------


async def _serve(ws_port: int, http_port: int) -> None:
    import uvicorn  # the server side only

    watchers: set[ServerConnection] = set()
    wanted = [0]  # the watchers the current run waits for
    all_in = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        if path.startswith("/control"):
            async for message in ws:
                n, rounds = (int(x) for x in str(message).split())
                wanted[0] = n
                if len(watchers) < n:
                    all_in.clear()
                    await all_in.wait()
                for k in range(rounds):
                    frame = _frame_points(LOAD, k * POINTS_PER_FRAME + 1, POINTS_PER_FRAME, _now_us())
                    broadcast(watchers, frame)
                    await asyncio.sleep(ROUND_GAP_S)
                broadcast(watchers, msgspec.json.encode({"type": "final", "load_id": LOAD}).decode())
                await asyncio.sleep(0.5)
                gone = list(watchers)
                watchers.clear()
                await asyncio.gather(*(w.close(1000, "delivered") for w in gone))
                await ws.send("done")
            return
        await ws.send(msgspec.json.encode({"type": "snapshot", "loads": [{"load_id": LOAD, "last_seq": 0}]}))
        watchers.add(ws)
        if len(watchers) >= wanted[0]:
            all_in.set()
        await ws.wait_closed()

    answer = msgspec.json.Encoder()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        batch = msgspec.json.decode(body)
        points = len(batch["points"])
        data = answer.encode(
            {"accepted": points, "loads": [{"load_id": batch["load_id"], "last_seq": points}]}
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    config = uvicorn.Config(app, port=http_port, log_level="warning", http="httptools", backlog=4096)
    async with serve(handler, "127.0.0.1", ws_port, compression="deflate", ping_interval=None, backlog=4096):
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn says so by this flag only
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        await task


# -- the frames' clients ---------------------------------------------------------------------------

_decode = flow._decode_watch


class Tally:
    def __init__(self) -> None:
        self.frames = 0
        self.finals = 0
        self.inexact = 0

    def check(self, seqs: SeqCheck, final: bool, last_seq: int) -> None:
        self.finals += final
        self.inexact += not seqs.verdict(last_seq).exact


def _read(raw: str | bytes, seqs: SeqCheck, tally: Tally) -> bool:
    """One frame checked as the simulator checks it; True for the final frame."""
    tally.frames += 1
    frame = _decode(raw)
    if frame.type == "points":
        for point in frame.points:
            seqs.receive(point.seq)
        if frame.points:
            _ = (flow.now() - frame.points[-1].recorded_at).total_seconds()
            _ = time.time()
    return frame.type == "final"


async def websockets_wait_for(url: str, compression: str | None, tally: Tally, last_seq: int) -> None:
    seqs, final = SeqCheck(), False
    async with connect(url, open_timeout=60, max_size=1 << 24, compression=compression) as ws:
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), 1.0)
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
            final = _read(raw, seqs, tally) or final
    tally.check(seqs, final, last_seq)


async def websockets_async_for(url: str, compression: str | None, tally: Tally, last_seq: int) -> None:
    seqs, final = SeqCheck(), False
    async with connect(url, open_timeout=60, max_size=1 << 24, compression=compression) as ws:
        async for raw in ws:
            final = _read(raw, seqs, tally) or final
    tally.check(seqs, final, last_seq)


async def aiohttp_ws(
    session: aiohttp.ClientSession, url: str, compression: str | None, tally: Tally, last_seq: int
) -> None:
    seqs, final = SeqCheck(), False
    async with session.ws_connect(url, compress=15 if compression else 0, max_msg_size=1 << 24) as ws:
        async for msg in ws:
            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                final = _read(msg.data, seqs, tally) or final
    tally.check(seqs, final, last_seq)


class _SansIO(asyncio.Protocol):
    """`websockets`' own protocol (ClientProtocol: handshake, framing, deflate, closing) on a plain
    asyncio Protocol, without its asyncio connection's tasks and futures."""

    def __init__(self, url: str, compression: str | None, on_frame: Callable[[bytes], None]) -> None:
        extensions = enable_client_permessage_deflate(None) if compression else None
        self.protocol = ClientProtocol(parse_uri(url), extensions=extensions, max_size=1 << 24)
        self.on_frame = on_frame
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                assert event.fin  # the server sends each message as one frame
                self.on_frame(event.data)
        self._flush()

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self._flush()

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()
        if self.protocol.close_expected():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def websockets_sans_io(url: str, compression: str | None, tally: Tally, last_seq: int) -> None:
    seqs, final = SeqCheck(), [False]

    def frame(data: bytes) -> None:
        final[0] = _read(data, seqs, tally) or final[0]

    _, conn = await asyncio.get_running_loop().create_connection(
        lambda: _SansIO(url, compression, frame), "127.0.0.1", int(url.split(":")[2].split("/")[0])
    )
    await conn.closed
    tally.check(seqs, final[0], last_seq)


async def sim_watch(api: Api, tally: Tally, last_seq: int) -> None:
    stats = flow.WatchStats()
    await flow.watch(api, Party("w", "token"), "/w", stats)
    seqs = stats.sequences.get(LOAD, SeqCheck())
    tally.frames += len(stats.latencies) + 2  # points frames, the snapshot and the final
    tally.check(seqs, stats.final and stats.close.startswith("1000"), last_seq)


async def frames(
    ws_port: int, variant: str, compression: str | None, watchers: int, rounds: int
) -> tuple[float, Tally]:
    """CPU microseconds per frame received, from the last socket opened to the last one closed."""
    url = f"ws://127.0.0.1:{ws_port}/w"
    last_seq = rounds * POINTS_PER_FRAME
    tally = Tally()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    api = Api(f"http://127.0.0.1:{ws_port}", Timings())
    await api.__aenter__()
    gate = asyncio.Semaphore(200)
    clients: dict[str, Callable[[], Awaitable[None]]] = {
        "websockets wait_for": lambda: websockets_wait_for(url, compression, tally, last_seq),
        "websockets async for": lambda: websockets_async_for(url, compression, tally, last_seq),
        "websockets sans-I/O": lambda: websockets_sans_io(url, compression, tally, last_seq),
        "aiohttp": lambda: aiohttp_ws(session, url, compression, tally, last_seq),
        "sim watch": lambda: sim_watch(api, tally, last_seq),
    }

    async def one() -> None:
        async with gate:
            task = asyncio.create_task(clients[variant]())
            await asyncio.sleep(0.005)
        await task

    tasks = [asyncio.create_task(one()) for _ in range(watchers)]
    async with connect(f"ws://127.0.0.1:{ws_port}/control", open_timeout=60) as control:
        await control.send(f"{watchers} {rounds}")
        await asyncio.sleep(ROUND_GAP_S / 2)  # every socket is open by now (the server waited for it)
        opening = tally.frames
        quiet_gc()
        cpu0 = time.process_time()
        await control.recv()
        await asyncio.gather(*tasks)
        cpu = time.process_time() - cpu0
    await session.close()
    await api.__aexit__()
    return cpu / (tally.frames - opening) * 1e6, tally


# -- the posts' clients ----------------------------------------------------------------------------


async def posts(
    http_port: int, variant: str, phones: int, seconds: float, interval_s: float
) -> tuple[float, int]:
    """CPU microseconds per post, `phones` each posting a 3-point batch every `interval_s`."""
    base = f"http://127.0.0.1:{http_port}"
    body = {
        "load_id": LOAD,
        "points": [{"lon": 14.3, "lat": 48.3, "recorded_at": "2026-12-07T14:00:00+00:00", "accuracy_m": 8.0}]
        * 3,
    }
    done = 0
    async with Api(base, Timings(), connections=400, light=variant == "light") as api:
        stop = time.monotonic() + seconds

        async def phone(k: int) -> None:
            nonlocal done
            who = Party(f"phone {k}", f"token-{k}")
            await asyncio.sleep(interval_s * k / phones)
            while time.monotonic() < stop:
                answer = await api.post_positions(who, body)
                assert answer["accepted"] == 3
                done += 1
                await asyncio.sleep(interval_s)

        quiet_gc()
        cpu0 = time.process_time()
        await asyncio.gather(*(phone(k) for k in range(phones)))
        cpu = time.process_time() - cpu0
    return cpu / done * 1e6, done


async def main(args: argparse.Namespace) -> None:
    ws_port, http_port = free_port(), free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.simclients", "--serve", str(ws_port), str(http_port),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        if (await asyncio.wait_for(server.stdout.readline(), 30)).strip() != b"ready":
            raise RuntimeError("the bare server did not start")
        print(f"frames: {args.watchers} watchers, {args.rounds} rounds of {POINTS_PER_FRAME}-point frames")
        for _ in range(args.repeat):
            for compression in (None, "deflate"):
                for variant in VARIANTS:
                    if variant == "sim watch" and compression:
                        continue  # the simulator asks for no compression (the server's default)
                    us, tally = await frames(ws_port, variant, compression, args.watchers, args.rounds)
                    print(
                        f"  {variant:22} {compression or 'none':8} {us:6.1f} us CPU/frame  "
                        f"({tally.frames:,} frames, {tally.finals} finals, {tally.inexact} inexact)",
                        flush=True,
                    )
                    gc.collect()
        print(f"posts: {args.phones} phones, one 3-point batch each every 1 s, {args.seconds:.0f} s")
        for _ in range(args.repeat):
            for variant in ("aiohttp", "light"):
                us, n = await posts(http_port, variant, args.phones, args.seconds, 1.0)
                print(f"  {variant:22} {us:6.1f} us CPU/post  ({n:,} posts)", flush=True)
    finally:
        server.kill()
        await server.wait()


def cli() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        run(_serve(int(sys.argv[2]), int(sys.argv[3])))
        return
    p = argparse.ArgumentParser(prog="python -m bench.simclients", description=__doc__)
    p.add_argument("--watchers", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--phones", type=int, default=400)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--repeat", type=int, default=2)
    run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
